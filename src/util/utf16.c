#include "util/utf16.h"

#include <errno.h>
#include <stdlib.h>

int utf16le_to_utf8(const uint8_t *in, size_t len, char **out, size_t *out_len)
{
	if (len & 1)
		return -EINVAL;
	char *s = malloc(len / 2 * 3 + 1);
	if (!s)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 2) {
		uint32_t c = (uint32_t)in[i] | ((uint32_t)in[i + 1] << 8);
		if (c >= 0xD800 && c <= 0xDBFF) {
			if (i + 3 >= len) goto bad;
			uint32_t c2 = (uint32_t)in[i + 2] | ((uint32_t)in[i + 3] << 8);
			if (c2 < 0xDC00 || c2 > 0xDFFF) goto bad;
			c = 0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00);
			i += 2;
		} else if (c >= 0xDC00 && c <= 0xDFFF) {
			goto bad;
		}
		if (c < 0x80) {
			s[o++] = (char)c;
		} else if (c < 0x800) {
			s[o++] = (char)(0xC0 | (c >> 6));
			s[o++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			s[o++] = (char)(0xE0 | (c >> 12));
			s[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			s[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			s[o++] = (char)(0xF0 | (c >> 18));
			s[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
			s[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			s[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	s[o] = 0;
	*out = s;
	if (out_len)
		*out_len = o;
	return 0;
bad:
	free(s);
	return -EINVAL;
}

/* Decode one UTF-8 code point; returns its length or 0 when invalid. */
static size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t n;
	uint32_t c, min;
	if ((p[0] & 0xE0) == 0xC0) { n = 2; c = p[0] & 0x1F; min = 0x80; }
	else if ((p[0] & 0xF0) == 0xE0) { n = 3; c = p[0] & 0x0F; min = 0x800; }
	else if ((p[0] & 0xF8) == 0xF0) { n = 4; c = p[0] & 0x07; min = 0x10000; }
	else return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

long utf8_to_utf16le(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	while (i < len) {
		uint32_t c;
		size_t n = utf8_decode(p + i, len - i, &c);
		if (!n)
			return -EINVAL;
		i += n;
		if (c >= 0x10000) {
			if (out && o + 4 > cap) return -ENOSPC;
			c -= 0x10000;
			uint32_t hi = 0xD800 + (c >> 10), lo = 0xDC00 + (c & 0x3FF);
			if (out) {
				out[o] = (uint8_t)hi; out[o + 1] = (uint8_t)(hi >> 8);
				out[o + 2] = (uint8_t)lo; out[o + 3] = (uint8_t)(lo >> 8);
			}
			o += 4;
		} else {
			if (out && o + 2 > cap) return -ENOSPC;
			if (out) { out[o] = (uint8_t)c; out[o + 1] = (uint8_t)(c >> 8); }
			o += 2;
		}
	}
	return (long)o;
}

long utf8_utf16le_size(const char *in, size_t len)
{
	return utf8_to_utf16le(in, len, NULL, 0);
}
