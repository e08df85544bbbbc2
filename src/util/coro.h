/* Coroutines for requests that wait.
 *
 * Every SMB2 request (or compound chain) runs on a small coroutine owned by
 * the worker thread of its connection.  When it has to wait (an io_uring
 * CQE, a thread-pool job, a byte-range lock, a change notification) it
 * records how to be woken and calls coro_yield(); the worker's loop returns
 * to its event loop and resumes the coroutine later with coro_resume().
 * This keeps handlers readable top-down (CONVENTIONS rule 5) while the worker
 * thread never blocks (DESIGN.md "A request that must wait ...").
 *
 * A coroutine is only ever resumed on the thread that owns it; other threads
 * hand the wake-up over through the worker's mailbox. */
#ifndef SMB3D_CORO_H
#define SMB3D_CORO_H

#include <stdbool.h>
#include <stddef.h>

struct coro;
typedef void (*coro_fn)(void *arg);

/* Per-thread pool of stacks; call once per thread that runs coroutines. */
void coro_thread_init(void);
void coro_thread_fini(void);

/* Create a coroutine that will run fn(arg); it starts on the first
 * coro_resume().  Returns NULL when out of memory. */
struct coro *coro_new(coro_fn fn, void *arg);
/* Switch into `co` until it yields or finishes.  A finished coroutine is
 * freed (its stack goes back to the pool) before coro_resume returns true. */
bool coro_resume(struct coro *co);
/* From inside a coroutine: give control back to whoever resumed it. */
void coro_yield(void);
/* The running coroutine, or NULL on the thread's own stack. */
struct coro *coro_self(void);

#endif
