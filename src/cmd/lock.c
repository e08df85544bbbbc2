/* SMB2 LOCK ([MS-SMB2] 3.3.5.14): byte-range lock and unlock, blocking
 * locks that wait (async, cancellable) until the range is free.
 *
 * The elements are processed in order, as Windows does (smb2.lock tests):
 *  - unlock requests (the first element has UNLOCK): every element must be
 *    exactly UNLOCK; each one releases a lock held by this open with the same
 *    range; the first failure stops, earlier unlocks stay done;
 *  - lock requests: every element is SHARED or EXCLUSIVE, optionally with
 *    FAIL_IMMEDIATELY; a blocking element is only valid alone; the first
 *    failure rolls back the locks taken by this request.
 * A lock held by another open makes a blocking request go async and wait on
 * file->waiters; an unlock or close of that file grants it in arrival order
 * (src/state/brl.c), CANCEL fails it with STATUS_CANCELLED and closing its
 * own open with STATUS_RANGE_NOT_LOCKED. */
#include <pthread.h>

#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/lockseq.h"
#include "mc/oplock.h"
#include "state/brl.h"
#include "util/metrics.h"
#include "wire/lock.h"

#define LOCK_FLAGS_KNOWN (SMB2_LOCKFLAG_SHARED_LOCK | SMB2_LOCKFLAG_EXCLUSIVE_LOCK | \
			  SMB2_LOCKFLAG_UNLOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY)

/* A request parked in a blocking lock.  Only the worker that owns the
 * request's connection runs its coroutine and its CANCEL, so the list of
 * parked requests is per thread and needs no lock. */
struct lock_wait {
	struct brl_waiter w;
	struct smb2_req *req;
	struct lock_wait *next;
};

static __thread struct lock_wait *parked;

static void parked_remove(struct lock_wait *lw)
{
	for (struct lock_wait **pp = &parked; *pp; pp = &(*pp)->next) {
		if (*pp == lw) {
			*pp = lw->next;
			return;
		}
	}
}

static void lock_wake(struct brl_waiter *w)
{
	req_wake(w->arg);
}

/* A CLOSE on another channel may be running: o->closed is set before the
 * close path calls brl_close_open (which takes file->lock), so a lock added
 * under file->lock while this is false is always released by that close. */
static bool open_closing(struct open *o)
{
	return atomic_load_explicit(&o->closed, memory_order_acquire);
}

/* CANCEL (on the request's own worker, outside its coroutine). */
static void lock_cancel(struct smb2_req *req)
{
	struct lock_wait *lw = parked;
	while (lw && lw->req != req)
		lw = lw->next;
	if (!lw)
		return;
	struct file *f = lw->w.file;
	bool wake = false;
	pthread_mutex_lock(&f->lock);
	/* Not queued any more: it was granted or failed by a close, and its
	 * wake is already on the way. */
	if (lw->w.queued) {
		brl_waiter_remove_locked(f, &lw->w);
		lw->w.result = STATUS_CANCELLED;
		wake = true;
	}
	pthread_mutex_unlock(&f->lock);
	if (wake)
		req_wake(req); /* may run the request to its end: touch nothing after */
}

/* The single element conflicts and may wait: go async, queue, sleep. */
static NTSTATUS lock_wait(struct smb2_req *req, struct open *o, const struct wire_lock_elem *e, bool exclusive)
{
	struct file *f = o->file;
	NTSTATUS ast = req_go_async(req);
	if (ast != STATUS_SUCCESS)
		return ast;
	struct lock_wait lw = {
		.w = { .open = o, .offset = e->offset, .length = e->length, .exclusive = exclusive,
		       .wake = lock_wake, .arg = req },
		.req = req,
	};
	lw.next = parked;
	parked = &lw;
	req->cancel_fn = lock_cancel;

	NTSTATUS st;
	pthread_mutex_lock(&f->lock);
	/* The holder may have gone since the first try, without the lock. */
	st = open_closing(o) ? STATUS_FILE_CLOSED : brl_lock_locked(f, o, e->offset, e->length, exclusive);
	if (st != STATUS_LOCK_NOT_GRANTED) {
		pthread_mutex_unlock(&f->lock);
		goto out;
	}
	brl_waiter_add_locked(f, &lw.w);
	pthread_mutex_unlock(&f->lock);

	bool sleep = true;
	if (req->cancelled) {
		pthread_mutex_lock(&f->lock);
		if (lw.w.queued) {
			brl_waiter_remove_locked(f, &lw.w);
			lw.w.result = STATUS_CANCELLED;
			sleep = false;
		}
		pthread_mutex_unlock(&f->lock);
	}
	/* Whoever dequeues the waiter sets the result and wakes us once. */
	if (sleep)
		req_wait(req);
	pthread_mutex_lock(&f->lock);
	st = lw.w.result;
	pthread_mutex_unlock(&f->lock);
out:
	req->cancel_fn = NULL;
	parked_remove(&lw);
	return st;
}

static NTSTATUS do_unlocks(struct file *f, struct open *o, const struct wire_lock_req *q)
{
	NTSTATUS st = STATUS_SUCCESS;
	unsigned done = 0;
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < q->lock_count; i++) {
		struct wire_lock_elem e;
		wire_lock_req_elem(q, i, &e);
		/* MS-SMB2 3.3.5.14.1: an unlock request holds only unlocks. */
		if (e.flags != SMB2_LOCKFLAG_UNLOCK) {
			st = STATUS_INVALID_PARAMETER;
			break;
		}
		st = brl_unlock_locked(f, o, e.offset, e.length);
		if (st)
			break;
		done++;
	}
	struct brl_waiter *wake = NULL;
	if (done)
		brl_grant_waiters_locked(f, &wake);
	pthread_mutex_unlock(&f->lock);
	brl_wake_list(wake);
	return st;
}

/* Take the locks of a lock request: all or none (3.3.5.14.2); a single
 * blocking element that conflicts waits. */
static NTSTATUS do_locks(struct smb2_req *req, struct file *f, struct open *o, const struct wire_lock_req *q)
{
	struct wire_lock_elem e;
	/* MS-FSA 2.1.5.7 (via 2.1.4.12): a byte-range lock breaks every
	 * level II oplock to none, the locker's own included, before the
	 * lock is tried (smb2.oplock.brl1, brl3). */
	lease_break_data(f, o);
	bool wait = false;
	pthread_mutex_lock(&f->lock);
	NTSTATUS st = open_closing(o) ? STATUS_FILE_CLOSED : STATUS_SUCCESS;
	unsigned n_before = f->n_locks;
	for (unsigned i = 0; st == STATUS_SUCCESS && i < q->lock_count; i++) {
		wire_lock_req_elem(q, i, &e);
		uint32_t kind = e.flags & ~SMB2_LOCKFLAG_FAIL_IMMEDIATELY;
		bool fail_now = e.flags & SMB2_LOCKFLAG_FAIL_IMMEDIATELY;
		/* MS-SMB2 3.3.5.14.2: SHARED or EXCLUSIVE, never both, never
		 * UNLOCK, no unknown bits; a blocking lock only on its own. */
		if ((kind != SMB2_LOCKFLAG_SHARED_LOCK && kind != SMB2_LOCKFLAG_EXCLUSIVE_LOCK) ||
		    (e.flags & ~LOCK_FLAGS_KNOWN) || (!fail_now && q->lock_count > 1)) {
			st = STATUS_INVALID_PARAMETER;
			break;
		}
		bool exclusive = kind == SMB2_LOCKFLAG_EXCLUSIVE_LOCK;
		st = brl_lock_locked(f, o, e.offset, e.length, exclusive);
		if (st == STATUS_LOCK_NOT_GRANTED && !fail_now)
			wait = true;
		if (st)
			break;
	}
	if (st)
		brl_rollback_locked(f, n_before);
	pthread_mutex_unlock(&f->lock);
	if (wait)
		st = lock_wait(req, o, &e, (e.flags & SMB2_LOCKFLAG_EXCLUSIVE_LOCK) != 0);
	return st;
}

/* Does this LOCK take part in lock sequence replay detection (3.3.5.14)?
 * On a durable open from 2.1 on (Open.IsDurable: its client resends
 * after a reconnect); otherwise not before 3.0; on a multichannel
 * connection always (as the spec proposes and Samba does), unless `smb2
 * disable lock sequence checking` asks for Windows' narrower rule. */
static bool lockseq_applies(struct smb2_req *req)
{
	const struct smb_conn *sc = req->sc;
	if (sc->dialect >= SMB2_DIALECT_210 && req->open && (req->open->durable || req->open->resilient))
		return true;
	if (sc->dialect < SMB2_DIALECT_300 || req_conf(req)->disable_lock_sequence_checking)
		return false;
	return sc->server_caps & SMB2_GLOBAL_CAP_MULTI_CHANNEL;
}

/* Is this a replay of a lock or unlock request that succeeded? */
static bool lockseq_check(struct file *f, struct open *o, const struct wire_lock_req *q)
{
	pthread_mutex_lock(&f->lock);
	bool replay = lockseq_replayed(&o->lockseq, q->lock_seq_index, q->lock_seq_num);
	pthread_mutex_unlock(&f->lock);
	return replay;
}

static void lockseq_done(struct file *f, struct open *o, const struct wire_lock_req *q)
{
	pthread_mutex_lock(&f->lock);
	lockseq_record(&o->lockseq, q->lock_seq_index, q->lock_seq_num);
	pthread_mutex_unlock(&f->lock);
}

NTSTATUS cmd_lock(struct smb2_req *req)
{
	struct wire_lock_req q;
	if (wire_lock_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	struct file *f = o->file;
	if (!f || o->pipe)
		return STATUS_INVALID_DEVICE_REQUEST;
	bool seq = lockseq_applies(req);
	NTSTATUS st;
	if (seq && lockseq_check(f, o, &q)) {
		st = STATUS_SUCCESS; /* done before: not again (3.3.5.14) */
		req->replay_outcome = METRICS_REPLAY_ANSWERED;
	} else {
		struct wire_lock_elem e;
		wire_lock_req_elem(&q, 0, &e);
		st = e.flags & SMB2_LOCKFLAG_UNLOCK ? do_unlocks(f, o, &q) : do_locks(req, f, o, &q);
		if (st == STATUS_SUCCESS && seq)
			lockseq_done(f, o, &q);
	}
	if (st == STATUS_SUCCESS)
		wire_lock_encode_rsp(&req->out);
	return st;
}
