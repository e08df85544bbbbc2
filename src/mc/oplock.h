/* Oplocks (MS-SMB2 3.3.5.9 step "oplock", 3.3.4.6 breaks, 3.3.5.22.1 acks;
 * the grant and break rules of [MS-FSA] 2.1.5.17, simplified to the
 * classic SMB2 levels).  Leases come with multichannel part 2 and reuse the
 * same waiting and delivery machinery.
 *
 * A CREATE that conflicts with another open's exclusive or batch oplock
 * goes async, sends a break to that open's session over one of its live
 * channels, and waits until the holder acknowledges, closes, or the break
 * times out (OplockBreakAckTimeout, 35 s).  Level II oplocks are broken to
 * none without waiting when somebody writes. */
#ifndef SMB3D_MC_OPLOCK_H
#define SMB3D_MC_OPLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "loop/timer.h"
#include "state/open.h"
#include "wire/ntstatus.h"

struct session;
struct smb_conn;
struct worker;

/* mc decides, proto sends: mc picks the opens to break and the channel to
 * send each break on; the layer above builds and sends the notification.
 * `send` is proto's smb_send_oplock_break (installed by cmd_init() at
 * start-up, before any connection); `done` is called exactly once. */
typedef void (*oplock_sent_fn)(void *arg, int err, uint64_t stream_end);
typedef int (*oplock_send_fn)(struct smb_conn *sc, struct session *s, uint64_t persistent, uint64_t volatile_id,
			      uint8_t level, oplock_sent_fn done, void *done_arg);
void oplock_init(oplock_send_fn send);
/* Lease break notifications (3.3.4.7) go the same way: proto's
 * smb_send_lease_break, installed by cmd_init(). */
struct wire_lease_break;
typedef int (*lease_send_fn)(struct smb_conn *sc, struct session *s, const struct wire_lease_break *n,
			     oplock_sent_fn done, void *done_arg);
void oplock_init_lease(lease_send_fn send);
/* Send a lease break (n->lb) to a live channel of client n->client_guid
 * (mc/break_deliver.h); n is copied.  It waits until
 * oplock_flush_breaks(), or the worker's loop.  On a worker. */
struct break_notice;
void oplock_send_lease_break(const struct break_notice *n);
/* Send the lease breaks decided on this thread so far (they wait while a
 * file's lock is held); without any file lock held. */
void oplock_flush_breaks(void);
/* A request whose reply must follow the lease breaks it causes, as on
 * Windows, also when the holder's channel is on another worker
 * (smbtorture smb2.lease.unlink reads the other connection's break as soon
 * as its SET_INFO returns): between oplock_fence_begin and
 * oplock_fence_end the lease breaks this thread decides hold the fence
 * until the kernel took them.  When end returns true the caller waits
 * for exactly one wake(arg) (the last break sent, or timeout_ms), then
 * calls oplock_fence_done; when false (no break, or NULL: no fence) it
 * calls oplock_fence_done at once.  On a worker; begin returns NULL when
 * a fence is open already on this thread (or out of memory). */
struct break_fence;
struct break_fence *oplock_fence_begin(void (*wake)(void *arg), void *arg);
bool oplock_fence_end(struct break_fence *f, unsigned timeout_ms);
void oplock_fence_done(struct break_fence *f);
/* Wake the CREATEs waiting on breaks of file f (a lease ack); without
 * f->lock held. */
void oplock_wake_file(struct file *f);

/* One CREATE waiting for the breaks its open needs, on the waiting
 * coroutine's stack.  The caller sets `wake` and `arg`; the rest is
 * private to mc/oplock.c. */
struct oplock_wait {
	void (*wake)(void *arg);      /* exactly once per armed wait, from any thread */
	void *arg;
	struct file *file;
	bool armed;                   /* under the waiters lock */
	bool timed_out;               /* set by the timer, under the waiters lock, before the wake */
	struct worker *wk;            /* the waiting CREATE's worker, which runs the timer */
	timer_id timer;
	struct oplock_wait *next;     /* all waiters (global list) */
};

/* Before the share-mode check of a CREATE on file f: start breaking the
 * oplocks the new open conflicts with.  `overwrite`: the disposition
 * replaces the data.  Returns true when w is armed: the caller waits until
 * w->wake(w->arg) (by an ack, a close of the holder, or the break timeout
 * of `timeout_s` seconds, MS-SMB2 3.3.2.1), then calls oplock_wait_done()
 * and tries again.  false: nothing to wait for.  `self`: the lease the new
 * open will join (NULL: none yet), whose opens are not broken.  On a worker, without
 * f->lock held. */
struct lease;
bool oplock_break_start(struct oplock_wait *w, struct file *f, uint32_t access, uint32_t share, bool overwrite,
			bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share), unsigned timeout_s,
			const struct lease *self);
/* Break the leases of f but those with key `spare_key` (of any client;
 * NULL: none is spared) to at most `keep` (a rename, a delete, a change in
 * a leased directory: [MS-FSA] 2.1.4.12).  With w, like
 * oplock_break_start: true when w is armed and the caller waits (a bit of
 * `delay` goes); without, nobody waits, and `send_now` false lets the
 * breaks go after the reply of the request (directory leases: smbtorture
 * smb2.dirlease.hardlink arms its handler once the SET_INFO returned).
 * On a worker, without f->lock. */
bool oplock_break_leases_start(struct oplock_wait *w, struct file *f, const uint8_t *spare_key, uint32_t keep,
			       uint32_t delay, unsigned timeout_s, bool send_now);
/* After the wake, on the same worker: cancel the timer; when the break
 * timed out, its holders lose their oplock (MS-SMB2 3.3.6.2). */
void oplock_wait_done(struct oplock_wait *w);
/* A detached durable open whose oplock a CREATE would break, with the
 * detach number it had (open_unregister_detached). */
struct oplock_victim {
	struct open *o;               /* referenced */
	uint32_t gen;
};
/* Before oplock_break_start: the detached opens of f (at most max) whose
 * exclusive or batch oplock, or lease, the CREATE (access, share) would
 * break (the same rules as oplock_break_start; `self` the CREATE's own
 * lease), and those whose lease lost its handle caching already.  Their
 * break cannot be delivered: the caller closes them instead (MS-SMB2
 * 3.3.4.6, 3.3.4.7: "purged").  Without f->lock held. */
unsigned oplock_detached_victims(struct file *f, uint32_t access, uint32_t share, bool overwrite,
				 bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
				 const struct lease *self, struct oplock_victim *out, unsigned max);
/* Before a break of the leases of f but those with key `spare_key` to at
 * most `keep` (oplock_break_leases_start): the detached opens (at most
 * max) whose lease that break would take something from, or whose lease
 * lost its handle caching already.  The break cannot reach them: the
 * caller closes them first (3.3.4.7), so nobody waits for their ack.
 * Without f->lock held. */
unsigned oplock_detached_leased(struct file *f, const uint8_t *spare_key, uint32_t keep, struct oplock_victim *out,
				unsigned max);
/* After the open joined its file: the level it gets for `requested`. */
uint8_t oplock_grant(struct open *o, uint8_t requested);
/* A write, truncation or lock: every level II holder drops to none, the
 * writer's own open included ([MS-FSA] 2.1.5.17); every lease but the
 * writer's loses its read (and handle) caching, without a wait.  The
 * detached opens among those leases' (at most max, referenced) are put in
 * `out`: the break cannot reach them, the caller closes them (3.3.4.7). */
unsigned oplock_break_level2(struct file *f, const struct open *by, struct oplock_victim *out, unsigned max);
/* The open is closing (it left its file's open list): it leaves its
 * lease, and whoever waits for its break is woken. */
void oplock_open_closed(struct open *o);
/* OPLOCK_BREAK acknowledgment from the client. */
NTSTATUS oplock_ack(struct open *o, uint8_t level);

#endif
