/* [MS-FSCC] directory-entry classes written by QUERY_DIRECTORY (2.4.8,
 * 2.4.14, 2.4.17, 2.4.18, 2.4.19, 2.4.20, 2.4.35). */
#include "wire/fscc.h"
#include "util/utf16.h"

#include <errno.h>
#include <string.h>

/* Bytes before FileName for each class. */
static long dirent_fixed(uint8_t cls)
{
	switch (cls) {
	case FileDirectoryInformation: return 64;
	case FileFullDirectoryInformation: return 68;
	case FileBothDirectoryInformation: return 94;
	case FileNamesInformation: return 12;
	case FileIdBothDirectoryInformation: return 104;
	case FileIdFullDirectoryInformation: return 80;
	case FileIdExtdDirectoryInformation: return 88;
	default: return -EINVAL;
	}
}

int fscc_dirent_encode(struct wr *w, uint8_t cls, const struct fscc_dirent *e,
		       uint8_t **prev_next_field)
{
	long fixed = dirent_fixed(cls);
	if (fixed < 0)
		return -EINVAL;
	const char *name = e->name ? e->name : "";
	long n16 = utf8_utf16le_size(name, strlen(name));
	if (n16 < 0)
		return -EILSEQ;
	uint8_t short16[24];
	long s16 = 0;
	if (e->short_name && (cls == FileBothDirectoryInformation ||
			      cls == FileIdBothDirectoryInformation)) {
		s16 = utf8_to_utf16le(e->short_name, strlen(e->short_name), short16, sizeof(short16));
		if (s16 < 0)
			s16 = 0; /* not a valid 8.3 name: send none */
	}

	/* Nothing is written unless the whole entry (and its padding) fits,
	 * so the caller can stop here and resume with this entry later. */
	size_t pad = (8 - wr_pos(w) % 8) % 8;
	if (wr_left(w) < pad + (size_t)fixed + (size_t)n16)
		return -ENOSPC;
	wr_zero(w, pad);
	uint8_t *p = wr_reserve(w, (size_t)fixed + (size_t)n16);
	memset(p, 0, (size_t)fixed);
	/* NextEntryOffset 0 (last so far); FileIndex 0: only meaningful on
	 * NTFS, and clients ignore it. */
	utf8_to_utf16le(name, strlen(name), p + fixed, (size_t)n16);

	if (cls == FileNamesInformation) {
		put_le32(p + 8, (uint32_t)n16);
	} else {
		put_le64(p + 8, e->create);
		put_le64(p + 16, e->access);
		put_le64(p + 24, e->write);
		put_le64(p + 32, e->change);
		put_le64(p + 40, e->eof);
		put_le64(p + 48, e->alloc);
		put_le32(p + 56, e->attrs);
		put_le32(p + 60, (uint32_t)n16);
	}
	/* 2.4.17: for a reparse point EaSize carries the reparse tag. */
	uint32_t ea = e->attrs & FILE_ATTRIBUTE_REPARSE_POINT ? e->reparse_tag : e->ea_size;
	switch (cls) {
	case FileFullDirectoryInformation:
		put_le32(p + 64, ea);
		break;
	case FileIdBothDirectoryInformation:
		put_le64(p + 96, e->file_id); /* after Reserved2 at 94 */
		/* fall through */
	case FileBothDirectoryInformation:
		put_le32(p + 64, ea);
		p[68] = (uint8_t)s16;          /* ShortNameLength */
		memcpy(p + 70, short16, (size_t)s16);
		break;
	case FileIdFullDirectoryInformation:
		put_le32(p + 64, ea);
		put_le64(p + 72, e->file_id);  /* after Reserved at 68 */
		break;
	case FileIdExtdDirectoryInformation:
		put_le32(p + 64, e->ea_size);
		put_le32(p + 68, e->reparse_tag);
		put_le64(p + 72, e->file_id);  /* 128-bit FileId, high half 0 */
		break;
	}

	if (*prev_next_field)
		put_le32(*prev_next_field, (uint32_t)(p - *prev_next_field));
	*prev_next_field = p;
	return 0;
}
