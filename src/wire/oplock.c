/* SMB2 OPLOCK_BREAK bodies ([MS-SMB2] 2.2.23, 2.2.24, 2.2.25). */
#include <string.h>

#include "wire/oplock.h"

uint16_t wire_oplock_break_form(const struct rd *r)
{
	return rd_left(r) >= 2 ? get_le16(r->p) : 0;
}

int wire_oplock_ack_decode(struct rd *r, struct wire_oplock_ack *q)
{
	if (!wire_body_start(r, WIRE_OPLOCK_BREAK_SIZE))
		return -EINVAL;
	q->level = rd_u8(r);
	rd_skip(r, 1 + 4); /* Reserved, Reserved2 */
	wire_fileid_read(r, &q->fid);
	return rd_ok(r) ? 0 : -EINVAL;
}

void wire_oplock_break_encode(struct wr *w, uint8_t level, const struct wire_fileid *fid)
{
	wr_le16(w, WIRE_OPLOCK_BREAK_SIZE);
	wr_u8(w, level);
	wr_u8(w, 0);   /* Reserved */
	wr_le32(w, 0); /* Reserved2 */
	wire_fileid_write(w, fid);
}

int wire_lease_ack_decode(struct rd *r, struct wire_lease_ack *q)
{
	if (!wire_body_start(r, WIRE_LEASE_ACK_SIZE))
		return -EINVAL;
	rd_skip(r, 2); /* Reserved */
	q->flags = rd_le32(r);
	rd_bytes(r, q->key, 16);
	q->state = rd_le32(r);
	q->duration = rd_le64(r);
	return rd_ok(r) ? 0 : -EINVAL;
}

void wire_lease_ack_encode_rsp(struct wr *w, const uint8_t key[16], uint32_t state)
{
	wr_le16(w, WIRE_LEASE_ACK_SIZE);
	wr_le16(w, 0); /* Reserved */
	wr_le32(w, 0); /* Flags */
	wr_bytes(w, key, 16);
	wr_le32(w, state);
	wr_le64(w, 0); /* LeaseDuration */
}

void wire_lease_break_encode(struct wr *w, const struct wire_lease_break *n)
{
	wr_le16(w, WIRE_LEASE_BREAK_SIZE);
	wr_le16(w, n->new_epoch);
	wr_le32(w, n->flags);
	wr_bytes(w, n->key, 16);
	wr_le32(w, n->current_state);
	wr_le32(w, n->new_state);
	wr_le32(w, 0); /* BreakReason */
	wr_le32(w, 0); /* AccessMaskHint */
	wr_le32(w, 0); /* ShareMaskHint */
}
