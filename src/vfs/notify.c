/* Change notification engine: watches, their directories and their queues
 * of changes (notify.h; the locking is in notify_int.h).
 *
 * The first vfs_notify_watch of an owner creates its nt_watch and walks the
 * directory (and, with WATCH_TREE, its subdirectories, bounded) on the pool
 * (notify_walk.c).  From then on the watch records changes, also while no
 * request is parked, as Windows does.  The recording buffer has the size of
 * the first request's OutputBufferLength; when the changes outgrow it, or a
 * poll's buffer cannot hold them, the answer is ENUM_DIR ("enumerate the
 * directory yourself"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/utf16.h"
#include "vfs/notify_int.h"
#include "vfs/vfs.h"
#include "wire/notify.h"

pthread_mutex_t nt_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned nt_watching;
struct nt_watch *nt_watches;
struct keycount nt_user_subs = KEYCOUNT_INIT;
static struct nt_wd *nt_wds[NT_WD_BUCKETS];
static uint64_t nt_next_id = 1, nt_next_sub_id = 1;

/* ---- small string sets ---- */

bool nt_strv_add(char ***v, unsigned *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return false;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return false;
	(*n)++;
	return true;
}

/* Remove s from the set; true when it was there. */
bool nt_strv_take(char **v, unsigned *n, const char *s)
{
	for (unsigned i = 0; i < *n; i++) {
		if (strcmp(v[i], s))
			continue;
		free(v[i]);
		v[i] = v[--*n];
		return true;
	}
	return false;
}

void nt_strv_free(char ***v, unsigned *n)
{
	for (unsigned i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* ---- watch descriptors and subs (nt_lock held) ---- */

struct nt_wd *nt_wd_find(int wd)
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
void nt_sub_free(struct nt_sub *s, bool rm)
{
	struct nt_wd *d = s->wd;
	if (d) {
		for (struct nt_sub **pp = &d->subs; *pp; pp = &(*pp)->next_wd) {
			if (*pp == s) {
				*pp = s->next_wd;
				break;
			}
		}
		nt_wd_release(d, rm);
	}
	s->w->n_subs--;
	keycount_uncharge(&nt_user_subs, s->w->user);
	nt_strv_free(&s->scanned, &s->n_scanned);
	nt_strv_free(&s->seen, &s->n_seen);
	free(s->prefix);
	free(s->rel);
	free(s);
}

void nt_wd_release(struct nt_wd *d, bool rm)
{
	if (!d->subs && !d->lsubs)
		wd_free(d, rm);
}

struct nt_wd *nt_wd_get(int wd)
{
	struct nt_wd *d = nt_wd_find(wd);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->wd = wd;
	d->hnext = nt_wds[(unsigned)wd % NT_WD_BUCKETS];
	nt_wds[(unsigned)wd % NT_WD_BUCKETS] = d;
	return d;
}

int nt_sub_add(struct nt_watch *w, int wd, const char *prefix, const char *rel, struct nt_sub **out)
{
	struct nt_wd *d = nt_wd_get(wd);
	if (!d) {
		if (!nt_wd_find(wd))
			inotify_rm_watch(nt_fd, wd);
		return -ENOMEM;
	}
	for (struct nt_sub *s = d->subs; s; s = s->next_wd)
		if (s->w == w)
			return 0; /* the same directory twice (bind mounts, a race with a rename) */
	if (!keycount_charge(&nt_user_subs, w->user, NT_MAX_DIRS_PER_USER)) {
		nt_wd_release(d, true);
		return -ENOSPC;
	}
	struct nt_sub *s = calloc(1, sizeof(*s));
	if (s) {
		s->prefix = strdup(prefix);
		s->rel = strdup(rel);
	}
	if (!s || !s->prefix || !s->rel) {
		if (s) {
			free(s->prefix);
			free(s->rel);
			free(s);
		}
		keycount_uncharge(&nt_user_subs, w->user);
		nt_wd_release(d, true);
		return -ENOMEM;
	}
	s->w = w;
	s->wd = d;
	s->id = nt_next_sub_id++;
	s->next_wd = d->subs;
	d->subs = s;
	s->next_w = w->subs;
	w->subs = s;
	w->n_subs++;
	if (out)
		*out = s;
	return 1;
}

bool nt_sub_alive(struct nt_watch *w, int wd, uint64_t id)
{
	struct nt_wd *d = nt_wd_find(wd);
	for (struct nt_sub *s = d ? d->subs : NULL; s; s = s->next_wd)
		if (s->w == w && s->id == id)
			return true;
	return false;
}

/* A subdirectory left the tree: drop its subs and those below it. */
void nt_tree_remove(struct nt_watch *w, const char *prefix)
{
	size_t l = strlen(prefix);
	for (struct nt_sub **pp = &w->subs; *pp;) {
		struct nt_sub *s = *pp;
		if (!strncmp(s->prefix, prefix, l) && (s->prefix[l] == '\0' || s->prefix[l] == '\\')) {
			*pp = s->next_w;
			nt_sub_free(s, true);
		} else {
			pp = &s->next_w;
		}
	}
}

/* ---- the queue (nt_lock held) ---- */

static void queue_clear(struct nt_watch *w)
{
	for (unsigned i = 0; i < w->n_ev; i++)
		free(w->ev[i].name);
	w->n_ev = 0;
	w->queued_bytes = 0;
}

/* End the wait of the oldest parked waiter: it takes what is queued now. */
static void wake_first(struct nt_watch *w)
{
	struct vfs_notify_waiter *p = w->pend;
	if (!p)
		return;
	w->pend = p->next;
	p->status = VFS_NOTIFY_EVENTS;
	p->take = w->n_ev;
	p->wake(p->cookie);
}

static void wake_all(struct nt_watch *w, enum vfs_notify_status st)
{
	while (w->pend) {
		struct vfs_notify_waiter *p = w->pend;
		w->pend = p->next;
		p->status = st;
		p->wake(p->cookie);
	}
}

void nt_queue_overflow(struct nt_watch *w)
{
	queue_clear(w);
	w->overflow = true;
	wake_first(w);
}

/* Record a change; takes `name` (malloc'd, NULL = out of memory). */
void nt_queue_event(struct nt_watch *w, uint32_t action, char *name)
{
	if (!name) {
		nt_queue_overflow(w);
		return;
	}
	log_debug("notify %llu: action %u %s", (unsigned long long)w->owner_id, action, name);
	/* A run of writes or attribute changes to one file is one change. */
	if (w->overflow || (action == FILE_ACTION_MODIFIED && w->n_ev && w->ev[w->n_ev - 1].action == action &&
			    !strcmp(w->ev[w->n_ev - 1].name, name))) {
		free(name);
		wake_first(w);
		return;
	}
	long u16 = utf8_utf16le_size(name, strlen(name));
	uint32_t size = u16 < 0 ? 0 : (uint32_t)((12 + u16 + 3) & ~3);
	if (u16 < 0 || w->n_ev >= NT_MAX_EVENTS || w->queued_bytes + size > w->buf_size) {
		free(name);
		nt_queue_overflow(w);
		return;
	}
	if (w->n_ev == w->cap_ev) {
		unsigned cap = w->cap_ev ? w->cap_ev * 2 : 8;
		struct vfs_notify_event *v = realloc(w->ev, cap * sizeof(*v));
		if (!v) {
			free(name);
			nt_queue_overflow(w);
			return;
		}
		w->ev = v;
		w->cap_ev = cap;
	}
	w->ev[w->n_ev++] = (struct vfs_notify_event){ action, name, size };
	w->queued_bytes += size;
	/* A rename's OLD_NAME is answered together with its NEW_NAME, which
	 * the same inotify batch queues next ([MS-FSA] 2.1.4.1: one report
	 * of both; smb2.notify.mask): a waiter woken now would take only the
	 * first.  nt_queue_flush wakes it if the NEW_NAME never comes. */
	if (action != FILE_ACTION_RENAMED_OLD_NAME)
		wake_first(w);
}

void nt_queue_flush(void)
{
	for (struct nt_watch *w = nt_watches; w; w = w->next)
		if (w->n_ev || w->overflow)
			wake_first(w);
}

/* ---- watches (nt_lock held) ---- */

static struct nt_watch *watch_find(const void *owner, uint64_t owner_id)
{
	for (struct nt_watch *w = nt_watches; w; w = w->next)
		if (w->owner == owner && w->owner_id == owner_id)
			return w;
	return NULL;
}

struct nt_watch *nt_watch_by_id(uint64_t id)
{
	for (struct nt_watch *w = nt_watches; w; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
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
	wake_all(w, VFS_NOTIFY_CLEANUP);
	while (w->subs) {
		struct nt_sub *s = w->subs;
		w->subs = s->next_w;
		nt_sub_free(s, true);
	}
	if (w->root >= 0)
		close(w->root); /* an O_PATH fd: nothing to flush, cannot block */
	queue_clear(w);
	free(w->ev);
	vfs_ident_put(w->ident);
	free(w);
}

/* ---- the API ---- */

static struct nt_watch *watch_new(const void *owner, uint64_t owner_id, const void *group,
				  struct vfs_ident *id, uint32_t filter, bool tree, uint32_t buf_size)
{
	struct nt_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->owner = owner;
	w->owner_id = owner_id;
	w->group = group;
	w->id = nt_next_id++;
	w->ident = vfs_ident_ref(id);
	w->user = (uint64_t)vfs_ident_uid(id) + 1;
	w->root = -1;
	w->filter = filter;
	w->tree = tree;
	w->buf_size = buf_size;
	w->next = nt_watches;
	nt_watches = w;
	__atomic_add_fetch(&nt_watching, 1, __ATOMIC_RELAXED);
	return w;
}

int vfs_notify_watch(const void *owner, uint64_t owner_id, const void *group, struct vfs_ident *id,
		     int dirfd, uint32_t filter, bool tree, uint32_t buf_size)
{
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = watch_find(owner, owner_id);
	if (w) {
		pthread_mutex_unlock(&nt_lock);
		return 0;
	}
	w = watch_new(owner, owner_id, group, id, filter, tree, buf_size);
	uint64_t wid = w ? w->id : 0;
	pthread_mutex_unlock(&nt_lock);
	if (!w)
		return -ENOMEM;
	/* The walk: on the pool, as the watch's identity, holding no lock. */
	struct nt_walk_arg a = { wid, dirfd };
	long r = vfs_call(id, nt_walk_watch, &a);
	if (r < 0) {
		pthread_mutex_lock(&nt_lock);
		if ((w = nt_watch_by_id(wid)))
			watch_free(w);
		pthread_mutex_unlock(&nt_lock);
	}
	return r < 0 ? (int)r : 0;
}

bool vfs_notify_watching(const void *owner, uint64_t owner_id)
{
	pthread_mutex_lock(&nt_lock);
	bool r = watch_find(owner, owner_id) != NULL;
	pthread_mutex_unlock(&nt_lock);
	return r;
}

enum vfs_notify_status vfs_notify_poll(const void *owner, uint64_t owner_id, uint32_t out_len, unsigned take,
				       struct vfs_notify_batch *b, struct vfs_notify_waiter *park)
{
	b->ev = NULL;
	b->n = 0;
	nt_drain(); /* changes already made, also those the inotify thread has not read */
	enum vfs_notify_status st = VFS_NOTIFY_PENDING;
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = watch_find(owner, owner_id);
	if (!w) {
		st = VFS_NOTIFY_CLEANUP;
	} else if (w->overflow) {
		w->overflow = false;
		queue_clear(w);
		st = VFS_NOTIFY_ENUM_DIR;
	} else {
		if (take > w->n_ev)
			take = w->n_ev;
		size_t need = 0;
		for (unsigned i = 0; i < take; i++)
			need += w->ev[i].size;
		if (take && need > out_len) {
			/* The caller's buffer cannot hold them: it must re-read
			 * the directory, and the recording starts afresh. */
			queue_clear(w);
			st = VFS_NOTIFY_ENUM_DIR;
		} else if (take) {
			b->ev = malloc(take * sizeof(*b->ev));
			if (!b->ev) {
				st = VFS_NOTIFY_NOMEM;
			} else {
				memcpy(b->ev, w->ev, take * sizeof(*b->ev));
				b->n = take;
				w->queued_bytes -= need;
				memmove(w->ev, w->ev + take, (w->n_ev - take) * sizeof(*w->ev));
				w->n_ev -= take;
				st = VFS_NOTIFY_EVENTS;
			}
		}
	}
	if (st == VFS_NOTIFY_PENDING && park && w->delete_pending) {
		w->delete_pending = false;
		st = VFS_NOTIFY_DELETE_PENDING;
	} else if (st == VFS_NOTIFY_PENDING && park) {
		park->status = VFS_NOTIFY_PENDING;
		park->next = NULL;
		struct vfs_notify_waiter **pp = &w->pend;
		while (*pp)
			pp = &(*pp)->next;
		*pp = park;
	}
	pthread_mutex_unlock(&nt_lock);
	return st;
}

void vfs_notify_batch_free(struct vfs_notify_batch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		free(b->ev[i].name);
	free(b->ev);
	b->ev = NULL;
	b->n = 0;
}

bool vfs_notify_cancel(void *cookie)
{
	pthread_mutex_lock(&nt_lock);
	for (struct nt_watch *w = nt_watches; w; w = w->next) {
		for (struct vfs_notify_waiter **pp = &w->pend; *pp; pp = &(*pp)->next) {
			struct vfs_notify_waiter *p = *pp;
			if (p->cookie != cookie)
				continue;
			*pp = p->next;
			p->status = VFS_NOTIFY_CANCELLED;
			p->wake(p->cookie);
			pthread_mutex_unlock(&nt_lock);
			return true;
		}
	}
	pthread_mutex_unlock(&nt_lock);
	return false;
}

void vfs_notify_unwatch(const void *owner, uint64_t owner_id)
{
	pthread_mutex_lock(&nt_lock);
	struct nt_watch *w = watch_find(owner, owner_id);
	if (w)
		watch_free(w);
	pthread_mutex_unlock(&nt_lock);
}

void vfs_notify_delete_pending(const void *group)
{
	pthread_mutex_lock(&nt_lock);
	for (struct nt_watch *w = nt_watches; w; w = w->next) {
		if (w->group != group)
			continue;
		/* a request between its walk and its park is told when it parks */
		w->delete_pending = !w->pend;
		wake_all(w, VFS_NOTIFY_DELETE_PENDING);
	}
	pthread_mutex_unlock(&nt_lock);
}
