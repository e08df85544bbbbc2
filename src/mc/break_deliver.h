/* Delivering a break notification to a session (oplock) or a client
 * (lease), with retry on another channel ([MS-SMB2] 3.3.4.6, 3.3.4.7;
 * issue 15).  mc/oplock.c decides which open
 * breaks to which level; this file decides on which channel, checks that
 * the peer's TCP acknowledged the notification (mc/break_retry.h), and
 * tears a channel down and tries the next one when it did not.
 *
 * Each break is a job that lives from break_deliver() until the peer has
 * it, no channel is left, or the session (oplock) or client (lease) is
 * gone, and a lease break that needs an answer until the answer comes
 * (it is sent again when the answer may have gone on a cut channel:
 * await_answer in break_deliver.c).  A job runs on the
 * worker of the channel it is trying (it hops through worker_post), holds
 * a reference to that connection while it waits for the acknowledgment
 * (a timer on that worker), and is listed for `smb3ctl status`. */
#ifndef SMB3D_MC_BREAK_DELIVER_H
#define SMB3D_MC_BREAK_DELIVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mc/oplock.h"
#include "wire/oplock.h"

/* A fence a request puts behind the lease breaks it causes, so its reply
 * goes out after them (oplock_fence_begin in oplock.h).  Each break made
 * in the fence's window holds it until the kernel took the break, or the
 * break could not be sent; the last release, or the request's timer,
 * fires it: wake(arg) exactly once.  Counted references: the request's,
 * each hold's, the timer's. */
struct break_fence {
	atomic_int refs;
	atomic_int pending;       /* holds not yet released */
	atomic_bool fired;
	unsigned held;            /* holds taken (the request's thread, in the window) */
	void (*wake)(void *arg);
	void *arg;
	struct worker *wk;        /* the request's: its timer */
	uint64_t timer;           /* timer_id on wk, 0: none */
};
void break_fence_hold(struct break_fence *f);
void break_fence_release(struct break_fence *f);
void break_fence_put(struct break_fence *f);
/* Fire f (once; later calls do nothing). */
void break_fence_fire(struct break_fence *f);

/* What to send: an oplock break of one open of a session, or a lease
 * break (`lease`: the notification `lb`).  An oplock break goes to the
 * session's channels, the open's own first (MS-SMB2 3.3.4.6); a lease
 * break to any channel of the client `client_guid`, oldest first
 * (3.3.4.7: the lease is the client's), and "smb2 disable oplock break
 * retry" does not apply to it. */
#define BREAK_USERS 4
struct break_notice {
	/* oplock: the holder's session.  lease: the session of one of the
	 * lease's opens (0: none), whose key seals the break when the channel
	 * chosen is one of that session's and the session encrypts */
	uint64_t session_id;
	uint8_t client_guid[16];      /* lease: the lease's client */
	/* lease: the users (uid + 1) of the lease's attached opens, the first
	 * BREAK_USERS of them; only a channel of the client on which one of
	 * them authenticated carries the break (a ClientGUID proves nothing:
	 * another user's connection could claim it) */
	uint64_t users[BREAK_USERS];
	unsigned n_users;
	uint64_t conn_id;             /* oplock: the channel the open was created on, tried first */
	uint64_t persistent, volatile_id;
	uint8_t level;
	/* Is the break still worth delivering?  false once the holder
	 * acknowledged it or closed: no further channel is tried, and a
	 * pending look at the acknowledgment ends.  `acks` is the holder's
	 * count of acknowledgments when the break was made; a lease break
	 * also names the lease instance it was made for and its number among
	 * that lease's breaks (`seq`), so that a retry never resends a break
	 * that a newer grant or break superseded.  NULL: always. */
	bool (*wanted)(const struct break_notice *n);
	/* Before a resend on another channel: wanted(), and n brought up to
	 * date (a lease break's epoch).  NULL: wanted(). */
	bool (*refresh)(struct break_notice *n);
	unsigned acks;
	unsigned seq;
	uint64_t lease_instance;
	bool lease;
	struct wire_lease_break lb;
	struct break_fence *fence;    /* a hold of it (lease breaks only), released once sent */
};

/* Installed by oplock_init() at start-up, before any connection. */
void break_deliver_init(oplock_send_fn send);
void break_deliver_init_lease(lease_send_fn send);
/* Start delivering n (copied), from the worker's loop: callable under a
 * file's lock and inside a request.  On a worker. */
void break_deliver(const struct break_notice *n);
/* The same, trying the first channel at once (the notification is sent
 * before the caller's reply when that channel is on this worker).  On a
 * worker, holding no lock. */
void break_deliver_now(const struct break_notice *n);
/* A break in progress, for `smb3ctl status`. */
struct break_status {
	uint64_t session_id;
	bool lease;
	uint64_t file;           /* the open's volatile FileId (oplock) */
	uint8_t key[16];         /* the LeaseKey (lease) */
	unsigned to;             /* the level (oplock) or the new lease state */
	uint64_t channel;        /* the connection being tried, 0 before the first */
	unsigned tries;          /* channels tried */
	bool awaiting_answer;    /* the client's TCP has it; its answer (a lease break ack) is awaited */
	uint64_t age_ms;
};
/* fn(b, arg) for every break in progress, under the jobs' lock: fn must
 * be quick and take no lock (it formats).  Any thread. */
void break_deliver_foreach(void (*fn)(const struct break_status *b, void *arg), void *arg);

#endif
