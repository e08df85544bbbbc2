/* A worker: one thread, one io_uring ring, the connections assigned to it.
 *
 * Everything submitted on the ring carries a `struct uring_op *` as
 * user_data; the loop calls op->cb with the CQE's result.  Work for this
 * worker from other threads goes through worker_post() (a mailbox drained
 * when its eventfd fires), so a connection's state is only ever touched by
 * its own worker thread. */
#ifndef SMB3D_LOOP_WORKER_H
#define SMB3D_LOOP_WORKER_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop/timer.h"
#include "util/bufpool.h"

struct uring_op;
typedef void (*uring_cb)(struct uring_op *op, int res, unsigned cqe_flags);
struct uring_op {
	uring_cb cb;
};

struct mbox_item;
struct conn;
struct listener;

struct worker {
	int id;
	pthread_t thread;
	struct io_uring ring;
	bool ring_ok;
	unsigned in_flight;        /* SQEs submitted whose CQE has not arrived */
	/* mailbox */
	int efd;
	uint64_t efd_val;
	struct uring_op efd_op;
	pthread_mutex_t mbox_lock;
	struct mbox_item *mbox_head, *mbox_tail;
	/* timers (loop/timer.h): the loop's wait ends at the earliest deadline */
	struct timer_heap timers;
	/* connections owned by this worker (intrusive list) */
	struct conn *conns;
	unsigned n_conns;
	unsigned n_unauth;         /* of them not yet authenticated */
	unsigned max_unauth;       /* past it the oldest unauthenticated one is closed; 0 = no bound */
	/* listening sockets: one SO_REUSEPORT socket per address per worker */
	struct listener *listeners;
	volatile bool stopping;    /* set by worker_stop: close listeners, drain */
	volatile bool stopped;
	uint64_t now_ms;           /* timer_now_ms(), updated every loop iteration */
	void *user;                /* the server */
	/* "io_uring registered buffers": pooled I/O buffers of this thread are
	 * fixed buffers of this ring (set before worker_start) */
	bool fixed_buffers;
	bool fixed_ok;
	struct bufpool_registrar breg;
};

/* What the socket layer (net/) does on a worker's loop.  net_init()
 * installs it once at start-up, before any worker starts, so the loop
 * never calls up into net/ by name.  Without it a worker has no sockets
 * and stops at once.  Each runs on the worker's thread, but fini. */
struct worker_sockets {
	void (*start)(struct worker *w);     /* the loop begins: accept */
	void (*stop)(struct worker *w);      /* worker_stop: stop accepting */
	bool (*idle)(struct worker *w);      /* no request running and nothing left to send */
	bool (*close_all)(struct worker *w); /* shut every connection down; true when none is left */
	void (*fini)(struct worker *w);      /* worker_fini, after the thread: free the listeners */
};
void worker_set_sockets(const struct worker_sockets *ops);

int worker_init(struct worker *w, int id, unsigned ring_entries, bool sqpoll);
int worker_start(struct worker *w);
/* Ask the worker to stop accepting and drain; thread-safe. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);
void worker_fini(struct worker *w);

/* The worker running on this thread, or NULL. */
struct worker *worker_self(void);

/* Get an SQE on w's ring (submitting pending ones first when the SQ is
 * full).  Must be called on w's thread.  Never returns NULL. */
struct io_uring_sqe *worker_sqe(struct worker *w, struct uring_op *op);

/* Run fn(arg) on w's thread soon.  Thread-safe; returns -ENOMEM. */
int worker_post(struct worker *w, void (*fn)(void *arg), void *arg);

/* From inside a coroutine on a worker: submit `sqe` (already prepared with
 * worker_sqe(w, NULL)) and wait for its completion; returns cqe->res. */
int worker_sqe_wait(struct worker *w, struct io_uring_sqe *sqe);

#endif
