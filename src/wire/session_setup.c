#include "wire/session_setup.h"

#include <errno.h>

int sess_setup_req_decode(struct rd *r, struct sess_setup_req *q)
{
	if (rd_le16(r) != 25)
		return -EINVAL;
	q->flags = rd_u8(r);
	q->security_mode = rd_u8(r);
	q->capabilities = rd_le32(r);
	rd_skip(r, 4); /* Channel */
	uint16_t off = rd_le16(r);
	uint16_t len = rd_le16(r);
	q->previous_session_id = rd_le64(r);
	if (!rd_ok(r))
		return -EINVAL;
	q->sec_len = len;
	q->sec_buf = NULL;
	if (len) {
		q->sec_buf = rd_range(r, off, len);
		/* the buffer must lie after the fixed part (MS-SMB2 3.3.5.5) */
		if (!q->sec_buf || off < SMB2_HDR_SIZE + 24)
			return -EINVAL;
	}
	return 0;
}

void sess_setup_resp_encode(struct wr *w, uint16_t session_flags, const uint8_t *sec, uint16_t sec_len)
{
	wr_le16(w, 9);
	wr_le16(w, session_flags);
	wr_le16(w, sec_len ? SMB2_HDR_SIZE + 8 : 0);
	wr_le16(w, sec_len);
	if (sec_len)
		wr_bytes(w, sec, sec_len);
	else
		wr_u8(w, 0);
}

int smb2_small_req_decode(struct rd *r, uint16_t structure_size)
{
	uint16_t s = rd_le16(r);
	rd_skip(r, 2);
	return rd_ok(r) && s == structure_size ? 0 : -EINVAL;
}

void smb2_small_resp_encode(struct wr *w, uint16_t structure_size)
{
	wr_le16(w, structure_size);
	wr_le16(w, 0);
}
