/* Private to src/vfs/: one operation described as data, so that the same
 * request can be executed by either engine (an SQE on the worker's ring, or a
 * blocking syscall on a pool thread). */
#ifndef SMB3D_VFS_INT_H
#define SMB3D_VFS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfs/vfs.h"

struct coro;
struct worker;

enum vfs_opcode {
	VOP_OPEN,        /* openat2(fd, path, flags|O_CLOEXEC, mode) beneath */
	VOP_CLOSE,
	VOP_STATX,       /* statx(fd, path, flags, mask, ptr): path already safe */
	VOP_READ,
	VOP_WRITE,
	VOP_FSYNC,       /* flags: 1 = datasync */
	VOP_FALLOCATE,   /* flags = mode, off, len */
	VOP_FTRUNCATE,   /* off = length */
	VOP_RENAME,      /* fd, path -> fd2, path2, flags: paths are single components */
	VOP_UNLINK,      /* fd, path, flags */
	VOP_MKDIR,       /* fd, path, mode */
	VOP_LINK,        /* fd, path -> fd2, path2 */
	VOP_FUTIMENS,    /* ptr = struct timespec[2] */
	VOP_FCHMOD,
	VOP_GETDENTS,
	VOP_FGETXATTR,   /* path = name */
	VOP_FSETXATTR,   /* path = name, flags */
	VOP_FREMOVEXATTR,
	VOP_FLISTXATTR,
	VOP_COPY_RANGE,  /* fd, off -> fd2, off2, len */
	VOP_LSEEK,       /* off, flags = whence */
	VOP_FSTATFS,     /* ptr = struct statfs */
	VOP_GETXATTRAT,  /* getxattrat(fd, path, NOFOLLOW, path2 = name, buf, len) */
	VOP_LISTXATTRAT, /* listxattrat(fd, path, NOFOLLOW, buf, len) */
	VOP_CALL,        /* fn(ptr) */
	VOP__COUNT
};

struct vfs_op {
	enum vfs_opcode code;
	const struct vfs_ident *id;
	int fd, fd2;
	const char *path, *path2;
	int flags;
	bool cached;     /* VOP_OPEN: RESOLVE_CACHED (-EAGAIN when the lookup would block) */
	unsigned mask;
	mode_t mode;
	void *buf;
	size_t len;
	uint64_t off, off2;
	void *ptr;
	long (*fn)(void *arg);
	long res;
	/* waiting for a pool job */
	struct coro *co;
	struct worker *w;
	struct vfs_op *next;
};

/* vfs.c */
extern enum vfs_backend vfs_cur_backend;
extern bool vfs_as_root;      /* identities are applied only when euid == 0 */
long vfs_run(struct vfs_op *op);

/* engine_threads.c: the pool, and the blocking implementation of every op */
int pool_init(int threads);
void pool_fini(void);
/* Run op on a pool thread, suspending the calling coroutine; inline when not
 * called from a coroutine on a worker. */
long pool_exec(struct vfs_op *op);
/* Queue a copy of op for a pool thread and return at once (nobody waits:
 * the pool frees the copy).  -EAGAIN without a pool, -ENOMEM. */
int pool_spawn(struct vfs_op *op);
/* The blocking syscall (no identity handling). */
long vop_sync(struct vfs_op *op);

/* engine_uring.c */
int uring_engine_init(void);
/* true when `code` can be an SQE on this kernel */
bool uring_supports(enum vfs_opcode code);
/* Run op as SQE(s) on w's ring from a coroutine; returns -ENOSYS when it
 * cannot (no personality for the ident): the caller then uses the pool. */
long uring_exec(struct worker *w, struct vfs_op *op);

/* ident.c */
/* Make the calling thread run as `id` (NULL = the server).  Returns 0 or
 * -errno (the thread stays the server on failure).  Lazy: a thread already
 * running as `id` makes no syscall. */
int ident_apply(const struct vfs_ident *id);
/* The io_uring personality of `id` on w's ring (created on first use, must be
 * called on w's thread); 0 = none needed, <0 = -errno. */
/* The identity the calling thread currently runs as (NULL = the server). */
const struct vfs_ident *ident_current(void);
int ident_personality(const struct vfs_ident *id, struct worker *w);
int ident_init(void);
void ident_fini(void);

#endif
