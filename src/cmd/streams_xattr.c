/* Named streams in Samba's streams_xattr format (see streams.h). */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_VFS /* log lines of Samba's "vfs" class */

#include "cmd/streams.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "conf/conf.h"
#include "state/open.h"
#include "state/state.h"
#include "util/log.h"
#include "vfs/vfs.h"
#include "wire/ntstatus.h"

#define PREFIX "user.DosStream."
#define SUFFIX ":$DATA"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define SUFFIX_LEN (sizeof(SUFFIX) - 1)
#define VALUE_MAX 65536 /* XATTR_SIZE_MAX: the data and its NUL */
#define LIST_MAX 65536  /* XATTR_LIST_MAX */

/* A far byte of the working copy: every open of an xattr stream holds a
 * shared OFD lock on it, so an opener that gets it exclusively knows that
 * no other open has the copy, and may refresh it from the xattr. */
#define OPEN_MARK_OFF ((off_t)1 << 62)

/* Serializes every xattr stream update with the refresh of working copies
 * (pool threads only: never taken on a worker). */
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;

/* The base file's xattrs, through its O_PATH fd. */
static void proc_path(char *p, size_t n, int fd)
{
	snprintf(p, n, "/proc/self/fd/%d", fd);
}

/* The on-disk name X of "user.DosStream.X:$DATA" that matches `name`
 * without case (as Samba looks them up), into out[cap]; 0, -ENOENT. */
static int find_name(const char *pp, const char *name, char *out, size_t cap)
{
	char *list = malloc(LIST_MAX);
	if (!list)
		return -ENOMEM;
	ssize_t n = listxattr(pp, list, LIST_MAX);
	int r = n < 0 ? -errno : -ENOENT;
	size_t want = strlen(name);
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		const char *x = list + off;
		size_t l = strlen(x);
		if (l != PREFIX_LEN + want + SUFFIX_LEN || strncmp(x, PREFIX, PREFIX_LEN) ||
		    strcmp(x + l - SUFFIX_LEN, SUFFIX) || strncasecmp(x + PREFIX_LEN, name, want))
			continue;
		if (want + 1 > cap)
			break;
		memcpy(out, x + PREFIX_LEN, want);
		out[want] = '\0';
		r = 0;
		break;
	}
	free(list);
	return r;
}

static int xname_of(const char *ondisk, char *x, size_t cap)
{
	int n = snprintf(x, cap, PREFIX "%s" SUFFIX, ondisk);
	return n > 0 && (size_t)n < cap && n <= 255 ? 0 : -ENAMETOOLONG; /* XATTR_NAME_MAX */
}

/* Make the working copy wfd hold the value of xattr x (the data without
 * its NUL); -errno. */
static int copy_in(const char *pp, const char *x, int wfd)
{
	uint8_t *v = malloc(VALUE_MAX);
	if (!v)
		return -ENOMEM;
	ssize_t n = getxattr(pp, x, v, VALUE_MAX);
	int r = n < 0 ? -errno : 0;
	size_t len = n > 0 ? (size_t)n - 1 : 0; /* Samba's trailing NUL */
	if (r == 0 && ftruncate(wfd, (off_t)len) < 0)
		r = -errno;
	if (r == 0 && len && pwrite(wfd, v, len, 0) != (ssize_t)len)
		r = -EIO;
	free(v);
	return r;
}

struct xopen {
	int base;            /* O_PATH fd of the base file */
	const char *name;    /* as the client wrote it */
	int flags;           /* O_CREAT, O_EXCL, O_TRUNC */
	char ondisk[256];    /* out */
	int wfd;             /* phase 2: the working copy */
	bool fresh;          /* out of phase 1: the value was (re)set to empty */
};

/* Phase 1: find or create the xattr (empty: one NUL byte). */
static long xopen_fn(void *arg)
{
	struct xopen *a = arg;
	char pp[64], x[300];
	proc_path(pp, sizeof(pp), a->base);
	pthread_mutex_lock(&xlock);
	int r = find_name(pp, a->name, a->ondisk, sizeof(a->ondisk));
	bool create = false;
	if (r == 0) {
		if ((a->flags & O_CREAT) && (a->flags & O_EXCL))
			r = -EEXIST;
		if (r < 0 || !(a->flags & O_TRUNC))
			goto out; /* opened as it is (or refused) */
	} else if (r == -ENOENT && (a->flags & O_CREAT)) {
		if (strlen(a->name) >= sizeof(a->ondisk)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		strcpy(a->ondisk, a->name);
		create = true;
	} else {
		goto out;
	}
	/* a new or overwritten stream: empty, that is the NUL alone */
	r = xname_of(a->ondisk, x, sizeof(x));
	if (r == 0 && setxattr(pp, x, "", 1, create ? XATTR_CREATE : XATTR_REPLACE) < 0)
		r = -errno;
	a->fresh = r == 0;
out:
	pthread_mutex_unlock(&xlock);
	return r;
}

/* Phase 2: mark the working copy as open, and refresh it from the xattr
 * when no other open has it (or the value was just reset). */
static long xrefresh_fn(void *arg)
{
	struct xopen *a = arg;
	char pp[64], x[300];
	proc_path(pp, sizeof(pp), a->base);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = OPEN_MARK_OFF, .l_len = 1 };
	pthread_mutex_lock(&xlock);
	bool alone = fcntl(a->wfd, F_OFD_SETLK, &fl) == 0;
	int r = xname_of(a->ondisk, x, sizeof(x));
	if (r == 0 && (alone || a->fresh))
		r = copy_in(pp, x, a->wfd);
	fl.l_type = F_RDLCK;
	if (fcntl(a->wfd, F_OFD_SETLK, &fl) < 0 && r == 0)
		r = -errno;
	pthread_mutex_unlock(&xlock);
	return r;
}

int streams_xattr_open(int root, const char *base, const struct statx *bst, const char *name, int flags,
		       char **ondisk)
{
	*ondisk = NULL;
	struct xopen a = { .name = name, .flags = flags, .wfd = -1 };
	a.base = vfs_open(NULL, root, base, O_PATH | O_NOFOLLOW, 0);
	if (a.base < 0)
		return a.base;
	int r = (int)vfs_call(NULL, xopen_fn, &a);
	if (r == -ENAMETOOLONG || r == -ERANGE)
		r = -ENAMETOOLONG;
	if (r < 0)
		goto out;
	/* the working copy in the depot: created when missing, never trusted
	 * for its content (phase 2 refreshes it) */
	char *wname = NULL;
	dev_t dev = makedev(bst->stx_dev_major, bst->stx_dev_minor);
	a.wfd = streams_open(root, dev, bst->stx_ino, a.ondisk, O_RDWR | O_CREAT, bst->stx_uid, bst->stx_gid,
			     &wname);
	free(wname);
	if (a.wfd < 0) {
		r = a.wfd;
		goto out;
	}
	r = (int)vfs_call(NULL, xrefresh_fn, &a);
	if (r < 0) {
		vfs_close(a.wfd);
		goto out;
	}
	*ondisk = strdup(a.ondisk);
	if (!*ondisk) {
		vfs_close(a.wfd);
		r = -ENOMEM;
		goto out;
	}
	r = a.wfd;
out:
	vfs_close(a.base);
	return r;
}

struct xlist {
	int base;
	struct fscc_stream *v;
	unsigned n;
};

static int add_stream(struct xlist *a, const char *pp, const char *x, unsigned *cap)
{
	ssize_t len = getxattr(pp, x, NULL, 0);
	if (len < 0)
		return 0; /* gone meanwhile */
	if (a->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		struct fscc_stream *nv = realloc(a->v, *cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		a->v = nv;
	}
	size_t l = strlen(x) - PREFIX_LEN + 2;
	char *sn = malloc(l);
	if (!sn)
		return -ENOMEM;
	snprintf(sn, l, ":%s", x + PREFIX_LEN); /* ":NAME:$DATA" */
	a->v[a->n].name = sn;
	a->v[a->n].size = len > 0 ? (uint64_t)len - 1 : 0;
	a->v[a->n].alloc = a->v[a->n].size;
	a->n++;
	return 0;
}

static long xlist_fn(void *arg)
{
	struct xlist *a = arg;
	char pp[64];
	proc_path(pp, sizeof(pp), a->base);
	char *list = malloc(LIST_MAX);
	if (!list)
		return -ENOMEM;
	ssize_t n = listxattr(pp, list, LIST_MAX);
	int r = n < 0 ? -errno : 0;
	unsigned cap = 0;
	for (ssize_t off = 0; r == 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		const char *x = list + off;
		size_t l = strlen(x);
		if (l > PREFIX_LEN + SUFFIX_LEN && !strncmp(x, PREFIX, PREFIX_LEN) &&
		    !strcmp(x + l - SUFFIX_LEN, SUFFIX))
			r = add_stream(a, pp, x, &cap);
	}
	free(list);
	return r;
}

int streams_xattr_list(int root, const char *base, struct fscc_stream **v, unsigned *n)
{
	*v = NULL;
	*n = 0;
	struct xlist a = { .base = vfs_open(NULL, root, base, O_PATH | O_NOFOLLOW, 0) };
	if (a.base < 0)
		return a.base;
	int r = (int)vfs_call(NULL, xlist_fn, &a);
	vfs_close(a.base);
	if (r < 0) {
		streams_list_free(a.v, a.n);
		return r;
	}
	*v = a.v;
	*n = a.n;
	return 0;
}

struct xrm {
	int base;
	const char *ondisk;
};

static long xrm_fn(void *arg)
{
	struct xrm *a = arg;
	char pp[64], x[300];
	proc_path(pp, sizeof(pp), a->base);
	int r = xname_of(a->ondisk, x, sizeof(x));
	pthread_mutex_lock(&xlock);
	if (r == 0 && removexattr(pp, x) < 0)
		r = -errno;
	pthread_mutex_unlock(&xlock);
	return r;
}

int streams_xattr_unlink(int root, const char *base, uint64_t dev, uint64_t ino, const char *ondisk)
{
	struct xrm a = { .base = vfs_open(NULL, root, base, O_PATH | O_NOFOLLOW, 0), .ondisk = ondisk };
	if (a.base < 0)
		return a.base;
	int r = (int)vfs_call(NULL, xrm_fn, &a);
	vfs_close(a.base);
	int r2 = streams_unlink(root, dev, ino, ondisk); /* the working copy */
	return r < 0 ? r : r2 == -ENOENT ? 0 : r2;
}

static long xrm_all_fn(void *arg)
{
	int fd = *(int *)arg;
	char pp[64];
	proc_path(pp, sizeof(pp), fd);
	char *list = malloc(LIST_MAX);
	if (!list)
		return -ENOMEM;
	pthread_mutex_lock(&xlock);
	ssize_t n = listxattr(pp, list, LIST_MAX);
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1)
		if (!strncmp(list + off, PREFIX, PREFIX_LEN))
			(void)removexattr(pp, list + off);
	pthread_mutex_unlock(&xlock);
	free(list);
	return 0;
}

void streams_xattr_remove_all(int fd)
{
	(void)vfs_call(NULL, xrm_all_fn, &fd);
}

struct xmv {
	int base;
	const char *from, *to;
	bool replace;
};

static long xmv_fn(void *arg)
{
	struct xmv *a = arg;
	char pp[64], xf[300], xt[300], have[256];
	proc_path(pp, sizeof(pp), a->base);
	if (xname_of(a->from, xf, sizeof(xf)) < 0 || xname_of(a->to, xt, sizeof(xt)) < 0)
		return -ENAMETOOLONG;
	uint8_t *v = malloc(VALUE_MAX);
	if (!v)
		return -ENOMEM;
	pthread_mutex_lock(&xlock);
	int r = 0;
	if (strcasecmp(a->from, a->to) && find_name(pp, a->to, have, sizeof(have)) == 0) {
		char xh[300];
		ssize_t l = xname_of(have, xh, sizeof(xh)) < 0 ? -1 : getxattr(pp, xh, NULL, 0);
		r = !a->replace ? -EEXIST : l > 1 ? -ENOTEMPTY : removexattr(pp, xh) < 0 ? -errno : 0;
	}
	ssize_t n = r ? -1 : getxattr(pp, xf, v, VALUE_MAX);
	if (!r && n < 0)
		r = -errno;
	if (!r && setxattr(pp, xt, v, (size_t)n, 0) < 0)
		r = -errno;
	if (!r && strcmp(xf, xt) && removexattr(pp, xf) < 0)
		r = -errno;
	pthread_mutex_unlock(&xlock);
	free(v);
	return r;
}

int streams_xattr_rename(int root, const char *base, const struct statx *bst, const char *from, const char *to,
			 bool replace)
{
	struct xmv a = { .from = from, .to = to, .replace = replace };
	a.base = vfs_open(NULL, root, base, O_PATH | O_NOFOLLOW, 0);
	if (a.base < 0)
		return a.base;
	int r = (int)vfs_call(NULL, xmv_fn, &a);
	vfs_close(a.base);
	if (r == 0) /* the working copy follows (a missing one is made at the next open) */
		(void)streams_rename(root, makedev(bst->stx_dev_major, bst->stx_dev_minor), bst->stx_ino, from, to,
				     true);
	return r;
}

struct xsync {
	int base, wfd;
	const char *ondisk;
	uint64_t size;       /* out: the size refused */
};

/* Store the working copy in the xattr; when the value cannot be stored
 * (too big for xattrs, or for this file system), put the copy back as the
 * xattr has it. */
static long xsync_fn(void *arg)
{
	struct xsync *a = arg;
	char pp[64], x[300];
	proc_path(pp, sizeof(pp), a->base);
	int r = xname_of(a->ondisk, x, sizeof(x));
	if (r < 0)
		return r;
	uint8_t *v = malloc(VALUE_MAX);
	if (!v)
		return -ENOMEM;
	pthread_mutex_lock(&xlock);
	struct stat st;
	if (fstat(a->wfd, &st) < 0) {
		r = -errno;
	} else if ((uint64_t)st.st_size > VALUE_MAX - 1) {
		r = -E2BIG;
	} else {
		ssize_t n = st.st_size ? pread(a->wfd, v, (size_t)st.st_size, 0) : 0;
		if (n != st.st_size) {
			r = -EIO;
		} else {
			v[n] = 0; /* Samba's trailing NUL */
			if (setxattr(pp, x, v, (size_t)n + 1, 0) < 0)
				r = -errno;
		}
	}
	a->size = (uint64_t)st.st_size;
	if (r == -E2BIG || r == -ENOSPC || r == -ERANGE)
		(void)copy_in(pp, x, a->wfd);
	pthread_mutex_unlock(&xlock);
	free(v);
	return r;
}

/* streams_written() for a streams_xattr share: copy the stream's data
 * into its xattr. */
static NTSTATUS xattr_written(struct open *o, const char *path, const char *colon, int root,
			      const char *share)
{
	char *base = strndup(path, (size_t)(colon - path));
	if (!base)
		return STATUS_NO_MEMORY;
	struct xsync a = { .wfd = o->fd, .ondisk = colon + 1 };
	a.base = vfs_open(NULL, root, base, O_PATH | O_NOFOLLOW, 0);
	int r = a.base < 0 ? a.base : (int)vfs_call(NULL, xsync_fn, &a);
	if (a.base >= 0)
		vfs_close(a.base);
	if (r == -E2BIG || r == -ENOSPC || r == -ERANGE) {
		log_warn("share [%s]: stream %s: %llu bytes do not fit in an extended attribute "
		           "(vfs objects = streams_xattr); write refused", share, path,
		           (unsigned long long)a.size);
		free(base);
		return STATUS_DISK_FULL;
	}
	free(base);
	return r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
}

NTSTATUS streams_written(struct open *o)
{
	struct open_path *p = open_path_get(o);
	const char *colon = p ? strchr(p->s, ':') : NULL;
	struct tree *t = colon ? open_tree_get(o) : NULL; /* NULL: detached meanwhile */
	bool xattr = t && t->share && t->share->streams_xattr;
	int root = xattr ? t->root_fd : -1;
	const char *share = xattr ? t->share->name : "";
	NTSTATUS st = xattr ? xattr_written(o, p->s, colon, root, share) : STATUS_SUCCESS;
	tree_put(t);
	open_path_put(p);
	return st;
}
