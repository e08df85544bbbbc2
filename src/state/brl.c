/* Byte-range locks ([MS-FSA] 2.1.5.8, 2.1.4.10).  See brl.h.
 *
 * The table is a plain array per file: files rarely hold more than a few
 * locks, and the conflict check must look at every lock anyway. */
#include "state/brl.h"
#include "util/log.h"

#include <pthread.h>
#include <stdlib.h>

/* Last byte of a non-empty range; callers validated it with
 * brl_range_check (saturates for safety). */
static uint64_t range_last(uint64_t offset, uint64_t length)
{
	if (length - 1 > UINT64_MAX - offset)
		return UINT64_MAX;
	return offset + length - 1;
}

NTSTATUS brl_range_check(uint64_t offset, uint64_t length)
{
	if (length > 0 && length - 1 > UINT64_MAX - offset)
		return STATUS_INVALID_LOCK_RANGE;
	return STATUS_SUCCESS;
}

/* [MS-FSA] 2.1.5.8: a zero-length range at X overlaps a non-empty range
 * [o, e] when o < X <= e (it does not overlap at the range's first byte,
 * smb2.lock.zerobytelength); two zero-length ranges never overlap. */
static bool overlap(uint64_t a_off, uint64_t a_len, uint64_t b_off, uint64_t b_len)
{
	if (a_len == 0 && b_len == 0)
		return false;
	if (a_len == 0)
		return b_off < a_off && a_off <= range_last(b_off, b_len);
	if (b_len == 0)
		return a_off < b_off && b_off <= range_last(a_off, a_len);
	return a_off <= range_last(b_off, b_len) && b_off <= range_last(a_off, a_len);
}

bool brl_conflicts_locked(const struct file *f, const struct open *o, uint64_t offset,
			  uint64_t length, bool exclusive)
{
	for (unsigned i = 0; i < f->n_locks; i++) {
		const struct brl *l = &f->locks[i];
		if (!overlap(offset, length, l->offset, l->length))
			continue;
		/* Exclusive locks do not stack, not even on the same open
		 * (smb2.lock.stacking); a shared lock stacks on the same open's
		 * exclusive lock. */
		if (exclusive || (l->exclusive && l->owner != o))
			return true;
	}
	return false;
}

NTSTATUS brl_lock_locked(struct file *f, struct open *o, uint64_t offset, uint64_t length, bool exclusive)
{
	LOCK_HELD(&f->lock);
	NTSTATUS st = brl_range_check(offset, length);
	if (st)
		return st;
	if (brl_conflicts_locked(f, o, offset, length, exclusive))
		return STATUS_LOCK_NOT_GRANTED;
	if (f->n_locks == f->cap_locks) {
		unsigned cap = f->cap_locks ? f->cap_locks * 2 : 4;
		struct brl *nl = realloc(f->locks, cap * sizeof(*nl));
		if (!nl)
			return STATUS_NO_MEMORY;
		f->locks = nl;
		f->cap_locks = cap;
	}
	f->locks[f->n_locks++] = (struct brl){ offset, length, exclusive, o };
	return STATUS_SUCCESS;
}

static void remove_at(struct file *f, unsigned i)
{
	/* Keep the order: it is the order in which locks were granted. */
	for (unsigned j = i + 1; j < f->n_locks; j++)
		f->locks[j - 1] = f->locks[j];
	f->n_locks--;
}

NTSTATUS brl_unlock_locked(struct file *f, struct open *o, uint64_t offset, uint64_t length)
{
	LOCK_HELD(&f->lock);
	/* Stacked exclusive + shared locks on one range: the exclusive one is
	 * released first (smb2.lock.unlock). */
	int shared = -1;
	for (unsigned i = 0; i < f->n_locks; i++) {
		const struct brl *l = &f->locks[i];
		if (l->owner != o || l->offset != offset || l->length != length)
			continue;
		if (l->exclusive) {
			remove_at(f, i);
			return STATUS_SUCCESS;
		}
		if (shared < 0)
			shared = (int)i;
	}
	if (shared < 0)
		return STATUS_RANGE_NOT_LOCKED;
	remove_at(f, (unsigned)shared);
	return STATUS_SUCCESS;
}

void brl_rollback_locked(struct file *f, unsigned n_before)
{
	LOCK_HELD(&f->lock);
	if (n_before < f->n_locks)
		f->n_locks = n_before;
}

void brl_waiter_add_locked(struct file *f, struct brl_waiter *w)
{
	LOCK_HELD(&f->lock);
	w->file = f;
	w->next = NULL;
	w->prev = NULL;
	w->queued = true;
	w->result = STATUS_PENDING;
	if (!f->waiters) {
		f->waiters = w;
		return;
	}
	struct brl_waiter *t = f->waiters;
	while (t->next)
		t = t->next;
	t->next = w;
	w->prev = t;
}

void brl_waiter_remove_locked(struct file *f, struct brl_waiter *w)
{
	LOCK_HELD(&f->lock);
	if (!w->queued)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		f->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->queued = false;
}

/* Dequeue `w` with `result` and put it on the wake list (in order). */
static void dequeue_to(struct file *f, struct brl_waiter *w, NTSTATUS result, struct brl_waiter **wake)
{
	brl_waiter_remove_locked(f, w);
	w->result = result;
	w->wake_next = NULL;
	while (*wake)
		wake = &(*wake)->wake_next;
	*wake = w;
}

void brl_grant_waiters_locked(struct file *f, struct brl_waiter **wake)
{
	LOCK_HELD(&f->lock);
	struct brl_waiter *w = f->waiters;
	while (w) {
		struct brl_waiter *next = w->next;
		if (brl_lock_locked(f, w->open, w->offset, w->length, w->exclusive) == STATUS_SUCCESS)
			dequeue_to(f, w, STATUS_SUCCESS, wake);
		w = next;
	}
}

void brl_wake_list(struct brl_waiter *wake)
{
	while (wake) {
		/* After wake() the waiter may be gone: read the link first. */
		struct brl_waiter *next = wake->wake_next;
		wake->wake(wake);
		wake = next;
	}
}

void brl_retry(struct file *f)
{
	struct brl_waiter *wake = NULL;
	pthread_mutex_lock(&f->lock);
	brl_grant_waiters_locked(f, &wake);
	pthread_mutex_unlock(&f->lock);
	brl_wake_list(wake);
}

NTSTATUS brl_check_io(struct file *f, const struct open *o, uint64_t offset, uint64_t length, bool write)
{
	if (!f || length == 0)
		return STATUS_SUCCESS;
	NTSTATUS st = STATUS_SUCCESS;
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->n_locks; i++) {
		const struct brl *l = &f->locks[i];
		if (l->length == 0 || !overlap(offset, length, l->offset, l->length))
			continue;
		/* A shared lock makes the range read-only for everyone, its
		 * owner included (smb2.lock.rw-shared). */
		if ((l->exclusive && l->owner != o) || (write && !l->exclusive)) {
			st = STATUS_FILE_LOCK_CONFLICT;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return st;
}

void brl_close_open(struct open *o)
{
	struct file *f = o->file;
	if (!f)
		return;
	struct brl_waiter *wake = NULL;
	pthread_mutex_lock(&f->lock);
	unsigned k = 0;
	for (unsigned i = 0; i < f->n_locks; i++)
		if (f->locks[i].owner != o)
			f->locks[k++] = f->locks[i];
	f->n_locks = k;
	/* A blocked request of the closing open fails (smb2.lock.cancel,
	 * "cancel by close"). */
	for (struct brl_waiter *w = f->waiters, *next; w; w = next) {
		next = w->next;
		if (w->open == o)
			dequeue_to(f, w, STATUS_RANGE_NOT_LOCKED, &wake);
	}
	brl_grant_waiters_locked(f, &wake);
	pthread_mutex_unlock(&f->lock);
	brl_wake_list(wake);
}
