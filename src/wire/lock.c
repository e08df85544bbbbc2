/* SMB2 LOCK request/response ([MS-SMB2] 2.2.26, 2.2.27). */
#include "wire/lock.h"

int wire_lock_decode_req(struct rd *r, struct wire_lock_req *q)
{
	if (!wire_body_start(r, 48))
		return -EINVAL;
	q->lock_count = rd_le16(r);
	/* 2.2.26: LockSequenceNumber is the low 4 bits, LockSequenceIndex the
	 * remaining 28 (used for lock replay, 3.3.5.14). */
	uint32_t seq = rd_le32(r);
	q->lock_seq_num = seq & 0xF;
	q->lock_seq_index = seq >> 4;
	wire_fileid_read(r, &q->fid);
	if (!rd_ok(r) || q->lock_count == 0)
		return -EINVAL;
	q->locks = rd_ptr(r, (size_t)q->lock_count * WIRE_LOCK_ELEM_SIZE);
	return q->locks ? 0 : -EINVAL;
}

void wire_lock_req_elem(const struct wire_lock_req *q, unsigned i, struct wire_lock_elem *e)
{
	const uint8_t *p = q->locks + (size_t)i * WIRE_LOCK_ELEM_SIZE;
	e->offset = get_le64(p);
	e->length = get_le64(p + 8);
	e->flags = get_le32(p + 16);
}

void wire_lock_encode_rsp(struct wr *w)
{
	wr_le16(w, 4);
	wr_le16(w, 0);
}
