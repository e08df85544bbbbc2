/* Extended view of the user.DOSATTRIB value (src/vfs/dosattr.c): besides
 * the attributes and the create time of struct vfs_dosinfo, an explicit
 * ChangeTime set by a client ([MS-FSCC] 2.4.7 FileBasicInformation).
 * Linux cannot set ctime, so the value is kept with the mtime and size the
 * file had when it was set: it stands for as long as both are unchanged
 * (the next write or truncation makes the kernel's ctime current again). */
#ifndef SMB3D_VFS_DOSATTR_H
#define SMB3D_VFS_DOSATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfs/vfs.h"

struct vfs_dosinfo_ext {
	struct vfs_dosinfo d;
	bool has_change;          /* the fields below are set */
	uint64_t change_time;     /* NT time */
	int64_t mtime_ns;         /* st_mtime (ns since the epoch) when set */
	uint64_t size;            /* st_size when set */
};

/* The data identity kept with an explicit ChangeTime: st_mtime in ns.  A
 * client may set a LastWriteTime after 2262, whose ns do not fit an int64:
 * the product wraps (unsigned arithmetic, defined) instead of overflowing,
 * which is all an identity compared for equality needs. */
static inline int64_t vfs_dos_mtime_ns(const struct statx *st)
{
	return (int64_t)((uint64_t)(int64_t)st->stx_mtime.tv_sec * 1000000000u + st->stx_mtime.tv_nsec);
}

/* -ENODATA when the file has no (readable) value yet. */
int vfs_dos_get_ext(const struct vfs_ident *id, int fd, struct vfs_dosinfo_ext *x);
/* The same for entry `name` (one component, not followed) of directory
 * dirfd, without opening it: vfs_getxattrat, so -ENOSYS on kernels before
 * 6.13. */
int vfs_dos_get_ext_at(const struct vfs_ident *id, int dirfd, const char *name, struct vfs_dosinfo_ext *x);
int vfs_dos_set_ext(const struct vfs_ident *id, int fd, const struct vfs_dosinfo_ext *x);

/* The value as stored (Samba's xattr_DOSATTRIB version 5, then smb3d's
 * change-time extension when x->has_change): its length.  Decoding reads
 * every version Samba wrote (1-5, the bare "0x20" string) and smb3d's
 * older format; -ENODATA when the value is none of them. */
#define VFS_DOS_ENCODED_MAX 52
size_t vfs_dos_encode(const struct vfs_dosinfo_ext *x, uint8_t out[VFS_DOS_ENCODED_MAX]);
int vfs_dos_decode(const uint8_t *b, size_t n, struct vfs_dosinfo_ext *x);

#endif
