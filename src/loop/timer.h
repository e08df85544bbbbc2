/* Timers of a worker: callbacks at a monotonic deadline in milliseconds.
 *
 * Each worker has one min-heap of timers (struct timer_heap).  The worker
 * loop waits for CQEs with a timeout that ends at the earliest deadline
 * and then runs every timer whose deadline has passed, on the worker's
 * thread, outside any coroutine (like a CQE callback).
 *
 * Ownership and threads: a timer belongs to the worker it was added on.
 * timer_add and timer_cancel run on that worker's thread only.  Another
 * thread uses timer_add_remote / timer_cancel_remote, which go through the
 * worker's mailbox; a remote cancel can cross the timer firing, so the
 * callback of such a timer rechecks its object's state under the object's
 * lock.  An object with no connection any more (a durable open after its
 * last channel) keeps its timer on the worker where it lost that channel
 * (docs/ARCHITECTURE.md, "Timers").
 *
 * Handles are plain numbers, never pointers: a slot index plus a
 * generation, so cancelling a timer that already fired (or was cancelled)
 * is a harmless no-op, even if its slot has been reused since.
 *
 * The callback's `arg` must stay valid until the callback has run or a
 * cancel returned true; the heap holds no reference. */
#ifndef SMB3D_LOOP_TIMER_H
#define SMB3D_LOOP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t timer_id; /* 0: no timer */
typedef void (*timer_fn)(void *arg);

struct timer_slot;

/* One thread's timers.  Not thread-safe: its owner's thread only. */
struct timer_heap {
	struct timer_slot *slots;
	uint32_t n_slots, cap_slots;
	uint32_t free_head;        /* free slot list (index + 1), 0 = empty */
	uint32_t *heap;            /* slot indices, a binary min-heap on (deadline, seq) */
	uint32_t n_heap, cap_heap;
	uint64_t seq;              /* insertion order: equal deadlines fire first-in first-out */
};

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t timer_now_ms(void);

void timer_heap_init(struct timer_heap *th);
/* Frees the heap; pending timers are dropped without running. */
void timer_heap_fini(struct timer_heap *th);
/* Add a timer; 0 when out of memory. */
timer_id timer_heap_add(struct timer_heap *th, uint64_t deadline_ms, timer_fn fn, void *arg);
/* True if the timer was pending and now will not run; false if it already
 * ran, is running, was cancelled, or `id` is 0. */
bool timer_heap_cancel(struct timer_heap *th, timer_id id);
/* The earliest deadline, if any timer is pending. */
bool timer_heap_next(const struct timer_heap *th, uint64_t *deadline_ms);
unsigned timer_heap_pending(const struct timer_heap *th);
/* Run the timers due at `now_ms`, earliest first; returns how many ran.
 * A callback may add and cancel timers (itself included).  A timer added
 * by a callback and already due runs on the next call, not in this one, so
 * a callback that re-adds itself cannot keep this call from returning. */
unsigned timer_heap_run(struct timer_heap *th, uint64_t now_ms);

struct worker;

/* On w's thread: run fn(arg) on w's thread at deadline_ms (timer_now_ms
 * clock).  Returns 0 when out of memory. */
timer_id timer_add(struct worker *w, uint64_t deadline_ms, timer_fn fn, void *arg);
/* On w's thread: as timer_heap_cancel. */
bool timer_cancel(struct worker *w, timer_id id);

/* From any thread: add the timer on w's thread, through w's mailbox.
 * `started`, when given, runs on w's thread right after the add, with the
 * new id (0 if it failed), so the caller can store it under its object's
 * lock for a later cancel.  Returns 0 or -ENOMEM (nothing was posted). */
int timer_add_remote(struct worker *w, uint64_t deadline_ms, timer_fn fn, void *arg,
		     void (*started)(void *arg, timer_id id));
/* From any thread: cancel `id` on w's thread, soon.  Best effort: the
 * timer may fire before the cancel arrives. */
int timer_cancel_remote(struct worker *w, timer_id id);

#endif
