/* SMB2 CLOSE ([MS-SMB2] 2.2.15, 2.2.16). */
#ifndef SMB3D_WIRE_CLOSE_H
#define SMB3D_WIRE_CLOSE_H

#include "wire/file_common.h"

#define SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB 0x0001

struct wire_close_req {
	uint16_t flags;
	struct wire_fileid fid;
};

/* Returns 0 or -EINVAL. */
int wire_close_decode_req(struct rd *r, struct wire_close_req *q);

struct wire_close_rsp {
	uint16_t flags;       /* POSTQUERY_ATTRIB when the attributes are valid */
	uint64_t create, access, write, change;
	uint64_t alloc, eof;
	uint32_t attrs;
};

/* Writes the 60-byte body; without POSTQUERY_ATTRIB the attribute fields
 * are sent as zero (2.2.16). */
void wire_close_encode_rsp(struct wr *w, const struct wire_close_rsp *s);

#endif
