/* SMB2 QUERY_DIRECTORY request/response framing ([MS-SMB2] 2.2.33, 2.2.34). */
#include "wire/query_directory.h"

#define QDIR_REQ_FIXED 32   /* StructureSize 33 */

int wire_qdir_decode_req(struct rd *r, struct wire_qdir_req *q)
{
	if (!wire_body_start(r, 33))
		return -EINVAL;
	q->info_class = rd_u8(r);
	q->flags = rd_u8(r);
	q->file_index = rd_le32(r);
	wire_fileid_read(r, &q->fid);
	uint16_t off = rd_le16(r);
	q->pattern_len = rd_le16(r);
	q->output_len = rd_le32(r);
	if (!rd_ok(r) || q->pattern_len % 2)
		return -EINVAL;
	return wire_buf_get(r, off, q->pattern_len, SMB2_HDR_SIZE + QDIR_REQ_FIXED, &q->pattern);
}

/* The StructureSize-9 response shape (OutputBufferOffset, OutputBufferLength,
 * Buffer) shared with QUERY_INFO and CHANGE_NOTIFY. */
uint8_t *wire_qdir_rsp_begin(struct wr *w)
{
	uint8_t *b = wr_reserve(w, 8);
	if (!b)
		return NULL;
	put_le16(b, 9);
	put_le16(b + 2, (uint16_t)wr_pos(w));
	put_le32(b + 4, 0);
	return b;
}

int wire_qdir_rsp_end(struct wr *w, uint8_t *body)
{
	if (!body || !wr_ok(w))
		return -ENOSPC;
	size_t len = (size_t)(w->p - (body + 8));
	put_le32(body + 4, (uint32_t)len);
	if (len == 0)
		wr_u8(w, 0); /* StructureSize 9 counts one buffer byte */
	return wr_ok(w) ? 0 : -ENOSPC;
}
