/* The vfs entry points: each builds a `struct vfs_op` and hands it to the
 * io_uring engine (when the backend is io_uring, the kernel supports the
 * opcode and we are on a request coroutine) or to the thread pool.
 *
 * Path safety: openat2(RESOLVE_BENEATH) is the only resolver that cannot
 * leave the share, but statx/renameat/unlinkat/mkdirat/linkat have no
 * RESOLVE_* flags.  So a multi-component path is split: its parent is opened
 * O_PATH with openat2(RESOLVE_BENEATH) and the operation runs on
 * (parent fd, last component).  These operations do not follow a symlink in
 * the last component, so nothing escapes.  statx that follows symlinks opens
 * the whole path O_PATH first and stats the fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "loop/worker.h"
#include "util/coro.h"
#include "util/log.h"
#include "vfs/vfs_int.h"

enum vfs_backend vfs_cur_backend = VFS_THREADS;
bool vfs_as_root;
static bool vfs_up;

int vfs_init(enum vfs_backend backend, int threads)
{
	if (vfs_up)
		return 0;
	vfs_as_root = geteuid() == 0;
	int r = ident_init();
	if (r < 0)
		return r;
	vfs_cur_backend = backend;
	if (backend == VFS_URING)
		uring_engine_init();
	r = pool_init(threads);
	if (r < 0) {
		ident_fini();
		return r;
	}
	vfs_up = true;
	return 0;
}

void vfs_fini(void)
{
	if (!vfs_up)
		return;
	pool_fini();
	ident_fini();
	vfs_up = false;
}

enum vfs_backend vfs_backend(void)
{
	return vfs_cur_backend;
}

/* Cheap metadata syscalls run on the calling (worker) thread: on tmpfs or a
 * warm cache statx, fgetxattr, an open or close take a microsecond or two,
 * while a pool job or an SQE punted to io-wq costs a hand-off to another
 * thread and back (docs/BENCHMARKS.md section 4).  Nothing that may wait
 * for long runs here: no data I/O, no lookup that is not in the dcache
 * (RESOLVE_CACHED), no open that may wait (O_NONBLOCK: a FIFO's open, a
 * lease break), nothing that truncates or creates; such cases answer
 * -EAGAIN and go to the ring or the pool after all.  Opens of files other
 * than O_PATH and O_DIRECTORY ones only in the threads engine: the ring
 * makes the same non-blocking attempt in the kernel. */
#define OPEN_MAY_WAIT (O_CREAT | O_TRUNC | O_TMPFILE)
static bool cheap(const struct vfs_op *op)
{
	switch (op->code) {
	case VOP_CLOSE:
	case VOP_FLISTXATTR:
	case VOP_FGETXATTR:
		return true;
	case VOP_STATX:
		return (op->flags & AT_EMPTY_PATH) && !op->path[0];
	case VOP_OPEN:
		if (op->flags & O_PATH)
			return true;
		if (op->flags & OPEN_MAY_WAIT)
			return false;
		return (op->flags & O_DIRECTORY) || vfs_cur_backend == VFS_THREADS;
	default:
		return false;
	}
}

/* The open itself: beneath as always, cached lookups only, and O_NONBLOCK
 * for the open of a file, taken off the descriptor again (it would change
 * how reads behave). */
static long open_inline(struct vfs_op *op)
{
	int flags = op->flags;
	bool nb = !(flags & (O_PATH | O_DIRECTORY | O_NONBLOCK));
	if (nb)
		op->flags |= O_NONBLOCK;
	op->cached = true;
	long fd = vop_sync(op);
	op->cached = false;
	op->flags = flags;
	if (fd >= 0 && nb && fcntl((int)fd, F_SETFL, flags & (O_APPEND | O_DIRECT | O_NOATIME)) < 0) {
		close((int)fd);
		return -EAGAIN;
	}
	return fd;
}

/* Which identity a cheap operation needs:
 *  - none for close, statx of an open fd and listxattr: they check no
 *    permission (listxattr only hides trusted.* names from users without
 *    CAP_SYS_ADMIN, and smb3d's callers look at user.* names only);
 *  - op->id for the others.  A thread already running as op->id (a worker
 *    thread is the server, id NULL; a pool job runs as its ident) runs them
 *    as they are.  Otherwise the threads engine switches the worker
 *    thread's credentials around the one syscall (ident_apply: 6 syscalls,
 *    ~12 us here) -- cheaper than a pool job; nothing else runs on the
 *    thread meanwhile (no yield, no io_uring_enter), and in between the
 *    thread holds less privilege, never more.  The io_uring engine keeps
 *    them on the ring, where a personality costs nothing. */
static bool creds_free(const struct vfs_op *op)
{
	return op->code == VOP_CLOSE || op->code == VOP_FLISTXATTR || op->code == VOP_STATX;
}

/* Run op here when it is cheap (true, result in *res); false: use the
 * ring or the pool (also for an O_PATH lookup not in the dcache). */
static bool run_inline(struct vfs_op *op, long *res)
{
	if (!cheap(op))
		return false;
	const struct vfs_ident *cur = ident_current();
	bool as_is = creds_free(op) || !vfs_as_root || cur == op->id;
	if (!as_is && (vfs_cur_backend != VFS_THREADS || !coro_self() || ident_apply(op->id) < 0))
		return false; /* a failed switch: the pool reports it */
	*res = op->code == VOP_OPEN ? open_inline(op) : vop_sync(op);
	if (!as_is)
		BUG_ON(ident_apply(cur) < 0);
	/* -EAGAIN: not cached or would wait; -ENXIO: a FIFO without a reader
	 * (the blocking open waits for one) */
	return !(op->code == VOP_OPEN && (*res == -EAGAIN || *res == -ENXIO));
}

long vfs_run(struct vfs_op *op)
{
	long r;
	if (run_inline(op, &r))
		return r;
	if (vfs_cur_backend == VFS_URING && uring_supports(op->code)) {
		struct worker *w = worker_self();
		if (w && w->ring_ok && coro_self()) {
			r = uring_exec(w, op);
			if (r != -ENOSYS)
				return r;
		}
	}
	return pool_exec(op);
}

/* ---- path helpers ---- */

static bool is_dot(const char *s)
{
	return (s[0] == '.' && s[1] == '\0') || (s[0] == '.' && s[1] == '.' && s[2] == '\0');
}

/* Split `path` into a parent directory fd (*pfd: dirfd itself, or an O_PATH
 * fd the caller must close when *owned) and the last component, copied into
 * `last` (NAME_MAX + 1 bytes). */
static int split_parent(const struct vfs_ident *id, int dirfd, const char *path, int *pfd, bool *owned, char *last)
{
	*owned = false;
	if (!path || !*path)
		return -ENOENT;
	if (path[0] == '/')
		return -EXDEV; /* as RESOLVE_BENEATH answers for an absolute path */
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--; /* "dir/" names "dir" */
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	size_t slash = len;
	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	size_t llen = len - slash;
	if (llen > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(last, path + slash, llen);
	last[llen] = '\0';
	if (is_dot(last))
		return -EINVAL;
	if (slash == 0) {
		*pfd = dirfd;
		return 0;
	}
	char parent[PATH_MAX];
	memcpy(parent, path, slash - 1);
	parent[slash - 1] = '\0';
	struct vfs_op op = { .code = VOP_OPEN, .id = id, .fd = dirfd, .path = parent[0] ? parent : "/",
			     .flags = O_PATH | O_DIRECTORY };
	long fd = vfs_run(&op);
	if (fd < 0)
		return (int)fd;
	*pfd = (int)fd;
	*owned = true;
	return 0;
}

/* ---- operations ---- */

int vfs_open(const struct vfs_ident *id, int dirfd, const char *path, int flags, mode_t mode)
{
	struct vfs_op op = { .code = VOP_OPEN, .id = id, .fd = dirfd, .path = (path && *path) ? path : ".",
			     .flags = flags, .mode = mode };
	return (int)vfs_run(&op);
}

int vfs_close(int fd)
{
	struct vfs_op op = { .code = VOP_CLOSE, .fd = fd };
	return (int)vfs_run(&op);
}

int vfs_statx(const struct vfs_ident *id, int dirfd, const char *path, int at_flags, unsigned mask, struct statx *st)
{
	struct vfs_op op = { .code = VOP_STATX, .id = id, .fd = dirfd, .path = "", .mask = mask, .ptr = st };
	int sync = at_flags & AT_STATX_SYNC_TYPE;
	if (!path || !*path) {
		op.flags = AT_EMPTY_PATH | sync;
		return (int)vfs_run(&op);
	}
	bool nofollow = at_flags & AT_SYMLINK_NOFOLLOW;
	if (nofollow && path[0] != '/' && !strchr(path, '/') && strcmp(path, "..") != 0) {
		/* One component, not followed: cannot leave dirfd. */
		op.path = path;
		op.flags = at_flags & (AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_TYPE | AT_NO_AUTOMOUNT);
		return (int)vfs_run(&op);
	}
	int fd = vfs_open(id, dirfd, path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	op.fd = fd;
	op.flags = AT_EMPTY_PATH | sync;
	int r = (int)vfs_run(&op);
	close(fd);
	return r;
}

ssize_t vfs_pread(const struct vfs_ident *id, int fd, void *buf, size_t len, uint64_t off)
{
	struct vfs_op op = { .code = VOP_READ, .id = id, .fd = fd, .buf = buf, .len = len, .off = off };
	return vfs_run(&op);
}

ssize_t vfs_pwrite(const struct vfs_ident *id, int fd, const void *buf, size_t len, uint64_t off)
{
	struct vfs_op op = { .code = VOP_WRITE, .id = id, .fd = fd, .buf = (void *)buf, .len = len, .off = off };
	return vfs_run(&op);
}

int vfs_fsync(const struct vfs_ident *id, int fd, bool datasync)
{
	struct vfs_op op = { .code = VOP_FSYNC, .id = id, .fd = fd, .flags = datasync };
	return (int)vfs_run(&op);
}

int vfs_fallocate(const struct vfs_ident *id, int fd, int mode, uint64_t off, uint64_t len)
{
	struct vfs_op op = { .code = VOP_FALLOCATE, .id = id, .fd = fd, .flags = mode, .off = off, .len = len };
	return (int)vfs_run(&op);
}

int vfs_ftruncate(const struct vfs_ident *id, int fd, uint64_t len)
{
	if (len > (uint64_t)INT64_MAX)
		return -EINVAL;
	struct vfs_op op = { .code = VOP_FTRUNCATE, .id = id, .fd = fd, .off = len };
	return (int)vfs_run(&op);
}

int vfs_renameat(const struct vfs_ident *id, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
	char a[NAME_MAX + 1], b[NAME_MAX + 1];
	int pa, pb;
	bool oa, ob;
	int r = split_parent(id, olddirfd, oldpath, &pa, &oa, a);
	if (r < 0)
		return r;
	r = split_parent(id, newdirfd, newpath, &pb, &ob, b);
	if (r == 0) {
		struct vfs_op op = { .code = VOP_RENAME, .id = id, .fd = pa, .path = a, .fd2 = pb, .path2 = b, .flags = (int)flags };
		r = (int)vfs_run(&op);
		if (ob)
			close(pb);
	}
	if (oa)
		close(pa);
	return r;
}

/* Run `op` on the last component of `path`, relative to its parent opened
 * beneath dirfd (the *at syscalls have no RESOLVE_BENEATH of their own). */
static int run_on_last(struct vfs_op *op, int dirfd, const char *path)
{
	char a[NAME_MAX + 1];
	int pa;
	bool oa;
	int r = split_parent(op->id, dirfd, path, &pa, &oa, a);
	if (r < 0)
		return r;
	op->fd = pa;
	op->path = a;
	r = (int)vfs_run(op);
	if (oa)
		close(pa);
	return r;
}

int vfs_unlinkat(const struct vfs_ident *id, int dirfd, const char *path, int at_flags)
{
	struct vfs_op op = { .code = VOP_UNLINK, .id = id, .flags = at_flags };
	return run_on_last(&op, dirfd, path);
}

int vfs_mkdirat(const struct vfs_ident *id, int dirfd, const char *path, mode_t mode)
{
	struct vfs_op op = { .code = VOP_MKDIR, .id = id, .mode = mode };
	return run_on_last(&op, dirfd, path);
}

int vfs_linkat(const struct vfs_ident *id, int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	char a[NAME_MAX + 1], b[NAME_MAX + 1];
	int pa, pb;
	bool oa, ob;
	int r = split_parent(id, olddirfd, oldpath, &pa, &oa, a);
	if (r < 0)
		return r;
	r = split_parent(id, newdirfd, newpath, &pb, &ob, b);
	if (r == 0) {
		struct vfs_op op = { .code = VOP_LINK, .id = id, .fd = pa, .path = a, .fd2 = pb, .path2 = b };
		r = (int)vfs_run(&op);
		if (ob)
			close(pb);
	}
	if (oa)
		close(pa);
	return r;
}

int vfs_futimens(const struct vfs_ident *id, int fd, const struct timespec ts[2])
{
	struct vfs_op op = { .code = VOP_FUTIMENS, .id = id, .fd = fd, .ptr = (void *)ts };
	return (int)vfs_run(&op);
}

int vfs_fchmod(const struct vfs_ident *id, int fd, mode_t mode)
{
	struct vfs_op op = { .code = VOP_FCHMOD, .id = id, .fd = fd, .mode = mode };
	return (int)vfs_run(&op);
}

ssize_t vfs_getdents(const struct vfs_ident *id, int fd, void *buf, size_t len)
{
	struct vfs_op op = { .code = VOP_GETDENTS, .id = id, .fd = fd, .buf = buf, .len = len };
	return vfs_run(&op);
}

ssize_t vfs_fgetxattr(const struct vfs_ident *id, int fd, const char *name, void *buf, size_t len)
{
	struct vfs_op op = { .code = VOP_FGETXATTR, .id = id, .fd = fd, .path = name, .buf = buf, .len = len };
	return vfs_run(&op);
}

int vfs_fsetxattr(const struct vfs_ident *id, int fd, const char *name, const void *buf, size_t len, int flags)
{
	struct vfs_op op = { .code = VOP_FSETXATTR, .id = id, .fd = fd, .path = name, .buf = (void *)buf, .len = len, .flags = flags };
	return (int)vfs_run(&op);
}

int vfs_fremovexattr(const struct vfs_ident *id, int fd, const char *name)
{
	struct vfs_op op = { .code = VOP_FREMOVEXATTR, .id = id, .fd = fd, .path = name };
	return (int)vfs_run(&op);
}

ssize_t vfs_flistxattr(const struct vfs_ident *id, int fd, char *buf, size_t len)
{
	struct vfs_op op = { .code = VOP_FLISTXATTR, .id = id, .fd = fd, .buf = buf, .len = len };
	return vfs_run(&op);
}

/* One component that cannot leave dirfd (not followed if a symlink). */
static bool one_component(const char *name)
{
	return name && name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Set once a kernel without getxattrat(2) has said so. */
static atomic_bool no_xattrat;

static ssize_t run_xattrat(struct vfs_op *op)
{
	if (!one_component(op->path))
		return -EINVAL;
	if (atomic_load_explicit(&no_xattrat, memory_order_relaxed))
		return -ENOSYS;
	ssize_t r = vfs_run(op);
	if (r == -ENOSYS)
		atomic_store_explicit(&no_xattrat, true, memory_order_relaxed);
	return r;
}

ssize_t vfs_getxattrat(const struct vfs_ident *id, int dirfd, const char *name, const char *xname, void *buf, size_t len)
{
	struct vfs_op op = { .code = VOP_GETXATTRAT, .id = id, .fd = dirfd, .path = name, .path2 = xname,
			     .buf = buf, .len = len };
	return run_xattrat(&op);
}

ssize_t vfs_listxattrat(const struct vfs_ident *id, int dirfd, const char *name, char *buf, size_t len)
{
	struct vfs_op op = { .code = VOP_LISTXATTRAT, .id = id, .fd = dirfd, .path = name, .buf = buf, .len = len };
	return run_xattrat(&op);
}

ssize_t vfs_copy_file_range(const struct vfs_ident *id, int fd_in, uint64_t off_in, int fd_out, uint64_t off_out, size_t len)
{
	struct vfs_op op = { .code = VOP_COPY_RANGE, .id = id, .fd = fd_in, .off = off_in, .fd2 = fd_out, .off2 = off_out, .len = len };
	return vfs_run(&op);
}

int64_t vfs_lseek(const struct vfs_ident *id, int fd, int64_t off, int whence)
{
	struct vfs_op op = { .code = VOP_LSEEK, .id = id, .fd = fd, .off = (uint64_t)off, .flags = whence };
	return vfs_run(&op);
}

int vfs_fstatfs(const struct vfs_ident *id, int fd, struct statfs *st)
{
	struct vfs_op op = { .code = VOP_FSTATFS, .id = id, .fd = fd, .ptr = st };
	return (int)vfs_run(&op);
}

long vfs_call(const struct vfs_ident *id, long (*fn)(void *arg), void *arg)
{
	struct vfs_op op = { .code = VOP_CALL, .id = id, .fn = fn, .ptr = arg };
	return pool_exec(&op);
}

int vfs_spawn(const struct vfs_ident *id, long (*fn)(void *arg), void *arg)
{
	struct vfs_op op = { .code = VOP_CALL, .id = id, .fn = fn, .ptr = arg };
	return pool_spawn(&op);
}
