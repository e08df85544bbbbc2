/* The io_uring engine: a vfs operation becomes an SQE on the calling
 * worker's own ring, and the request coroutine sleeps until its CQE
 * (worker_sqe_wait).  The worker thread never blocks.
 *
 *   on the ring:  openat2 statx read write fsync fallocate ftruncate(*)
 *                 renameat unlinkat mkdirat linkat close fgetxattr fsetxattr
 *   pool:         getdents futimens fchmod copy_file_range lseek fstatfs
 *                 flistxattr fremovexattr, vfs_call, vfs_resolve_ci
 *   (*) IORING_OP_FTRUNCATE (kernel 6.9) is prepared by hand: liburing 2.3
 *       and the installed uapi headers predate it.
 * Every opcode is probed once at vfs_init; what the kernel lacks goes to
 * the pool, so an old kernel degrades instead of failing.
 *
 * Identity: when running as root, sqe->personality carries the SMB user's
 * credentials (ident.c registers one per ring and identity). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>

#include "util/bufpool.h"
#include "util/metrics.h"
#include "loop/worker.h"
#include "util/log.h"
#include "vfs/vfs_int.h"

#ifndef IORING_OP_FTRUNCATE
#define SMB3D_IORING_OP_FTRUNCATE 55 /* kernel 6.9+, include/uapi/linux/io_uring.h */
#else
#define SMB3D_IORING_OP_FTRUNCATE IORING_OP_FTRUNCATE
#endif

static bool supported[VOP__COUNT];

static const int opmap[VOP__COUNT] = {
	[VOP_OPEN] = IORING_OP_OPENAT2,
	[VOP_CLOSE] = IORING_OP_CLOSE,
	[VOP_STATX] = IORING_OP_STATX,
	[VOP_READ] = IORING_OP_READ,
	[VOP_WRITE] = IORING_OP_WRITE,
	[VOP_FSYNC] = IORING_OP_FSYNC,
	[VOP_FALLOCATE] = IORING_OP_FALLOCATE,
	[VOP_FTRUNCATE] = SMB3D_IORING_OP_FTRUNCATE,
	[VOP_RENAME] = IORING_OP_RENAMEAT,
	[VOP_UNLINK] = IORING_OP_UNLINKAT,
	[VOP_MKDIR] = IORING_OP_MKDIRAT,
	[VOP_LINK] = IORING_OP_LINKAT,
	[VOP_FGETXATTR] = IORING_OP_FGETXATTR,
	[VOP_FSETXATTR] = IORING_OP_FSETXATTR,
};

int uring_engine_init(void)
{
	memset(supported, 0, sizeof(supported));
	struct io_uring_probe *probe = io_uring_get_probe();
	if (!probe) {
		log_warn("vfs: io_uring probe failed; every file operation uses the thread pool");
		return 0;
	}
	for (int c = 0; c < VOP__COUNT; c++)
		if (opmap[c] && io_uring_opcode_supported(probe, opmap[c]))
			supported[c] = true;
	io_uring_free_probe(probe);
	return 0;
}

bool uring_supports(enum vfs_opcode code)
{
	return code >= 0 && code < VOP__COUNT && supported[code];
}

static int submit_wait(struct worker *w, struct io_uring_sqe *sqe, int pers)
{
	sqe->personality = (__u16)pers;
	metrics_add(&metrics.vfs_uring_ops, 1);
	return worker_sqe_wait(w, sqe);
}

/* Regular files can return short counts (signals, EOF racing a write):
 * loop until done, EOF or an error, like the pool's pread/pwrite loop. */
static long rw_loop(struct worker *w, struct vfs_op *op, int pers, bool write)
{
	size_t done = 0;
	while (done < op->len) {
		size_t n = op->len - done;
		if (n > INT_MAX)
			n = (size_t)INT_MAX & ~(size_t)4095;
		struct io_uring_sqe *sqe = worker_sqe(w, NULL);
		char *p = (char *)op->buf + done;
		int slot = bufpool_fixed_slot(p, n); /* a registered buffer of this ring? */
		if (slot >= 0 && write)
			io_uring_prep_write_fixed(sqe, op->fd, p, (unsigned)n, op->off + done, slot);
		else if (slot >= 0)
			io_uring_prep_read_fixed(sqe, op->fd, p, (unsigned)n, op->off + done, slot);
		else if (write)
			io_uring_prep_write(sqe, op->fd, p, (unsigned)n, op->off + done);
		else
			io_uring_prep_read(sqe, op->fd, p, (unsigned)n, op->off + done);
		if (slot >= 0)
			metrics_add(&metrics.vfs_uring_fixed_ops, 1);
		int r = submit_wait(w, sqe, pers);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0)
			return done ? (long)done : r;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (long)done;
}

long uring_exec(struct worker *w, struct vfs_op *op)
{
	int pers = ident_personality(op->id, w);
	if (pers < 0)
		return -ENOSYS; /* e.g. more than 64 workers: the pool applies it */
	if (op->code == VOP_READ || op->code == VOP_WRITE)
		return rw_loop(w, op, pers, op->code == VOP_WRITE);

	struct open_how how;
	struct io_uring_sqe *sqe = worker_sqe(w, NULL);
	switch (op->code) {
	case VOP_OPEN:
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)(unsigned)op->flags | O_CLOEXEC;
		how.mode = (op->flags & (O_CREAT | O_TMPFILE)) ? op->mode : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		io_uring_prep_openat2(sqe, op->fd, op->path, &how);
		break;
	case VOP_CLOSE:
		io_uring_prep_close(sqe, op->fd);
		break;
	case VOP_STATX:
		io_uring_prep_statx(sqe, op->fd, op->path, op->flags, op->mask, op->ptr);
		break;
	case VOP_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, op->flags ? IORING_FSYNC_DATASYNC : 0);
		break;
	case VOP_FALLOCATE:
		io_uring_prep_fallocate(sqe, op->fd, op->flags, (off_t)op->off, (off_t)op->len);
		break;
	case VOP_FTRUNCATE:
		/* By hand: opcode, fd, off = new length; everything else zero. */
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = SMB3D_IORING_OP_FTRUNCATE;
		sqe->fd = op->fd;
		sqe->off = op->off;
		break;
	case VOP_RENAME:
		io_uring_prep_renameat(sqe, op->fd, op->path, op->fd2, op->path2, (unsigned)op->flags);
		break;
	case VOP_UNLINK:
		io_uring_prep_unlinkat(sqe, op->fd, op->path, op->flags);
		break;
	case VOP_MKDIR:
		io_uring_prep_mkdirat(sqe, op->fd, op->path, op->mode);
		break;
	case VOP_LINK:
		io_uring_prep_linkat(sqe, op->fd, op->path, op->fd2, op->path2, 0);
		break;
	case VOP_FGETXATTR:
		io_uring_prep_fgetxattr(sqe, op->fd, op->path, op->buf, op->len > UINT_MAX ? UINT_MAX : (unsigned)op->len);
		break;
	case VOP_FSETXATTR:
		io_uring_prep_fsetxattr(sqe, op->fd, op->path, op->buf, op->flags, op->len > UINT_MAX ? UINT_MAX : (unsigned)op->len);
		break;
	default:
		/* Not reached (uring_supports said no); keep the SQE harmless. */
		io_uring_prep_nop(sqe);
		submit_wait(w, sqe, 0);
		return -ENOSYS;
	}
	return submit_wait(w, sqe, pers);
}
