/* Samba's smbtorture test FSCTLs: test hooks, not protocol.  The FSCTL
 * table (cmd/ioctl.c) knows them only with "smbd:FSCTL_SMBTORTURE = yes"
 * (off by default); without it they are unknown FSCTLs like any other.
 * Codes and behaviour as Samba's smbd answers them, so smbtorture's tests
 * that use them run against smb3d. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cmd/ioctl_int.h"
#include "loop/timer.h"
#include "net/conn.h"
#include "proto/smb.h"
#include "state/open.h"
#include "util/log.h"

/* FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: smbtorture "cuts" a channel (when
 * it does not use iptables) by sending this on it, with no session and no
 * tree.  From then on nothing sent on the connection counts as
 * acknowledged, so a break sent there times out (mc/break_retry.h) as on a
 * cut link.  No input, as Samba. */
NTSTATUS fsctl_force_unacked(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	struct conn *conn = c->req->sc->conn;
	conn->force_unacked = true;
	log_info("connection %llu: FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: nothing sent on it counts as acknowledged",
		 (unsigned long long)conn->id);
	return ioctl_rsp_empty(c);
}

/* FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8 (Samba bug 14607: a client
 * that assumed the output right after the 48-byte body): the response
 * carries 8 zero bytes after its body, OutputOffset points past them, and
 * the output is MaxOutputResponse bytes of the value 8 (bounded like every
 * FSCTL's output by the negotiated maximum, ioctl_sizes_ok).  No input. */
NTSTATUS fsctl_torture_body_padding(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	uint32_t n = c->q.max_output_response;
	c->body_pad = 8;
	uint8_t *b = ioctl_rsp_begin(c, n);
	uint8_t *out = b ? wr_reserve(&c->req->out, n) : NULL;
	if (out)
		memset(out, 8, n);
	return ioctl_rsp_end(c, out ? b : NULL, STATUS_SUCCESS);
}

/* FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8 (the READ side of
 * Samba bug 14607): every READ response on this connection from now on
 * has 8 zero bytes after its body, DataOffset 0x58 instead of 0x50.  No
 * input, no output; the connection keeps it until it ends. */
NTSTATUS fsctl_torture_read_padding(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	c->req->sc->read_body_pad = 8;
	return ioctl_rsp_empty(c);
}

/* ---- FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP (Samba bug 14769) ----
 *
 * An IOCTL on an open that goes async and waits the number of milliseconds
 * of its one input byte (so at most 255 ms), then succeeds if its open is
 * still open, else fails with STATUS_FILE_CLOSED.  smbtorture sends it and
 * a CLOSE of the same open right behind it: the CLOSE must wait until the
 * sleep has ended, as Samba's does for requests on an open that it cannot
 * cancel.  So every sleep is listed with its open, and a CLOSE of an open
 * with a sleep running parks until the last of them ends.
 *
 * Threads: a sleep, its timer and its cancel all run on the worker of the
 * sleeping request's connection; a CLOSE may come on any channel, so any
 * worker.  sleep_lock guards both lists; wakes happen after it is dropped.
 * A sleep ends early, with STATUS_CANCELLED, on CANCEL or when its
 * connection goes (the teardown cancels async requests): nothing outlives
 * the request, whose stack holds the list entry. */

struct torture_sleep {
	struct smb2_req *req;
	const struct open *o;     /* compared only: the request holds its reference */
	struct worker *w;
	timer_id timer;           /* 0 once fired or cancelled; on w's thread only */
	struct torture_sleep *next;
};

struct close_waiter {
	struct smb2_req *req;
	const struct open *o;
	struct close_waiter *next;
};

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct torture_sleep *sleeping;     /* sleep_lock */
static struct close_waiter *close_waiters; /* sleep_lock */
static atomic_uint n_sleeping;             /* entries of `sleeping`: a CLOSE's fast path */

static bool sleeping_on_locked(const struct open *o)
{
	for (struct torture_sleep *s = sleeping; s; s = s->next)
		if (s->o == o)
			return true;
	return false;
}

/* The timer (on w, outside any coroutine): resumes the request at once. */
static void sleep_timer_fired(void *arg)
{
	struct torture_sleep *s = arg;
	s->timer = 0;
	req_wake(s->req); /* the request may end now: s is gone after this */
}

/* CANCEL or the connection's teardown, on the request's worker. */
static void sleep_cancel(struct smb2_req *req)
{
	pthread_mutex_lock(&sleep_lock);
	struct torture_sleep *s = sleeping;
	while (s && s->req != req)
		s = s->next;
	pthread_mutex_unlock(&sleep_lock);
	/* s stays valid: its request is parked and only this thread wakes it */
	if (s && s->timer && timer_cancel(s->w, s->timer)) {
		s->timer = 0;
		req_wake(req);
	}
}

/* Unlist the sleep; the CLOSEs waiting for its open go on when no other
 * sleep on it is left (woken after the lock is dropped). */
static void sleep_end(struct torture_sleep *s)
{
	struct close_waiter *wake = NULL;
	pthread_mutex_lock(&sleep_lock);
	for (struct torture_sleep **pp = &sleeping; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	atomic_fetch_sub(&n_sleeping, 1);
	if (!sleeping_on_locked(s->o)) {
		for (struct close_waiter **pp = &close_waiters; *pp;) {
			struct close_waiter *cw = *pp;
			if (cw->o != s->o) {
				pp = &cw->next;
				continue;
			}
			*pp = cw->next;
			cw->next = wake;
			wake = cw;
		}
	}
	pthread_mutex_unlock(&sleep_lock);
	while (wake) {
		struct close_waiter *next = wake->next; /* wake is gone once its CLOSE runs */
		req_wake(wake->req);
		wake = next;
	}
}

NTSTATUS fsctl_torture_sleep(struct ioctl_ctx *c)
{
	struct smb2_req *req = c->req;
	if (c->q.in_len != 1)
		return STATUS_INVALID_PARAMETER;
	uint64_t ms = c->q.in[0];
	NTSTATUS st = req_go_async(req);
	if (st)
		return st;
	log_debug("FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP: %u ms on fid %llu", (unsigned)ms,
		  (unsigned long long)c->o->volatile_id);
	struct torture_sleep s = { .req = req, .o = c->o, .w = req->conn->w };
	s.timer = timer_add(s.w, timer_now_ms() + ms, sleep_timer_fired, &s);
	if (!s.timer)
		return STATUS_INSUFFICIENT_RESOURCES;
	pthread_mutex_lock(&sleep_lock);
	s.next = sleeping;
	sleeping = &s;
	atomic_fetch_add(&n_sleeping, 1);
	pthread_mutex_unlock(&sleep_lock);
	req->cancel_fn = sleep_cancel;
	req_wait(req);
	req->cancel_fn = NULL;
	sleep_end(&s);
	if (req->cancelled)
		return STATUS_CANCELLED;
	/* a CLOSE of this open waited; any other end of it (a tree
	 * disconnect, a logoff) did not */
	if (atomic_load_explicit(&c->o->closed, memory_order_acquire))
		return STATUS_FILE_CLOSED;
	return ioctl_rsp_empty(c);
}

void ioctl_torture_close_wait(struct smb2_req *req, const struct open *o)
{
	if (!atomic_load(&n_sleeping))
		return;
	struct close_waiter cw = { .req = req, .o = o };
	pthread_mutex_lock(&sleep_lock);
	bool wait = sleeping_on_locked(o);
	if (wait) {
		cw.next = close_waiters;
		close_waiters = &cw;
	}
	pthread_mutex_unlock(&sleep_lock);
	if (wait)
		req_wait(req); /* woken by the last sleep_end() on o */
}
