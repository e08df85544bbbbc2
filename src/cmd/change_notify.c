/* CHANGE_NOTIFY ([MS-SMB2] 3.3.5.19) with inotify.
 *
 * One inotify descriptor for the server, read by a dedicated thread.  The
 * first CHANGE_NOTIFY on a directory open creates its watch (struct
 * nt_watch): inotify watches on the directory and, with WATCH_TREE, on its
 * subdirectories (bounded), and a queue that records changes from then on,
 * also while no request is pending, as Windows does.  The recording buffer
 * has the size of that first request's OutputBufferLength; when the
 * recorded changes outgrow it, or a request's buffer cannot hold them, the
 * answer is STATUS_NOTIFY_ENUM_DIR ("enumerate the directory yourself").
 *
 * A request that finds nothing queued goes async and parks (req_wait).
 * Whoever completes it (the inotify thread for an event, CANCEL, the close
 * of the open) unlinks it from the watch under nt_lock and calls req_wake
 * exactly once; the request then builds its own response on its worker.
 *
 * Changes made through smb3d itself are seen by inotify like any other;
 * nt_drain reads them when a CHANGE_NOTIFY arrives or smb3d creates or
 * moves a directory, so they never wait for the notify thread. */
#include "cmd/change_notify.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "util/log.h"
#include "util/utf16.h"
#include "vfs/vfs.h"
#include "wire/notify.h"

#define NT_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
		 IN_CLOSE | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define NT_MAX_DIRS 4096     /* inotify watches per WATCH_TREE open */
#define NT_MAX_DEPTH 32
#define NT_MAX_EVENTS 4096   /* queued changes per open before ENUM_DIR */
#define NT_WD_BUCKETS 256

/* Which completion-filter bits an inotify event class satisfies. */
#define NT_FILTER_WRITE (FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_SIZE)
#define NT_FILTER_ATTR (FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_LAST_WRITE | \
			FILE_NOTIFY_CHANGE_LAST_ACCESS | FILE_NOTIFY_CHANGE_CREATION | \
			FILE_NOTIFY_CHANGE_EA | FILE_NOTIFY_CHANGE_SECURITY)

struct nt_event {
	uint32_t action;
	char *name;          /* relative to the watched directory, '\' separated */
	uint32_t size;       /* encoded FILE_NOTIFY_INFORMATION size, 4-aligned */
};

struct nt_pending {
	struct smb2_req *req;
	struct nt_pending *next;
	NTSTATUS status;     /* SUCCESS: events queued; CANCELLED; NOTIFY_CLEANUP; DELETE_PENDING */
	unsigned take;       /* events queued when woken (a batch ends there) */
};

struct nt_wd;
struct nt_watch;

/* One watched directory of one nt_watch. */
struct nt_sub {
	struct nt_watch *w;
	struct nt_wd *wd;
	char *prefix;        /* "" for the watched directory itself */
	char *path;          /* absolute, for adding subdirectories */
	/* Names scan_new_dir reported as ADDED: the directory's inotify watch
	 * may be shared with another nt_watch that subscribed earlier, so an
	 * IN_CREATE of the same name can still be queued behind the event that
	 * made us scan; it must not be reported a second time. */
	char **scanned;
	unsigned n_scanned;
	struct nt_sub *next_wd, *next_w;
};

/* One inotify watch descriptor, shared by every nt_watch on that inode. */
struct nt_wd {
	int wd;
	char *fresh;         /* just created, not yet closed: its IN_ATTRIBs are the
	                        creator's own xattrs (DOS attributes), not changes */
	struct nt_sub *subs;
	struct nt_wd *hnext;
};

struct nt_watch {
	struct open *o;      /* weak: notify_open_closed ends the watch first */
	uint64_t vid;        /* with o: an address reused by a later open is not ours */
	uint32_t filter;
	bool tree;
	uint32_t buf_size;   /* recording buffer: the first request's OutputBufferLength */
	size_t queued_bytes;
	struct nt_event *ev;
	unsigned n_ev, cap_ev;
	bool overflow;
	struct nt_pending *pend;
	struct nt_sub *subs;
	unsigned n_subs;
	struct nt_watch *next;
};

static pthread_mutex_t nt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t nt_once = PTHREAD_ONCE_INIT;
static int nt_fd = -1;
static unsigned nt_watching; /* watches that exist (notify_sync skips work without) */
static struct nt_watch *nt_watches;
static struct nt_wd *nt_wds[NT_WD_BUCKETS];

/* ---- watch descriptors (nt_lock held) ---- */

static struct nt_wd *wd_find(int wd)
{
	for (struct nt_wd *d = nt_wds[(unsigned)wd % NT_WD_BUCKETS]; d; d = d->hnext)
		if (d->wd == wd)
			return d;
	return NULL;
}

static void wd_free(struct nt_wd *d, bool rm)
{
	for (struct nt_wd **pp = &nt_wds[(unsigned)d->wd % NT_WD_BUCKETS]; *pp; pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	}
	if (rm)
		inotify_rm_watch(nt_fd, d->wd);
	free(d->fresh);
	free(d);
}

/* Unlink a sub from its wd (dropping the inotify watch with the last one)
 * and free it; the caller has unlinked it from its watch. */
static void sub_free(struct nt_sub *s, bool rm)
{
	struct nt_wd *d = s->wd;
	if (d) {
		for (struct nt_sub **pp = &d->subs; *pp; pp = &(*pp)->next_wd) {
			if (*pp == s) {
				*pp = s->next_wd;
				break;
			}
		}
		if (!d->subs)
			wd_free(d, rm);
	}
	s->w->n_subs--;
	for (unsigned i = 0; i < s->n_scanned; i++)
		free(s->scanned[i]);
	free(s->scanned);
	free(s->prefix);
	free(s->path);
	free(s);
}

static void sub_add(struct nt_watch *w, const char *path, const char *prefix)
{
	if (w->n_subs >= NT_MAX_DIRS)
		return;
	int wd = inotify_add_watch(nt_fd, path, NT_MASK);
	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_debug("inotify_add_watch %s: %m", path);
		return;
	}
	struct nt_wd *d = wd_find(wd);
	if (d) {
		for (struct nt_sub *s = d->subs; s; s = s->next_wd)
			if (s->w == w)
				return; /* the same directory twice (bind mounts, hard races) */
	} else {
		d = calloc(1, sizeof(*d));
		if (!d)
			return;
		d->wd = wd;
		d->hnext = nt_wds[(unsigned)wd % NT_WD_BUCKETS];
		nt_wds[(unsigned)wd % NT_WD_BUCKETS] = d;
	}
	struct nt_sub *s = calloc(1, sizeof(*s));
	if (s) {
		s->prefix = strdup(prefix);
		s->path = strdup(path);
	}
	if (!s || !s->prefix || !s->path) {
		if (s) {
			free(s->prefix);
			free(s->path);
			free(s);
		}
		if (!d->subs)
			wd_free(d, true);
		return;
	}
	s->w = w;
	s->wd = d;
	s->next_wd = d->subs;
	d->subs = s;
	s->next_w = w->subs;
	w->subs = s;
	w->n_subs++;
}

/* The directory and, for WATCH_TREE, its subdirectories. */
static void tree_add(struct nt_watch *w, const char *path, const char *prefix, int depth)
{
	sub_add(w, path, prefix);
	if (!w->tree || depth >= NT_MAX_DEPTH)
		return;
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir)) && w->n_subs < NT_MAX_DIRS) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    vfs_name_reserved(de->d_name, strlen(de->d_name)))
			continue; /* the stream depot is not watched */
		char *p = NULL, *x = NULL;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
			break;
		bool isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			isdir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
		}
		if (isdir && asprintf(&x, "%s%s%s", prefix, *prefix ? "\\" : "", de->d_name) >= 0) {
			tree_add(w, p, x, depth + 1);
			free(x);
		}
		free(p);
	}
	closedir(dir);
}

/* A subdirectory left the tree: drop its subs and those below it. */
static void tree_remove(struct nt_watch *w, const char *rel)
{
	size_t l = strlen(rel);
	for (struct nt_sub **pp = &w->subs; *pp;) {
		struct nt_sub *s = *pp;
		if (!strncmp(s->prefix, rel, l) && (s->prefix[l] == '\0' || s->prefix[l] == '\\')) {
			*pp = s->next_w;
			sub_free(s, true);
		} else {
			pp = &s->next_w;
		}
	}
}

/* ---- queue (nt_lock held) ---- */

static void queue_clear(struct nt_watch *w)
{
	for (unsigned i = 0; i < w->n_ev; i++)
		free(w->ev[i].name);
	w->n_ev = 0;
	w->queued_bytes = 0;
}

/* Complete the oldest pending request: it takes what is queued now. */
static void wake_first(struct nt_watch *w)
{
	struct nt_pending *p = w->pend;
	if (!p)
		return;
	w->pend = p->next;
	p->status = STATUS_SUCCESS;
	p->take = w->n_ev;
	req_wake(p->req);
}

static void queue_event(struct nt_watch *w, uint32_t action, char *name)
{
	if (!name)
		return;
	log_debug("notify %llu: action %u %s", (unsigned long long)w->vid, action, name);
	if (w->overflow) {
		free(name);
		wake_first(w);
		return;
	}
	/* A run of writes or attribute changes to one file is one change. */
	if (action == FILE_ACTION_MODIFIED && w->n_ev && w->ev[w->n_ev - 1].action == action &&
	    !strcmp(w->ev[w->n_ev - 1].name, name)) {
		free(name);
		wake_first(w);
		return;
	}
	long u16 = utf8_utf16le_size(name, strlen(name));
	uint32_t size = u16 < 0 ? 0 : (uint32_t)((12 + u16 + 3) & ~3);
	if (u16 < 0 || w->n_ev >= NT_MAX_EVENTS || w->queued_bytes + size > w->buf_size) {
		free(name);
		queue_clear(w);
		w->overflow = true;
		wake_first(w);
		return;
	}
	if (w->n_ev == w->cap_ev) {
		unsigned cap = w->cap_ev ? w->cap_ev * 2 : 8;
		struct nt_event *v = realloc(w->ev, cap * sizeof(*v));
		if (!v) {
			free(name);
			queue_clear(w);
			w->overflow = true;
			wake_first(w);
			return;
		}
		w->ev = v;
		w->cap_ev = cap;
	}
	w->ev[w->n_ev++] = (struct nt_event){ action, name, size };
	w->queued_bytes += size;
	wake_first(w);
}

/* ---- the inotify thread ---- */

enum nt_class { NT_NAME, NT_WRITE, NT_ATTR };

/* A directory that just appeared in a WATCH_TREE may have been filled
 * before its inotify watch existed: report what is in it already. */
static void scan_new_dir(struct nt_watch *w, const char *path, const char *rel)
{
	struct nt_sub *sub = NULL;
	for (struct nt_sub *x = w->subs; x && !sub; x = x->next_w)
		if (!strcmp(x->prefix, rel))
			sub = x;
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    vfs_name_reserved(de->d_name, strlen(de->d_name)))
			continue;
		if (sub) {
			char **v = realloc(sub->scanned, (sub->n_scanned + 1) * sizeof(*v));
			if (v) {
				sub->scanned = v;
				if ((v[sub->n_scanned] = strdup(de->d_name)))
					sub->n_scanned++;
			}
		}
		bool isdir = de->d_type == DT_DIR;
		uint32_t need = isdir ? FILE_NOTIFY_CHANGE_DIR_NAME : FILE_NOTIFY_CHANGE_FILE_NAME;
		char *x = NULL;
		if ((w->filter & need) && asprintf(&x, "%s\\%s", rel, de->d_name) >= 0)
			queue_event(w, FILE_ACTION_ADDED, x);
	}
	closedir(dir);
}

/* `moved_in`: the name arrived by a rename (IN_MOVED_TO). */
static void deliver(struct nt_sub *s, uint32_t action, enum nt_class cls, bool isdir, bool moved_in,
		    const char *name)
{
	struct nt_watch *w = s->w;
	for (unsigned i = 0; i < s->n_scanned; i++) {
		if (strcmp(s->scanned[i], name))
			continue;
		/* the first event for a scanned name settles it; a create is
		 * the one the scan already reported */
		free(s->scanned[i]);
		s->scanned[i] = s->scanned[--s->n_scanned];
		if (action == FILE_ACTION_ADDED && cls == NT_NAME && !moved_in)
			return;
		break;
	}
	uint32_t need = cls == NT_NAME ? (isdir ? FILE_NOTIFY_CHANGE_DIR_NAME : FILE_NOTIFY_CHANGE_FILE_NAME)
		      : cls == NT_WRITE ? NT_FILTER_WRITE : NT_FILTER_ATTR;
	char *rel = NULL;
	if (asprintf(&rel, "%s%s%s", s->prefix, *s->prefix ? "\\" : "", name) < 0)
		return;
	bool wanted = w->filter & need;
	if (wanted) {
		queue_event(w, action, strdup(rel));
	} else if (moved_in && !isdir && (w->filter & FILE_NOTIFY_CHANGE_ATTRIBUTES)) {
		/* Windows: a file renamed into the directory is a MODIFIED
		 * change of its new name for a watch on attributes but not on
		 * file names (smb2.notify.mask-change; smb2.notify.rec shows
		 * that a watch on names sees only the rename). */
		queue_event(w, FILE_ACTION_MODIFIED, strdup(rel));
	}
	/* Keep the tree's watches in step with its directories. */
	if (w->tree && isdir && cls == NT_NAME) {
		if (action == FILE_ACTION_ADDED || action == FILE_ACTION_RENAMED_NEW_NAME) {
			char *p = NULL;
			if (asprintf(&p, "%s/%s", s->path, name) >= 0) {
				tree_add(w, p, rel, 0);
				scan_new_dir(w, p, rel);
			}
			free(p);
		} else {
			tree_remove(w, rel);
		}
	}
	free(rel);
}

/* Is there a IN_MOVED_TO with `cookie` on the same wd later in the batch? */
static bool rename_pair(const char *p, const char *end, int wd, uint32_t cookie)
{
	while (p + sizeof(struct inotify_event) <= end) {
		const struct inotify_event *e = (const void *)p;
		if ((e->mask & IN_MOVED_TO) && e->cookie == cookie)
			return e->wd == wd;
		p += sizeof(*e) + e->len;
	}
	return false;
}

static void handle_event(const struct inotify_event *e, const char *next, const char *end, uint32_t *pair)
{
	if (e->mask & IN_Q_OVERFLOW) {
		for (struct nt_watch *w = nt_watches; w; w = w->next) {
			queue_clear(w);
			w->overflow = true;
			wake_first(w);
		}
		return;
	}
	struct nt_wd *d = wd_find(e->wd);
	if (!d)
		return;
	if (e->mask & IN_IGNORED) {
		/* The directory is gone (or unmounted): its subs go too. */
		while (d->subs) {
			struct nt_sub *s = d->subs;
			struct nt_watch *w = s->w;
			for (struct nt_sub **pp = &w->subs; *pp; pp = &(*pp)->next_w) {
				if (*pp == s) {
					*pp = s->next_w;
					break;
				}
			}
			bool last = s->next_wd == NULL;
			sub_free(s, false); /* frees d with the last sub */
			if (last)
				break;
		}
		return;
	}
	log_trace("inotify wd %d mask 0x%x cookie %u %s", e->wd, e->mask, e->cookie, e->len ? e->name : "");
	if (!e->len || !e->name[0] || vfs_name_reserved(e->name, strlen(e->name)))
		return; /* nothing to report about the stream depot */
	/* A create sets the new file's DOS attributes (an xattr: IN_ATTRIB)
	 * before anyone else can see it; Windows reports only the ADDED. */
	bool fresh = d->fresh && !strcmp(d->fresh, e->name);
	if (e->mask & IN_CLOSE) {
		/* The creator's own temporary opens close without writing;
		 * a close after writing ends the creation. */
		if (fresh && (e->mask & IN_CLOSE_WRITE)) {
			free(d->fresh);
			d->fresh = NULL;
		}
		return;
	}
	if (!fresh && d->fresh) {
		free(d->fresh);
		d->fresh = NULL;
	}
	if ((e->mask & IN_ATTRIB) && fresh)
		return;
	if (e->mask & IN_CREATE) {
		free(d->fresh);
		d->fresh = strdup(e->name);
	}
	bool isdir = e->mask & IN_ISDIR;
	uint32_t action;
	enum nt_class cls = NT_NAME;
	if (e->mask & IN_CREATE) {
		action = FILE_ACTION_ADDED;
	} else if (e->mask & IN_DELETE) {
		action = FILE_ACTION_REMOVED;
	} else if (e->mask & IN_MOVED_FROM) {
		/* A rename inside one directory is OLD_NAME + NEW_NAME; a move
		 * between directories is REMOVED here and ADDED there. */
		if (rename_pair(next, end, e->wd, e->cookie)) {
			action = FILE_ACTION_RENAMED_OLD_NAME;
			*pair = e->cookie;
		} else {
			action = FILE_ACTION_REMOVED;
		}
	} else if (e->mask & IN_MOVED_TO) {
		action = *pair && *pair == e->cookie ? FILE_ACTION_RENAMED_NEW_NAME : FILE_ACTION_ADDED;
	} else if (e->mask & IN_MODIFY) {
		action = FILE_ACTION_MODIFIED;
		cls = NT_WRITE;
	} else if (e->mask & IN_ATTRIB) {
		action = FILE_ACTION_MODIFIED;
		cls = NT_ATTR;
	} else {
		return;
	}
	/* deliver() may add and remove subs (of other wds): walk a copy. */
	unsigned n = 0;
	for (struct nt_sub *s = d->subs; s; s = s->next_wd)
		n++;
	struct nt_sub **v = malloc(n * sizeof(*v) + 1);
	if (!v)
		return;
	n = 0;
	for (struct nt_sub *s = d->subs; s; s = s->next_wd)
		v[n++] = s;
	for (unsigned i = 0; i < n; i++) {
		/* still subscribed? (a tree_remove of an earlier one may have freed it) */
		struct nt_wd *dd = wd_find(e->wd);
		bool alive = false;
		for (struct nt_sub *s = dd ? dd->subs : NULL; s && !alive; s = s->next_wd)
			alive = s == v[i];
		if (alive)
			deliver(v[i], action, cls, isdir, e->mask & IN_MOVED_TO, e->name);
	}
	free(v);
}

/* Read what inotify has queued (nothing blocks: the fd is non-blocking)
 * and record it.  The kernel queues an inotify event inside the syscall
 * that causes it, so a change smb3d made for a client is in the queue
 * before that client saw the reply: a CHANGE_NOTIFY drains the queue first
 * and never misses a change the client itself just made, however late the
 * notify thread runs.  nt_read_lock keeps the two readers in order. */
static pthread_mutex_t nt_read_lock = PTHREAD_MUTEX_INITIALIZER;
static char nt_buf[64 * 1024] __attribute__((aligned(8)));

static int nt_drain(void)
{
	int ret = 0;
	pthread_mutex_lock(&nt_read_lock);
	for (;;) {
		ssize_t n = read(nt_fd, nt_buf, sizeof(nt_buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				ret = -errno;
			break;
		}
		const char *end = nt_buf + n;
		uint32_t pair = 0;
		pthread_mutex_lock(&nt_lock);
		for (const char *p = nt_buf; p + sizeof(struct inotify_event) <= end;) {
			const struct inotify_event *e = (const void *)p;
			const char *next = p + sizeof(*e) + e->len;
			if (next > end)
				break;
			handle_event(e, next, end, &pair);
			p = next;
		}
		pthread_mutex_unlock(&nt_lock);
	}
	pthread_mutex_unlock(&nt_read_lock);
	return ret;
}

static void *nt_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd = { .fd = nt_fd, .events = POLLIN };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			log_err("inotify poll: %m; change notify stops");
			break;
		}
		if (nt_drain() < 0) {
			log_err("inotify read: %m; change notify stops");
			break;
		}
	}
	return NULL;
}

static void nt_init(void)
{
	nt_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (nt_fd < 0) {
		log_warn("inotify_init1: %m; CHANGE_NOTIFY is not supported");
		return;
	}
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, nt_thread, NULL) != 0) {
		log_warn("cannot start the change notify thread");
		close(nt_fd);
		nt_fd = -1;
	}
	pthread_attr_destroy(&a);
}

/* ---- watches (nt_lock held) ---- */

static struct nt_watch *watch_find(const struct open *o)
{
	for (struct nt_watch *w = nt_watches; w; w = w->next)
		if (w->o == o && w->vid == o->volatile_id)
			return w;
	return NULL;
}

static struct nt_watch *watch_new(struct open *o, const struct wire_notify_req *q)
{
	const char *root = o->tree && o->tree->share ? o->tree->share->path : NULL;
	if (!root)
		return NULL;
	struct nt_watch *w = calloc(1, sizeof(*w));
	char *path = NULL;
	if (!w || asprintf(&path, "%s%s%s", root, o->path && o->path[0] ? "/" : "", o->path ? o->path : "") < 0) {
		free(w);
		return NULL;
	}
	w->o = o;
	w->vid = o->volatile_id;
	w->filter = q->completion_filter;
	w->tree = q->flags & SMB2_WATCH_TREE;
	w->buf_size = q->output_len;
	tree_add(w, path, "", 0);
	free(path);
	w->next = nt_watches;
	nt_watches = w;
	__atomic_add_fetch(&nt_watching, 1, __ATOMIC_RELAXED);
	return w;
}

static void watch_free(struct nt_watch *w)
{
	__atomic_sub_fetch(&nt_watching, 1, __ATOMIC_RELAXED);
	for (struct nt_watch **pp = &nt_watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	while (w->pend) {
		struct nt_pending *p = w->pend;
		w->pend = p->next;
		p->status = STATUS_NOTIFY_CLEANUP;
		req_wake(p->req);
	}
	while (w->subs) {
		struct nt_sub *s = w->subs;
		w->subs = s->next_w;
		sub_free(s, true);
	}
	queue_clear(w);
	free(w->ev);
	free(w);
}

void notify_delete_pending(struct file *f)
{
	pthread_mutex_lock(&nt_lock);
	for (struct nt_watch *w = nt_watches; w; w = w->next) {
		if (w->o->file != f)
			continue;
		while (w->pend) {
			struct nt_pending *p = w->pend;
			w->pend = p->next;
			p->status = STATUS_DELETE_PENDING;
			req_wake(p->req);
		}
	}
	pthread_mutex_unlock(&nt_lock);
}

static bool delete_pending(struct open *o)
{
	if (!o->file)
		return false;
	pthread_mutex_lock(&o->file->lock);
	bool dp = o->file->delete_pending;
	pthread_mutex_unlock(&o->file->lock);
	return dp;
}

void notify_open_closed(struct open *o)
{
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = watch_find(o);
	if (w)
		watch_free(w);
	pthread_mutex_unlock(&nt_lock);
}

/* ---- the request ---- */

/* Answer from the queue (nt_lock held): up to `take` events.  Returns
 * STATUS_PENDING when there is nothing to say yet. */
static NTSTATUS respond(struct smb2_req *req, struct nt_watch *w, uint32_t out_len, unsigned take)
{
	if (w->overflow) {
		w->overflow = false;
		queue_clear(w);
		return STATUS_NOTIFY_ENUM_DIR;
	}
	if (take > w->n_ev)
		take = w->n_ev;
	if (take == 0)
		return STATUS_PENDING;
	size_t need = 0;
	for (unsigned i = 0; i < take; i++)
		need += w->ev[i].size;
	if (need > out_len) {
		/* The client's buffer cannot hold them: it must re-read the
		 * directory, and the recording starts afresh. */
		queue_clear(w);
		return STATUS_NOTIFY_ENUM_DIR;
	}
	if (req_out_reserve(req, 8 + need + 8) < 0)
		return STATUS_NO_MEMORY;
	uint8_t *body = wire_notify_rsp_begin(&req->out);
	uint8_t *prev = NULL;
	for (unsigned i = 0; i < take && body; i++)
		if (wire_notify_entry_encode(&req->out, w->ev[i].action, w->ev[i].name, &prev) < 0)
			body = NULL;
	if (!body || wire_notify_rsp_end(&req->out, body) < 0) {
		req->out.p = req->out.base + SMB2_HDR_SIZE;
		req->out.err = false;
		queue_clear(w);
		return STATUS_NOTIFY_ENUM_DIR;
	}
	for (unsigned i = 0; i < take; i++) {
		w->queued_bytes -= w->ev[i].size;
		free(w->ev[i].name);
	}
	memmove(w->ev, w->ev + take, (w->n_ev - take) * sizeof(*w->ev));
	w->n_ev -= take;
	log_debug("notify %llu: answered %u changes (mid %llu)", (unsigned long long)w->vid, take,
		  (unsigned long long)req->hdr.message_id);
	return STATUS_SUCCESS;
}

/* CANCEL, on the connection's worker outside the request's coroutine. */
static void nt_cancel(struct smb2_req *req)
{
	pthread_mutex_lock(&nt_lock);
	for (struct nt_watch *w = nt_watches; w; w = w->next) {
		for (struct nt_pending **pp = &w->pend; *pp; pp = &(*pp)->next) {
			struct nt_pending *p = *pp;
			if (p->req == req) {
				*pp = p->next;
				p->status = STATUS_CANCELLED;
				pthread_mutex_unlock(&nt_lock);
				req_wake(req);
				return;
			}
		}
	}
	pthread_mutex_unlock(&nt_lock);
}

static void pending_add(struct nt_watch *w, struct nt_pending *p)
{
	p->next = NULL;
	struct nt_pending **pp = &w->pend;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
}

void notify_sync(void)
{
	if (nt_fd >= 0 && __atomic_load_n(&nt_watching, __ATOMIC_RELAXED))
		nt_drain();
}

static NTSTATUS notify_wait(struct smb2_req *req, struct open *o, const struct wire_notify_req *q)
{
	nt_drain(); /* changes already made, also those the thread has not read */
	pthread_mutex_lock(&nt_lock);
	if (o->closed) {
		pthread_mutex_unlock(&nt_lock);
		return STATUS_FILE_CLOSED;
	}
	struct nt_watch *w = watch_find(o);
	if (!w)
		w = watch_new(o, q);
	if (!w) {
		pthread_mutex_unlock(&nt_lock);
		return STATUS_NO_MEMORY;
	}
	/* The filter and WATCH_TREE of the first request stay (as Windows). */
	NTSTATUS st = respond(req, w, q->output_len, UINT32_MAX);
	pthread_mutex_unlock(&nt_lock);
	if (st != STATUS_PENDING)
		return st;
	/* Nothing yet: answer STATUS_PENDING now and wait. */
	st = req_go_async(req);
	if (st != STATUS_SUCCESS)
		return st; /* only the last element of a compound may wait */
	req->cancel_fn = nt_cancel;
	struct nt_pending p = { .req = req };
	for (;;) {
		pthread_mutex_lock(&nt_lock);
		w = watch_find(o);
		if (!w || o->closed) {
			st = STATUS_NOTIFY_CLEANUP;
		} else if (req->cancelled) {
			st = STATUS_CANCELLED;
		} else {
			st = respond(req, w, q->output_len, p.status == STATUS_SUCCESS && p.take ? p.take : UINT32_MAX);
			if (st == STATUS_PENDING) {
				p.status = STATUS_PENDING;
				pending_add(w, &p);
			}
		}
		pthread_mutex_unlock(&nt_lock);
		if (st != STATUS_PENDING)
			break;
		/* Exactly one req_wake follows: from the event, CANCEL or close
		 * path that unlinks p under nt_lock. */
		req_wait(req);
		if (p.status != STATUS_SUCCESS && p.status != STATUS_PENDING) {
			st = p.status;
			break;
		}
	}
	req->cancel_fn = NULL;
	return st;
}

NTSTATUS cmd_change_notify(struct smb2_req *req)
{
	struct wire_notify_req q;
	if (wire_notify_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = fileops_lookup(req, q.fid.persistent, q.fid.volatile_);
	if (!o)
		return STATUS_FILE_CLOSED;
	NTSTATUS st;
	uint32_t max_trans = req_conf(req)->max_io_size;
	if (req->sc->dialect == SMB2_DIALECT_202 && max_trans > 65536)
		max_trans = 65536;
	if (!o->is_dir || o->pipe) /* 3.3.5.19: directories only */
		st = STATUS_INVALID_PARAMETER;
	else if (q.output_len > max_trans)
		st = STATUS_INVALID_PARAMETER;
	else if (!(o->access & FILE_READ_DATA)) /* FILE_LIST_DIRECTORY */
		st = STATUS_ACCESS_DENIED;
	else if (delete_pending(o)) /* the directory is going away */
		st = STATUS_DELETE_PENDING;
	else if (pthread_once(&nt_once, nt_init), nt_fd < 0)
		st = STATUS_NOT_SUPPORTED;
	else
		st = notify_wait(req, o, &q);
	open_put(o);
	return st;
}
