#include "wire/negotiate.h"

#include <errno.h>
#include <string.h>

static void ctx_preauth(struct rd *c, struct neg_req *q)
{
	uint16_t count = rd_le16(c);
	uint16_t salt_len = rd_le16(c);
	if (count == 0)
		q->bad_context = true;
	for (unsigned i = 0; i < count; i++) {
		uint16_t a = rd_le16(c);
		if (q->n_hash_algs < NEG_MAX_ALGS)
			q->hash_algs[q->n_hash_algs++] = a;
	}
	rd_skip(c, salt_len);
	if (!rd_ok(c))
		q->bad_context = true;
}

static void ctx_algs(struct rd *c, struct neg_req *q, uint16_t *out, unsigned *n)
{
	uint16_t count = rd_le16(c);
	if (count == 0)
		q->bad_context = true;
	for (unsigned i = 0; i < count; i++) {
		uint16_t a = rd_le16(c);
		if (*n < NEG_MAX_ALGS)
			out[(*n)++] = a;
	}
	if (!rd_ok(c))
		q->bad_context = true;
}

/* MS-SMB2 2.2.3.1: contexts start at NegotiateContextOffset (from the header)
 * and each following one at the next 8-byte boundary. */
static int decode_contexts(struct rd *r, uint32_t off, uint16_t count, struct neg_req *q)
{
	struct rd c = *r;
	if (!rd_seek(&c, off))
		return -EINVAL;
	for (unsigned i = 0; i < count; i++) {
		if (i && rd_pos(&c) % 8)
			rd_skip(&c, 8 - rd_pos(&c) % 8);
		uint16_t type = rd_le16(&c);
		uint16_t dlen = rd_le16(&c);
		rd_skip(&c, 4);
		const uint8_t *data = rd_ptr(&c, dlen);
		if (!rd_ok(&c))
			return -EINVAL;
		struct rd d = rd_init(data, dlen);
		q->n_contexts++;
		switch (type) {
		case SMB2_PREAUTH_INTEGRITY_CAPABILITIES:
			q->n_preauth_ctx++;
			ctx_preauth(&d, q);
			break;
		case SMB2_ENCRYPTION_CAPABILITIES:
			q->n_encrypt_ctx++;
			ctx_algs(&d, q, q->ciphers, &q->n_ciphers);
			break;
		case SMB2_SIGNING_CAPABILITIES:
			q->n_signing_ctx++;
			ctx_algs(&d, q, q->sign_algs, &q->n_sign_algs);
			break;
		case SMB2_COMPRESSION_CAPABILITIES:
			q->n_compress_ctx++;
			break;
		case SMB2_POSIX_EXTENSIONS_AVAILABLE:
			q->posix = true;
			break;
		default:
			break; /* unknown contexts are ignored (3.3.5.4) */
		}
	}
	return 0;
}

int neg_req_decode(struct rd *r, struct neg_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rd_le16(r) != 36)
		return -EINVAL;
	uint16_t count = rd_le16(r);
	q->security_mode = rd_le16(r);
	rd_skip(r, 2);
	q->capabilities = rd_le32(r);
	rd_bytes(r, q->client_guid, 16);
	uint32_t ctx_off = rd_le32(r);
	uint16_t ctx_count = rd_le16(r);
	rd_skip(r, 2);
	if (!rd_ok(r) || count == 0)
		return -EINVAL;
	bool has311 = false;
	for (unsigned i = 0; i < count; i++) {
		uint16_t d = rd_le16(r);
		if (!rd_ok(r))
			return -EINVAL;
		if (q->n_dialects < NEG_MAX_DIALECTS)
			q->dialects[q->n_dialects++] = d;
		if (d == SMB2_DIALECT_311)
			has311 = true;
	}
	if (has311 && ctx_count)
		return decode_contexts(r, ctx_off, ctx_count, q);
	return 0;
}

static void put_ctx_hdr(struct wr *w, uint16_t type, uint16_t len)
{
	wr_align(w, 8);
	wr_le16(w, type);
	wr_le16(w, len);
	wr_le32(w, 0);
}

void neg_resp_encode(struct wr *w, const struct neg_resp *p)
{
	uint8_t *start = w->p;
	unsigned nctx = p->ctx_preauth + p->ctx_encrypt + p->ctx_signing + p->ctx_posix;
	wr_le16(w, 65);
	wr_le16(w, p->security_mode);
	wr_le16(w, p->dialect);
	wr_le16(w, (uint16_t)(p->dialect == SMB2_DIALECT_311 ? nctx : 0));
	wr_bytes(w, p->server_guid, 16);
	wr_le32(w, p->capabilities);
	wr_le32(w, p->max_transact);
	wr_le32(w, p->max_read);
	wr_le32(w, p->max_write);
	wr_le64(w, p->system_time);
	wr_le64(w, p->start_time);
	uint16_t sec_off = (uint16_t)(SMB2_HDR_SIZE + 64);
	wr_le16(w, p->sec_len ? sec_off : 0);
	wr_le16(w, p->sec_len);
	uint8_t *ctx_off_field = wr_reserve(w, 4);
	(void)start;
	wr_bytes(w, p->sec_buf, p->sec_len);
	if (p->dialect != SMB2_DIALECT_311 || !nctx) {
		if (ctx_off_field)
			put_le32(ctx_off_field, 0);
		if (!p->sec_len)
			wr_u8(w, 0); /* the variable part is at least one byte */
		return;
	}
	wr_align(w, 8);
	if (ctx_off_field)
		put_le32(ctx_off_field, (uint32_t)wr_pos(w));
	if (p->ctx_preauth) {
		put_ctx_hdr(w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, 4 + 2 + 32);
		wr_le16(w, 1);
		wr_le16(w, 32);
		wr_le16(w, SMB2_PREAUTH_SHA512);
		wr_bytes(w, p->salt, 32);
	}
	if (p->ctx_encrypt) {
		put_ctx_hdr(w, SMB2_ENCRYPTION_CAPABILITIES, 4);
		wr_le16(w, 1);
		wr_le16(w, p->cipher);
	}
	if (p->ctx_signing) {
		put_ctx_hdr(w, SMB2_SIGNING_CAPABILITIES, 4);
		wr_le16(w, 1);
		wr_le16(w, p->sign_alg);
	}
	if (p->ctx_posix) {
		static const uint8_t posix_ctx[16] = { 0x93, 0xAD, 0x25, 0x50, 0x9C, 0xB4, 0x11, 0xE7,
						       0xB4, 0x23, 0x83, 0xDE, 0x96, 0x8B, 0xCD, 0x7C };
		put_ctx_hdr(w, SMB2_POSIX_EXTENSIONS_AVAILABLE, 16);
		wr_bytes(w, posix_ctx, 16);
	}
}

int smb1_negotiate_smb2_offer(const uint8_t *pdu, size_t len)
{
	struct rd r = rd_init(pdu, len);
	if (rd_le32(&r) != SMB1_PROTOCOL_ID)
		return -EINVAL;
	uint8_t cmd = rd_u8(&r);
	if (cmd != 0x72) /* SMB_COM_NEGOTIATE */
		return -EINVAL;
	rd_skip(&r, 27); /* rest of the 32-byte SMB1 header */
	uint8_t wc = rd_u8(&r);
	rd_skip(&r, (size_t)wc * 2);
	uint16_t bc = rd_le16(&r);
	const uint8_t *b = rd_ptr(&r, bc);
	if (!rd_ok(&r))
		return -EINVAL;
	int found = 0;
	size_t i = 0;
	while (i < bc) {
		if (b[i] != 0x02) /* BufferFormat: dialect string */
			return -EINVAL;
		i++;
		const uint8_t *s = b + i;
		const uint8_t *nul = memchr(s, 0, bc - i);
		if (!nul)
			return -EINVAL;
		size_t sl = (size_t)(nul - s);
		if (sl == 9 && memcmp(s, "SMB 2.???", 9) == 0)
			found = 2;
		else if (sl == 9 && memcmp(s, "SMB 2.002", 9) == 0 && found < 1)
			found = 1;
		i += sl + 1;
	}
	return found;
}
