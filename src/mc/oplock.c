#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_LOCKING /* log lines of Samba's "locking" class */

#include "mc/oplock.h"

#include <stdlib.h>
#include <string.h>

#include "loop/timer.h"
#include "loop/worker.h"
#include "mc/break_deliver.h"
#include "mc/lease.h"
#include "state/state.h"
#include "util/log.h"
#include "wire/create.h"

/* Access that does not disturb an oplock ([MS-FSA] 2.1.5.1.2.1: "stat" opens).
 * An open that overwrites or supersedes the data is never one, whatever it
 * asks for: it truncates the file ([MS-FSA] 2.1.5.1.2, the break to none). */
#define STAT_ACCESS (0x00000080u /* READ_ATTRIBUTES */ | 0x00000100u /* WRITE_ATTRIBUTES */ | \
		     0x00100000u /* SYNCHRONIZE */)

/* The waiters (struct oplock_wait in oplock.h): `armed` under waiters_lock
 * guarantees exactly one wake-up: by an ack, a close, or its timer
 * (MS-SMB2 3.3.2.1, the Oplock Break Acknowledgment Timer, "smb3d:oplock
 * break timeout", 35 s).  The timer runs on the CREATE's own worker, the
 * only thread that resumes the CREATE, so the waiter is alive whenever the
 * timer fires. */
/* Lock order: file->lock -> waiters_lock; no request is ever woken under
 * it (wake_list). */
static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oplock_wait *waiters;
void oplock_init(oplock_send_fn send)
{
	break_deliver_init(send);
}

void oplock_init_lease(lease_send_fn send)
{
	break_deliver_init_lease(send);
}

/* Wake the waiters of file f (all of them re-check).
 *
 * A wake may resume the CREATE at once (on its own worker, outside a
 * coroutine), and that CREATE takes waiters_lock again: waiters are taken
 * off the list under the lock and woken after it is released (DESIGN.md
 * "No re-entry under a lock").  A disarmed waiter is touched by nobody else,
 * and its memory (the CREATE's stack) lives until its request resumes. */
static void wake_list(struct oplock_wait *list)
{
	while (list) {
		struct oplock_wait *w = list;
		list = w->next;      /* read before the wake: w may be gone after it */
		w->wake(w->arg);
	}
}

static void wake_file(struct file *f)
{
	struct oplock_wait *wake = NULL;
	pthread_mutex_lock(&waiters_lock);
	for (struct oplock_wait **pp = &waiters; *pp;) {
		struct oplock_wait *w = *pp;
		if (w->file == f && w->armed) {
			w->armed = false;
			*pp = w->next;
			w->next = wake;
			wake = w;
			continue;
		}
		pp = &w->next;
	}
	pthread_mutex_unlock(&waiters_lock);
	wake_list(wake);
}

void oplock_wake_file(struct file *f)
{
	wake_file(f);
}

/* The break was not acknowledged in time (on the CREATE's worker). */
static void waiter_timeout(void *arg)
{
	struct oplock_wait *w = arg;
	bool wake = false;
	pthread_mutex_lock(&waiters_lock);
	if (w->armed) {
		w->armed = false;
		w->timed_out = true;
		for (struct oplock_wait **q = &waiters; *q; q = &(*q)->next)
			if (*q == w) {
				*q = w->next;
				break;
			}
		wake = true;
	}
	pthread_mutex_unlock(&waiters_lock);
	if (wake)
		w->wake(w->arg); /* after the lock: the CREATE takes it again */
}

/* ---- delivering a break to the holder's session: mc/break_deliver.c ---- */

/* break_notice.wanted: the holder neither acknowledged since nor closed. */
static bool break_wanted(const struct break_notice *n)
{
	struct session *s = session_lookup(n->session_id);
	if (!s)
		return false;
	struct open *o = open_lookup(n->persistent, n->volatile_id, s, NULL);
	session_put(s);
	if (!o)
		return false;
	bool want = false;
	if (o->file) {
		pthread_mutex_lock(&o->file->lock);
		want = o->oplock_acks == n->acks;
		pthread_mutex_unlock(&o->file->lock);
	}
	open_put(o);
	return want;
}

/* Under o->file->lock. */
static void send_break(struct open *o, uint8_t level)
{
	if (!o->session)
		return;
	break_deliver(&(struct break_notice){
		.session_id = o->session->id,
		.conn_id = o->conn_id,
		.persistent = o->persistent_id,
		.volatile_id = o->volatile_id,
		.level = level,
		.wanted = break_wanted,
		.acks = o->oplock_acks,
	});
}

/* Lease breaks decided under a file's lock wait here (this thread's) until
 * the lock is dropped; oplock_flush_breaks() then starts them at once, so a
 * break goes out before the reply of the request that caused it, as
 * Windows does (smbtorture smb2.lease.unlink checks for the break as soon
 * as the SET_INFO returns).  A posted flush sends whatever a path forgot. */
struct pending_break {
	struct break_notice n;
	struct pending_break *next;
};
static __thread struct pending_break *pending_leases;
/* The fence of the request running on this thread (oplock_fence_begin);
 * the lease breaks queued while it is set hold it. */
static __thread struct break_fence *cur_fence;

static void flush_posted(void *arg)
{
	(void)arg;
	oplock_flush_breaks();
}

void oplock_flush_breaks(void)
{
	struct pending_break *p = pending_leases;
	pending_leases = NULL;
	while (p) {
		struct pending_break *next = p->next;
		break_deliver_now(&p->n);
		free(p);
		p = next;
	}
}

void oplock_send_lease_break(const struct break_notice *n)
{
	struct worker *here = worker_self();
	struct pending_break *p = here ? calloc(1, sizeof(*p)) : NULL;
	if (!p)
		return;
	p->n = *n;
	p->n.lease = true;
	p->n.fence = cur_fence;
	if (cur_fence)
		break_fence_hold(cur_fence);
	bool first = !pending_leases;
	struct pending_break **pp = &pending_leases;
	while (*pp)
		pp = &(*pp)->next; /* in the order decided (a handful at most) */
	*pp = p;
	if (first)
		(void)worker_post(here, flush_posted, NULL);
}

/* ---- a request's reply after its breaks ---- */

struct break_fence *oplock_fence_begin(void (*wake)(void *arg), void *arg)
{
	struct worker *wk = worker_self();
	struct break_fence *f = wk && !cur_fence ? calloc(1, sizeof(*f)) : NULL;
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1); /* the request's */
	f->wake = wake;
	f->arg = arg;
	f->wk = wk;
	cur_fence = f;
	return f;
}

static void fence_timeout(void *arg)
{
	struct break_fence *f = arg;
	f->timer = 0;
	break_fence_fire(f);
	break_fence_put(f); /* the timer's */
}

bool oplock_fence_end(struct break_fence *f, unsigned timeout_ms)
{
	if (!f)
		return false;
	cur_fence = NULL;
	if (!f->held)
		return false; /* no break: nothing will wake the caller */
	atomic_fetch_add(&f->refs, 1); /* the timer's */
	f->timer = timer_add(f->wk, timer_now_ms() + timeout_ms, fence_timeout, f);
	if (!f->timer)
		fence_timeout(f); /* no timer: do not wait for the sends */
	return true;
}

void oplock_fence_done(struct break_fence *f)
{
	if (!f)
		return;
	if (f->timer && timer_cancel(f->wk, f->timer))
		break_fence_put(f); /* the timer's: it will not run */
	break_fence_put(f);
}

/* ---- the rules ---- */

static bool is_stat_open(uint32_t access)
{
	return (access & ~STAT_ACCESS) == 0;
}

/* Whether a CREATE (access, share) breaks e's exclusive or batch oplock:
 * a batch oplock is broken before the sharing check (its holder may
 * close); an exclusive one only when the open would succeed ([MS-FSA]
 * 2.1.5.1.2). */
static bool breaks_exclusive(const struct open *e, uint32_t access, uint32_t share,
			     bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share))
{
	if (e->oplock_level == SMB2_OPLOCK_LEVEL_EXCLUSIVE && conflicts && conflicts(e, access, share))
		return false;
	return e->oplock_level == SMB2_OPLOCK_LEVEL_EXCLUSIVE || e->oplock_level == SMB2_OPLOCK_LEVEL_BATCH;
}

/* What the lease of open e may keep next to a new open ([MS-FSA]
 * 2.1.5.1.2, smbtorture smb2.lease.break and .sharing_violation): an open
 * that would fail on the share modes takes handle caching away (the holder
 * may close its cached handles and so end the conflict); otherwise write
 * caching goes, and an overwrite takes read and handle caching too.
 * *delay: what the new open waits for. */
static uint32_t lease_keep(const struct open *e, uint32_t access, uint32_t share, bool overwrite,
			   bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share), uint32_t *delay)
{
	bool violation = conflicts && conflicts(e, access, share);
	*delay = violation ? LEASE_H : LEASE_W;
	uint32_t keep = ~*delay;
	if (overwrite && !violation)
		keep &= ~(LEASE_R | LEASE_H);
	return keep;
}

/* Would a break of e's lease to at most `keep` reach a detached open?
 * It cannot (no channel), so the open is closed instead; a lease that
 * lost its handle caching already cannot be kept either.  Under
 * e->file->lock. */
static bool detached_lease_victim(const struct open *e, uint32_t keep)
{
	if (!e->detached || !e->lease)
		return false;
	uint32_t held = lease_state_locked(e);
	return lease_breaking_locked(e) || !(held & LEASE_H) || (held & ~keep);
}

static unsigned add_victim(struct open *e, struct oplock_victim *out, unsigned n)
{
	open_get(e);
	out[n].o = e;
	out[n].gen = e->detach_gen; /* written under f->lock too (open_detach) */
	return n + 1;
}

/* Would the CREATE break the detached open e?  A lease already losing its
 * handle caching (a write, a rename) cannot be kept either. */
static bool detached_victim(const struct open *e, uint32_t access, uint32_t share, bool overwrite,
			    bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
			    const struct lease *self)
{
	if (!e->detached)
		return false;
	if (!e->lease)
		return !(is_stat_open(access) && !overwrite) && breaks_exclusive(e, access, share, conflicts);
	if (e->lease == self || (!overwrite && lease_stat_access(access)))
		return detached_lease_victim(e, ~0u); /* only when broken already */
	uint32_t delay;
	return detached_lease_victim(e, lease_keep(e, access, share, overwrite, conflicts, &delay));
}

unsigned oplock_detached_victims(struct file *f, uint32_t access, uint32_t share, bool overwrite,
				 bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
				 const struct lease *self, struct oplock_victim *out, unsigned max)
{
	unsigned n = 0;
	if (f->is_dir)
		return 0;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e && n < max; e = e->file_next)
		if (detached_victim(e, access, share, overwrite, conflicts, self))
			n = add_victim(e, out, n);
	pthread_mutex_unlock(&f->lock);
	return n;
}

unsigned oplock_detached_leased(struct file *f, const uint8_t *spare_key, uint32_t keep, struct oplock_victim *out,
				unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e && n < max; e = e->file_next)
		if (e->lease && !lease_has_key(e->lease, spare_key) && detached_lease_victim(e, keep))
			n = add_victim(e, out, n);
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void plan_lease(struct open *e, uint32_t access, uint32_t share, bool overwrite,
		       bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share))
{
	uint32_t delay;
	uint32_t keep = lease_keep(e, access, share, overwrite, conflicts, &delay);
	lease_break_plan(e, keep, delay);
}

/* Mark and send the breaks the new open needs, under f->lock; true when
 * the CREATE must wait for an acknowledgment.  The opens of the new open's
 * own lease (`self`) are never broken. */
static bool start_breaks(struct file *f, uint32_t access, uint32_t share, bool overwrite,
			 bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
			 const struct lease *self)
{
	bool wait = false;
	for (struct open *e = f->opens; e; e = e->file_next) {
		if (e->lease) {
			if (e->lease != self && (overwrite || !lease_stat_access(access)))
				plan_lease(e, access, share, overwrite, conflicts);
			continue;
		}
		if (breaks_exclusive(e, access, share, conflicts)) {
			if (!e->oplock_breaking) {
				/* break to II when the data stays, else to none */
				e->oplock_breaking = true;
				e->oplock_break_to = overwrite ? SMB2_OPLOCK_LEVEL_NONE : SMB2_OPLOCK_LEVEL_II;
				send_break(e, e->oplock_break_to);
			}
			wait = true;
		} else if (e->oplock_level == SMB2_OPLOCK_LEVEL_II && overwrite) {
			e->oplock_level = SMB2_OPLOCK_LEVEL_NONE; /* no ack for II -> none */
			send_break(e, SMB2_OPLOCK_LEVEL_NONE);
		}
	}
	if (lease_break_commit(f))
		wait = true;
	return wait;
}

/* Arm w on file f (f->lock held, released here) and start its timer: an
 * ack or a close that comes after the unlock finds the waiter. */
static void arm_unlock(struct oplock_wait *w, struct file *f, unsigned timeout_s)
{
	w->file = f;
	w->armed = true;
	w->timed_out = false;
	w->wk = worker_self();
	pthread_mutex_lock(&waiters_lock);
	w->next = waiters;
	waiters = w;
	pthread_mutex_unlock(&waiters_lock);
	pthread_mutex_unlock(&f->lock);
	/* From a fresh clock, plus the millisecond the clock truncates: the
	 * loop's cached now_ms can be a busy iteration old, and a break
	 * timeout must never end early (smbtorture measures the CREATE:
	 * multichannel.oplocks.test3_* want more than 35 s). */
	w->timer = timer_add(w->wk, timer_now_ms() + (uint64_t)timeout_s * 1000 + 1, waiter_timeout, w);
	if (!w->timer) {
		/* Out of memory: without a timer the CREATE could wait for
		 * good, so the break times out now. */
		log_warn("no timer for an oplock break, not waiting");
		waiter_timeout(w);
	}
}

bool oplock_break_start(struct oplock_wait *w, struct file *f, uint32_t access, uint32_t share, bool overwrite,
			bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share), unsigned timeout_s,
			const struct lease *self)
{
	/* directories: no oplocks, but directory leases */
	if ((is_stat_open(access) && !overwrite) || (f->is_dir && !lease_dirs_leased()))
		return false;
	pthread_mutex_lock(&f->lock);
	if (!start_breaks(f, access, share, overwrite, conflicts, self)) {
		pthread_mutex_unlock(&f->lock);
		oplock_flush_breaks();
		return false;
	}
	arm_unlock(w, f, timeout_s);
	oplock_flush_breaks();
	return true;
}

bool oplock_break_leases_start(struct oplock_wait *w, struct file *f, const uint8_t *spare_key, uint32_t keep,
			       uint32_t delay, unsigned timeout_s, bool send_now)
{
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e; e = e->file_next)
		if (e->lease && !lease_has_key(e->lease, spare_key))
			lease_break_plan(e, keep, delay);
	if (!lease_break_commit(f) || !w) {
		pthread_mutex_unlock(&f->lock);
		if (send_now)
			oplock_flush_breaks();
		return false;
	}
	arm_unlock(w, f, timeout_s);
	oplock_flush_breaks();
	return true;
}

void oplock_wait_done(struct oplock_wait *w)
{
	timer_cancel(w->wk, w->timer); /* an ack or a close woke us first */
	if (!w->timed_out)
		return;
	/* Timed out: the holder loses its oplock (3.3.6.2). */
	struct file *f = w->file;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e; e = e->file_next)
		if (e->oplock_breaking) {
			e->oplock_level = e->oplock_break_to;
			e->oplock_breaking = false;
		}
	lease_break_timeout(f);
	pthread_mutex_unlock(&f->lock);
}

uint8_t oplock_grant(struct open *o, uint8_t requested)
{
	struct file *f = o->file;
	if (!f || f->is_dir || requested == SMB2_OPLOCK_LEVEL_NONE || requested == SMB2_OPLOCK_LEVEL_LEASE)
		return SMB2_OPLOCK_LEVEL_NONE;
	/* A stat open may hold an oplock itself (an attribute-only CREATE of a
	 * new file gets batch); it only never breaks or limits anyone else's.
	 * A stat open that holds one counts like any holder. */
	uint8_t level = requested;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e; e = e->file_next) {
		if (e == o || (is_stat_open(e->access) && e->oplock_level == SMB2_OPLOCK_LEVEL_NONE && !e->oplock_breaking))
			continue;
		/* next to a lease with handle caching, or one being broken:
		 * no oplock (smbtorture smb2.lease.oplock) */
		if ((lease_state_locked(e) & (LEASE_H | LEASE_W)) || lease_breaking_locked(e)) {
			level = SMB2_OPLOCK_LEVEL_NONE;
			break;
		}
		if (e->oplock_level == SMB2_OPLOCK_LEVEL_EXCLUSIVE || e->oplock_level == SMB2_OPLOCK_LEVEL_BATCH ||
		    e->oplock_breaking) {
			level = SMB2_OPLOCK_LEVEL_NONE;
			break;
		}
		/* another open exists: at most level II */
		if (level != SMB2_OPLOCK_LEVEL_NONE)
			level = SMB2_OPLOCK_LEVEL_II;
	}
	o->oplock_level = level;
	pthread_mutex_unlock(&f->lock);
	return level;
}

unsigned oplock_break_level2(struct file *f, const struct open *by, struct oplock_victim *out, unsigned max)
{
	unsigned n = 0;
	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e; e = e->file_next) {
		if (e->oplock_level == SMB2_OPLOCK_LEVEL_II) {
			e->oplock_level = SMB2_OPLOCK_LEVEL_NONE;
			send_break(e, SMB2_OPLOCK_LEVEL_NONE);
		}
		/* The read caching of every other lease goes too, without
		 * waiting for its ack ([MS-FSA] 2.1.4.12; smb2.lease.nobreakself:
		 * never the writer's own lease). */
		if (e->lease && !(by && by->lease == e->lease)) {
			if (n < max && detached_lease_victim(e, 0))
				n = add_victim(e, out, n);
			lease_break_plan(e, 0, 0);
		}
	}
	(void)lease_break_commit(f);
	pthread_mutex_unlock(&f->lock);
	oplock_flush_breaks();
	return n;
}

void oplock_open_closed(struct open *o)
{
	/* a lease still held by other opens of the client changes nothing
	 * for the waiters (smbtorture smb2.lease.breaking3) */
	bool lease_gone = lease_open_closed(o);
	if (o->file && (o->oplock_breaking || o->oplock_level || lease_gone))
		wake_file(o->file);
}

NTSTATUS oplock_ack(struct open *o, uint8_t level)
{
	struct file *f = o->file;
	if (!f)
		return STATUS_INVALID_OPLOCK_PROTOCOL;
	pthread_mutex_lock(&f->lock);
	if (!o->oplock_breaking) {
		pthread_mutex_unlock(&f->lock);
		return STATUS_INVALID_OPLOCK_PROTOCOL; /* 3.3.5.22.1: no break in progress */
	}
	/* The client may go lower than offered, never higher. */
	if (level != SMB2_OPLOCK_LEVEL_NONE && level != SMB2_OPLOCK_LEVEL_II) {
		pthread_mutex_unlock(&f->lock);
		return STATUS_INVALID_PARAMETER;
	}
	if (level > o->oplock_break_to)
		level = o->oplock_break_to;
	o->oplock_level = level;
	o->oplock_breaking = false;
	o->oplock_acks++;
	pthread_mutex_unlock(&f->lock);
	wake_file(f);
	return STATUS_SUCCESS;
}
