/* The one errno -> NTSTATUS table (DESIGN.md "errors"; CONVENTIONS rule 7).
 *
 * Choices worth knowing:
 *  - EXDEV comes from two places.  Mostly from openat2(RESOLVE_BENEATH)
 *    refusing a path that would leave the share (absolute path, "..", a
 *    symlink pointing outside): STATUS_ACCESS_DENIED, which is what Windows
 *    answers for a path it will not follow out of the volume.  Rarely from
 *    rename/link across two file systems mounted inside one share: a rename
 *    handler should use vfs_nt_status_rename(), which answers
 *    STATUS_NOT_SAME_DEVICE (so Windows clients fall back to copy+delete).
 *  - ELOOP (a symlink refused under O_NOFOLLOW, or a loop) is
 *    OBJECT_PATH_NOT_FOUND.
 *  - ENODATA (no such xattr) is deliberately absent: its meaning depends on
 *    the caller (EA query vs DOS attributes), so callers handle it. */
#include <errno.h>

#include "vfs/vfs.h"

#ifndef STATUS_DISK_QUOTA_EXCEEDED
#define STATUS_DISK_QUOTA_EXCEEDED 0xC0000802u /* MS-ERREF 2.3.1 */
#endif
#ifndef STATUS_UNEXPECTED_IO_ERROR
#define STATUS_UNEXPECTED_IO_ERROR 0xC00000E9u
#endif

NTSTATUS vfs_nt_status(int neg_errno)
{
	int e = neg_errno < 0 ? -neg_errno : neg_errno;
	switch (e) {
	case 0: return STATUS_SUCCESS;
	case ENOENT: return STATUS_OBJECT_NAME_NOT_FOUND;
	case ENOTDIR: return STATUS_OBJECT_PATH_NOT_FOUND;
	case ELOOP: return STATUS_OBJECT_PATH_NOT_FOUND;
	case EEXIST: return STATUS_OBJECT_NAME_COLLISION;
	case EACCES: return STATUS_ACCESS_DENIED;
	case EPERM: return STATUS_ACCESS_DENIED;
	case EISDIR: return STATUS_FILE_IS_A_DIRECTORY;
	case ENOTEMPTY: return STATUS_DIRECTORY_NOT_EMPTY;
	case ENOSPC: return STATUS_DISK_FULL;
	case EFBIG: return STATUS_DISK_FULL;
	case EDQUOT: return STATUS_DISK_QUOTA_EXCEEDED;
	case EXDEV: return STATUS_ACCESS_DENIED; /* see the top */
	case ENAMETOOLONG: return STATUS_OBJECT_NAME_INVALID;
	case EROFS: return STATUS_MEDIA_WRITE_PROTECTED;
	case EBADF: return STATUS_INVALID_HANDLE;
	case EINVAL: return STATUS_INVALID_PARAMETER;
	case ENOMEM: return STATUS_NO_MEMORY;
	case EMFILE: return STATUS_TOO_MANY_OPENED_FILES;
	case ENFILE: return STATUS_TOO_MANY_OPENED_FILES;
	case ETXTBSY: return STATUS_SHARING_VIOLATION;
	case EBUSY: return STATUS_SHARING_VIOLATION;
	case EOPNOTSUPP: return STATUS_NOT_SUPPORTED; /* == ENOTSUP on Linux */
	case ENOSYS: return STATUS_NOT_SUPPORTED;
	case EIO: return STATUS_UNEXPECTED_IO_ERROR;
	case ERANGE: return STATUS_BUFFER_TOO_SMALL;
	case E2BIG: return STATUS_EA_TOO_LARGE;
	case EINTR: return STATUS_CANCELLED;
	case ECANCELED: return STATUS_CANCELLED;
	case ESTALE: return STATUS_FILE_DELETED;
	default: return STATUS_UNSUCCESSFUL;
	}
}

NTSTATUS vfs_nt_status_rename(int neg_errno)
{
	int e = neg_errno < 0 ? -neg_errno : neg_errno;
	if (e == EXDEV)
		return STATUS_NOT_SAME_DEVICE;
	return vfs_nt_status(neg_errno);
}
