/* SMB2 READ, WRITE, FLUSH requests and responses ([MS-SMB2] 2.2.17-2.2.22). */
#include "wire/rw.h"

/* Fixed part of the READ and WRITE request bodies (StructureSize 49 counts
 * one byte of the variable buffer). */
#define RW_REQ_FIXED 48

int wire_read_decode_req(struct rd *r, struct wire_read_req *q)
{
	if (!wire_body_start(r, 49))
		return -EINVAL;
	q->padding = rd_u8(r);
	q->flags = rd_u8(r);
	q->length = rd_le32(r);
	q->offset = rd_le64(r);
	wire_fileid_read(r, &q->fid);
	q->minimum_count = rd_le32(r);
	q->channel = rd_le32(r);
	q->remaining_bytes = rd_le32(r);
	uint16_t ci_off = rd_le16(r);
	q->channel_info_len = rd_le16(r);
	if (!rd_ok(r))
		return -EINVAL;
	return wire_buf_get(r, ci_off, q->channel_info_len,
			    SMB2_HDR_SIZE + RW_REQ_FIXED, &q->channel_info);
}

void wire_read_encode_rsp(struct wr *w, uint32_t data_len, uint32_t data_remaining, uint8_t pad)
{
	wr_le16(w, 17);
	wr_u8(w, (uint8_t)(WIRE_READ_RSP_DATA_OFFSET + pad));
	wr_u8(w, 0);  /* Reserved */
	wr_le32(w, data_len);
	wr_le32(w, data_remaining);
	wr_le32(w, 0); /* Flags (3.1.1) / Reserved2 */
	wr_zero(w, pad);
}

int wire_write_decode_req(struct rd *r, struct wire_write_req *q)
{
	if (!wire_body_start(r, 49))
		return -EINVAL;
	uint16_t data_off = rd_le16(r);
	q->length = rd_le32(r);
	q->offset = rd_le64(r);
	wire_fileid_read(r, &q->fid);
	q->channel = rd_le32(r);
	q->remaining_bytes = rd_le32(r);
	uint16_t ci_off = rd_le16(r);
	q->channel_info_len = rd_le16(r);
	q->flags = rd_le32(r);
	if (!rd_ok(r))
		return -EINVAL;
	/* With an RDMA channel the data travels out of band and Length is 0;
	 * otherwise the Length bytes must all be inside this message. */
	if (wire_buf_get(r, data_off, q->length, SMB2_HDR_SIZE + RW_REQ_FIXED, &q->data))
		return -EINVAL;
	return wire_buf_get(r, ci_off, q->channel_info_len,
			    SMB2_HDR_SIZE + RW_REQ_FIXED, &q->channel_info);
}

void wire_write_encode_rsp(struct wr *w, uint32_t count)
{
	wr_le16(w, 17);
	wr_le16(w, 0); /* Reserved */
	wr_le32(w, count);
	wr_le32(w, 0); /* Remaining */
	wr_le16(w, 0); /* WriteChannelInfoOffset */
	wr_le16(w, 0); /* WriteChannelInfoLength */
}

int wire_flush_decode_req(struct rd *r, struct wire_flush_req *q)
{
	if (!wire_body_start(r, 24))
		return -EINVAL;
	rd_skip(r, 2 + 4); /* Reserved1, Reserved2 */
	wire_fileid_read(r, &q->fid);
	return rd_ok(r) ? 0 : -EINVAL;
}

void wire_flush_encode_rsp(struct wr *w)
{
	wr_le16(w, 4);
	wr_le16(w, 0);
}
