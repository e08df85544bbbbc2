/* SMB2 QUERY_INFO and SET_INFO framing ([MS-SMB2] 2.2.37 - 2.2.40).  The
 * info-class payloads are in wire/fscc.h. */
#ifndef SMB3D_WIRE_INFO_H
#define SMB3D_WIRE_INFO_H

#include "wire/file_common.h"

#define SMB2_0_INFO_FILE 0x01
#define SMB2_0_INFO_FILESYSTEM 0x02
#define SMB2_0_INFO_SECURITY 0x03
#define SMB2_0_INFO_QUOTA 0x04

/* AdditionalInformation for SECURITY */
#define OWNER_SECURITY_INFORMATION 0x00000001u
#define GROUP_SECURITY_INFORMATION 0x00000002u
#define DACL_SECURITY_INFORMATION 0x00000004u
#define SACL_SECURITY_INFORMATION 0x00000008u
#define LABEL_SECURITY_INFORMATION 0x00000010u

/* QUERY_INFO Flags (FileFullEaInformation) */
#define SL_RESTART_SCAN 0x00000001u
#define SL_RETURN_SINGLE_ENTRY 0x00000002u
#define SL_INDEX_SPECIFIED 0x00000004u

struct wire_query_info_req {
	uint8_t info_type;        /* SMB2_0_INFO_* */
	uint8_t info_class;
	uint32_t output_len;      /* OutputBufferLength */
	const uint8_t *in;        /* InputBuffer (quota query, EA name list) */
	uint32_t in_len;
	uint32_t additional_info;
	uint32_t flags;
	struct wire_fileid fid;
};

int wire_query_info_decode_req(struct rd *r, struct wire_query_info_req *q);

/* Same two-step shape as QUERY_DIRECTORY: begin writes the 8-byte body,
 * the caller writes the payload at w->p (limiting w->end to honour
 * OutputBufferLength), end patches OutputBufferLength. */
uint8_t *wire_query_info_rsp_begin(struct wr *w);
int wire_query_info_rsp_end(struct wr *w, uint8_t *body);

struct wire_set_info_req {
	uint8_t info_type;
	uint8_t info_class;
	const uint8_t *buf;       /* Buffer, NULL when empty */
	uint32_t buf_len;
	uint32_t additional_info;
	struct wire_fileid fid;
};

int wire_set_info_decode_req(struct rd *r, struct wire_set_info_req *q);
void wire_set_info_encode_rsp(struct wr *w);

#endif
