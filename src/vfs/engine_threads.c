/* The thread pool, and the blocking form of every vfs operation.
 *
 * Both engines use the pool: the threads engine for everything, the io_uring
 * engine for what the ring cannot do (getdents, futimens, fchmod, ...).
 *
 * A waiting request:
 *   coroutine on worker W          pool thread                 W's loop
 *   op->co = coro_self()
 *   enqueue(op) ───────────────►  ident_apply(op->id)
 *   coro_yield() ─► back to loop   op->res = vop_sync(op)
 *                                  worker_post(W, op_done) ──► mailbox drain:
 *                                                               coro_resume(op->co)
 * The job may finish before the coroutine has yielded, but op_done only runs
 * from W's mailbox, which is drained by W's own loop -- and the loop cannot
 * run again until the coroutine has yielded back to it.  So the resume always
 * finds a suspended coroutine.  `op` lives on the coroutine's stack, which
 * stays valid until that resume (CONVENTIONS rule 9). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h> /* renameat2 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "util/metrics.h"
#include "loop/worker.h"
#include "util/coro.h"
#include "util/log.h"
#include "vfs/vfs_int.h"

/* getxattrat / listxattrat (Linux 6.13), not in this libc's headers yet;
 * x86-64 and the generic syscall table share the numbers. */
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#endif
struct xattr_args_v0 {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vfs_op *head, *tail;
	bool stopping;
	int n;
	pthread_t *threads;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* A syscall's result as value-or-(-errno); a function so `x` runs once. */
static inline long ERR(long x)
{
	return x < 0 ? -(long)errno : x;
}

static long do_pread(int fd, char *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (long)done : -(long)errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (long)done;
}

static long do_pwrite(int fd, const char *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (long)done : -(long)errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (long)done;
}

long vop_sync(struct vfs_op *op)
{
	switch (op->code) {
	case VOP_OPEN: {
		struct open_how how = {
			.flags = (uint64_t)(unsigned)op->flags | O_CLOEXEC,
			.mode = (op->flags & (O_CREAT | O_TMPFILE)) ? op->mode : 0,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (op->cached ? RESOLVE_CACHED : 0),
		};
		return ERR(syscall(SYS_openat2, op->fd, op->path, &how, sizeof(how)));
	}
	case VOP_CLOSE:
		return ERR(close(op->fd));
	case VOP_STATX:
		return ERR(statx(op->fd, op->path, op->flags, op->mask, op->ptr));
	case VOP_READ:
		return do_pread(op->fd, op->buf, op->len, op->off);
	case VOP_WRITE:
		return do_pwrite(op->fd, op->buf, op->len, op->off);
	case VOP_FSYNC:
		return ERR(op->flags ? fdatasync(op->fd) : fsync(op->fd));
	case VOP_FALLOCATE:
		return ERR(fallocate(op->fd, op->flags, (off_t)op->off, (off_t)op->len));
	case VOP_FTRUNCATE:
		return ERR(ftruncate(op->fd, (off_t)op->off));
	case VOP_RENAME:
		return ERR(renameat2(op->fd, op->path, op->fd2, op->path2, (unsigned)op->flags));
	case VOP_UNLINK:
		return ERR(unlinkat(op->fd, op->path, op->flags));
	case VOP_MKDIR:
		return ERR(mkdirat(op->fd, op->path, op->mode));
	case VOP_LINK:
		return ERR(linkat(op->fd, op->path, op->fd2, op->path2, 0));
	case VOP_FUTIMENS:
		return ERR(futimens(op->fd, op->ptr));
	case VOP_FCHMOD:
		return ERR(fchmod(op->fd, op->mode));
	case VOP_GETDENTS:
		return ERR(syscall(SYS_getdents64, op->fd, op->buf, op->len));
	case VOP_FGETXATTR:
		return ERR(fgetxattr(op->fd, op->path, op->buf, op->len));
	case VOP_FSETXATTR:
		return ERR(fsetxattr(op->fd, op->path, op->buf, op->len, op->flags));
	case VOP_FREMOVEXATTR:
		return ERR(fremovexattr(op->fd, op->path));
	case VOP_FLISTXATTR:
		return ERR(flistxattr(op->fd, op->buf, op->len));
	case VOP_GETXATTRAT: {
		struct xattr_args_v0 a = { (uint64_t)(uintptr_t)op->buf, op->len > UINT32_MAX ? UINT32_MAX : (uint32_t)op->len, 0 };
		return ERR(syscall(SYS_getxattrat, op->fd, op->path, AT_SYMLINK_NOFOLLOW, op->path2, &a, sizeof(a)));
	}
	case VOP_LISTXATTRAT:
		return ERR(syscall(SYS_listxattrat, op->fd, op->path, AT_SYMLINK_NOFOLLOW, op->buf, op->len));
	case VOP_COPY_RANGE: {
		loff_t in = (loff_t)op->off, out = (loff_t)op->off2;
		return ERR(copy_file_range(op->fd, &in, op->fd2, &out, op->len, 0));
	}
	case VOP_LSEEK:
		return ERR(lseek(op->fd, (off_t)op->off, op->flags));
	case VOP_FSTATFS:
		return ERR(fstatfs(op->fd, op->ptr));
	case VOP_CALL:
		return op->fn(op->ptr);
	case VOP__COUNT:
		break;
	}
	return -ENOSYS;
}

/* Identity, then the syscall.  On a failed switch the job is NOT run as the
 * server: it fails with the error. */
static long run_as(struct vfs_op *op)
{
	/* close(2) checks no permission: run it as whoever the thread is,
	 * sparing two credential switches per closed file. */
	if (vfs_as_root && op->code != VOP_CLOSE) {
		int r = ident_apply(op->id);
		if (r < 0)
			return r;
	}
	return vop_sync(op);
}

static void op_done(void *arg)
{
	struct vfs_op *op = arg;
	coro_resume(op->co);
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.head && !pool.stopping)
			pthread_cond_wait(&pool.cond, &pool.lock);
		struct vfs_op *op = pool.head;
		if (!op)
			break; /* stopping and the queue is drained */
		pool.head = op->next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);

		op->res = run_as(op);
		if (!op->w) {
			free(op); /* detached (vfs_spawn): nobody waits */
			pthread_mutex_lock(&pool.lock);
			continue;
		}
		/* worker_post only fails on ENOMEM; the coroutine must be woken
		 * eventually, so retry rather than lose it. */
		while (worker_post(op->w, op_done, op) < 0) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	if (vfs_as_root)
		ident_apply(NULL);
	return NULL;
}

static void pool_enqueue(struct vfs_op *op)
{
	op->next = NULL;
	pthread_mutex_lock(&pool.lock);
	if (pool.tail)
		pool.tail->next = op;
	else
		pool.head = op;
	pool.tail = op;
	pthread_mutex_unlock(&pool.lock);
	/* after the unlock: the woken thread does not block on the mutex */
	pthread_cond_signal(&pool.cond);
}

long pool_exec(struct vfs_op *op)
{
	metrics_add(&metrics.vfs_pool_ops, 1);
	struct worker *w = worker_self();
	struct coro *co = coro_self();
	if (!w || !co || !pool.n) {
		/* Not on a request coroutine (startup, tests, callbacks): block
		 * this thread.  Identity switching is per-thread, so this is safe
		 * on any thread; the thread goes back to whoever it was before
		 * (a nested call from a vfs_call() job keeps its caller's ident). */
		const struct vfs_ident *prev = ident_current();
		long r = run_as(op);
		if (vfs_as_root && ident_apply(prev) < 0)
			BUG_ON(ident_apply(NULL) < 0);
		return r;
	}
	op->co = co;
	op->w = w;
	pool_enqueue(op);
	coro_yield();
	return op->res;
}

int pool_spawn(struct vfs_op *op)
{
	metrics_add(&metrics.vfs_pool_ops, 1);
	if (!pool.n)
		return -EAGAIN;
	struct vfs_op *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *op;
	copy->co = NULL;
	copy->w = NULL;
	pool_enqueue(copy);
	return 0;
}

int pool_init(int threads)
{
	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = (int)(cpus > 0 ? 2 * cpus : 4);
		if (threads < 4)
			threads = 4;
	}
	pool.threads = calloc((size_t)threads, sizeof(*pool.threads));
	if (!pool.threads)
		return -ENOMEM;
	pool.stopping = false;
	/* Pool threads never take signals: the main thread sigwait()s for
	 * SIGTERM/SIGHUP, and vfs_init may run before it blocks them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int ret = 0;
	for (pool.n = 0; pool.n < threads; pool.n++) {
		ret = pthread_create(&pool.threads[pool.n], NULL, pool_main, NULL);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		pool_fini();
		return -ret;
	}
	return 0;
}

void pool_fini(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < pool.n; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.n = 0;
	pool.stopping = false;
}
