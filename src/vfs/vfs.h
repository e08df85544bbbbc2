/* File-system operations under a share's root fd (DESIGN.md src/vfs/).
 *
 * Every function is called from a request coroutine on a worker thread and
 * may suspend that coroutine (never the worker thread):
 *   io backend = io_uring  the operation is an SQE on the worker's own ring
 *                          (openat2, statx, read, write, fsync, fallocate,
 *                          renameat, unlinkat, mkdirat, linkat, close, xattrs);
 *                          operations io_uring lacks (getdents, futimens,
 *                          fchmod, copy_file_range, lseek, fstatfs, ftruncate
 *                          where unsupported) go to the thread pool
 *   io backend = threads   every operation is a blocking syscall on a pool
 *                          thread that completes back into the worker
 * Either way cheap metadata syscalls (close, statx of an fd, xattr reads,
 * opens whose lookup is cached) run on the calling thread itself when that
 * needs no credential switch, or (threads) a switch of that thread's own
 * credentials around the one syscall (vfs.c).
 *
 * Identity: each call names who performs it (`const struct vfs_ident *`,
 * NULL = the server itself).  When smb3d runs as root the operation runs with
 * that user's uid/gid/groups (an io_uring personality on the ring; the pool
 * thread's own euid/egid/groups, switched with raw per-thread syscalls), so
 * unix permissions apply to SMB users.  When not root, identities are ignored.
 *
 * Paths are relative, '/'-separated, UTF-8, and resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) under `dirfd`: no "..",
 * absolute path or symlink can leave the share.  "" means dirfd itself.
 *
 * Errors are -errno below src/proto/ (CONVENTIONS rule 7); vfs_nt_status()
 * (errmap.c) is the one errno -> NTSTATUS table. */
#ifndef SMB3D_VFS_H
#define SMB3D_VFS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include "wire/ntstatus.h"

enum vfs_backend { VFS_URING = 0, VFS_THREADS = 1 };

/* Start the engine (the pool is used by both engines); threads: pool size,
 * 0 = default (2 x CPUs, at least 4). */
int vfs_init(enum vfs_backend backend, int threads);
void vfs_fini(void);
enum vfs_backend vfs_backend(void);

/* ---- identity ---- */
struct vfs_ident;
/* A cached, refcounted identity for (uid, gid, groups). */
struct vfs_ident *vfs_ident_get(uid_t uid, gid_t gid, const gid_t *groups, int n_groups);
void vfs_ident_put(struct vfs_ident *id);
/* Another reference to id (NULL stays NULL). */
struct vfs_ident *vfs_ident_ref(struct vfs_ident *id);
/* The uid id acts as. */
uid_t vfs_ident_uid(const struct vfs_ident *id);

/* ---- operations (all return >= 0 or -errno) ---- */
/* openat2 with RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS (+ RESOLVE_NO_SYMLINKS
 * when `no_symlinks`); flags as open(2) (O_CLOEXEC is added). */
int vfs_open(const struct vfs_ident *id, int dirfd, const char *path, int flags, mode_t mode);
int vfs_close(int fd);
/* statx of `path` under dirfd; path "" = dirfd itself (AT_EMPTY_PATH). */
int vfs_statx(const struct vfs_ident *id, int dirfd, const char *path, int at_flags, unsigned mask, struct statx *st);
ssize_t vfs_pread(const struct vfs_ident *id, int fd, void *buf, size_t len, uint64_t off);
ssize_t vfs_pwrite(const struct vfs_ident *id, int fd, const void *buf, size_t len, uint64_t off);
int vfs_fsync(const struct vfs_ident *id, int fd, bool datasync);
int vfs_fallocate(const struct vfs_ident *id, int fd, int mode, uint64_t off, uint64_t len);
int vfs_ftruncate(const struct vfs_ident *id, int fd, uint64_t len);
/* renameat2 (flags: RENAME_NOREPLACE ...) between two directories under the share. */
int vfs_renameat(const struct vfs_ident *id, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
int vfs_unlinkat(const struct vfs_ident *id, int dirfd, const char *path, int at_flags);
int vfs_mkdirat(const struct vfs_ident *id, int dirfd, const char *path, mode_t mode);
int vfs_linkat(const struct vfs_ident *id, int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int vfs_futimens(const struct vfs_ident *id, int fd, const struct timespec ts[2]);
int vfs_fchmod(const struct vfs_ident *id, int fd, mode_t mode);
/* getdents64 batch into buf (struct linux_dirent64 records). */
ssize_t vfs_getdents(const struct vfs_ident *id, int fd, void *buf, size_t len);
ssize_t vfs_fgetxattr(const struct vfs_ident *id, int fd, const char *name, void *buf, size_t len);
int vfs_fsetxattr(const struct vfs_ident *id, int fd, const char *name, const void *buf, size_t len, int flags);
int vfs_fremovexattr(const struct vfs_ident *id, int fd, const char *name);
ssize_t vfs_flistxattr(const struct vfs_ident *id, int fd, char *buf, size_t len);
/* The same by name: `name` is one component under dirfd (no '/', not "."
 * or ".."; -EINVAL otherwise), a symlink is not followed.  getxattrat(2) /
 * listxattrat(2) of Linux 6.13; -ENOSYS on older kernels (the caller opens
 * the file and uses the fd calls). */
ssize_t vfs_getxattrat(const struct vfs_ident *id, int dirfd, const char *name, const char *xname, void *buf, size_t len);
ssize_t vfs_listxattrat(const struct vfs_ident *id, int dirfd, const char *name, char *buf, size_t len);
ssize_t vfs_copy_file_range(const struct vfs_ident *id, int fd_in, uint64_t off_in, int fd_out, uint64_t off_out, size_t len);
/* lseek(SEEK_DATA / SEEK_HOLE ...); returns the offset. */
int64_t vfs_lseek(const struct vfs_ident *id, int fd, int64_t off, int whence);
int vfs_fstatfs(const struct vfs_ident *id, int fd, struct statfs *st);
/* Run fn(arg) on a pool thread with the identity applied; returns its value. */
long vfs_call(const struct vfs_ident *id, long (*fn)(void *arg), void *arg);
/* Queue fn(arg) for a pool thread, with the identity applied, and return at
 * once: nobody waits for it (fn owns arg; id must outlive the job).  0,
 * -ENOMEM, or -EAGAIN when there is no pool (the caller runs fn itself). */
int vfs_spawn(const struct vfs_ident *id, long (*fn)(void *arg), void *arg);

/* ---- names ---- */
/* Case-insensitive resolution (share option "case sensitive = no"): when
 * `path` does not exist as written, find each missing component by a
 * case-insensitive scan of its directory.  On success *out is a malloc'd path
 * as it exists on disk (or with the last component as written when only the
 * last is missing, for creates); -ENOENT when an intermediate directory is
 * missing. */
int vfs_resolve_ci(const struct vfs_ident *id, int rootfd, const char *path, char **out);
/* The comparison vfs_resolve_ci uses: equal under simple case folding
 * (ASCII + towlower of decoded UTF-8). */
bool vfs_name_equal_ci(const char *a, const char *b);

/* ---- reserved names ---- */
/* Where smb3d keeps named streams, in the root of each share (cmd/streams.h). */
#define VFS_STREAMS_DEPOT ".smb3d-streams"
/* Is the component name[0..len) one the server reserves for itself inside
 * shares (VFS_STREAMS_DEPOT)?  Compared as vfs_name_equal_ci compares, at
 * any depth: a reserved name is never reached through a client's path
 * (CREATE, rename and link targets) nor shown in a listing or a change
 * notification (docs/SECURITY.md "Reserved names"). */
bool vfs_name_reserved(const char *name, size_t len);

/* ---- DOS attributes and create time: the user.DOSATTRIB xattr ---- */
struct vfs_dosinfo {
	uint32_t attrs;        /* FILE_ATTRIBUTE_* (hidden, system, archive, readonly) */
	uint64_t create_time;  /* NT time; 0 = unknown (use the birth/mtime) */
};
/* -ENODATA when the file has no xattr yet. */
int vfs_dos_get(const struct vfs_ident *id, int fd, struct vfs_dosinfo *d);
int vfs_dos_set(const struct vfs_ident *id, int fd, const struct vfs_dosinfo *d);

/* ---- errors ---- */
/* -EXDEV (a path leaving the share under RESOLVE_BENEATH) maps to
 * STATUS_ACCESS_DENIED. */
NTSTATUS vfs_nt_status(int neg_errno);
/* Same, except -EXDEV from vfs_renameat/vfs_linkat across two file systems
 * -> STATUS_NOT_SAME_DEVICE. */
NTSTATUS vfs_nt_status_rename(int neg_errno);

#endif
