/* Pieces shared by the file-service command codecs (create.c ... notify.c):
 * the SMB2_FILEID and the checked "buffer at offset/length" lookup. */
#ifndef SMB3D_WIRE_FILE_COMMON_H
#define SMB3D_WIRE_FILE_COMMON_H

#include <errno.h>
#include <stdint.h>

#include "wire/cursor.h"
#include "wire/smb2.h"

/* SMB2_FILEID ([MS-SMB2] 2.2.14.1): persistent + volatile halves. */
struct wire_fileid {
	uint64_t persistent;
	uint64_t volatile_;
};

static inline void wire_fileid_read(struct rd *r, struct wire_fileid *f)
{
	f->persistent = rd_le64(r);
	f->volatile_ = rd_le64(r);
}

static inline void wire_fileid_write(struct wr *w, const struct wire_fileid *f)
{
	wr_le64(w, f->persistent);
	wr_le64(w, f->volatile_);
}

/* Read the StructureSize of a request body and check it.  Returns false on
 * a short body or a wrong size. */
static inline bool wire_body_start(struct rd *r, uint16_t structure_size)
{
	uint16_t ss = rd_le16(r);
	return rd_ok(r) && ss == structure_size;
}

/* Resolve a variable buffer given by an Offset/Length pair of the body.
 * Offsets count from the SMB2 header (r->base).  A zero length yields NULL
 * and ignores the offset (clients send arbitrary offsets with empty
 * buffers).  A non-empty buffer must start at or after `min_off` (it may not
 * overlap the header or the fixed part of the body) and end inside the
 * message.  Returns 0 or -EINVAL. */
static inline int wire_buf_get(const struct rd *r, uint64_t off, uint64_t len,
			       size_t min_off, const uint8_t **out)
{
	*out = NULL;
	if (len == 0)
		return 0;
	if (off < min_off)
		return -EINVAL;
	*out = rd_range(r, off, len);
	return *out ? 0 : -EINVAL;
}

#endif
