/* Directory leases and the changes other programs make (issue 13: "where
 * inotify tells us").
 *
 * A directory open that asks for a directory lease gets an inotify watch
 * of its directory first (vfs_notify_lease_watch); when none can be had
 * (LEASE_WATCH_MAX lease watches, LEASE_WATCH_PER_USER of its user's,
 * fs.inotify.max_user_watches, no inotify), the lease is granted with no
 * caching at all, since nothing would tell us to break it (fail safe).
 * The watch ends with the open.  The per-user share (the uid the open is
 * charged to, all its sessions and ClientGUIDs together) keeps one user
 * who opens thousands of leased directories from leaving every other
 * client's directory leases without caching.
 *
 * A change inotify reports in a watched directory (a name created,
 * removed, renamed in or out, an attribute changed; not a write) breaks
 * the directory's leases to none, as a change through smb3d does
 * (lease_break.c), but spares nobody: no lease holder made it.
 *
 * Changes smb3d makes itself are seen by inotify too, and those already
 * broke the leases in-process, sparing the actor's ParentLeaseKey; a
 * second break would take that lease too.  So every request that may
 * change a child of a leased directory notes (share, path) in a small
 * ring (lease_watch_own, at its start and its end), and an inotify change
 * is acted on only LEASE_WATCH_GRACE_MS after it was read, if no note of
 * that name is younger than LEASE_WATCH_OWN_MS before it.  What a local
 * program changes under a name smb3d itself changed just then is taken
 * for smb3d's own (that name's in-process break has gone out already;
 * only the actor's own lease stays). */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_LOCKING /* log lines of Samba's "locking" class */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/fileops.h"
#include "conf/conf.h"
#include "state/state.h"
#include "loop/timer.h"
#include "loop/worker.h"
#include "util/keycount.h"
#include "util/log.h"
#include "vfs/notify.h"

#define LEASE_WATCH_MAX 4096       /* leased directory opens watched at once */
#define LEASE_WATCH_PER_USER 512   /* of them, by the opens of one user */
#define LEASE_WATCH_GRACE_MS 300   /* how long an own request may take to note its change */
#define LEASE_WATCH_OWN_MS 1000    /* how old a note may be and still cover a change */
#define LEASE_WATCH_NAMES 32       /* changes collected per directory before a check; more: break */
#define OWN_RING 256

/* One watched directory open.  Referenced by its vfs watch (until the
 * open's close) and by the check it has armed, if any. */
struct lease_watch {
	atomic_int refs;
	struct file *dir;          /* referenced */
	struct worker *wk;         /* the granting worker: checks and breaks run there */
	uint64_t owner;            /* the user it counts against (the open's charge_uid) */
	uint64_t dir_hash;         /* of (share, directory path) */
	pthread_mutex_t lock;      /* leaf: the fields below */
	bool armed;                /* a check is posted or its timer runs */
	bool unknown;              /* a change whose name is unknown, or too many */
	unsigned n;
	struct { uint64_t hash, ms; } seen[LEASE_WATCH_NAMES];
	struct lease_watch *chk_next, *chk_prev; /* in `checking`, under checking_lock */
};

/* The watches a check holds, from its post to its end.  A stopping worker
 * drops its pending timers without running them; a check's watch whose
 * open has closed meanwhile is then referenced from here only, as what
 * the process still held at exit, not a leak (ASan's leak check). */
static pthread_mutex_t checking_lock = PTHREAD_MUTEX_INITIALIZER; /* leaf */
static struct lease_watch *checking;

static void checking_add(struct lease_watch *w)
{
	pthread_mutex_lock(&checking_lock);
	w->chk_prev = NULL;
	w->chk_next = checking;
	if (checking)
		checking->chk_prev = w;
	checking = w;
	pthread_mutex_unlock(&checking_lock);
}

static void checking_remove(struct lease_watch *w)
{
	pthread_mutex_lock(&checking_lock);
	if (w->chk_prev)
		w->chk_prev->chk_next = w->chk_next;
	else
		checking = w->chk_next;
	if (w->chk_next)
		w->chk_next->chk_prev = w->chk_prev;
	pthread_mutex_unlock(&checking_lock);
}

static atomic_uint n_watches;
static struct keycount per_user = KEYCOUNT_INIT; /* watches per owner */

/* ---- the notes of smb3d's own changes ---- */

static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER; /* leaf */
static struct { uint64_t hash, ms; } own[OWN_RING];
static unsigned own_next;

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Hashes of share-relative paths: FNV-1a over the share name, a NUL and
 * the path, so a directory's hash continues into its children's. */
static uint64_t hash_share(const char *share)
{
	return fnv(0xcbf29ce484222325ull, share, strlen(share) + 1);
}

static uint64_t hash_path(const char *share, const char *path)
{
	return fnv(hash_share(share), path, strlen(path));
}

/* What a child's hash starts from: the directory's path and a '/' (none
 * below the share root, whose path is ""). */
static uint64_t hash_dir(const char *share, const char *dir)
{
	uint64_t h = hash_path(share, dir);
	return dir[0] ? fnv(h, "/", 1) : h;
}

/* The share name of o: its tree's while attached (durable opens keep a
 * copy for their reconnect). */
static const char *share_of(const struct open *o)
{
	return o->tree && o->tree->share ? o->tree->share->name : o->share;
}

void lease_watch_own(const struct open *o, const char *path)
{
	if (!atomic_load_explicit(&n_watches, memory_order_relaxed) || !o || !path || !path[0])
		return;
	const char *share = share_of(o);
	if (!share)
		return;
	uint64_t h = hash_path(share, path), now = timer_now_ms();
	pthread_mutex_lock(&own_lock);
	own[own_next].hash = h;
	own[own_next].ms = now;
	own_next = (own_next + 1) % OWN_RING;
	pthread_mutex_unlock(&own_lock);
}

void lease_watch_own_open(const struct open *o)
{
	if (!atomic_load_explicit(&n_watches, memory_order_relaxed) || !o)
		return;
	struct open_path *p = open_path_get(o);
	lease_watch_own(o, p ? p->s : NULL);
	open_path_put(p);
}

static bool is_own(uint64_t h, uint64_t ms)
{
	bool found = false;
	pthread_mutex_lock(&own_lock);
	for (unsigned i = 0; i < OWN_RING && !found; i++)
		found = own[i].hash == h && own[i].ms + LEASE_WATCH_OWN_MS >= ms;
	pthread_mutex_unlock(&own_lock);
	return found;
}

/* ---- the checks ---- */

static void watch_put(struct lease_watch *w)
{
	if (atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	file_put(w->dir);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* The grace is over (on w's worker): break unless every change was ours. */
static void check_fire(void *arg)
{
	struct lease_watch *w = arg;
	pthread_mutex_lock(&w->lock);
	bool brk = w->unknown;
	for (unsigned i = 0; i < w->n && !brk; i++)
		brk = !is_own(w->seen[i].hash, w->seen[i].ms);
	w->armed = false;
	w->unknown = false;
	w->n = 0;
	pthread_mutex_unlock(&w->lock);
	if (brk) {
		log_debug("directory lease: a change by another program breaks the leases of a directory");
		atomic_fetch_add(&w->dir->refs, 1);      /* lease_dir_break takes one */
		lease_dir_break(w->dir, NULL, true); /* nobody spared: no holder made it */
	}
	checking_remove(w);
	watch_put(w);
}

static void check_arm(void *arg)
{
	struct lease_watch *w = arg;
	if (!timer_add(w->wk, timer_now_ms() + LEASE_WATCH_GRACE_MS, check_fire, w))
		check_fire(w); /* no memory for a timer: check now */
}

/* vfs's callback, under its lock (any thread): record, post once. */
static void changed(void *arg, const char *name)
{
	struct lease_watch *w = arg;
	pthread_mutex_lock(&w->lock);
	if (!name || w->n == LEASE_WATCH_NAMES) {
		w->unknown = true;
	} else {
		w->seen[w->n].hash = fnv(w->dir_hash, name, strlen(name));
		w->seen[w->n].ms = timer_now_ms();
		w->n++;
	}
	bool post = !w->armed;
	w->armed = true;
	pthread_mutex_unlock(&w->lock);
	if (!post)
		return;
	atomic_fetch_add(&w->refs, 1); /* the check's */
	checking_add(w);
	if (worker_post(w->wk, check_arm, w) < 0) {
		checking_remove(w);
		pthread_mutex_lock(&w->lock);
		w->armed = false; /* the worker stops: nothing to break for */
		pthread_mutex_unlock(&w->lock);
		atomic_fetch_sub(&w->refs, 1); /* the vfs watch still holds one */
	}
}

void lease_watch_init(void)
{
	vfs_notify_lease_init(changed);
}

bool lease_watch_dir(struct open *o)
{
	if (!o->is_dir || !o->file || !share_of(o) || !worker_self())
		return false;
	struct lease_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return false;
	atomic_init(&w->refs, 1);
	pthread_mutex_init(&w->lock, NULL);
	atomic_fetch_add(&o->file->refs, 1);
	w->dir = o->file;
	w->wk = worker_self();
	struct open_path *p = open_path_get(o);
	w->dir_hash = hash_dir(share_of(o), p->s);
	open_path_put(p);
	w->owner = o->charge_uid; /* set by open_register, before anyone could find o */
	if (!keycount_charge(&per_user, w->owner, LEASE_WATCH_PER_USER)) {
		log_debug("directory lease: its user holds %u watches already", LEASE_WATCH_PER_USER);
		watch_put(w);
		return false;
	}
	atomic_fetch_add(&n_watches, 1); /* notes are taken from now on */
	int r = vfs_notify_lease_watch(o, o->volatile_id, w, o->fd, LEASE_WATCH_MAX);
	if (r < 0) {
		atomic_fetch_sub(&n_watches, 1);
		keycount_uncharge(&per_user, w->owner);
		watch_put(w);
	}
	return r == 0 || r == -EEXIST; /* EEXIST: the open is watched already */
}

void lease_watch_closed(struct open *o)
{
	if (!o->is_dir || !atomic_load_explicit(&n_watches, memory_order_relaxed))
		return;
	struct lease_watch *w = vfs_notify_lease_unwatch(o, o->volatile_id);
	if (!w)
		return;
	atomic_fetch_sub(&n_watches, 1);
	keycount_uncharge(&per_user, w->owner);
	watch_put(w);
}
