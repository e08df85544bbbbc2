/* TREE_CONNECT ([MS-SMB2] 2.2.9, 2.2.10). */
#ifndef SMB3D_WIRE_TREE_H
#define SMB3D_WIRE_TREE_H

#include "wire/smb2.h"

#define SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT 0x0004

struct tree_connect_req {
	uint16_t flags;
	const uint8_t *path;      /* UTF-16LE "\\server\share" */
	uint16_t path_len;
};
int tree_connect_req_decode(struct rd *r, struct tree_connect_req *q);

struct tree_connect_resp {
	uint8_t share_type;
	uint32_t share_flags;
	uint32_t capabilities;
	uint32_t maximal_access;
};
void tree_connect_resp_encode(struct wr *w, const struct tree_connect_resp *p);

#endif
