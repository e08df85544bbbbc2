/* SMB2 QUERY_INFO / SET_INFO framing ([MS-SMB2] 2.2.37 - 2.2.40). */
#include "wire/info.h"
#include "wire/query_directory.h"

#define QINFO_REQ_FIXED 40   /* StructureSize 41 */
#define SINFO_REQ_FIXED 32   /* StructureSize 33 */

int wire_query_info_decode_req(struct rd *r, struct wire_query_info_req *q)
{
	if (!wire_body_start(r, 41))
		return -EINVAL;
	q->info_type = rd_u8(r);
	q->info_class = rd_u8(r);
	q->output_len = rd_le32(r);
	uint16_t in_off = rd_le16(r);
	rd_skip(r, 2); /* Reserved */
	q->in_len = rd_le32(r);
	q->additional_info = rd_le32(r);
	q->flags = rd_le32(r);
	wire_fileid_read(r, &q->fid);
	if (!rd_ok(r))
		return -EINVAL;
	return wire_buf_get(r, in_off, q->in_len, SMB2_HDR_SIZE + QINFO_REQ_FIXED, &q->in);
}

/* The response (2.2.38) has QUERY_DIRECTORY's shape (2.2.34). */
uint8_t *wire_query_info_rsp_begin(struct wr *w)
{
	return wire_qdir_rsp_begin(w);
}

int wire_query_info_rsp_end(struct wr *w, uint8_t *body)
{
	return wire_qdir_rsp_end(w, body);
}

int wire_set_info_decode_req(struct rd *r, struct wire_set_info_req *q)
{
	if (!wire_body_start(r, 33))
		return -EINVAL;
	q->info_type = rd_u8(r);
	q->info_class = rd_u8(r);
	q->buf_len = rd_le32(r);
	uint16_t off = rd_le16(r);
	rd_skip(r, 2); /* Reserved */
	q->additional_info = rd_le32(r);
	wire_fileid_read(r, &q->fid);
	if (!rd_ok(r))
		return -EINVAL;
	return wire_buf_get(r, off, q->buf_len, SMB2_HDR_SIZE + SINFO_REQ_FIXED, &q->buf);
}

void wire_set_info_encode_rsp(struct wr *w)
{
	wr_le16(w, 2);
}
