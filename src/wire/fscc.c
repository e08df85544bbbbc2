/* [MS-FSCC] file (2.4) and file-system (2.5) information class encoders
 * for QUERY_INFO.  The room left in the writer is the client's
 * OutputBufferLength; MS-SMB2 3.3.5.20.1 decides between
 * STATUS_INFO_LENGTH_MISMATCH (not even the fixed part fits) and
 * STATUS_BUFFER_OVERFLOW (a variable-length class, truncated). */
#include "wire/fscc.h"
#include "util/utf16.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* UTF-16 size of a UTF-8 name (NULL = ""), or -EILSEQ. */
static long name16_size(const char *name)
{
	if (!name)
		return 0;
	long n = utf8_utf16le_size(name, strlen(name));
	return n < 0 ? -EILSEQ : n;
}

/* Write the UTF-16 form of `name` (full size `size`) or the even-length
 * prefix of it that fits.  Returns 0 or -EOVERFLOW (truncated), -ENOMEM. */
static int put_name_trunc(struct wr *w, const char *name, size_t size)
{
	if (size == 0)
		return 0;
	size_t left = wr_left(w);
	if (size <= left) {
		utf8_to_utf16le(name, strlen(name), wr_reserve(w, size), size);
		return 0;
	}
	uint8_t *tmp = malloc(size);
	if (!tmp)
		return -ENOMEM;
	utf8_to_utf16le(name, strlen(name), tmp, size);
	wr_bytes(w, tmp, left & ~(size_t)1);
	free(tmp);
	return -EOVERFLOW;
}

/* One encoder per class.  n16 is the UTF-16 size of fi->name; an encoder
 * returns 0, or -EOVERFLOW when a variable-length class was truncated. */
typedef int (*file_info_put)(struct wr *w, const struct fscc_file_info *fi, size_t n16);

/* FILE_BASIC_INFORMATION (2.4.7): 4 times, attributes, 4 reserved = 40. */
static int put_basic(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->create);
	wr_le64(w, fi->access);
	wr_le64(w, fi->write);
	wr_le64(w, fi->change);
	wr_le32(w, fi->attrs);
	wr_le32(w, 0);
	return 0;
}

/* FILE_STANDARD_INFORMATION (2.4.47) = 24. */
static int put_standard(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->alloc);
	wr_le64(w, fi->eof);
	wr_le32(w, fi->nlink);
	wr_u8(w, fi->delete_pending);
	wr_u8(w, fi->directory);
	wr_le16(w, 0);
	return 0;
}

/* FILE_STREAM_INFORMATION (2.4.49): whole entries, 8-byte aligned. */
static int put_streams(struct wr *w, const struct fscc_file_info *fi, size_t n16_unused)
{
	(void)n16_unused;
	uint8_t *prev = NULL;
	for (unsigned i = 0; i < fi->n_streams; i++) {
		const struct fscc_stream *s = &fi->streams[i];
		long n16 = name16_size(s->name);
		if (n16 < 0)
			return (int)n16;
		size_t pad = prev ? (8 - wr_pos(w) % 8) % 8 : 0;
		if (wr_left(w) < pad + 24 + (size_t)n16)
			return -EOVERFLOW;
		wr_zero(w, pad);
		uint8_t *e = w->p;
		if (prev)
			put_le32(prev, (uint32_t)(e - prev));
		prev = e;
		wr_le32(w, 0);
		wr_le32(w, (uint32_t)n16);
		wr_le64(w, s->size);
		wr_le64(w, s->alloc);
		put_name_trunc(w, s->name, (size_t)n16);
	}
	return 0;
}

static int put_internal(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->index);
	return 0;
}

static int put_ea(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le32(w, fi->ea_size);
	return 0;
}

static int put_access(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le32(w, fi->access_mask);
	return 0;
}

static int put_position(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->position);
	return 0;
}

static int put_mode(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le32(w, fi->mode);
	return 0;
}

static int put_alignment(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le32(w, fi->alignment);
	return 0;
}

/* FILE_NAME_INFORMATION (2.4.28): length, then the name (truncated). */
static int put_name(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	wr_le32(w, (uint32_t)n16);
	return put_name_trunc(w, fi->name, n16);
}

/* 2.4.2: Basic, Standard, Internal, Ea, Access, Position, Mode, Alignment,
 * Name = 40+24+8+4+4+8+4+4+4 = 100 + name. */
static int put_all(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	put_basic(w, fi, n16);
	put_standard(w, fi, n16);
	put_internal(w, fi, n16);
	put_ea(w, fi, n16);
	put_access(w, fi, n16);
	put_position(w, fi, n16);
	put_mode(w, fi, n16);
	put_alignment(w, fi, n16);
	return put_name(w, fi, n16);
}

/* 2.4.9: not compressed: CompressedFileSize = EndOfFile, format/shifts 0,
 * 3 reserved bytes. */
static int put_compression(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->eof);
	wr_zero(w, 8);
	return 0;
}

/* 2.4.29: the four times, sizes and attributes = 56. */
static int put_network_open(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->create);
	wr_le64(w, fi->access);
	wr_le64(w, fi->write);
	wr_le64(w, fi->change);
	wr_le64(w, fi->alloc);
	wr_le64(w, fi->eof);
	wr_le32(w, fi->attrs);
	wr_le32(w, 0);
	return 0;
}

static int put_attribute_tag(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le32(w, fi->attrs);
	wr_le32(w, fi->reparse_tag);
	return 0;
}

/* 2.4.26: VolumeSerialNumber 8, FileId 16 (128-bit). */
static int put_id(struct wr *w, const struct fscc_file_info *fi, size_t n16)
{
	(void)n16;
	wr_le64(w, fi->volume_serial);
	wr_le64(w, fi->index);
	wr_le64(w, 0);
	return 0;
}

/* The file information classes QUERY_INFO answers: the size of the fixed
 * part, whether a name or list follows it, the encoder. */
static const struct file_class {
	uint8_t min;
	bool variable;
	file_info_put put;
} file_classes[FileIdInformation + 1] = {
	[FileBasicInformation] = { 40, false, put_basic },
	[FileStandardInformation] = { 24, false, put_standard },
	[FileInternalInformation] = { 8, false, put_internal },
	[FileEaInformation] = { 4, false, put_ea },
	[FileAccessInformation] = { 4, false, put_access },
	[FileNameInformation] = { 4, true, put_name },
	[FileNormalizedNameInformation] = { 4, true, put_name },
	[FilePositionInformation] = { 8, false, put_position },
	[FileModeInformation] = { 4, false, put_mode },
	[FileAlignmentInformation] = { 4, false, put_alignment },
	[FileAllInformation] = { 100, true, put_all },
	[FileStreamInformation] = { 24, true, put_streams },
	[FileCompressionInformation] = { 16, false, put_compression },
	[FileNetworkOpenInformation] = { 56, false, put_network_open },
	[FileAttributeTagInformation] = { 8, false, put_attribute_tag },
	[FileIdInformation] = { 24, false, put_id },
};

static const struct file_class *file_class_of(uint8_t cls)
{
	if (cls >= sizeof(file_classes) / sizeof(file_classes[0]) || !file_classes[cls].put)
		return NULL;
	return &file_classes[cls];
}

long fscc_file_info_min_size(uint8_t cls)
{
	const struct file_class *c = file_class_of(cls);
	return c ? c->min : -EINVAL;
}

bool fscc_file_info_is_variable(uint8_t cls)
{
	const struct file_class *c = file_class_of(cls);
	return c && c->variable;
}

int fscc_file_info_encode(struct wr *w, uint8_t cls, const struct fscc_file_info *fi)
{
	const struct file_class *c = file_class_of(cls);
	if (!c)
		return -EINVAL;
	if (wr_left(w) < c->min)
		return -ENOSPC;
	long n16 = name16_size(fi->name);
	if (n16 < 0)
		return (int)n16;
	return c->put(w, fi, (size_t)n16);
}

long fscc_fs_info_min_size(uint8_t cls)
{
	switch (cls) {
	case FileFsVolumeInformation: return 18;
	case FileFsSizeInformation: return 24;
	case FileFsDeviceInformation: return 8;
	case FileFsAttributeInformation: return 12;
	case FileFsFullSizeInformation: return 32;
	case FileFsObjectIdInformation: return 64;
	case FileFsSectorSizeInformation: return 28;
	default: return -EINVAL;
	}
}

int fscc_fs_info_encode(struct wr *w, uint8_t cls, const struct fscc_fs_info *fs)
{
	long min = fscc_fs_info_min_size(cls);
	if (min < 0)
		return -EINVAL;
	if (wr_left(w) < (size_t)min)
		return -ENOSPC;
	long n16;

	switch (cls) {
	case FileFsVolumeInformation:
		/* 2.5.9: the label follows 18 fixed bytes (no padding). */
		if ((n16 = name16_size(fs->label)) < 0)
			return (int)n16;
		wr_le64(w, fs->create);
		wr_le32(w, fs->serial);
		wr_le32(w, (uint32_t)n16);
		wr_u8(w, fs->supports_objects);
		wr_u8(w, 0);
		return put_name_trunc(w, fs->label, (size_t)n16);
	case FileFsSizeInformation:
		wr_le64(w, fs->total_units);
		wr_le64(w, fs->avail_units);
		wr_le32(w, fs->sectors_per_unit);
		wr_le32(w, fs->bytes_per_sector);
		break;
	case FileFsDeviceInformation:
		wr_le32(w, fs->device_type);
		wr_le32(w, fs->device_characteristics);
		break;
	case FileFsAttributeInformation:
		if ((n16 = name16_size(fs->fs_name)) < 0)
			return (int)n16;
		wr_le32(w, fs->attrs);
		wr_le32(w, fs->max_name_len);
		wr_le32(w, (uint32_t)n16);
		return put_name_trunc(w, fs->fs_name, (size_t)n16);
	case FileFsFullSizeInformation:
		wr_le64(w, fs->total_units);
		wr_le64(w, fs->avail_units);
		wr_le64(w, fs->actual_avail_units);
		wr_le32(w, fs->sectors_per_unit);
		wr_le32(w, fs->bytes_per_sector);
		break;
	case FileFsObjectIdInformation:
		wr_bytes(w, fs->object_id, 16);
		wr_zero(w, 48); /* ExtendedInfo */
		break;
	case FileFsSectorSizeInformation:
		/* 2.5.8: logical = physical = the device sector size; both
		 * alignment offsets 0. */
		wr_le32(w, fs->bytes_per_sector);
		wr_le32(w, fs->bytes_per_sector);
		wr_le32(w, fs->bytes_per_sector);
		wr_le32(w, fs->bytes_per_sector);
		wr_le32(w, fs->sector_flags);
		wr_le32(w, 0);
		wr_le32(w, 0);
		break;
	}
	return 0;
}
