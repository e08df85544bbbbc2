/* Bounds-checked little-endian cursors for reading and writing wire data.
 *
 * A reader never reads past `end`; the first short read sets `err` and every
 * later read returns zeroes, so a parser may read a run of fields and check
 * `rd_ok()` once.  A writer never writes past `end` and sets `err` likewise.
 * No struct is ever cast onto a receive buffer (CONVENTIONS.md rule 1). */
#ifndef SMB3D_WIRE_CURSOR_H
#define SMB3D_WIRE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *base; /* start of the whole buffer (offsets are from here) */
	const uint8_t *p;
	const uint8_t *end;
	bool err;
};

/* An absent field (buf NULL) is an empty buffer, never NULL: arithmetic on
 * a null pointer, even NULL + 0, is undefined (an empty IOCTL input reached
 * rd_init(NULL, 0) from FSCTL_SRV_COPYCHUNK). */
static inline struct rd rd_init(const void *buf, size_t len)
{
	static const uint8_t empty[1];
	const uint8_t *b = buf ? (const uint8_t *)buf : empty;
	struct rd r = { b, b, b + (buf ? len : 0), false };
	return r;
}

static inline size_t rd_left(const struct rd *r) { return r->err ? 0 : (size_t)(r->end - r->p); }
static inline size_t rd_pos(const struct rd *r) { return (size_t)(r->p - r->base); }
static inline bool rd_ok(const struct rd *r) { return !r->err; }

static inline bool rd_need(struct rd *r, size_t n)
{
	if (r->err || (size_t)(r->end - r->p) < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (!rd_need(r, 1)) return 0;
	return *r->p++;
}

static inline uint16_t rd_le16(struct rd *r)
{
	if (!rd_need(r, 2)) return 0;
	uint16_t v = (uint16_t)(r->p[0] | (r->p[1] << 8));
	r->p += 2;
	return v;
}

static inline uint32_t rd_le32(struct rd *r)
{
	if (!rd_need(r, 4)) return 0;
	uint32_t v = (uint32_t)r->p[0] | ((uint32_t)r->p[1] << 8) |
		     ((uint32_t)r->p[2] << 16) | ((uint32_t)r->p[3] << 24);
	r->p += 4;
	return v;
}

static inline uint64_t rd_le64(struct rd *r)
{
	uint64_t lo = rd_le32(r);
	uint64_t hi = rd_le32(r);
	return lo | (hi << 32);
}

static inline uint16_t rd_be16(struct rd *r)
{
	if (!rd_need(r, 2)) return 0;
	uint16_t v = (uint16_t)((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
	if (!rd_need(r, 4)) return 0;
	uint32_t v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) |
		     ((uint32_t)r->p[2] << 8) | (uint32_t)r->p[3];
	r->p += 4;
	return v;
}

/* Copy n bytes out; on short input `out` is zeroed. */
static inline void rd_bytes(struct rd *r, void *out, size_t n)
{
	if (!rd_need(r, n)) {
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

/* Return a pointer to the next n bytes and skip them, or NULL. */
static inline const uint8_t *rd_ptr(struct rd *r, size_t n)
{
	if (!rd_need(r, n)) return NULL;
	const uint8_t *q = r->p;
	r->p += n;
	return q;
}

static inline void rd_skip(struct rd *r, size_t n) { (void)rd_ptr(r, n); }

/* Move to absolute offset `off` from base (must lie within the buffer). */
static inline bool rd_seek(struct rd *r, size_t off)
{
	if (r->err || off > (size_t)(r->end - r->base)) {
		r->err = true;
		return false;
	}
	r->p = r->base + off;
	return true;
}

/* Check that [off, off+len) lies inside the buffer of `r` (offsets from base),
 * without moving.  Returns a pointer to it or NULL. */
static inline const uint8_t *rd_range(const struct rd *r, uint64_t off, uint64_t len)
{
	uint64_t size = (uint64_t)(r->end - r->base);
	if (off > size || len > size - off) return NULL;
	return r->base + off;
}

struct wr {
	uint8_t *base;
	uint8_t *p;
	uint8_t *end;
	bool err;
};

static inline struct wr wr_init(void *buf, size_t len)
{
	struct wr w = { buf, buf, (uint8_t *)buf + len, false };
	return w;
}

static inline size_t wr_pos(const struct wr *w) { return (size_t)(w->p - w->base); }
static inline bool wr_ok(const struct wr *w) { return !w->err; }
static inline size_t wr_left(const struct wr *w) { return w->err ? 0 : (size_t)(w->end - w->p); }

static inline uint8_t *wr_reserve(struct wr *w, size_t n)
{
	if (w->err || (size_t)(w->end - w->p) < n) {
		w->err = true;
		return NULL;
	}
	uint8_t *q = w->p;
	w->p += n;
	return q;
}

static inline void wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *q = wr_reserve(w, 1);
	if (q) q[0] = v;
}

static inline void put_le16(uint8_t *q, uint16_t v) { q[0] = (uint8_t)v; q[1] = (uint8_t)(v >> 8); }
static inline void put_le32(uint8_t *q, uint32_t v)
{
	q[0] = (uint8_t)v; q[1] = (uint8_t)(v >> 8); q[2] = (uint8_t)(v >> 16); q[3] = (uint8_t)(v >> 24);
}
static inline void put_le64(uint8_t *q, uint64_t v) { put_le32(q, (uint32_t)v); put_le32(q + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get_le16(const uint8_t *q) { return (uint16_t)(q[0] | (q[1] << 8)); }
static inline uint32_t get_le32(const uint8_t *q)
{
	return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) | ((uint32_t)q[3] << 24);
}
static inline uint64_t get_le64(const uint8_t *q) { return get_le32(q) | ((uint64_t)get_le32(q + 4) << 32); }

static inline void wr_le16(struct wr *w, uint16_t v) { uint8_t *q = wr_reserve(w, 2); if (q) put_le16(q, v); }
static inline void wr_le32(struct wr *w, uint32_t v) { uint8_t *q = wr_reserve(w, 4); if (q) put_le32(q, v); }
static inline void wr_le64(struct wr *w, uint64_t v) { uint8_t *q = wr_reserve(w, 8); if (q) put_le64(q, v); }
static inline void wr_be16(struct wr *w, uint16_t v)
{
	uint8_t *q = wr_reserve(w, 2);
	if (q) { q[0] = (uint8_t)(v >> 8); q[1] = (uint8_t)v; }
}
static inline void wr_be32(struct wr *w, uint32_t v)
{
	uint8_t *q = wr_reserve(w, 4);
	if (q) { q[0] = (uint8_t)(v >> 24); q[1] = (uint8_t)(v >> 16); q[2] = (uint8_t)(v >> 8); q[3] = (uint8_t)v; }
}
static inline void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *q = wr_reserve(w, n);
	if (q && n) memcpy(q, src, n);
}
static inline void wr_zero(struct wr *w, size_t n)
{
	uint8_t *q = wr_reserve(w, n);
	if (q && n) memset(q, 0, n);
}
/* Pad with zeroes to a multiple of `a` measured from base. */
static inline void wr_align(struct wr *w, size_t a)
{
	size_t pos = wr_pos(w);
	if (pos % a) wr_zero(w, a - pos % a);
}

#endif
