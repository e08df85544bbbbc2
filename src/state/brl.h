/* Byte-range locks of a file ([MS-FSA] 2.1.5.8 LockControl, 2.1.4.10 the
 * conflict check used by read and write) and the queue of blocked LOCK
 * requests waiting for a range.
 *
 * Locks live in struct file (open.h: locks / n_locks / cap_locks) and are
 * owned by an open: SMB2 has no per-process lock context, the FileId is the
 * owner ([MS-SMB2] 3.3.5.14).  Everything here runs under file->lock; the
 * functions named *_locked expect the caller to hold it, the others take it.
 *
 * Waking a blocked request is the caller's business (src/cmd/lock.c): this
 * layer only calls the waiter's `wake` callback, after file->lock has been
 * released, exactly once per queueing. */
#ifndef SMB3D_STATE_BRL_H
#define SMB3D_STATE_BRL_H

#include <stdbool.h>
#include <stdint.h>

#include "state/open.h"
#include "wire/ntstatus.h"

#ifndef STATUS_INVALID_LOCK_RANGE
#define STATUS_INVALID_LOCK_RANGE 0xC00001A1u
#endif

/* A LOCK request blocked on a conflicting range (one element, no
 * FAIL_IMMEDIATELY).  Lives in the request's coroutine frame. */
struct brl_waiter {
	struct brl_waiter *next, *prev;   /* file->waiters, FIFO */
	struct file *file;
	struct open *open;                /* the requesting open (caller holds a reference) */
	uint64_t offset, length;
	bool exclusive;
	bool queued;                      /* on file->waiters */
	NTSTATUS result;                  /* set when dequeued by someone else:
	                                     SUCCESS = the lock was granted to it,
	                                     RANGE_NOT_LOCKED = its open closed,
	                                     CANCELLED = cancelled */
	void (*wake)(struct brl_waiter *w); /* called without file->lock held */
	void *arg;                        /* for `wake` (the request) */
	struct brl_waiter *wake_next;     /* private: wake list */
};

/* STATUS_INVALID_LOCK_RANGE when the last byte of [offset, offset+length)
 * does not fit in 64 bits (a zero-length range never overflows). */
NTSTATUS brl_range_check(uint64_t offset, uint64_t length);

/* Would a lock of `o` on the range conflict with the existing locks?
 * Exclusive requests conflict with every overlapping lock (even the same
 * open's); shared requests only with exclusive locks of other opens. */
bool brl_conflicts_locked(const struct file *f, const struct open *o, uint64_t offset,
			  uint64_t length, bool exclusive);

/* Take a lock: STATUS_SUCCESS, STATUS_LOCK_NOT_GRANTED on conflict,
 * STATUS_INVALID_LOCK_RANGE, STATUS_NO_MEMORY. */
NTSTATUS brl_lock_locked(struct file *f, struct open *o, uint64_t offset, uint64_t length, bool exclusive);

/* Drop one lock of `o` with exactly this range (an exclusive one first,
 * as Windows): STATUS_SUCCESS or STATUS_RANGE_NOT_LOCKED.  Does not retry
 * waiters; call brl_grant_waiters_locked after a batch. */
NTSTATUS brl_unlock_locked(struct file *f, struct open *o, uint64_t offset, uint64_t length);

/* Undo the locks taken since f->n_locks was `n_before` (a multi-element
 * LOCK that failed part way; locks are appended, so this drops exactly
 * those). */
void brl_rollback_locked(struct file *f, unsigned n_before);

/* Queue / dequeue a blocked request (FIFO). */
void brl_waiter_add_locked(struct file *f, struct brl_waiter *w);
void brl_waiter_remove_locked(struct file *f, struct brl_waiter *w);

/* Grant every queued waiter whose range is now free (in arrival order),
 * moving it to `*wake` (result = STATUS_SUCCESS).  Pass the list to
 * brl_wake_list after unlocking file->lock. */
void brl_grant_waiters_locked(struct file *f, struct brl_waiter **wake);
void brl_wake_list(struct brl_waiter *wake);

/* Unlock (a batch of unlocks was done by the caller): grant waiters and
 * wake them.  Takes and releases f->lock. */
void brl_retry(struct file *f);

/* READ / WRITE against the locks of other opens ([MS-FSA] 2.1.4.10):
 * a read conflicts with another open's exclusive lock, a write with any
 * shared lock or another open's exclusive lock.  Zero-length I/O and
 * zero-length locks never conflict.  STATUS_SUCCESS or
 * STATUS_FILE_LOCK_CONFLICT.  Takes f->lock. */
NTSTATUS brl_check_io(struct file *f, const struct open *o, uint64_t offset, uint64_t length, bool write);

/* The open is closing: drop all its locks, fail its blocked requests with
 * STATUS_RANGE_NOT_LOCKED (as Windows), grant what became free.  Called by
 * the close path (fileops_close_open) for every open with a file. */
void brl_close_open(struct open *o);

#endif
