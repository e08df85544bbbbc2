/* Disk space a client asks for without writing: FileAllocationInformation
 * ([MS-FSA] 2.1.5.14.1), the CREATE AllocationSize context ([MS-SMB2]
 * 2.2.13.2.6) and FSCTL_SET_ZERO_DATA ([MS-FSA] 2.1.5.10.32), with Samba's
 * "strict allocate" semantics:
 *   strict allocate = no (default)  nothing is preallocated; a request for
 *                                   more than the free space fails
 *   strict allocate = yes           the space is preallocated (fallocate,
 *                                   KEEP_SIZE) as the session's user
 * Either way a request is refused with STATUS_DISK_FULL when it needs more
 * than the free space for unprivileged users (statfs f_bavail), less a
 * reserve of 1% of the file system and less what preallocations still
 * running were granted, so one request (or several at once) never fills the
 * disk.  A preallocation that fails anyway (others wrote meanwhile) gives
 * its blocks back.  Everything runs as the session's user: root-reserved
 * blocks are never used. */
#ifndef SMB3D_CMD_ALLOC_H
#define SMB3D_CMD_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/ntstatus.h"

struct vfs_ident;
struct open;

/* May `need` more bytes be allocated on the file system of fd?
 * STATUS_SUCCESS, STATUS_DISK_FULL, or the error of fstatfs. */
NTSTATUS alloc_check(const struct vfs_ident *id, int fd, uint64_t need);

/* Make open o's file (data on fd, size `eof`, `have` bytes allocated) hold
 * `want` bytes (want > eof): checked, then preallocated past the end of
 * file when `strict`.  A failed preallocation releases what it took. */
NTSTATUS alloc_grow(const struct vfs_ident *id, const struct open *o, int fd, bool strict, uint64_t eof,
		    uint64_t have, uint64_t want);

/* Give back the blocks of o's file past max(end of file, keep) (a failed
 * preallocation; an allocation size made smaller). */
void alloc_release(const struct vfs_ident *id, const struct open *o, int fd, uint64_t keep, uint64_t upto);

/* Bytes of [off, end) of fd that are holes (SEEK_HOLE / SEEK_DATA), what
 * writing zeroes there would allocate; a file with very many extents is
 * counted as a hole past the first ones (an upper bound). */
uint64_t alloc_holes(const struct vfs_ident *id, int fd, uint64_t off, uint64_t end);

#endif
