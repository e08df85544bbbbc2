/* Windows wildcard matching (wildcard.h). */
#include "util/wildcard.h"

#include <ctype.h>
#include <string.h>
#include <wctype.h>


#define DOS_STAR '<'
#define DOS_QM '>'
#define DOS_DOT '"'

/* UTF-8 -> code points; returns the count or -1. */
long wildcard_decode(const char *s, uint32_t *out, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t c;
		int extra;
		if (*p < 0x80) c = *p, extra = 0;
		else if ((*p & 0xE0) == 0xC0) c = *p & 0x1F, extra = 1;
		else if ((*p & 0xF0) == 0xE0) c = *p & 0x0F, extra = 2;
		else if ((*p & 0xF8) == 0xF0) c = *p & 0x07, extra = 3;
		else return -1;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -1;
			c = (c << 6) | (*p & 0x3F);
		}
		if (n == cap)
			return -1;
		out[n++] = c;
	}
	return (long)n;
}

static uint32_t fold(uint32_t c)
{
	if (c < 128)
		return (uint32_t)toupper((int)c);
	return (uint32_t)towupper((wint_t)c);
}

/* Case-insensitive match of name against pattern.  m[i][j] = pattern[i..]
 * matches name[j..]; computed from the last pattern character backwards
 * with two rows, so any pattern costs O(P * N). */
bool wildcard_match(const uint32_t *pat, size_t P, const char *name_utf8)
{
	uint32_t name[512];
	long nl = wildcard_decode(name_utf8, name, 512);
	if (nl < 0)
		return false;
	size_t N = (size_t)nl;
	bool next[513], cur[513];
	long last_dot = -1;
	for (size_t j = 0; j < N; j++)
		if (name[j] == '.')
			last_dot = (long)j;
	for (size_t j = 0; j <= N; j++)
		next[j] = j == N;
	for (size_t ii = P; ii-- > 0;) {
		uint32_t pc = pat[ii];
		for (size_t jj = N + 1; jj-- > 0;) {
			size_t j = jj;
			bool v = false;
			switch (pc) {
			case '*':
				v = next[j] || (j < N && cur[j + 1]);
				break;
			case '?':
				v = j < N && next[j + 1];
				break;
			case DOS_STAR: {
				/* zero or more characters up to and including the
				 * final '.', or to the end when no dot follows */
				size_t lim = last_dot >= (long)j ? (size_t)last_dot + 1 : N;
				for (size_t k = j; k <= lim && !v; k++)
					v = next[k];
				break;
			}
			case DOS_QM:
				if (j == N)
					v = next[j];
				else if (name[j] == '.')
					v = next[j] || (j + 1 == N && next[j + 1]);
				else
					v = next[j + 1];
				break;
			case DOS_DOT:
				if (j == N)
					v = next[j];
				else
					v = name[j] == '.' && next[j + 1];
				break;
			default:
				v = j < N && fold(pc) == fold(name[j]) && next[j + 1];
				break;
			}
			cur[j] = v;
		}
		memcpy(next, cur, (N + 1) * sizeof(bool));
	}
	return next[0];
}
