/* Client-requested disk space, bounded and rolled back (see alloc.h). */
#include "cmd/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cmd/fileops.h"
#include "util/log.h"
#include "vfs/vfs.h"

#define ALLOC_RESERVE_DIV 100   /* the reserve: 1% of the file system */
#define ALLOC_MAX_EXTENTS 256   /* holes counted one by one, then an upper bound */

/* Bytes granted to preallocations that are still running (all file systems
 * together: conservative).  Their blocks may already show in statfs as well
 * (counted twice: conservative too). */
static _Atomic uint64_t in_flight;

/* need <= free for users - reserve - others? */
static NTSTATUS check(const struct vfs_ident *id, int fd, uint64_t need, uint64_t others)
{
	struct statfs sf;
	int r = vfs_fstatfs(id, fd, &sf);
	if (r < 0)
		return vfs_nt_status(r);
	uint64_t bs = sf.f_frsize ? (uint64_t)sf.f_frsize : (uint64_t)sf.f_bsize;
	if (!bs)
		bs = 4096;
	uint64_t reserve = (uint64_t)sf.f_blocks / ALLOC_RESERVE_DIV;
	uint64_t avail = (uint64_t)sf.f_bavail > reserve ? (uint64_t)sf.f_bavail - reserve : 0;
	uint64_t busy = others / bs + (others % bs != 0);
	avail = avail > busy ? avail - busy : 0;
	/* in blocks, rounded up: no overflow for any 64-bit request */
	uint64_t need_blocks = need / bs + (need % bs != 0);
	return need_blocks > avail ? STATUS_DISK_FULL : STATUS_SUCCESS;
}

NTSTATUS alloc_check(const struct vfs_ident *id, int fd, uint64_t need)
{
	return need ? check(id, fd, need, atomic_load(&in_flight)) : STATUS_SUCCESS;
}

/* Does another open of o's file have write access (another client may be
 * extending it right now)? */
static bool other_writers(const struct open *o)
{
	struct file *f = o ? o->file : NULL;
	if (!f)
		return true;
	bool any = false;
	pthread_mutex_lock(&f->lock);
	for (const struct open *e = f->opens; e && !any; e = e->file_next)
		any = e != o && (e->access & (FILE_WRITE_DATA | FILE_APPEND_DATA));
	pthread_mutex_unlock(&f->lock);
	return any;
}

void alloc_release(const struct vfs_ident *id, const struct open *o, int fd, uint64_t keep, uint64_t upto)
{
	struct statx st;
	if (vfs_statx(id, fd, "", AT_EMPTY_PATH, STATX_SIZE, &st) < 0)
		return;
	uint64_t bs = st.stx_blksize ? st.stx_blksize : 4096;
	uint64_t from = st.stx_size > keep ? st.stx_size : keep;
	from = (from + bs - 1) / bs * bs;
	if (from >= upto || upto > INT64_MAX)
		return;
	/* A hole past the end of file frees it where the file system allows
	 * that (xfs, btrfs; ext4 ignores a punch past EOF). */
	int r = vfs_fallocate(id, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, from, upto - from);
	if (r < 0 && r != -EOPNOTSUPP)
		log_warn("releasing preallocated space: %s", strerror(-r));
	/* ext4 frees what lies past the end of file on a truncate to the same
	 * size -- which would cut a write that extended the file since the
	 * statx above, so only when no other open may write.  Otherwise the
	 * blocks stay until the file is truncated or removed. */
	if (keep <= st.stx_size && !other_writers(o))
		(void)vfs_ftruncate(id, fd, st.stx_size);
}

NTSTATUS alloc_grow(const struct vfs_ident *id, const struct open *o, int fd, bool strict, uint64_t eof,
		    uint64_t have, uint64_t want)
{
	if (want > INT64_MAX)
		return STATUS_DISK_FULL;
	if (want <= eof || want <= have)
		return STATUS_SUCCESS;
	uint64_t need = want - have;
	if (!strict) /* checked only, nothing preallocated (Samba's default) */
		return check(id, fd, need, atomic_load(&in_flight));
	/* granted before checking: two requests at once see each other */
	uint64_t others = atomic_fetch_add(&in_flight, need);
	NTSTATUS st = check(id, fd, need, others);
	int r = st == STATUS_SUCCESS ? vfs_fallocate(id, fd, FALLOC_FL_KEEP_SIZE, eof, want - eof) : 0;
	atomic_fetch_sub(&in_flight, need);
	if (st != STATUS_SUCCESS || r == 0 || r == -EOPNOTSUPP || r == -ENOSYS)
		return st; /* no fallocate here: best effort, as Samba */
	alloc_release(id, o, fd, eof, want); /* what the failed request took */
	return r == -ENOSPC || r == -EDQUOT ? STATUS_DISK_FULL : vfs_nt_status(r);
}

uint64_t alloc_holes(const struct vfs_ident *id, int fd, uint64_t off, uint64_t end)
{
	uint64_t holes = 0;
	for (int i = 0; off < end; i++) {
		if (i == ALLOC_MAX_EXTENTS)
			return holes + (end - off);
		int64_t h = vfs_lseek(id, fd, (int64_t)off, SEEK_HOLE);
		if (h < 0)
			return holes + (end - off); /* unknown: assume the worst */
		if ((uint64_t)h >= end)
			break;
		int64_t d = vfs_lseek(id, fd, h, SEEK_DATA);
		uint64_t hole_end = d < 0 || (uint64_t)d > end ? end : (uint64_t)d; /* ENXIO: a hole to EOF */
		holes += hole_end - (uint64_t)h;
		off = hole_end;
	}
	return holes;
}
