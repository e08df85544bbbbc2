/* Change notification engine: the walks.  Runs on the pool only (a vfs_call
 * job, or the detached runner of notify_events.c), as the watch's identity,
 * holding no lock while it touches the disk.
 *
 * By fd, never by path from "/": the watched directory is reopened beneath
 * the owner's fd; every subdirectory is opened beneath its parent's fd, and
 * a directory that appears later beneath the watch's root, with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS):
 * a directory swapped for a symlink during the walk is ELOOP, never
 * followed, and a directory the user cannot read is neither watched nor
 * descended into (its open fails as the user).  Entries come from
 * getdents64 on the directory's fd (fstatat(AT_SYMLINK_NOFOLLOW) when the
 * file system gives no type), and inotify gets the directory as
 * /proc/self/fd/N of that fd: the kernel resolves our own descriptor, not
 * a name somebody could swap.
 *
 * Each directory found is registered at once (nt_read_lock + nt_lock, see
 * notify_int.h), after finding the watch again by id: a watch that ended
 * meanwhile gets nothing, and the walk stops. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"
#include "vfs/notify_int.h"
#include "vfs/vfs.h"
#include "wire/notify.h"

#define NT_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

struct walk {
	uint64_t wid;
	bool tree;
	bool stop;           /* the watch ended or is full */
};

struct ent {
	char *name;
	bool isdir;
};

/* A directory the walk registered: its children are registered only while
 * it still is (a rename out of the tree, once its event is read, removes
 * it, and the walk must not go on watching beneath it outside the share). */
struct dirref {
	int wd;
	uint64_t id;
};

struct ents {
	struct ent *v;
	unsigned n, cap;
};

/* Returns an fd or -errno. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC | O_NOFOLLOW), .resolve = NT_RESOLVE };
	long fd;
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

static void ents_free(struct ents *e)
{
	for (unsigned i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
	*e = (struct ents){ 0 };
}

static bool ents_add(struct ents *e, const char *name, bool isdir)
{
	if (e->n == e->cap) {
		unsigned cap = e->cap ? e->cap * 2 : 16;
		struct ent *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return false;
		e->v = v;
		e->cap = cap;
	}
	if (!(e->v[e->n].name = strdup(name)))
		return false;
	e->v[e->n++].isdir = isdir;
	return true;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* The entries of the directory `fd` (only its subdirectories unless `all`),
 * at most `max`; the stream depot is never one of them. */
static int read_dir(int fd, bool all, unsigned max, struct ents *out)
{
	enum { BUF = 32 * 1024 };
	char *buf = malloc(BUF);
	if (!buf)
		return -ENOMEM;
	int ret = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, BUF);
		if (n <= 0) {
			ret = n < 0 ? -errno : 0;
			break;
		}
		for (long off = 0; off < n && out->n < max;) {
			const struct linux_dirent64 *d = (const void *)(buf + off);
			off += d->d_reclen;
			const char *name = d->d_name;
			if (!strcmp(name, ".") || !strcmp(name, "..") || vfs_name_reserved(name, strlen(name)))
				continue;
			bool isdir = d->d_type == DT_DIR;
			struct stat st;
			if (d->d_type == DT_UNKNOWN)
				isdir = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			if ((all || isdir) && !ents_add(out, name, isdir)) {
				ret = -ENOMEM;
				break;
			}
		}
		if (ret < 0 || out->n >= max)
			break;
	}
	free(buf);
	return ret;
}

static void rm_orphan(int wd)
{
	if (!nt_wd_find(wd))
		inotify_rm_watch(nt_fd, wd);
}

/* Register the directory `fd` as (prefix, rel) of the walk's watch, found
 * beneath `parent` (NULL: opened beneath the watch's root).  1: new (walk
 * below it; *self says which), 0: already watched, <0: not watched;
 * k->stop when the watch ended or is full. */
static int reg_dir(struct walk *k, int fd, const char *prefix, const char *rel, bool scanning,
		   const struct dirref *parent, struct dirref *self)
{
	char proc[40];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	pthread_mutex_lock(&nt_read_lock);
	int wd = inotify_add_watch(nt_fd, proc, NT_MASK);
	int err = wd < 0 ? -errno : 0;
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = nt_watch_by_id(k->wid);
	int r = err;
	if (!w || w->n_subs >= NT_MAX_DIRS) {
		if (wd >= 0)
			rm_orphan(wd);
		k->stop = true;
		r = -ESRCH;
	} else if (wd >= 0 && parent && !nt_sub_alive(w, parent->wd, parent->id)) {
		rm_orphan(wd); /* the parent left the tree meanwhile */
		r = -ESTALE;
	} else if (wd >= 0) {
		struct nt_sub *s = NULL;
		r = nt_sub_add(w, wd, prefix, rel, &s);
		if (r == -ENOSPC)
			k->stop = true; /* the user's share of watches (NT_MAX_DIRS_PER_USER) */
		if (r > 0) {
			s->scanning = scanning;
			*self = (struct dirref){ wd, s->id };
		}
	}
	pthread_mutex_unlock(&nt_lock);
	pthread_mutex_unlock(&nt_read_lock);
	if (err == -ENOSPC)
		k->stop = true; /* fs.inotify.max_user_watches */
	if (err < 0 && err != -ENOENT && err != -ENOTDIR)
		log_debug("notify: inotify_add_watch %s: %s", *prefix ? prefix : "(watched directory)", strerror(-err));
	return r;
}

static char *join(const char *a, const char *sep, const char *b)
{
	char *x = NULL;
	if (asprintf(&x, "%s%s%s", a, *a ? sep : "", b) < 0)
		return NULL;
	return x;
}

static void walk_below(struct walk *k, int fd, const struct dirref *self, const char *prefix, const char *rel,
		       int depth, const struct ents *dirs);

/* The subdirectory `name` of the directory `fd` (registered as `parent`),
 * and the tree below it. */
static void walk_child(struct walk *k, int fd, const struct dirref *parent, const char *prefix, const char *rel,
		       const char *name, int depth)
{
	int cfd = open_beneath(fd, name, O_RDONLY | O_DIRECTORY);
	if (cfd < 0)
		return; /* gone, swapped for a symlink (ELOOP), or not readable by the user */
	char *p = join(prefix, "\\", name), *r = join(rel, "/", name);
	struct dirref self;
	if (p && r && reg_dir(k, cfd, p, r, false, parent, &self) > 0 && depth < NT_MAX_DEPTH)
		walk_below(k, cfd, &self, p, r, depth, NULL);
	free(p);
	free(r);
	close(cfd);
}

/* The subdirectories of the directory `fd` (at `depth`), from `dirs` when
 * the caller read them already. */
static void walk_below(struct walk *k, int fd, const struct dirref *self, const char *prefix, const char *rel,
		       int depth, const struct ents *dirs)
{
	struct ents own = { 0 };
	if (!dirs) {
		if (read_dir(fd, false, NT_MAX_DIRS, &own) < 0 && !own.n)
			return;
		dirs = &own;
	}
	for (unsigned i = 0; i < dirs->n && !k->stop; i++)
		if (dirs->v[i].isdir)
			walk_child(k, fd, self, prefix, rel, dirs->v[i].name, depth + 1);
	ents_free(&own);
}

long nt_walk_watch(void *arg)
{
	const struct nt_walk_arg *a = arg;
	/* our own descriptor of the directory (the owner's may be O_PATH,
	 * and its file position belongs to directory listings) */
	int root = open_beneath(a->dirfd, ".", O_PATH | O_DIRECTORY);
	if (root < 0)
		return root;
	int fd = open_beneath(root, ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		close(root);
		return fd; /* the user cannot list it */
	}
	struct walk k = { .wid = a->watch_id };
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = nt_watch_by_id(k.wid);
	if (w) {
		w->root = root;
		k.tree = w->tree;
		root = -1;
	}
	pthread_mutex_unlock(&nt_lock);
	if (root >= 0) {
		close(root);
		k.stop = true;
	}
	struct dirref self;
	if (!k.stop && reg_dir(&k, fd, "", "", false, NULL, &self) > 0 && k.tree)
		walk_below(&k, fd, &self, "", "", 0, NULL);
	close(fd);
	return 0;
}

/* A scan of a directory that just appeared reports what is in it already:
 * it may have been filled before its inotify watch existed.  Names the
 * events reported since the watch exists are not reported again. */
static void scan_apply(struct walk *k, const char *prefix, const struct ents *all)
{
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = nt_watch_by_id(k->wid);
	struct nt_sub *s = NULL;
	for (struct nt_sub *x = w ? w->subs : NULL; x && !s; x = x->next_w)
		if (x->scanning && !strcmp(x->prefix, prefix))
			s = x;
	for (unsigned i = 0; s && i < all->n; i++) {
		const struct ent *e = &all->v[i];
		if (nt_strv_take(s->seen, &s->n_seen, e->name))
			continue;
		(void)nt_strv_add(&s->scanned, &s->n_scanned, e->name);
		uint32_t need = e->isdir ? FILE_NOTIFY_CHANGE_DIR_NAME : FILE_NOTIFY_CHANGE_FILE_NAME;
		if (w->filter & need)
			nt_queue_event(w, FILE_ACTION_ADDED, join(prefix, "\\", e->name));
	}
	if (s) {
		s->scanning = false;
		nt_strv_free(&s->seen, &s->n_seen);
	}
	pthread_mutex_unlock(&nt_lock);
}

void nt_walk_job(struct nt_job *j)
{
	struct walk k = { .wid = j->watch_id };
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = nt_watch_by_id(k.wid);
	int root = w && w->root >= 0 ? fcntl(w->root, F_DUPFD_CLOEXEC, 0) : -1;
	k.tree = w && w->tree;
	pthread_mutex_unlock(&nt_lock);
	int fd = root >= 0 ? open_beneath(root, j->rel, O_RDONLY | O_DIRECTORY) : -1;
	struct dirref self;
	if (fd >= 0 && reg_dir(&k, fd, j->prefix, j->rel, true, NULL, &self) > 0) {
		struct ents all = { 0 };
		(void)read_dir(fd, true, NT_MAX_EVENTS + 1, &all);
		scan_apply(&k, j->prefix, &all);
		if (k.tree && !k.stop)
			walk_below(&k, fd, &self, j->prefix, j->rel, 0, &all);
		ents_free(&all);
	}
	if (fd >= 0)
		close(fd);
	if (root >= 0)
		close(root);
	free(j->prefix);
	free(j->rel);
	free(j);
}
