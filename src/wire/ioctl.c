/* SMB2 IOCTL request/response framing and FSCTL payloads ([MS-SMB2]
 * 2.2.31, 2.2.32 and their subsections, [MS-FSCC] 2.3). */
#include "wire/ioctl.h"

#include <string.h>

/* Fixed part of the request body (StructureSize 57). */
#define IOCTL_REQ_FIXED 56
#define IOCTL_RSP_FIXED 48

int wire_ioctl_decode_req(struct rd *r, struct wire_ioctl_req *q)
{
	if (!wire_body_start(r, 57))
		return -EINVAL;
	rd_skip(r, 2); /* Reserved */
	q->ctl_code = rd_le32(r);
	wire_fileid_read(r, &q->fid);
	uint32_t in_off = rd_le32(r);
	q->in_len = rd_le32(r);
	q->max_input_response = rd_le32(r);
	uint32_t out_off = rd_le32(r);
	q->out_len = rd_le32(r);
	q->max_output_response = rd_le32(r);
	q->flags = rd_le32(r);
	rd_skip(r, 4); /* Reserved2 */
	if (!rd_ok(r))
		return -EINVAL;
	if (wire_buf_get(r, in_off, q->in_len, SMB2_HDR_SIZE + IOCTL_REQ_FIXED, &q->in))
		return -EINVAL;
	return wire_buf_get(r, out_off, q->out_len, SMB2_HDR_SIZE + IOCTL_REQ_FIXED, &q->out);
}

uint8_t *wire_ioctl_rsp_begin(struct wr *w, uint32_t ctl_code, const struct wire_fileid *fid, uint8_t pad)
{
	uint8_t *b = wr_reserve(w, IOCTL_RSP_FIXED + (size_t)pad);
	if (!b)
		return NULL;
	uint32_t buf_off = (uint32_t)wr_pos(w);
	memset(b, 0, IOCTL_RSP_FIXED + (size_t)pad);
	put_le16(b, 49);
	put_le32(b + 4, ctl_code);
	put_le64(b + 8, fid->persistent);
	put_le64(b + 16, fid->volatile_);
	put_le32(b + 24, buf_off); /* InputOffset, InputCount 0 */
	put_le32(b + 32, buf_off); /* OutputOffset */
	return b;
}

int wire_ioctl_rsp_end(struct wr *w, uint8_t *body)
{
	if (!body || !wr_ok(w))
		return -ENOSPC;
	/* the output began at OutputOffset, after any padding */
	size_t out = wr_pos(w) - get_le32(body + 32);
	put_le32(body + 36, (uint32_t)out);
	if (out == 0 && w->p == body + IOCTL_RSP_FIXED)
		wr_u8(w, 0); /* StructureSize 49 counts one buffer byte */
	return wr_ok(w) ? 0 : -ENOSPC;
}

void wire_fsctl_resume_key_encode(struct wr *w, const uint8_t key[24])
{
	wr_bytes(w, key, 24);
	wr_le32(w, 0); /* ContextLength; no Context */
}

int wire_fsctl_copychunk_decode(const uint8_t *in, size_t len, struct wire_copychunk_req *q)
{
	struct rd r = rd_init(in, len);
	q->source_key = rd_ptr(&r, 24);
	q->chunk_count = rd_le32(&r);
	rd_skip(&r, 4); /* Reserved */
	if (!rd_ok(&r))
		return -EINVAL;
	q->chunks = rd_ptr(&r, (size_t)q->chunk_count * WIRE_COPYCHUNK_SIZE);
	return q->chunks || q->chunk_count == 0 ? 0 : -EINVAL;
}

void wire_fsctl_copychunk_get(const struct wire_copychunk_req *q, uint32_t i, struct wire_copychunk *c)
{
	const uint8_t *p = q->chunks + (size_t)i * WIRE_COPYCHUNK_SIZE;
	c->source_offset = get_le64(p);
	c->target_offset = get_le64(p + 8);
	c->length = get_le32(p + 16);
}

void wire_fsctl_copychunk_rsp_encode(struct wr *w, uint32_t chunks_written,
				     uint32_t chunk_bytes_written, uint32_t total_bytes_written)
{
	wr_le32(w, chunks_written);
	wr_le32(w, chunk_bytes_written);
	wr_le32(w, total_bytes_written);
}

int wire_fsctl_validate_neg_decode(const uint8_t *in, size_t len, struct wire_validate_neg_req *q)
{
	struct rd r = rd_init(in, len);
	q->capabilities = rd_le32(&r);
	rd_bytes(&r, q->guid, 16);
	q->security_mode = rd_le16(&r);
	q->dialect_count = rd_le16(&r);
	if (!rd_ok(&r) || q->dialect_count == 0)
		return -EINVAL;
	q->dialects = rd_ptr(&r, (size_t)q->dialect_count * 2);
	return q->dialects ? 0 : -EINVAL;
}

uint16_t wire_fsctl_validate_neg_dialect(const struct wire_validate_neg_req *q, unsigned i)
{
	return get_le16(q->dialects + 2 * (size_t)i);
}

void wire_fsctl_validate_neg_rsp_encode(struct wr *w, uint32_t capabilities, const uint8_t guid[16],
					uint16_t security_mode, uint16_t dialect)
{
	wr_le32(w, capabilities);
	wr_bytes(w, guid, 16);
	wr_le16(w, security_mode);
	wr_le16(w, dialect);
}

int wire_fsctl_netif_encode(struct wr *w, const struct wire_netif *ifs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct wire_netif *f = &ifs[i];
		uint8_t *e = wr_reserve(w, WIRE_NETIF_SIZE);
		if (!e)
			return -ENOSPC;
		memset(e, 0, WIRE_NETIF_SIZE);
		put_le32(e, i + 1 < n ? WIRE_NETIF_SIZE : 0);
		put_le32(e + 4, f->ifindex);
		put_le32(e + 8, f->capability);
		put_le64(e + 16, f->link_speed);
		/* SOCKADDR_STORAGE: Family, then the address in the Windows
		 * sockaddr_in/sockaddr_in6 layout; Port is 0. */
		uint8_t *sa = e + 24;
		if (f->ipv6) {
			put_le16(sa, WIRE_NETIF_AF_INET6);
			put_le32(sa + 4, f->flowinfo);
			memcpy(sa + 8, f->addr, 16);
			put_le32(sa + 24, f->scope_id);
		} else {
			put_le16(sa, WIRE_NETIF_AF_INET);
			memcpy(sa + 4, f->addr, 4);
		}
	}
	return 0;
}

int wire_fsctl_zero_data_decode(const uint8_t *in, size_t len, struct wire_zero_data *z)
{
	if (len < 16)
		return -EINVAL;
	z->offset = get_le64(in);
	z->beyond_final_zero = get_le64(in + 8);
	return 0;
}

int wire_fsctl_alloc_range_decode(const uint8_t *in, size_t len, struct wire_alloc_range *a)
{
	if (len < 16)
		return -EINVAL;
	a->offset = get_le64(in);
	a->length = get_le64(in + 8);
	return 0;
}

unsigned wire_fsctl_alloc_ranges_encode(struct wr *w, const struct wire_alloc_range *a, unsigned n)
{
	unsigned i;
	for (i = 0; i < n && wr_left(w) >= 16; i++) {
		wr_le64(w, a[i].offset);
		wr_le64(w, a[i].length);
	}
	return i;
}

int wire_fsctl_set_sparse_decode(const uint8_t *in, size_t len, bool *sparse)
{
	*sparse = len == 0 || in[0] != 0;
	return 0;
}
