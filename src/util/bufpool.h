/* Large I/O buffers (READ data, received WRITE payloads) reused per thread
 * instead of malloc/free each time: a fresh megabyte from the allocator is
 * page-faulted in on every request (and trimmed back on free), which cost
 * more than the copy it holds.  Power-of-two classes from 64 KiB to 16 MiB;
 * each thread keeps at most `bufpool_limit` bytes ("buffer pool size").
 *
 * Registered buffers: a thread that owns an io_uring ring may install a
 * registrar; every pooled buffer that thread allocates is then registered
 * with the ring in a slot of its own ("io_uring registered buffers") and
 * unregistered when the buffer is finally freed, so file reads and writes
 * into it can be READ_FIXED / WRITE_FIXED (no page pinning per request). */
#ifndef SMB3D_BUFPOOL_H
#define SMB3D_BUFPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

extern size_t bufpool_limit;     /* bytes kept per thread; 0 = no pooling */
/* Bytes of registered (pinned) buffers per ring; 0 = no bound.  Past it a
 * new buffer is simply not a fixed buffer (default 128 MiB: twice the
 * default pool, set from "buffer pool size"). */
extern size_t bufpool_pin_limit;

#define BUFPOOL_SLOTS 256        /* registered buffers per ring */

struct bufpool_registrar {
	void *ctx;
	/* register [base, base+len) in slot / clear the slot; 0 or -errno */
	int (*reg)(void *ctx, unsigned slot, void *base, size_t len);
	void (*unreg)(void *ctx, unsigned slot);
	/* owned by bufpool: buffers of one registrar may be freed on any thread */
	pthread_mutex_t lock;
	bool dead;               /* the ring is gone: nothing to unregister */
	unsigned used;
	size_t pinned;           /* bytes registered */
	struct { char *base; size_t len; } slot[BUFPOOL_SLOTS];
};

/* A buffer of at least len bytes (malloc'd for small ones); NULL if out of memory. */
void *bufpool_get(size_t len);
/* A buffer of at least len bytes to be filled over time (a PDU whose
 * length was only announced): one the thread already keeps, or fresh
 * anonymous memory that becomes resident only as it is written and is not
 * registered (registration pins and faults in the whole buffer); it may
 * be registered once it returns to the pool.  NULL if out of memory. */
void *bufpool_get_lazy(size_t len);
/* Give it back (any thread may). */
void bufpool_put(void *p);
/* Free it without keeping it (a PDU buffer the peer never filled: pooled,
 * it would be made resident for nothing). */
void bufpool_drop(void *p);

/* Free the buffers the calling thread keeps (at thread exit). */
void bufpool_thread_release(void);

/* Install r for the calling thread (r->ctx, reg, unreg set by the caller). */
void bufpool_registrar_start(struct bufpool_registrar *r);
/* The calling thread's ring is about to go away. */
void bufpool_registrar_stop(struct bufpool_registrar *r);
/* The registered slot of this thread's ring holding [p, p+len), or -1. */
int bufpool_fixed_slot(const void *p, size_t len);

#endif
