/* Windows wildcard matching for directory searches: [MS-FSA] 2.1.4.4
 * IsInExpression, with the DOS wildcards '<' (DOS_STAR), '>' (DOS_QM) and
 * '"' (DOS_DOT) of [MS-FSCC] 2.1.1 / [MS-FSA] 2.1.4.4, case-insensitive.
 * Pure functions, no allocation; names longer than 512 code points never
 * match (NAME_MAX is 255 bytes). */
#ifndef SMB3D_UTIL_WILDCARD_H
#define SMB3D_UTIL_WILDCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UTF-8 -> code points into out[cap]; the count, or -1 for invalid UTF-8
 * or more than cap code points. */
long wildcard_decode(const char *utf8, uint32_t *out, size_t cap);
/* Does the UTF-8 name match the pattern (code points, from wildcard_decode)? */
bool wildcard_match(const uint32_t *pat, size_t pat_len, const char *name_utf8);

#endif
