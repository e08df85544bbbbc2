/* UTF-8 <-> UTF-16LE conversion with validation. */
#ifndef SMB3D_UTF16_H
#define SMB3D_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* Convert `len` bytes of UTF-16LE into a NUL-terminated UTF-8 string
 * allocated with malloc.  Returns -EINVAL for an odd length or an unpaired
 * surrogate, -ENOMEM.  On success *out_len (if not NULL) is the UTF-8 length. */
int utf16le_to_utf8(const uint8_t *in, size_t len, char **out, size_t *out_len);
/* Convert UTF-8 into UTF-16LE written to `out` (capacity `cap` bytes).
 * Returns the number of bytes written, -EINVAL for invalid UTF-8,
 * -ENOSPC when it does not fit. */
long utf8_to_utf16le(const char *in, size_t len, uint8_t *out, size_t cap);
/* Number of bytes the UTF-16LE form of `in` needs, or -EINVAL. */
long utf8_utf16le_size(const char *in, size_t len);

#endif
