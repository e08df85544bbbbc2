/* SPNEGO DER codec (RFC 4178 section 4.2, MS-SPNG 2.2).
 *
 * Decoding reads through bounds-checked cursors: every TLV is checked to
 * lie inside its parent before its content is looked at.  Encoding writes
 * backwards from the end of a buffer, so each TLV's length is known when
 * its header is written (children first, then the wrapping header). */
#include "wire/spnego.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/cursor.h"

static const uint8_t oid_ntlmssp[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
static const uint8_t oid_spnego[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
const struct spnego_oid spnego_oid_ntlmssp = { oid_ntlmssp, sizeof(oid_ntlmssp) };
const struct spnego_oid spnego_oid_spnego = { oid_spnego, sizeof(oid_spnego) };

/* DER tags used here */
#define TAG_APP0 0x60     /* [APPLICATION 0] constructed: InitialContextToken */
#define TAG_SEQ 0x30
#define TAG_OID 0x06
#define TAG_OCTETS 0x04
#define TAG_ENUM 0x0a
#define TAG_BITSTR 0x03
#define TAG_GENSTR 0x1b
#define TAG_CTX(n) (0xa0 | (n)) /* [n] constructed, explicit */

bool spnego_oid_eq(const struct spnego_oid *a, const struct spnego_oid *b)
{
	return a->der && b->der && a->len == b->len && memcmp(a->der, b->der, a->len) == 0;
}

/* ---------------------------------------------------------------- decode */

/* Read one tag and definite length; the content must fit in what is left.
 * Only single-byte tags and lengths of up to 4 octets (X.690 8.1.3). */
static bool der_header(struct rd *r, uint8_t *tag, size_t *len)
{
	*tag = rd_u8(r);
	uint8_t l = rd_u8(r);
	if (!rd_ok(r) || (*tag & 0x1f) == 0x1f)
		return false;
	if (l < 0x80) {
		*len = l;
	} else {
		unsigned n = l & 0x7f;
		if (n == 0 || n > 4) /* 0x80 is the indefinite form, not DER */
			return false;
		size_t v = 0;
		for (unsigned i = 0; i < n; i++)
			v = (v << 8) | rd_u8(r);
		*len = v;
	}
	return rd_ok(r) && *len <= rd_left(r);
}

/* Expect a TLV with `want` tag; return a reader over its content. */
static bool der_expect(struct rd *r, uint8_t want, struct rd *content)
{
	uint8_t tag;
	size_t len;
	if (!der_header(r, &tag, &len) || tag != want)
		return false;
	const uint8_t *p = rd_ptr(r, len);
	if (!p)
		return false;
	*content = rd_init(p, len);
	return true;
}

/* An explicit [n] field holding exactly one `inner` TLV. */
static bool der_explicit(struct rd *field, uint8_t inner, const uint8_t **val, size_t *len)
{
	struct rd c;
	if (!der_expect(field, inner, &c) || rd_left(field) != 0)
		return false;
	*val = c.p;
	*len = rd_left(&c);
	return true;
}

static bool decode_mech_types(struct rd *field, struct spnego_init *in)
{
	const uint8_t *start = field->p;
	struct rd seq;
	if (!der_expect(field, TAG_SEQ, &seq) || rd_left(field) != 0)
		return false;
	in->mech_types_der = start;
	in->mech_types_der_len = (size_t)(field->p - start);
	while (rd_left(&seq)) {
		struct rd oid;
		if (!der_expect(&seq, TAG_OID, &oid) || rd_left(&oid) == 0)
			return false;
		/* Keep the first SPNEGO_MAX_MECHS; the rest only count for the MIC. */
		if (in->n_mechs < SPNEGO_MAX_MECHS) {
			in->mechs[in->n_mechs].der = oid.p;
			in->mechs[in->n_mechs].len = rd_left(&oid);
			in->n_mechs++;
		}
	}
	return in->n_mechs > 0;
}

/* NegTokenInit (RFC 4178 4.2.1) or NegTokenInit2 (MS-SPNG 2.2.1): [3] is
 * mechListMIC in the former and negHints in the latter; tell them apart
 * by the inner tag. */
static int decode_init(struct rd *r, struct spnego_init *in, const char **why)
{
	struct rd seq;
	int last = -1;
	if (!der_expect(r, TAG_SEQ, &seq)) {
		*why = "NegTokenInit: bad SEQUENCE";
		return -EINVAL;
	}
	while (rd_left(&seq)) {
		uint8_t tag;
		size_t len;
		if (!der_header(&seq, &tag, &len)) {
			*why = "NegTokenInit: bad field header";
			return -EINVAL;
		}
		int n = tag - TAG_CTX(0);
		if (n < 0 || n > 4 || n <= last) {
			*why = "NegTokenInit: unexpected or repeated field";
			return -EINVAL;
		}
		last = n;
		struct rd f = rd_init(rd_ptr(&seq, len), len);
		bool ok = true;
		const uint8_t *v;
		size_t vl;
		switch (n) {
		case 0:
			ok = decode_mech_types(&f, in);
			break;
		case 1: /* reqFlags: parsed for well-formedness, otherwise ignored */
			ok = der_explicit(&f, TAG_BITSTR, &v, &vl);
			break;
		case 2:
			ok = der_explicit(&f, TAG_OCTETS, &in->mech_token, &in->mech_token_len);
			break;
		case 3:
			if (len > 0 && f.p[0] == TAG_SEQ) { /* negHints: ignored */
				struct rd hints;
				ok = der_expect(&f, TAG_SEQ, &hints) && rd_left(&f) == 0;
			} else {
				ok = der_explicit(&f, TAG_OCTETS, &in->mech_list_mic, &in->mech_list_mic_len);
			}
			break;
		case 4:
			ok = der_explicit(&f, TAG_OCTETS, &in->mech_list_mic, &in->mech_list_mic_len);
			break;
		}
		if (!ok) {
			*why = "NegTokenInit: malformed field";
			return -EINVAL;
		}
	}
	if (rd_left(r) != 0 || !in->mech_types_der) {
		*why = "NegTokenInit: trailing bytes or no mechTypes";
		return -EINVAL;
	}
	return 0;
}

/* NegTokenResp (RFC 4178 4.2.2) */
static int decode_resp(struct rd *r, struct spnego_resp *rs, const char **why)
{
	struct rd seq;
	int last = -1;
	rs->neg_state = SPNEGO_STATE_ABSENT;
	if (!der_expect(r, TAG_SEQ, &seq)) {
		*why = "NegTokenResp: bad SEQUENCE";
		return -EINVAL;
	}
	while (rd_left(&seq)) {
		uint8_t tag;
		size_t len;
		if (!der_header(&seq, &tag, &len)) {
			*why = "NegTokenResp: bad field header";
			return -EINVAL;
		}
		int n = tag - TAG_CTX(0);
		if (n < 0 || n > 3 || n <= last) {
			*why = "NegTokenResp: unexpected or repeated field";
			return -EINVAL;
		}
		last = n;
		struct rd f = rd_init(rd_ptr(&seq, len), len);
		bool ok = true;
		const uint8_t *v = NULL;
		size_t vl = 0;
		switch (n) {
		case 0:
			ok = der_explicit(&f, TAG_ENUM, &v, &vl) && vl == 1 && v[0] <= SPNEGO_REQUEST_MIC;
			if (ok)
				rs->neg_state = v[0];
			break;
		case 1:
			ok = der_explicit(&f, TAG_OID, &rs->supported_mech.der, &rs->supported_mech.len) &&
			     rs->supported_mech.len > 0;
			break;
		case 2:
			ok = der_explicit(&f, TAG_OCTETS, &rs->response_token, &rs->response_token_len);
			break;
		case 3:
			ok = der_explicit(&f, TAG_OCTETS, &rs->mech_list_mic, &rs->mech_list_mic_len);
			break;
		}
		if (!ok) {
			*why = "NegTokenResp: malformed field";
			return -EINVAL;
		}
	}
	if (rd_left(r) != 0) {
		*why = "NegTokenResp: trailing bytes";
		return -EINVAL;
	}
	return 0;
}

static int decode_choice(struct rd *r, struct spnego_token *out, const char **why)
{
	uint8_t tag;
	size_t len;
	if (!der_header(r, &tag, &len)) {
		*why = "NegotiationToken: bad header";
		return -EINVAL;
	}
	struct rd c = rd_init(rd_ptr(r, len), len);
	if (rd_left(r) != 0) {
		*why = "NegotiationToken: trailing bytes";
		return -EINVAL;
	}
	if (tag == TAG_CTX(0)) {
		out->kind = SPNEGO_KIND_INIT;
		return decode_init(&c, &out->init, why);
	}
	if (tag == TAG_CTX(1)) {
		out->kind = SPNEGO_KIND_RESP;
		return decode_resp(&c, &out->resp, why);
	}
	*why = "NegotiationToken: neither negTokenInit nor negTokenResp";
	return -EINVAL;
}

int spnego_decode(const uint8_t *buf, size_t len, struct spnego_token *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	out->resp.neg_state = SPNEGO_STATE_ABSENT;
	if (!buf || len == 0) {
		*why = "empty token";
		return -EINVAL;
	}
	struct rd r = rd_init(buf, len);
	if (buf[0] != TAG_APP0)
		return decode_choice(&r, out, why);

	/* RFC 2743 3.1: [APPLICATION 0] { thisMech OID, innerContextToken } */
	struct rd app, oid;
	if (!der_expect(&r, TAG_APP0, &app) || rd_left(&r) != 0) {
		*why = "InitialContextToken: bad framing";
		return -EINVAL;
	}
	if (!der_expect(&app, TAG_OID, &oid)) {
		*why = "InitialContextToken: no mechanism OID";
		return -EINVAL;
	}
	struct spnego_oid mech = { oid.p, rd_left(&oid) };
	if (!spnego_oid_eq(&mech, &spnego_oid_spnego)) {
		*why = "InitialContextToken: not SPNEGO";
		return -EINVAL;
	}
	return decode_choice(&app, out, why);
}

/* ---------------------------------------------------------------- encode */

struct dw {
	uint8_t *start, *p, *end;
	bool err;
};

static size_t dw_len(const struct dw *w) { return (size_t)(w->end - w->p); }

static void dw_bytes(struct dw *w, const void *d, size_t n)
{
	if (w->err || (size_t)(w->p - w->start) < n) {
		w->err = true;
		return;
	}
	w->p -= n;
	if (n)
		memcpy(w->p, d, n);
}

/* Prepend tag and DER length for `len` content bytes already written. */
static void dw_header(struct dw *w, uint8_t tag, size_t len)
{
	uint8_t h[6];
	size_t n = 0;
	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		unsigned bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
		h[n++] = (uint8_t)(0x80 | bytes);
		for (unsigned i = bytes; i > 0; i--)
			h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	}
	dw_bytes(w, h, n);
}

static void dw_tlv(struct dw *w, uint8_t tag, const void *d, size_t n)
{
	dw_bytes(w, d, n);
	dw_header(w, tag, n);
}

/* [n] { inner-tag { data } } */
static void dw_explicit(struct dw *w, int n, uint8_t inner, const void *d, size_t len)
{
	size_t m = dw_len(w);
	dw_tlv(w, inner, d, len);
	dw_header(w, TAG_CTX(n), dw_len(w) - m);
}

static void dw_mech_types(struct dw *w, const struct spnego_oid *mechs, size_t n)
{
	size_t m = dw_len(w);
	for (size_t i = n; i > 0; i--)
		dw_tlv(w, TAG_OID, mechs[i - 1].der, mechs[i - 1].len);
	dw_header(w, TAG_SEQ, dw_len(w) - m);
}

static int dw_open(struct dw *w, size_t payload)
{
	size_t cap = payload + 256;
	w->start = malloc(cap);
	if (!w->start)
		return -ENOMEM;
	w->end = w->p = w->start + cap;
	w->err = false;
	return 0;
}

/* Move the result to the front of its buffer and hand it out. */
static int dw_close(struct dw *w, uint8_t **out, size_t *out_len)
{
	if (w->err) {
		free(w->start);
		return -EINVAL;
	}
	size_t n = dw_len(w);
	memmove(w->start, w->p, n);
	*out = w->start;
	*out_len = n;
	return 0;
}

int spnego_encode_mech_types(const struct spnego_oid *mechs, size_t n, uint8_t **out, size_t *out_len)
{
	struct dw w;
	size_t payload = 0;
	for (size_t i = 0; i < n; i++)
		payload += mechs[i].len + 6;
	if (dw_open(&w, payload))
		return -ENOMEM;
	dw_mech_types(&w, mechs, n);
	return dw_close(&w, out, out_len);
}

int spnego_encode_init(const struct spnego_init *in, uint8_t **out, size_t *out_len)
{
	struct dw w;
	size_t hint_len = in->hint_name ? strlen(in->hint_name) : 0;
	size_t payload = in->mech_token_len + in->mech_list_mic_len + hint_len;
	for (size_t i = 0; i < in->n_mechs; i++)
		payload += in->mechs[i].len + 6;
	if (dw_open(&w, payload))
		return -ENOMEM;

	size_t m = dw_len(&w);
	if (in->mech_list_mic) /* [3] in NegTokenInit, [4] in NegTokenInit2 */
		dw_explicit(&w, in->hint_name ? 4 : 3, TAG_OCTETS, in->mech_list_mic, in->mech_list_mic_len);
	if (in->hint_name) {
		/* MS-SPNG 2.2.1: negHints [3] SEQUENCE { hintName [0] GeneralString } */
		size_t h = dw_len(&w);
		dw_explicit(&w, 0, TAG_GENSTR, in->hint_name, hint_len);
		dw_header(&w, TAG_SEQ, dw_len(&w) - h);
		dw_header(&w, TAG_CTX(3), dw_len(&w) - h);
	}
	if (in->mech_token)
		dw_explicit(&w, 2, TAG_OCTETS, in->mech_token, in->mech_token_len);
	size_t t = dw_len(&w);
	dw_mech_types(&w, in->mechs, in->n_mechs);
	dw_header(&w, TAG_CTX(0), dw_len(&w) - t);
	dw_header(&w, TAG_SEQ, dw_len(&w) - m);
	dw_header(&w, TAG_CTX(0), dw_len(&w) - m);
	dw_tlv(&w, TAG_OID, oid_spnego, sizeof(oid_spnego));
	dw_header(&w, TAG_APP0, dw_len(&w) - m);
	return dw_close(&w, out, out_len);
}

int spnego_encode_resp(const struct spnego_resp *rs, uint8_t **out, size_t *out_len)
{
	struct dw w;
	if (dw_open(&w, rs->response_token_len + rs->mech_list_mic_len + rs->supported_mech.len))
		return -ENOMEM;
	size_t m = dw_len(&w);
	if (rs->mech_list_mic)
		dw_explicit(&w, 3, TAG_OCTETS, rs->mech_list_mic, rs->mech_list_mic_len);
	if (rs->response_token)
		dw_explicit(&w, 2, TAG_OCTETS, rs->response_token, rs->response_token_len);
	if (rs->supported_mech.der)
		dw_explicit(&w, 1, TAG_OID, rs->supported_mech.der, rs->supported_mech.len);
	if (rs->neg_state >= 0) {
		uint8_t st = (uint8_t)rs->neg_state;
		dw_explicit(&w, 0, TAG_ENUM, &st, 1);
	}
	dw_header(&w, TAG_SEQ, dw_len(&w) - m);
	dw_header(&w, TAG_CTX(1), dw_len(&w) - m);
	return dw_close(&w, out, out_len);
}
