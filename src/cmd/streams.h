/* Named streams ([MS-FSCC] 2.1.4, [MS-FSA] 2.1.5.1): the data of stream
 * "s" of the file with inode (dev, ino) is the regular file
 *   <share>/.smb3d-streams/<dev>-<ino>/s
 * so READ, WRITE, LOCK and the size classes work on a stream open's fd as
 * on any file.  The depot is created and used as the server (root-only
 * directories, mode 0700); each stream file belongs to the owner of its
 * base file.  Stream names compare without case and keep the case they
 * were created with.  The depot's name is reserved (vfs_name_reserved):
 * no client path reaches it and no listing shows it; and a depot, or a
 * directory in it, that is not the server's own (owner, mode 0700) is
 * refused, whoever placed it there. */
#ifndef SMB3D_CMD_STREAMS_H
#define SMB3D_CMD_STREAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfs/vfs.h"
#include "wire/fscc.h"
#include "proto/smb.h"

/* Open (flags as open(2); O_CREAT creates the depot directories) stream
 * `name` of (dev, ino) under the share root fd.  *ondisk is the stream's
 * name as stored (malloc'd).  New streams are chowned to uid/gid.
 * Returns the fd or -errno. */
int streams_open(int root, uint64_t dev, uint64_t ino, const char *name, int flags,
		 uid_t uid, gid_t gid, char **ondisk);
/* The named streams of (dev, ino) as ":name:$DATA" entries (malloc'd array
 * and names, free with streams_list_free); 0 or -errno. */
int streams_list(int root, uint64_t dev, uint64_t ino, struct fscc_stream **v, unsigned *n);
void streams_list_free(struct fscc_stream *v, unsigned n);
/* Remove one stream / all streams of (dev, ino) (the base file is gone). */
int streams_unlink(int root, uint64_t dev, uint64_t ino, const char *ondisk);
void streams_remove_all(int root, uint64_t dev, uint64_t ino);
/* Rename stream `from` (as stored) of (dev, ino) to `to`.  An existing
 * stream `to` (any case): -EEXIST unless replace, -ENOTEMPTY when it holds
 * data; else it is replaced.  0 or -errno. */
int streams_rename(int root, uint64_t dev, uint64_t ino, const char *from, const char *to, bool replace);

/* ---- "vfs objects = streams_xattr" (streams_xattr.c) ----
 * Samba's format: stream NAME of a file is the xattr
 * "user.DosStream.NAME:$DATA" of the file, its value the data and one NUL
 * byte; names compare without case.  A share moved from Samba keeps its
 * streams, and back.  The value is bounded by the file system (64 KiB at
 * most, about 4 KiB on ext4 without ea_inode): a write past it fails with
 * STATUS_DISK_FULL (logged) and leaves the stream as it was.
 * So that READ, WRITE, LOCK and the size classes still work on an fd, an
 * open's fd is a working copy in the depot (above), refreshed from the
 * xattr by an opener when no other open has it, and written back to the
 * xattr after every change (streams_written).  `base` is the base file's
 * share-relative path, bst its statx. */
int streams_xattr_open(int root, const char *base, const struct statx *bst, const char *name, int flags,
		       char **ondisk);
int streams_xattr_list(int root, const char *base, struct fscc_stream **v, unsigned *n);
int streams_xattr_unlink(int root, const char *base, uint64_t dev, uint64_t ino, const char *ondisk);
/* streams_rename() for the xattrs of `base` (and their working copies). */
int streams_xattr_rename(int root, const char *base, const struct statx *bst, const char *from, const char *to,
			 bool replace);
/* Remove every user.DosStream.* xattr of the file open as fd. */
void streams_xattr_remove_all(int fd);
/* After a change of an open's data (WRITE, end of file, allocation, zero
 * data, copychunk): for a streams_xattr stream, store it; success for
 * anything else. */
struct open;
NTSTATUS streams_written(struct open *o);

#endif
