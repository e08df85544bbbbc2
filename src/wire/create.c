/* SMB2 CREATE request/response and create contexts ([MS-SMB2] 2.2.13,
 * 2.2.13.2, 2.2.14, 2.2.14.2). */
#include "wire/create.h"

#include <string.h>

/* Fixed part of the request body (StructureSize 57 counts one buffer byte). */
#define CREATE_REQ_FIXED 56
#define CREATE_RSP_FIXED 88
#define CTX_HDR 16

/* Walk the create-context chain in [off, off+len) of the message.
 * 2.2.13.2: each context starts 8-byte aligned, Next is the offset from this
 * context to the next one (0 ends the chain), the name and data offsets
 * count from the context's start and must stay inside the context. */
static int decode_contexts(const struct rd *r, uint32_t off, uint32_t len,
			   struct wire_create_req *q)
{
	q->n_ctx = 0;
	if (len == 0)
		return 0;
	if (off % 8 || off < SMB2_HDR_SIZE + CREATE_REQ_FIXED)
		return -EINVAL;
	const uint8_t *chain = rd_range(r, off, len);
	if (!chain)
		return -EINVAL;

	uint32_t pos = 0;
	for (;;) {
		uint32_t left = len - pos;
		if (left < CTX_HDR || q->n_ctx == WIRE_CREATE_MAX_CTX)
			return -EINVAL;
		const uint8_t *c = chain + pos;
		uint32_t next = get_le32(c);
		uint16_t name_off = get_le16(c + 4), name_len = get_le16(c + 6);
		uint16_t data_off = get_le16(c + 10);
		uint32_t data_len = get_le32(c + 12);

		/* Next must move forward by whole aligned contexts; this is
		 * also what makes the loop terminate. */
		if (next && (next % 8 || next < CTX_HDR || next > left))
			return -EINVAL;
		uint32_t size = next ? next : left;

		if (name_len == 0 || name_off < CTX_HDR ||
		    (uint32_t)name_off + name_len > size)
			return -EINVAL;
		if (data_len) {
			if (data_off % 8 || data_off < (uint32_t)name_off + name_len ||
			    (uint64_t)data_off + data_len > size)
				return -EINVAL;
		}
		struct wire_create_ctx *x = &q->ctx[q->n_ctx++];
		x->name = c + name_off;
		x->name_len = name_len;
		x->data = data_len ? c + data_off : NULL;
		x->data_len = data_len;
		if (!next)
			return 0;
		pos += next;
	}
}

int wire_create_decode_req(struct rd *r, struct wire_create_req *q)
{
	if (!wire_body_start(r, 57))
		return -EINVAL;
	q->security_flags = rd_u8(r);
	q->oplock_level = rd_u8(r);
	q->impersonation = rd_le32(r);
	q->smb_create_flags = rd_le64(r);
	rd_skip(r, 8); /* Reserved */
	q->desired_access = rd_le32(r);
	q->file_attributes = rd_le32(r);
	q->share_access = rd_le32(r);
	q->create_disposition = rd_le32(r);
	q->create_options = rd_le32(r);
	uint16_t name_off = rd_le16(r);
	q->name_len = rd_le16(r);
	uint32_t ctx_off = rd_le32(r);
	uint32_t ctx_len = rd_le32(r);
	if (!rd_ok(r) || q->name_len % 2)
		return -EINVAL;
	if (wire_buf_get(r, name_off, q->name_len, SMB2_HDR_SIZE + CREATE_REQ_FIXED, &q->name))
		return -EINVAL;
	return decode_contexts(r, ctx_off, ctx_len, q);
}

const struct wire_create_ctx *wire_create_ctx_find(const struct wire_create_req *q,
						   const void *name, size_t len)
{
	for (unsigned i = 0; i < q->n_ctx; i++)
		if (q->ctx[i].name_len == len && memcmp(q->ctx[i].name, name, len) == 0)
			return &q->ctx[i];
	return NULL;
}

int wire_ctx_dhnq_decode(const struct wire_create_ctx *c)
{
	return c->data_len == 16 ? 0 : -EINVAL;
}

int wire_ctx_dhnc_decode(const struct wire_create_ctx *c, struct wire_fileid *fid)
{
	if (c->data_len != 16)
		return -EINVAL;
	fid->persistent = get_le64(c->data);
	fid->volatile_ = get_le64(c->data + 8);
	return 0;
}

int wire_ctx_dh2q_decode(const struct wire_create_ctx *c, struct wire_ctx_dh2q *d)
{
	if (c->data_len != 32)
		return -EINVAL;
	d->timeout = get_le32(c->data);
	d->flags = get_le32(c->data + 4);
	memcpy(d->create_guid, c->data + 16, 16); /* after 8 reserved bytes */
	return 0;
}

int wire_ctx_dh2c_decode(const struct wire_create_ctx *c, struct wire_ctx_dh2c *d)
{
	if (c->data_len != 36)
		return -EINVAL;
	d->fid.persistent = get_le64(c->data);
	d->fid.volatile_ = get_le64(c->data + 8);
	memcpy(d->create_guid, c->data + 16, 16);
	d->flags = get_le32(c->data + 32);
	return 0;
}

int wire_ctx_app_instance_decode(const struct wire_create_ctx *c, uint8_t id[16])
{
	if (c->data_len != 20 || get_le16(c->data) != 20)
		return -EINVAL;
	memcpy(id, c->data + 4, 16);
	return 0;
}

int wire_ctx_mxac_decode(const struct wire_create_ctx *c, struct wire_ctx_mxac *m)
{
	m->has_timestamp = c->data_len == 8;
	m->timestamp = m->has_timestamp ? get_le64(c->data) : 0;
	return c->data_len == 0 || c->data_len == 8 ? 0 : -EINVAL;
}

int wire_ctx_qfid_decode(const struct wire_create_ctx *c)
{
	return c->data_len == 0 ? 0 : -EINVAL;
}

int wire_ctx_lease_decode(const struct wire_create_ctx *c, struct wire_ctx_lease *l)
{
	memset(l, 0, sizeof(*l));
	if (c->data_len != 32 && c->data_len != 52)
		return -EINVAL;
	const uint8_t *p = c->data;
	l->version = c->data_len == 32 ? 1 : 2;
	memcpy(l->key, p, 16);
	l->state = get_le32(p + 16);
	l->flags = get_le32(p + 20);
	l->duration = get_le64(p + 24);
	if (l->version == 2) {
		memcpy(l->parent_key, p + 32, 16);
		l->epoch = get_le16(p + 48);
	}
	return 0;
}

static int ctx_u64(const struct wire_create_ctx *c, uint64_t *v)
{
	if (c->data_len != 8)
		return -EINVAL;
	*v = get_le64(c->data);
	return 0;
}

int wire_ctx_twrp_decode(const struct wire_create_ctx *c, uint64_t *timestamp)
{
	return ctx_u64(c, timestamp);
}

int wire_ctx_alsi_decode(const struct wire_create_ctx *c, uint64_t *alloc)
{
	return ctx_u64(c, alloc);
}

/* --- response contexts (2.2.14.2) */

static void rsp_ctx_init(struct wire_create_rsp_ctx *c, const char *name, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, 4);
	c->len = len;
}

void wire_ctx_mxac_rsp(struct wire_create_rsp_ctx *c, uint32_t query_status, uint32_t maximal_access)
{
	rsp_ctx_init(c, WIRE_CTX_MAXIMAL_ACCESS, 8);
	put_le32(c->buf, query_status);
	put_le32(c->buf + 4, maximal_access);
}

void wire_ctx_qfid_rsp(struct wire_create_rsp_ctx *c, uint64_t disk_file_id, uint64_t volume_id)
{
	rsp_ctx_init(c, WIRE_CTX_QUERY_ON_DISK_ID, 32);
	put_le64(c->buf, disk_file_id);
	put_le64(c->buf + 16, volume_id);
}

void wire_ctx_lease_rsp(struct wire_create_rsp_ctx *c, const struct wire_ctx_lease *l)
{
	rsp_ctx_init(c, WIRE_CTX_LEASE, l->version == 1 ? 32 : 52);
	memcpy(c->buf, l->key, 16);
	put_le32(c->buf + 16, l->state);
	put_le32(c->buf + 20, l->flags);
	put_le64(c->buf + 24, 0); /* LeaseDuration: reserved in responses */
	if (l->version != 1) {
		memcpy(c->buf + 32, l->parent_key, 16);
		put_le16(c->buf + 48, l->epoch);
	}
}

void wire_ctx_dh2q_rsp(struct wire_create_rsp_ctx *c, uint32_t timeout, uint32_t flags)
{
	rsp_ctx_init(c, WIRE_CTX_DURABLE_REQ_V2, 8);
	put_le32(c->buf, timeout);
	put_le32(c->buf + 4, flags);
}

void wire_ctx_dhnq_rsp(struct wire_create_rsp_ctx *c)
{
	rsp_ctx_init(c, WIRE_CTX_DURABLE_REQ, 8); /* 8 reserved bytes */
}

int wire_create_encode_rsp(struct wr *w, const struct wire_create_rsp *s,
			   const struct wire_create_rsp_ctx *ctx, unsigned n_ctx)
{
	wr_le16(w, 89);
	wr_u8(w, s->oplock_level);
	wr_u8(w, s->flags);
	wr_le32(w, s->create_action);
	wr_le64(w, s->create);
	wr_le64(w, s->access);
	wr_le64(w, s->write);
	wr_le64(w, s->change);
	wr_le64(w, s->alloc);
	wr_le64(w, s->eof);
	wr_le32(w, s->attrs);
	wr_le32(w, 0); /* Reserved2 */
	wire_fileid_write(w, &s->fid);
	uint8_t *ctx_fields = wr_reserve(w, 8);
	if (!ctx_fields)
		return -ENOSPC;
	put_le64(ctx_fields, 0);
	if (n_ctx == 0) {
		wr_u8(w, 0);
		return wr_ok(w) ? 0 : -ENOSPC;
	}

	wr_align(w, 8);
	size_t first = wr_pos(w);
	uint8_t *prev = NULL;
	for (unsigned i = 0; i < n_ctx; i++) {
		if (!ctx[i].ext && ctx[i].len > sizeof(ctx[i].buf))
			return -EINVAL;
		wr_align(w, 8);
		uint8_t *c = wr_reserve(w, CTX_HDR + 8);
		if (!c)
			return -ENOSPC;
		if (prev)
			put_le32(prev, (uint32_t)(c - prev));
		prev = c;
		put_le32(c, 0);                 /* Next, patched by the next one */
		put_le16(c + 4, CTX_HDR);       /* NameOffset */
		put_le16(c + 6, 4);             /* NameLength */
		put_le16(c + 8, 0);             /* Reserved */
		put_le16(c + 10, ctx[i].len ? CTX_HDR + 8 : 0); /* DataOffset */
		put_le32(c + 12, ctx[i].len);
		memcpy(c + CTX_HDR, ctx[i].name, 4);
		memset(c + CTX_HDR + 4, 0, 4);
		wr_bytes(w, ctx[i].ext ? ctx[i].ext : ctx[i].buf, ctx[i].len);
	}
	if (!wr_ok(w))
		return -ENOSPC;
	put_le32(ctx_fields, (uint32_t)first);
	put_le32(ctx_fields + 4, (uint32_t)(wr_pos(w) - first));
	return 0;
}
