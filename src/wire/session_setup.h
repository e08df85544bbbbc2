/* SESSION_SETUP and LOGOFF ([MS-SMB2] 2.2.5-2.2.8), ECHO (2.2.28/29),
 * CANCEL (2.2.30). */
#ifndef SMB3D_WIRE_SESSION_SETUP_H
#define SMB3D_WIRE_SESSION_SETUP_H

#include "wire/smb2.h"

struct sess_setup_req {
	uint8_t flags;            /* SMB2_SESSION_FLAG_BINDING */
	uint8_t security_mode;
	uint32_t capabilities;
	uint64_t previous_session_id;
	const uint8_t *sec_buf;
	uint16_t sec_len;
};
int sess_setup_req_decode(struct rd *r, struct sess_setup_req *q);
void sess_setup_resp_encode(struct wr *w, uint16_t session_flags, const uint8_t *sec, uint16_t sec_len);

/* Bodies with only a StructureSize and Reserved field: LOGOFF (4),
 * ECHO (4), TREE_DISCONNECT (4), CANCEL (4). */
int smb2_small_req_decode(struct rd *r, uint16_t structure_size);
void smb2_small_resp_encode(struct wr *w, uint16_t structure_size);

#endif
