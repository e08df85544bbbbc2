/* [MS-FSCC] information classes: file (2.4), directory-entry (2.4, used by
 * QUERY_DIRECTORY) and file-system (2.5) classes, plus the FILE_FULL_EA
 * list (2.4.15).  Encoders write host structs at w->p and honour w->end as
 * the client's OutputBufferLength; decoders parse SET_INFO buffers. */
#ifndef SMB3D_WIRE_FSCC_H
#define SMB3D_WIRE_FSCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cursor.h"

/* File information classes (2.4) */
enum fscc_file_class {
	FileDirectoryInformation = 1,
	FileFullDirectoryInformation = 2,
	FileBothDirectoryInformation = 3,
	FileBasicInformation = 4,
	FileStandardInformation = 5,
	FileInternalInformation = 6,
	FileEaInformation = 7,
	FileAccessInformation = 8,
	FileNameInformation = 9,
	FileRenameInformation = 10,
	FileLinkInformation = 11,
	FileNamesInformation = 12,
	FileDispositionInformation = 13,
	FilePositionInformation = 14,
	FileFullEaInformation = 15,
	FileModeInformation = 16,
	FileAlignmentInformation = 17,
	FileAllInformation = 18,
	FileAllocationInformation = 19,
	FileEndOfFileInformation = 20,
	FileStreamInformation = 22,
	FileCompressionInformation = 28,
	FileNetworkOpenInformation = 34,
	FileAttributeTagInformation = 35,
	FileIdBothDirectoryInformation = 37,
	FileIdFullDirectoryInformation = 38,
	FileNormalizedNameInformation = 48,
	FileIdInformation = 59,
	FileIdExtdDirectoryInformation = 60,
	FileDispositionInformationEx = 64,
};

/* File-system information classes (2.5) */
enum fscc_fs_class {
	FileFsVolumeInformation = 1,
	FileFsSizeInformation = 3,
	FileFsDeviceInformation = 4,
	FileFsAttributeInformation = 5,
	FileFsFullSizeInformation = 7,
	FileFsObjectIdInformation = 8,
	FileFsSectorSizeInformation = 11,
};

/* File attributes (2.6) */
#define FILE_ATTRIBUTE_READONLY 0x00000001u
#define FILE_ATTRIBUTE_HIDDEN 0x00000002u
#define FILE_ATTRIBUTE_SYSTEM 0x00000004u
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010u
#define FILE_ATTRIBUTE_ARCHIVE 0x00000020u
#define FILE_ATTRIBUTE_NORMAL 0x00000080u
#define FILE_ATTRIBUTE_TEMPORARY 0x00000100u
#define FILE_ATTRIBUTE_SPARSE_FILE 0x00000200u
#define FILE_ATTRIBUTE_REPARSE_POINT 0x00000400u
#define FILE_ATTRIBUTE_COMPRESSED 0x00000800u
#define FILE_ATTRIBUTE_OFFLINE 0x00001000u
#define FILE_ATTRIBUTE_NOT_CONTENT_INDEXED 0x00002000u
#define FILE_ATTRIBUTE_ENCRYPTED 0x00004000u

/* FileDispositionInformationEx Flags (2.4.12) */
#define FILE_DISPOSITION_DELETE 0x00000001u
#define FILE_DISPOSITION_POSIX_SEMANTICS 0x00000002u
#define FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK 0x00000004u
#define FILE_DISPOSITION_ON_CLOSE 0x00000008u
#define FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE 0x00000010u

/* FILE_FULL_EA_INFORMATION Flags */
#define FILE_NEED_EA 0x80

/* --- file information (QUERY_INFO, InfoType FILE) */

struct fscc_stream {
	const char *name;          /* UTF-8, e.g. "::$DATA" or ":s:$DATA" */
	uint64_t size, alloc;
};

struct fscc_file_info {
	uint64_t create, access, write, change;  /* NT time */
	uint64_t alloc, eof;
	uint32_t attrs, nlink;
	bool delete_pending, directory;
	uint64_t index;            /* IndexNumber / FileId (the inode) */
	uint32_t ea_size, access_mask;
	uint64_t position;
	uint32_t mode, alignment;
	uint32_t reparse_tag;
	uint64_t volume_serial;    /* FileIdInformation */
	const char *name;          /* UTF-8, NULL = "" (Name, NormalizedName, All) */
	const struct fscc_stream *streams;
	unsigned n_streams;
};

/* Size of a fixed-size class, or of the fixed part of a variable one;
 * -EINVAL for a class fscc_file_info_encode() does not write. */
long fscc_file_info_min_size(uint8_t cls);
bool fscc_file_info_is_variable(uint8_t cls);

/* Encode one class into the room left in w (MS-SMB2 3.3.5.20.1):
 *   0            written completely;
 *   -EOVERFLOW   variable class, partial data written (name truncated,
 *                FileNameLength still the full length; whole stream
 *                entries only) -> STATUS_BUFFER_OVERFLOW;
 *   -ENOSPC      nothing written, less room than the fixed part
 *                -> STATUS_INFO_LENGTH_MISMATCH;
 *   -EINVAL      unknown / set-only class -> STATUS_INVALID_INFO_CLASS;
 *   -EILSEQ      a name is not valid UTF-8; -ENOMEM. */
int fscc_file_info_encode(struct wr *w, uint8_t cls, const struct fscc_file_info *fi);

/* --- file-system information (QUERY_INFO, InfoType FILESYSTEM) */

struct fscc_fs_info {
	uint64_t create;           /* VolumeCreationTime */
	uint32_t serial;
	const char *label;         /* UTF-8, NULL = "" */
	bool supports_objects;
	uint64_t total_units, avail_units, actual_avail_units;
	uint32_t sectors_per_unit, bytes_per_sector;
	uint32_t attrs;            /* FILE_CASE_SENSITIVE_SEARCH ... */
	uint32_t max_name_len;     /* MaximumComponentNameLength, 255 */
	const char *fs_name;       /* "NTFS" */
	uint32_t device_type;      /* FILE_DEVICE_DISK 7 */
	uint32_t device_characteristics;
	uint8_t object_id[16];
	uint32_t sector_flags;     /* SSINFO_FLAGS_* */
};

#define FILE_DEVICE_DISK 0x00000007u
#define FILE_CASE_SENSITIVE_SEARCH 0x00000001u
#define FILE_CASE_PRESERVED_NAMES 0x00000002u
#define FILE_UNICODE_ON_DISK 0x00000004u
#define FILE_PERSISTENT_ACLS 0x00000008u
#define FILE_SUPPORTS_SPARSE_FILES 0x00000040u
#define FILE_SUPPORTS_OBJECT_IDS 0x00010000u
#define FILE_SUPPORTS_HARD_LINKS 0x00400000u
#define SSINFO_FLAGS_ALIGNED_DEVICE 0x00000001u
#define SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE 0x00000002u
#define SSINFO_FLAGS_NO_SEEK_PENALTY 0x00000004u
#define SSINFO_FLAGS_TRIM_ENABLED 0x00000008u

long fscc_fs_info_min_size(uint8_t cls);
/* Same return values as fscc_file_info_encode(). */
int fscc_fs_info_encode(struct wr *w, uint8_t cls, const struct fscc_fs_info *fs);

/* --- directory entries (QUERY_DIRECTORY) */

struct fscc_dirent {
	uint64_t file_id;
	uint64_t create, access, write, change;
	uint64_t eof, alloc;
	uint32_t attrs;
	uint32_t ea_size;
	uint32_t reparse_tag;      /* sent instead of EaSize for reparse points */
	const char *name;          /* UTF-8 */
	const char *short_name;    /* 8.3 name or NULL (at most 12 characters) */
};

/* Append one entry of class cls: pad to 8 bytes (from w->base, so the
 * output buffer must start 8-aligned), write the entry, patch the previous
 * entry's NextEntryOffset (*prev_next_field, NULL before the first) and set
 * *prev_next_field to this entry.  Returns 0; -ENOSPC without writing
 * anything when the entry does not fit (stop, resume later); -EINVAL for an
 * unknown class (STATUS_INVALID_INFO_CLASS); -EILSEQ for a bad name. */
int fscc_dirent_encode(struct wr *w, uint8_t cls, const struct fscc_dirent *e,
		       uint8_t **prev_next_field);

/* --- SET_INFO decoders.  Each returns 0, -EMSGSIZE when the buffer is
 * shorter than the class's fixed size (STATUS_INFO_LENGTH_MISMATCH) or
 * -EINVAL when an inner length is wrong (STATUS_INVALID_PARAMETER). */

struct fscc_basic {
	uint64_t create, access, write, change; /* 0 = leave, -1 = stop updating */
	uint32_t attrs;                         /* 0 = leave */
};
int fscc_basic_decode(const uint8_t *b, size_t len, struct fscc_basic *o);

/* FILE_RENAME_INFORMATION_TYPE_2 (2.4.42.2), and FILE_LINK_INFORMATION
 * (2.4.27.2) which has the same layout. */
struct fscc_rename {
	bool replace_if_exists;
	uint64_t root_directory;   /* must be 0 over SMB2 */
	const uint8_t *name;       /* UTF-16LE, NULL when empty */
	uint32_t name_len;         /* bytes, even */
};
int fscc_rename_decode(const uint8_t *b, size_t len, struct fscc_rename *o);
int fscc_link_decode(const uint8_t *b, size_t len, struct fscc_rename *o);

int fscc_disposition_decode(const uint8_t *b, size_t len, bool *delete_pending);
int fscc_disposition_ex_decode(const uint8_t *b, size_t len, uint32_t *flags);
int fscc_position_decode(const uint8_t *b, size_t len, uint64_t *pos);
int fscc_mode_decode(const uint8_t *b, size_t len, uint32_t *mode);
int fscc_eof_decode(const uint8_t *b, size_t len, uint64_t *eof);
int fscc_allocation_decode(const uint8_t *b, size_t len, uint64_t *alloc);

/* FILE_FULL_EA_INFORMATION list (2.4.15). */
struct fscc_ea {
	uint8_t flags;             /* FILE_NEED_EA */
	uint8_t name_len;
	const char *name;          /* NUL-terminated in the buffer */
	uint16_t value_len;
	const uint8_t *value;
};
struct fscc_ea_iter {
	const uint8_t *p, *end;
};
void fscc_ea_iter_init(struct fscc_ea_iter *it, const uint8_t *b, size_t len);
/* 1 with *ea filled, 0 at the end of the list, -EINVAL for a malformed
 * entry (bad NextEntryOffset, lengths past the buffer, name not
 * NUL-terminated). */
int fscc_ea_next(struct fscc_ea_iter *it, struct fscc_ea *ea);
/* Append one entry (4-byte aligned from w->base); same contract as
 * fscc_dirent_encode(): 0 or -ENOSPC without writing. */
int fscc_ea_encode(struct wr *w, const struct fscc_ea *ea, uint8_t **prev_next_field);

#endif
