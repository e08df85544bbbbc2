/* Change notification engine: reading inotify, turning its events into
 * changes of the watches that cover them, and the walks those events start
 * (a directory that appears in a WATCH_TREE).
 *
 * Changes made through smb3d itself are seen by inotify like any other;
 * nt_drain reads them when a CHANGE_NOTIFY arrives or smb3d creates or
 * moves a directory, so they never wait for the notify thread.
 *
 * Walks are jobs: recorded under nt_lock while events are handled, run in
 * order by one detached pool job at a time (the runner), each as its
 * watch's identity.  vfs_notify_sync waits, suspended, until the walks
 * queued before it are done. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop/worker.h"
#include "util/coro.h"
#include "util/log.h"
#include "vfs/notify_int.h"
#include "vfs/vfs.h"
#include "wire/notify.h"

/* Which completion-filter bits an inotify event class satisfies. */
#define NT_FILTER_WRITE (FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_SIZE)
#define NT_FILTER_ATTR (FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_LAST_WRITE | \
			FILE_NOTIFY_CHANGE_LAST_ACCESS | FILE_NOTIFY_CHANGE_CREATION | \
			FILE_NOTIFY_CHANGE_EA | FILE_NOTIFY_CHANGE_SECURITY)

pthread_mutex_t nt_read_lock = PTHREAD_MUTEX_INITIALIZER;
int nt_fd = -1;

/* ---- walk jobs (nt_lock) ---- */

/* A request in vfs_notify_sync, suspended until the walks queued before
 * it are done (the runner takes jobs in order: done counts them). */
struct nt_sync_waiter {
	struct coro *co;
	struct worker *w;
	uint64_t target;     /* resume when nt_jobs_done reaches it */
	struct nt_sync_waiter *next;
};

static struct nt_job *nt_jobs, **nt_jobs_tail = &nt_jobs;
static uint64_t nt_jobs_added, nt_jobs_done;
static bool nt_runner;          /* a runner is queued or running */
static struct nt_sync_waiter *nt_sync_waiters;

void nt_job_add(struct nt_watch *w, const char *prefix, const char *rel)
{
	struct nt_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->prefix = strdup(prefix);
		j->rel = strdup(rel);
	}
	if (!j || !j->prefix || !j->rel) {
		if (j) {
			free(j->prefix);
			free(j->rel);
			free(j);
		}
		nt_queue_overflow(w); /* the tree is no longer covered: say so */
		return;
	}
	j->watch_id = w->id;
	j->ident = vfs_ident_ref(w->ident);
	*nt_jobs_tail = j;
	nt_jobs_tail = &j->next;
	nt_jobs_added++;
}

static struct nt_job *job_take(void)
{
	struct nt_job *j = nt_jobs;
	if (j && !(nt_jobs = j->next))
		nt_jobs_tail = &nt_jobs;
	return j;
}

/* Unlink the sync waiters whose walks are done (all when `all`). */
static struct nt_sync_waiter *sync_due(bool all)
{
	struct nt_sync_waiter *due = NULL;
	for (struct nt_sync_waiter **pp = &nt_sync_waiters; *pp;) {
		struct nt_sync_waiter *x = *pp;
		if (all || x->target <= nt_jobs_done) {
			*pp = x->next;
			x->next = due;
			due = x;
		} else {
			pp = &x->next;
		}
	}
	return due;
}

static void sync_resume(void *arg)
{
	coro_resume(arg);
}

static void sync_wake(struct nt_sync_waiter *x)
{
	for (struct nt_sync_waiter *n; x; x = n) {
		n = x->next; /* x lives on its coroutine's stack until resumed */
		while (worker_post(x->w, sync_resume, x->co) < 0)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

static long job_run(void *arg)
{
	nt_walk_job(arg);
	return 0;
}

/* The runner: a detached pool job.  Each walk is a nested vfs_call, which
 * on a pool thread runs inline as the job's identity and then returns to
 * the runner's. */
static long runner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&nt_lock);
		struct nt_job *j = job_take();
		if (!j)
			nt_runner = false;
		struct nt_sync_waiter *due = j ? NULL : sync_due(true);
		pthread_mutex_unlock(&nt_lock);
		sync_wake(due);
		if (!j)
			return 0;
		struct vfs_ident *id = j->ident;
		vfs_call(id, job_run, j);
		vfs_ident_put(id);
		pthread_mutex_lock(&nt_lock);
		nt_jobs_done++;
		due = sync_due(false);
		pthread_mutex_unlock(&nt_lock);
		sync_wake(due);
	}
}

/* Start the runner when there are jobs and none runs (no lock held). */
static void jobs_kick(void)
{
	pthread_mutex_lock(&nt_lock);
	bool start = nt_jobs && !nt_runner;
	if (start)
		nt_runner = true;
	pthread_mutex_unlock(&nt_lock);
	if (start && vfs_spawn(NULL, runner, NULL) < 0)
		runner(NULL); /* no memory for a pool job: this thread walks */
}

void vfs_notify_sync(void)
{
	if (nt_fd < 0 || !__atomic_load_n(&nt_watching, __ATOMIC_RELAXED))
		return;
	nt_drain();
	struct coro *co = coro_self();
	struct worker *wk = worker_self();
	if (!co || !wk)
		return; /* not a request: nobody to suspend */
	struct nt_sync_waiter me = { co, wk, 0, NULL };
	pthread_mutex_lock(&nt_lock);
	bool wait = nt_jobs_done < nt_jobs_added;
	if (wait) {
		/* the walks queued so far, not those queued while we wait */
		me.target = nt_jobs_added;
		me.next = nt_sync_waiters;
		nt_sync_waiters = &me;
	}
	pthread_mutex_unlock(&nt_lock);
	if (wait)
		coro_yield(); /* resumed once, by the runner (sync_wake) */
}

/* ---- events ---- */

enum nt_class { NT_NAME, NT_WRITE, NT_ATTR };

struct nt_ev {
	uint32_t action;
	enum nt_class cls;
	bool isdir;
	bool moved_in;       /* the name arrived by a rename (IN_MOVED_TO) */
	const char *name;
};

static char *join(const char *a, const char *sep, const char *b)
{
	char *x = NULL;
	if (asprintf(&x, "%s%s%s", a, *a ? sep : "", b) < 0)
		return NULL;
	return x;
}

/* Keep a WATCH_TREE's subs in step with its directories. */
static void tree_follow(struct nt_sub *s, const struct nt_ev *e, const char *prefix)
{
	struct nt_watch *w = s->w;
	if (e->action == FILE_ACTION_ADDED || e->action == FILE_ACTION_RENAMED_NEW_NAME) {
		char *rel = join(s->rel, "/", e->name);
		if (rel)
			nt_job_add(w, prefix, rel);
		else
			nt_queue_overflow(w);
		free(rel);
	} else {
		nt_tree_remove(w, prefix);
	}
}

static void deliver(struct nt_sub *s, const struct nt_ev *e)
{
	struct nt_watch *w = s->w;
	/* the first event for a scanned name settles it; a create is the
	 * one the scan already reported */
	if (nt_strv_take(s->scanned, &s->n_scanned, e->name) && e->action == FILE_ACTION_ADDED &&
	    e->cls == NT_NAME && !e->moved_in)
		return;
	if (s->scanning && e->cls == NT_NAME)
		(void)nt_strv_add(&s->seen, &s->n_seen, e->name);
	uint32_t need = e->cls == NT_NAME ? (e->isdir ? FILE_NOTIFY_CHANGE_DIR_NAME : FILE_NOTIFY_CHANGE_FILE_NAME)
		      : e->cls == NT_WRITE ? NT_FILTER_WRITE : NT_FILTER_ATTR;
	char *prefix = join(s->prefix, "\\", e->name);
	if (!prefix) {
		nt_queue_overflow(w);
		return;
	}
	if (w->filter & need) {
		nt_queue_event(w, e->action, strdup(prefix));
	} else if (e->moved_in && !e->isdir && (w->filter & FILE_NOTIFY_CHANGE_ATTRIBUTES)) {
		/* Windows: a file renamed into the directory is a MODIFIED
		 * change of its new name for a watch on attributes but not on
		 * file names (smb2.notify.mask-change; smb2.notify.rec shows
		 * that a watch on names sees only the rename). */
		nt_queue_event(w, FILE_ACTION_MODIFIED, strdup(prefix));
	}
	if (w->tree && e->isdir && e->cls == NT_NAME)
		tree_follow(s, e, prefix);
	free(prefix);
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

/* The directory is gone (or unmounted): its subs go too. */
static void wd_ignored(struct nt_wd *d)
{
	nt_lease_wd_gone(d);
	if (!d->subs) {
		nt_wd_release(d, false);
		return;
	}
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
		nt_sub_free(s, false); /* frees d with the last sub */
		if (last)
			break;
	}
}

/* The creator's own steps are not changes: a create sets the new file's
 * DOS attributes (an xattr: IN_ATTRIB) before anyone else can see it, and
 * Windows reports only the ADDED.  false: nothing to report. */
static bool fresh_filter(struct nt_wd *d, const struct inotify_event *e)
{
	bool fresh = d->fresh && !strcmp(d->fresh, e->name);
	if (e->mask & IN_CLOSE) {
		/* The creator's own temporary opens close without writing;
		 * a close after writing ends the creation. */
		if (fresh && (e->mask & IN_CLOSE_WRITE)) {
			free(d->fresh);
			d->fresh = NULL;
		}
		return false;
	}
	if (!fresh && d->fresh) {
		free(d->fresh);
		d->fresh = NULL;
	}
	if ((e->mask & IN_ATTRIB) && fresh)
		return false;
	if (e->mask & IN_CREATE) {
		free(d->fresh);
		d->fresh = strdup(e->name);
	}
	return true;
}

/* inotify's mask -> the change; false when it is none. */
static bool classify(const struct inotify_event *e, const char *next, const char *end, uint32_t *pair,
		     struct nt_ev *out)
{
	*out = (struct nt_ev){ .cls = NT_NAME, .isdir = e->mask & IN_ISDIR, .name = e->name,
			       .moved_in = e->mask & IN_MOVED_TO };
	if (e->mask & IN_CREATE) {
		out->action = FILE_ACTION_ADDED;
	} else if (e->mask & IN_DELETE) {
		out->action = FILE_ACTION_REMOVED;
	} else if (e->mask & IN_MOVED_FROM) {
		/* A rename inside one directory is OLD_NAME + NEW_NAME; a move
		 * between directories is REMOVED here and ADDED there. */
		if (rename_pair(next, end, e->wd, e->cookie)) {
			out->action = FILE_ACTION_RENAMED_OLD_NAME;
			*pair = e->cookie;
		} else {
			out->action = FILE_ACTION_REMOVED;
		}
	} else if (e->mask & IN_MOVED_TO) {
		out->action = *pair && *pair == e->cookie ? FILE_ACTION_RENAMED_NEW_NAME : FILE_ACTION_ADDED;
	} else if (e->mask & IN_MODIFY) {
		out->action = FILE_ACTION_MODIFIED;
		out->cls = NT_WRITE;
	} else if (e->mask & IN_ATTRIB) {
		out->action = FILE_ACTION_MODIFIED;
		out->cls = NT_ATTR;
	} else {
		return false;
	}
	return true;
}

/* Deliver to every sub of the wd.  deliver() may remove subs (of other
 * wds, and of this one through a tree removal): walk a copy, and check each
 * is still subscribed before using it. */
static void deliver_all(struct nt_wd *d, int wd, const struct nt_ev *ev)
{
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
		struct nt_wd *dd = nt_wd_find(wd);
		bool alive = false;
		for (struct nt_sub *s = dd ? dd->subs : NULL; s && !alive; s = s->next_wd)
			alive = s == v[i];
		if (alive)
			deliver(v[i], ev);
	}
	free(v);
}

static void handle_event(const struct inotify_event *e, const char *next, const char *end, uint32_t *pair)
{
	if (e->mask & IN_Q_OVERFLOW) {
		for (struct nt_watch *w = nt_watches; w; w = w->next)
			nt_queue_overflow(w);
		nt_lease_overflow();
		return;
	}
	struct nt_wd *d = nt_wd_find(e->wd);
	if (!d)
		return;
	if (e->mask & IN_IGNORED) {
		wd_ignored(d);
		return;
	}
	log_trace("inotify wd %d mask 0x%x cookie %u %s", e->wd, e->mask, e->cookie, e->len ? e->name : "");
	if (!e->len || !e->name[0] || vfs_name_reserved(e->name, strlen(e->name)))
		return; /* nothing to report about the stream depot */
	struct nt_ev ev;
	if (!fresh_filter(d, e) || !classify(e, next, end, pair, &ev))
		return;
	/* a directory lease hears of names and attributes, not of writes
	 * (its holder sees sizes when the writer closes, smb2.dirlease) */
	if (d->lsubs && ev.cls != NT_WRITE)
		nt_lease_changed(d, ev.name);
	if (d->subs)
		deliver_all(d, e->wd, &ev);
}

/* Read what inotify has queued (nothing blocks: the fd is non-blocking)
 * and record it.  The kernel queues an inotify event inside the syscall
 * that causes it, so a change smb3d made for a client is in the queue
 * before that client saw the reply: a CHANGE_NOTIFY drains the queue first
 * and never misses a change the client itself just made, however late the
 * notify thread runs.  nt_read_lock keeps the readers in order.
 *
 * A rename queues IN_MOVED_FROM and IN_MOVED_TO one after the other in
 * its syscall, and a read between the two sees the first alone: it would
 * report REMOVED, then ADDED, instead of the rename's OLD_NAME + NEW_NAME
 * (MS-FSA 2.1.4.1).  So an IN_MOVED_FROM that ends what was read waits in
 * nt_carry for the next read, in front of what that brings; the notify
 * thread flushes it alone (a move out to a directory nobody watches has
 * no IN_MOVED_TO) once nothing more came for NT_CARRY_MS. */
static char nt_buf[64 * 1024] __attribute__((aligned(8)));
static char nt_carry[sizeof(struct inotify_event) + NAME_MAX + 1] __attribute__((aligned(8)));
static size_t nt_carry_len;   /* nt_read_lock */
static int nt_wake_fd = -1;   /* eventfd: a carry waits, the thread times it */
#define NT_CARRY_MS 10

static bool trailing_move_from(const struct inotify_event *e, const char *next, const char *end)
{
	return (e->mask & IN_MOVED_FROM) && next == end && (size_t)(end - (const char *)e) <= sizeof(nt_carry);
}

/* Handle events [nt_buf, end); without `flush`, a trailing IN_MOVED_FROM
 * is kept in nt_carry instead.  nt_read_lock held. */
static void handle_batch(const char *end, bool flush)
{
	uint32_t pair = 0;
	pthread_mutex_lock(&nt_lock);
	for (const char *p = nt_buf; p + sizeof(struct inotify_event) <= end;) {
		const struct inotify_event *e = (const void *)p;
		const char *next = p + sizeof(*e) + e->len;
		if (next > end)
			break;
		if (!flush && trailing_move_from(e, next, end)) {
			nt_carry_len = (size_t)(end - p);
			memcpy(nt_carry, p, nt_carry_len);
			break;
		}
		handle_event(e, next, end, &pair);
		p = next;
	}
	nt_queue_flush();
	pthread_mutex_unlock(&nt_lock);
}

static int drain(bool flush)
{
	int ret = 0;
	pthread_mutex_lock(&nt_read_lock);
	bool carried = nt_carry_len > 0;
	for (;;) {
		size_t have = nt_carry_len;
		memcpy(nt_buf, nt_carry, have);
		nt_carry_len = 0;
		ssize_t n = read(nt_fd, nt_buf + have, sizeof(nt_buf) - have);
		if (n < 0 && errno == EINTR) {
			nt_carry_len = have;
			continue;
		}
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				ret = -errno;
			if (have && (flush || ret))
				handle_batch(nt_buf + have, true);
			else
				nt_carry_len = have;
			break;
		}
		handle_batch(nt_buf + have + n, false);
	}
	bool wake = nt_carry_len > 0 && !carried;
	pthread_mutex_unlock(&nt_read_lock);
	if (wake && nt_wake_fd >= 0) {
		uint64_t one = 1;
		if (write(nt_wake_fd, &one, sizeof(one)) < 0)
			log_debug("notify: eventfd write: %m");
	}
	jobs_kick();
	return ret;
}

int nt_drain(void)
{
	return drain(false);
}

static void *nt_thread(void *arg)
{
	(void)arg;
	bool timed_out = false;
	for (;;) {
		/* the carry goes alone once nothing came for NT_CARRY_MS */
		int ret = drain(timed_out);
		if (ret < 0) {
			errno = -ret;
			log_err("inotify read: %m; change notify stops");
			break;
		}
		pthread_mutex_lock(&nt_read_lock);
		int timeout = nt_carry_len ? NT_CARRY_MS : -1;
		pthread_mutex_unlock(&nt_read_lock);
		struct pollfd pfd[2] = { { .fd = nt_fd, .events = POLLIN }, { .fd = nt_wake_fd, .events = POLLIN } };
		int r = poll(pfd, nt_wake_fd >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno != EINTR) {
			log_err("inotify poll: %m; change notify stops");
			break;
		}
		timed_out = r == 0;
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t v;
			if (read(nt_wake_fd, &v, sizeof(v)) < 0)
				log_debug("notify: eventfd read: %m");
		}
	}
	return NULL;
}

static pthread_once_t nt_once = PTHREAD_ONCE_INIT;
static int nt_init_err;

static void nt_init(void)
{
	nt_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (nt_fd < 0) {
		nt_init_err = -errno;
		log_warn("inotify_init1: %m; CHANGE_NOTIFY is not supported");
		return;
	}
	nt_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nt_wake_fd < 0)
		log_warn("eventfd: %m; a rename's two inotify events read apart wait for the next event");
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &a, nt_thread, NULL);
	if (r != 0) {
		log_warn("cannot start the change notify thread");
		close(nt_fd);
		nt_fd = -1;
		nt_init_err = -r;
	}
	pthread_attr_destroy(&a);
}

int vfs_notify_init(void)
{
	pthread_once(&nt_once, nt_init);
	return nt_fd >= 0 ? 0 : nt_init_err;
}
