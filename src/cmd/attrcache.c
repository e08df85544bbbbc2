/* The attributes of an open: statx of its fd plus the DOS attributes
 * (user.DOSATTRIB) and the EA size, the last two cached on the open.
 *
 * A client asks for the same handle's attributes several times in a row
 * (smbclient's allinfo: eight QUERY_INFOs between CREATE and CLOSE), and each
 * DOSATTRIB read is a syscall run as the session's user: an SQE punted to an
 * io-wq thread or a pool job.  statx of the fd is cheap and runs inline
 * (vfs.c), so every query still stats the fd, and the cached values stand
 * while the inode's ctime is the one they were read under.  Every change to
 * an xattr, to the data or to the inode moves ctime, whoever makes it: this
 * server through another open, Samba on the same directory, a local process.
 *
 * The cache is per open, never per file: the values were read with the
 * open's identity, so no other user sees something through it that their
 * own read would have refused.
 *
 * A ctime serves as a version only once the clock has moved past it:
 * without multigrain timestamps (kernels before 6.13, most network file
 * systems) two changes within one timestamp tick leave the same ctime.  So
 * values are cached only when ctime is older than CTIME_SETTLE_NS; a change
 * made after that gets a later ctime. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/fileops.h"
#include "vfs/dosattr.h"
#include "wire/fscc.h"
#include "vfs/vfs.h"

#define CTIME_SETTLE_NS 50000000LL  /* 50 ms: several timestamp ticks */

struct attr_cache {
	struct statx_timestamp ctime; /* of the inode when the values below were read */
	bool dos_valid;
	int dos_r;                    /* vfs_dos_get_ext's result (-ENODATA: none) */
	struct vfs_dosinfo_ext dos;
	bool ea_valid;
	uint32_t ea_size;
	uint64_t alloc_hint;          /* fileops_alloc_hint(): not a cached value, kept across ctimes */
};

static const struct vfs_ident *ident_of(const struct open *o)
{
	return o->ident;
}

static bool same_ctime(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool ctime_settled(const struct statx *st)
{
	if (!(st->stx_mask & STATX_CTIME))
		return false;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	int64_t c = (int64_t)st->stx_ctime.tv_sec * 1000000000LL + st->stx_ctime.tv_nsec;
	int64_t n = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	return n - c >= CTIME_SETTLE_NS;
}

/* Copy the cached DOS attributes (true) when they are valid for `st`.
 * Caller holds nothing; o->file->lock guards o->attr_cache. */
static bool cache_get_dos(struct open *o, const struct statx *st, int *r, struct vfs_dosinfo_ext *x)
{
	bool hit = false;
	if (!o->file)
		return false;
	pthread_mutex_lock(&o->file->lock);
	struct attr_cache *c = o->attr_cache;
	if (c && c->dos_valid && same_ctime(&c->ctime, &st->stx_ctime)) {
		*r = c->dos_r;
		*x = c->dos;
		hit = true;
	}
	pthread_mutex_unlock(&o->file->lock);
	return hit;
}

/* The cache of o for ctime of `st`, emptied when it held another ctime;
 * NULL when nothing may be cached.  Caller holds o->file->lock. */
static struct attr_cache *cache_for(struct open *o, const struct statx *st)
{
	struct attr_cache *c = o->attr_cache;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		o->attr_cache = c;
	}
	if (!same_ctime(&c->ctime, &st->stx_ctime)) {
		uint64_t hint = c->alloc_hint;
		memset(c, 0, sizeof(*c));
		c->ctime = st->stx_ctime;
		c->alloc_hint = hint;
	}
	return c;
}

static void cache_put_dos(struct open *o, const struct statx *st, int r, const struct vfs_dosinfo_ext *x)
{
	if (!o->file || !ctime_settled(st) || (r < 0 && r != -ENODATA))
		return;
	pthread_mutex_lock(&o->file->lock);
	struct attr_cache *c = cache_for(o, st);
	if (c) {
		c->dos_valid = true;
		c->dos_r = r;
		if (r >= 0)
			c->dos = *x;
	}
	pthread_mutex_unlock(&o->file->lock);
}

void fileops_attr_cache_prime(struct open *o, const struct statx *st, int r, const struct vfs_dosinfo_ext *x)
{
	cache_put_dos(o, st, r, x);
}

void fileops_attr_cache_drop(struct open *o)
{
	if (!o->file)
		return;
	pthread_mutex_lock(&o->file->lock);
	struct attr_cache *c = o->attr_cache;
	if (c)
		c->dos_valid = c->ea_valid = false;
	pthread_mutex_unlock(&o->file->lock);
}

/* [MS-FSA] 2.1.5.11 / Windows: a named stream has its file's times and
 * attributes (smbtorture smb2.streams.attributes1/2); its size and
 * allocation are its own.  Read as the server: the open was authorized. */
static void stream_overlay(struct open *o, struct fileops_attrs *a)
{
	struct open_path *p = open_path_get(o);
	const char *colon = p ? strchr(p->s, ':') : NULL;
	int root = colon ? open_root_fd(o) : -1;
	char *base = root < 0 ? NULL : strndup(p->s, (size_t)(colon - p->s));
	open_path_put(p);
	if (root < 0)
		return;
	int fd = base ? vfs_open(NULL, root, base[0] ? base : ".", O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0) : -ENOMEM;
	free(base);
	if (fd < 0)
		return;
	struct statx st;
	struct vfs_dosinfo_ext x;
	if (vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &st) == 0) {
		int r = vfs_dos_get_ext(NULL, fd, &x);
		struct fileops_attrs b;
		fileops_attrs_from_stat_ext(&st, r >= 0 ? &x : NULL, &b);
		a->create = b.create;
		a->access = b.access;
		a->write = b.write;
		a->change = b.change;
		a->attrs = b.attrs & ~(FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_SPARSE_FILE);
		if (!a->attrs)
			a->attrs = FILE_ATTRIBUTE_NORMAL;
	}
	vfs_close(fd);
}

NTSTATUS fileops_stat_open(struct open *o, struct fileops_attrs *a)
{
	if (o->fd < 0)
		return STATUS_INVALID_HANDLE;
	const struct vfs_ident *id = ident_of(o);
	struct statx st;
	int r = vfs_statx(id, o->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &st);
	if (r < 0)
		return vfs_nt_status(r);
	struct vfs_dosinfo_ext x;
	if (!cache_get_dos(o, &st, &r, &x)) {
		r = vfs_dos_get_ext(id, o->fd, &x);
		cache_put_dos(o, &st, r, &x);
	}
	fileops_attrs_from_stat_ext(&st, r >= 0 ? &x : NULL, a);
	fileops_fix_alloc(id, o->fd, &st, a);
	stream_overlay(o, a);
	if (o->file && !a->is_dir) {
		pthread_mutex_lock(&o->file->lock);
		if (o->attr_cache && o->attr_cache->alloc_hint > a->alloc)
			a->alloc = o->attr_cache->alloc_hint;
		pthread_mutex_unlock(&o->file->lock);
	}
	return STATUS_SUCCESS;
}

void fileops_alloc_hint(struct open *o, uint64_t alloc)
{
	if (!o->file)
		return;
	pthread_mutex_lock(&o->file->lock);
	if (!o->attr_cache)
		o->attr_cache = calloc(1, sizeof(*o->attr_cache)); /* ctime 0: caches nothing yet */
	if (o->attr_cache)
		o->attr_cache->alloc_hint = alloc;
	pthread_mutex_unlock(&o->file->lock);
}

uint32_t fileops_ea_size_open(struct open *o)
{
	if (o->fd < 0)
		return 0;
	const struct vfs_ident *id = ident_of(o);
	struct statx st;
	if (!o->file || vfs_statx(id, o->fd, "", AT_EMPTY_PATH, STATX_CTIME, &st) < 0)
		return fileops_ea_size(id, o->fd);
	pthread_mutex_lock(&o->file->lock);
	struct attr_cache *c = o->attr_cache;
	bool hit = c && c->ea_valid && same_ctime(&c->ctime, &st.stx_ctime);
	uint32_t n = hit ? c->ea_size : 0;
	pthread_mutex_unlock(&o->file->lock);
	if (hit)
		return n;
	n = fileops_ea_size(id, o->fd);
	if (ctime_settled(&st)) {
		pthread_mutex_lock(&o->file->lock);
		if ((c = cache_for(o, &st))) {
			c->ea_valid = true;
			c->ea_size = n;
		}
		pthread_mutex_unlock(&o->file->lock);
	}
	return n;
}
