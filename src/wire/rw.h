/* SMB2 READ, WRITE and FLUSH ([MS-SMB2] 2.2.17 - 2.2.22). */
#ifndef SMB3D_WIRE_RW_H
#define SMB3D_WIRE_RW_H

#include "wire/file_common.h"

/* READ Flags (2.2.19) */
#define SMB2_READFLAG_READ_UNBUFFERED 0x01
#define SMB2_READFLAG_REQUEST_COMPRESSED 0x02
/* Channel (2.2.19, 2.2.21) */
#define SMB2_CHANNEL_NONE 0x00000000u
#define SMB2_CHANNEL_RDMA_V1 0x00000001u
#define SMB2_CHANNEL_RDMA_V1_INVALIDATE 0x00000002u
#define SMB2_CHANNEL_RDMA_TRANSFORM 0x00000003u
/* WRITE Flags (2.2.21) */
#define SMB2_WRITEFLAG_WRITE_THROUGH 0x00000001u
#define SMB2_WRITEFLAG_WRITE_UNBUFFERED 0x00000002u

/* The READ response data starts right after the 16-byte body:
 * 64 (header) + 16 = 0x50. */
#define WIRE_READ_RSP_DATA_OFFSET 0x50

struct wire_read_req {
	uint8_t padding;          /* requested DataOffset padding hint */
	uint8_t flags;            /* SMB2_READFLAG_* */
	uint32_t length;
	uint64_t offset;
	struct wire_fileid fid;
	uint32_t minimum_count;
	uint32_t channel;         /* SMB2_CHANNEL_* */
	uint32_t remaining_bytes;
	const uint8_t *channel_info; /* ReadChannelInfo, NULL when empty */
	uint16_t channel_info_len;
};

int wire_read_decode_req(struct rd *r, struct wire_read_req *q);

/* Writes only the 16-byte body, DataOffset 0x50 and DataLength `data_len`;
 * the data itself follows from the caller's own buffer (a second iovec,
 * zero-copy later), right after the body.  `pad` (at most 0xaf) zero bytes
 * after the body move DataOffset on: only Samba's test FSCTL
 * FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8 asks for 8, to check
 * that a client follows DataOffset instead of assuming 0x50. */
void wire_read_encode_rsp(struct wr *w, uint32_t data_len, uint32_t data_remaining, uint8_t pad);

struct wire_write_req {
	uint32_t length;
	uint64_t offset;
	struct wire_fileid fid;
	uint32_t channel;
	uint32_t remaining_bytes;
	uint32_t flags;           /* SMB2_WRITEFLAG_* */
	const uint8_t *data;      /* `length` bytes inside the message, NULL if 0 */
	const uint8_t *channel_info;
	uint16_t channel_info_len;
};

/* DataOffset/Length are checked against the message: -EINVAL when the data
 * lies outside it or overlaps the header and fixed body. */
int wire_write_decode_req(struct rd *r, struct wire_write_req *q);
void wire_write_encode_rsp(struct wr *w, uint32_t count);

struct wire_flush_req {
	struct wire_fileid fid;
};

int wire_flush_decode_req(struct rd *r, struct wire_flush_req *q);
void wire_flush_encode_rsp(struct wr *w);

#endif
