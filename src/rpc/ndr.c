/* NDR20 reading and writing helpers; see ndr.h. */
#include "rpc/ndr.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf16.h"

/* ---- reading ---- */

void ndr_align(struct rd *r, size_t a)
{
	size_t pos = rd_pos(r);
	if (pos % a)
		rd_skip(r, a - pos % a);
}

uint16_t ndr_u16(struct rd *r)
{
	ndr_align(r, 2);
	return rd_le16(r);
}

uint32_t ndr_u32(struct rd *r)
{
	ndr_align(r, 4);
	return rd_le32(r);
}

const uint8_t *ndr_wstring(struct rd *r, uint32_t *count)
{
	uint32_t max = ndr_u32(r);
	uint32_t off = ndr_u32(r);
	uint32_t actual = ndr_u32(r);
	*count = 0;
	if (!rd_ok(r))
		return NULL;
	/* [C706] 14.3.3.4: the transmitted part lies inside the conformant bound. */
	if (off > max || actual > max - off || (uint64_t)actual * 2 > rd_left(r)) {
		r->err = true;
		return NULL;
	}
	*count = actual;
	return rd_ptr(r, (size_t)actual * 2);
}

char *ndr_wstring_utf8(struct rd *r)
{
	uint32_t n;
	const uint8_t *s = ndr_wstring(r, &n);
	if (!s)
		return NULL;
	if (n && s[2 * (n - 1)] == 0 && s[2 * (n - 1) + 1] == 0)
		n--;
	char *out;
	if (utf16le_to_utf8(s, (size_t)n * 2, &out, NULL) < 0) {
		r->err = true;
		return NULL;
	}
	return out;
}

void ndr_skip_struct_array(struct rd *r, const char *layout, uint32_t count)
{
	size_t nf = strlen(layout);
	ndr_align(r, 4);
	if (!rd_ok(r) || nf == 0 || count > rd_left(r) / (4 * nf)) {
		r->err = true;
		return;
	}
	/* Two cursors: `f` walks the fixed parts again while `r` walks the
	 * deferred pointees that follow all of them. */
	struct rd f = *r;
	rd_skip(r, (size_t)count * nf * 4);
	for (uint32_t i = 0; i < count && rd_ok(r); i++) {
		for (size_t k = 0; k < nf; k++) {
			uint32_t v = rd_le32(&f);
			if (!v)
				continue;
			if (layout[k] == 's') {
				uint32_t n;
				(void)ndr_wstring(r, &n);
			} else if (layout[k] == 'b') {
				uint32_t n = ndr_u32(r);
				rd_skip(r, n);
			}
		}
	}
}

/* ---- writing ---- */

void ndr_out_init(struct ndr_out *o, size_t limit)
{
	memset(o, 0, sizeof(*o));
	o->limit = limit;
	/* MIDL-style referent ids; any unique nonzero values would do. */
	o->next_ref = 0x00020000;
}

void ndr_out_free(struct ndr_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

static uint8_t *put(struct ndr_out *o, size_t n)
{
	if (o->err || n > o->limit - o->len) {
		o->err = true;
		return NULL;
	}
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + n)
			cap *= 2;
		if (cap > o->limit)
			cap = o->limit;
		uint8_t *nb = realloc(o->buf, cap);
		if (!nb) {
			o->err = true;
			return NULL;
		}
		o->buf = nb;
		o->cap = cap;
	}
	uint8_t *q = o->buf + o->len;
	o->len += n;
	return q;
}

void ndr_put_align(struct ndr_out *o, size_t a)
{
	if (o->len % a) {
		size_t n = a - o->len % a;
		uint8_t *q = put(o, n);
		if (q)
			memset(q, 0, n);
	}
}

void ndr_put_u16(struct ndr_out *o, uint16_t v)
{
	ndr_put_align(o, 2);
	uint8_t *q = put(o, 2);
	if (q)
		put_le16(q, v);
}

void ndr_put_u32(struct ndr_out *o, uint32_t v)
{
	ndr_put_align(o, 4);
	uint8_t *q = put(o, 4);
	if (q)
		put_le32(q, v);
}

void ndr_put_ptr(struct ndr_out *o, bool nonnull)
{
	if (!nonnull) {
		ndr_put_u32(o, 0);
		return;
	}
	ndr_put_u32(o, o->next_ref);
	o->next_ref += 4;
}

void ndr_put_wstring(struct ndr_out *o, const char *s)
{
	if (!s)
		s = "";
	size_t len = strlen(s);
	long n = utf8_utf16le_size(s, len);
	if (n < 0 || (size_t)n / 2 + 1 > UINT32_MAX) {
		o->err = true;
		return;
	}
	/* [MS-RPCE] strings carry their terminating NUL in the counts. */
	uint32_t count = (uint32_t)(n / 2 + 1);
	ndr_put_u32(o, count);
	ndr_put_u32(o, 0);
	ndr_put_u32(o, count);
	uint8_t *q = put(o, (size_t)n + 2);
	if (!q)
		return;
	(void)utf8_to_utf16le(s, len, q, (size_t)n);
	q[n] = q[n + 1] = 0;
}

void ndr_put_fields(struct ndr_out *o, const struct ndr_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == 's')
			ndr_put_ptr(o, f[i].s != NULL);
		else
			ndr_put_u32(o, f[i].d);
	}
}

void ndr_put_fields_deferred(struct ndr_out *o, const struct ndr_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].kind == 's' && f[i].s)
			ndr_put_wstring(o, f[i].s);
}
