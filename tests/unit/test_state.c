/* Byte-range locks (src/state/brl.c): the conflict rules of [MS-FSA]
 * 2.1.5.8 as the smb2.lock torture tests expect them (stacking, zero-length
 * locks, 64-bit ranges, unlock order), read/write conflicts, rollback, and
 * the waiter queue (grant in order, close, cross-thread use). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "state/brl.h"
#include "state/open.h"

static struct file *file;
static struct open *o1, *o2;

static struct open *new_open(struct file *f)
{
	struct open *o = calloc(1, sizeof(*o));
	assert_non_null(o);
	o->fd = -1;
	o->file = f;
	return o;
}

static int setup(void **state)
{
	(void)state;
	static ino_t ino = 1000;
	file = file_get(77, ino++, false);
	assert_non_null(file);
	o1 = new_open(file);
	o2 = new_open(file);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	brl_close_open(o1);
	brl_close_open(o2);
	assert_int_equal(file->n_locks, 0);
	assert_null(file->waiters);
	free(o1);
	free(o2);
	file_put(file);
	return 0;
}

static NTSTATUS lk(struct open *o, uint64_t off, uint64_t len, bool excl)
{
	pthread_mutex_lock(&file->lock);
	NTSTATUS st = brl_lock_locked(file, o, off, len, excl);
	pthread_mutex_unlock(&file->lock);
	return st;
}

static NTSTATUS ulk(struct open *o, uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&file->lock);
	NTSTATUS st = brl_unlock_locked(file, o, off, len);
	pthread_mutex_unlock(&file->lock);
	return st;
}

static void test_range(void **state)
{
	(void)state;
	assert_int_equal(brl_range_check(0, 0), STATUS_SUCCESS);
	assert_int_equal(brl_range_check(UINT64_MAX, 0), STATUS_SUCCESS);
	assert_int_equal(brl_range_check(UINT64_MAX, 1), STATUS_SUCCESS);
	assert_int_equal(brl_range_check(UINT64_MAX, 2), STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(brl_range_check(UINT64_MAX, UINT64_MAX), STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(brl_range_check(1, UINT64_MAX), STATUS_SUCCESS); /* ends at ~0 */
	assert_int_equal(brl_range_check(2, UINT64_MAX), STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(brl_range_check(0, UINT64_MAX), STATUS_SUCCESS);
	assert_int_equal(brl_range_check(1ull << 63, 1ull << 63), STATUS_SUCCESS);

	assert_int_equal(lk(o1, UINT64_MAX, 2, true), STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(file->n_locks, 0);
	/* the last byte of the 64-bit space */
	assert_int_equal(lk(o1, UINT64_MAX, 1, true), STATUS_SUCCESS);
	assert_int_equal(lk(o2, UINT64_MAX, 1, true), STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(lk(o2, UINT64_MAX - 1, 1, true), STATUS_SUCCESS);
	/* [0, ~0 - 1] stops short of o1's byte; o2's own exclusive is fine */
	assert_int_equal(lk(o2, 0, UINT64_MAX, false), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 2, UINT64_MAX, false), STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(lk(o2, 1, UINT64_MAX, false), STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(ulk(o1, UINT64_MAX, 1), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, UINT64_MAX, 1), STATUS_RANGE_NOT_LOCKED);
}

static void test_stacking(void **state)
{
	(void)state;
	/* shared on shared, same open */
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	/* an exclusive does not stack on a shared, not even the same open's */
	assert_int_equal(lk(o1, 0, 10, true), STATUS_LOCK_NOT_GRANTED);
	/* shared of another open is fine */
	assert_int_equal(lk(o2, 5, 10, false), STATUS_SUCCESS);
	assert_int_equal(ulk(o2, 5, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_RANGE_NOT_LOCKED);

	/* shared stacks on the same open's exclusive, not on another's */
	assert_int_equal(lk(o1, 0, 10, true), STATUS_SUCCESS);
	assert_int_equal(lk(o1, 0, 10, true), STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 0, 10, false), STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(lk(o2, 9, 1, true), STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(lk(o2, 10, 1, true), STATUS_SUCCESS);
	/* the exclusive is released first: then o2 may share */
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 0, 10, true), STATUS_LOCK_NOT_GRANTED);
	/* only the owner unlocks, with the exact range */
	assert_int_equal(ulk(o2, 0, 5), STATUS_RANGE_NOT_LOCKED);
	assert_int_equal(ulk(o1, 10, 1), STATUS_RANGE_NOT_LOCKED);
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_RANGE_NOT_LOCKED);
}

/* smb2.lock.zerobytelength: an exclusive lock, then a second one, on the
 * same or a different open. */
static const struct {
	uint64_t off1, len1, off2, len2;
	NTSTATUS st;
} zero_tests[] = {
	{ 10, 0, 10, 0, STATUS_SUCCESS },
	{ 10, 0, 9, 1, STATUS_SUCCESS },
	{ 10, 0, 10, 1, STATUS_SUCCESS },
	{ 10, 0, 11, 1, STATUS_SUCCESS },
	{ 10, 0, 9, 2, STATUS_LOCK_NOT_GRANTED },
	{ 10, 0, 10, 2, STATUS_SUCCESS },
	{ 10, 0, 9, 3, STATUS_LOCK_NOT_GRANTED },
	{ 9, 1, 10, 0, STATUS_SUCCESS },
	{ 10, 1, 10, 0, STATUS_SUCCESS },
	{ 11, 1, 10, 0, STATUS_SUCCESS },
	{ 9, 2, 10, 0, STATUS_LOCK_NOT_GRANTED },
	{ 10, 2, 10, 0, STATUS_SUCCESS },
	{ 9, 3, 10, 0, STATUS_LOCK_NOT_GRANTED },
	{ 0, 0, 0, 0, STATUS_SUCCESS },
	{ UINT64_MAX, 0, UINT64_MAX, 0, STATUS_SUCCESS },
	{ 100, 10, 102, 0, STATUS_LOCK_NOT_GRANTED },
};

static void test_zero_length(void **state)
{
	(void)state;
	for (int other = 0; other < 2; other++) {
		struct open *b = other ? o2 : o1;
		for (size_t i = 0; i < sizeof(zero_tests) / sizeof(zero_tests[0]); i++) {
			assert_int_equal(lk(o1, zero_tests[i].off1, zero_tests[i].len1, true), STATUS_SUCCESS);
			NTSTATUS st = lk(b, zero_tests[i].off2, zero_tests[i].len2, true);
			assert_int_equal(st, zero_tests[i].st);
			if (st == STATUS_SUCCESS)
				assert_int_equal(ulk(b, zero_tests[i].off2, zero_tests[i].len2), STATUS_SUCCESS);
			assert_int_equal(ulk(o1, zero_tests[i].off1, zero_tests[i].len1), STATUS_SUCCESS);
			assert_int_equal(file->n_locks, 0);
		}
	}
}

static void test_io(void **state)
{
	(void)state;
	/* smb2.lock.rw-shared: a shared lock blocks writes, its owner's too */
	assert_int_equal(lk(o1, 0, 100, false), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o1, 50, 100, true), STATUS_FILE_LOCK_CONFLICT);
	assert_int_equal(brl_check_io(file, o1, 50, 100, false), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o2, 99, 1, true), STATUS_FILE_LOCK_CONFLICT);
	assert_int_equal(brl_check_io(file, o2, 0, 100, false), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o2, 100, 100, true), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 100), STATUS_SUCCESS);
	/* smb2.lock.rw-exclusive: only the owner reads and writes */
	assert_int_equal(lk(o1, 100, 100, true), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o1, 100, 100, true), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o1, 100, 100, false), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o2, 150, 100, true), STATUS_FILE_LOCK_CONFLICT);
	assert_int_equal(brl_check_io(file, o2, 0, 101, false), STATUS_FILE_LOCK_CONFLICT);
	assert_int_equal(brl_check_io(file, o2, 0, 100, false), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o2, 200, 1, true), STATUS_SUCCESS);
	/* smb2.lock.zerobyteread: zero-length I/O never conflicts */
	assert_int_equal(brl_check_io(file, o2, 150, 0, false), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 100, 100), STATUS_SUCCESS);
	/* nor do zero-length locks */
	assert_int_equal(lk(o1, 5, 0, true), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(file, o2, 0, 10, true), STATUS_SUCCESS);
	assert_int_equal(brl_check_io(NULL, o2, 0, 10, true), STATUS_SUCCESS);
}

static void test_rollback(void **state)
{
	(void)state;
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 20, 10, true), STATUS_SUCCESS);
	pthread_mutex_lock(&file->lock);
	unsigned before = file->n_locks;
	assert_int_equal(brl_lock_locked(file, o1, 0, 10, false), STATUS_SUCCESS);  /* stacked */
	assert_int_equal(brl_lock_locked(file, o1, 10, 10, true), STATUS_SUCCESS);
	assert_int_equal(brl_lock_locked(file, o1, 25, 1, true), STATUS_LOCK_NOT_GRANTED);
	brl_rollback_locked(file, before);
	pthread_mutex_unlock(&file->lock);
	assert_int_equal(file->n_locks, 2);
	assert_int_equal(lk(o2, 10, 10, true), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 0, 10), STATUS_RANGE_NOT_LOCKED);
}

/* ---- waiters ---- */

struct twaiter {
	struct brl_waiter w;
	atomic_int woken;
};

static void twake(struct brl_waiter *w)
{
	atomic_fetch_add(&((struct twaiter *)w)->woken, 1);
}

static void enqueue(struct twaiter *t, struct open *o, uint64_t off, uint64_t len, bool excl)
{
	memset(t, 0, sizeof(*t));
	t->w.open = o;
	t->w.offset = off;
	t->w.length = len;
	t->w.exclusive = excl;
	t->w.wake = twake;
	pthread_mutex_lock(&file->lock);
	brl_waiter_add_locked(file, &t->w);
	pthread_mutex_unlock(&file->lock);
}

static void test_waiters(void **state)
{
	(void)state;
	struct open *o3 = new_open(file);
	struct twaiter a, b, c;
	assert_int_equal(lk(o1, 0, 10, true), STATUS_SUCCESS);
	enqueue(&a, o2, 5, 1, true);
	enqueue(&b, o3, 5, 1, true);
	enqueue(&c, o3, 50, 1, true); /* free already: granted on the next retry */
	/* an unrelated unlock grants only what is free, in order */
	assert_int_equal(lk(o1, 100, 1, false), STATUS_SUCCESS);
	assert_int_equal(ulk(o1, 100, 1), STATUS_SUCCESS);
	brl_retry(file);
	assert_int_equal(atomic_load(&a.woken), 0);
	assert_int_equal(atomic_load(&b.woken), 0);
	assert_int_equal(atomic_load(&c.woken), 1);
	assert_int_equal(c.w.result, STATUS_SUCCESS);
	assert_false(c.w.queued);
	/* the holder unlocks: the first waiter gets it, the second still waits */
	assert_int_equal(ulk(o1, 0, 10), STATUS_SUCCESS);
	brl_retry(file);
	assert_int_equal(atomic_load(&a.woken), 1);
	assert_int_equal(a.w.result, STATUS_SUCCESS);
	assert_int_equal(atomic_load(&b.woken), 0);
	assert_true(b.w.queued);
	assert_int_equal(lk(o1, 5, 1, false), STATUS_LOCK_NOT_GRANTED);
	/* closing the new holder passes the range on */
	brl_close_open(o2);
	assert_int_equal(atomic_load(&b.woken), 1);
	assert_int_equal(b.w.result, STATUS_SUCCESS);
	assert_int_equal(ulk(o3, 5, 1), STATUS_SUCCESS);
	assert_int_equal(ulk(o3, 50, 1), STATUS_SUCCESS);
	assert_null(file->waiters);

	/* closing the waiting open fails its request with RANGE_NOT_LOCKED */
	assert_int_equal(lk(o1, 0, 10, true), STATUS_SUCCESS);
	enqueue(&a, o2, 0, 10, false);
	enqueue(&b, o3, 0, 10, false);
	brl_close_open(o2);
	assert_int_equal(atomic_load(&a.woken), 1);
	assert_int_equal(a.w.result, STATUS_RANGE_NOT_LOCKED);
	assert_int_equal(atomic_load(&b.woken), 0);
	/* a cancelled waiter is simply removed */
	pthread_mutex_lock(&file->lock);
	brl_waiter_remove_locked(file, &b.w);
	brl_waiter_remove_locked(file, &b.w); /* twice is harmless */
	pthread_mutex_unlock(&file->lock);
	brl_close_open(o1);
	assert_int_equal(atomic_load(&b.woken), 0);
	assert_null(file->waiters);
	assert_int_equal(file->n_locks, 0);
	free(o3);
}

static void test_close_drops_locks(void **state)
{
	(void)state;
	assert_int_equal(lk(o1, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o2, 0, 10, false), STATUS_SUCCESS);
	assert_int_equal(lk(o1, 20, 10, true), STATUS_SUCCESS);
	assert_int_equal(lk(o1, 40, 0, true), STATUS_SUCCESS);
	brl_close_open(o1);
	assert_int_equal(file->n_locks, 1);
	assert_ptr_equal(file->locks[0].owner, o2);
	assert_int_equal(lk(o2, 20, 10, true), STATUS_SUCCESS);
	struct open pipe_open = { .fd = -1 };
	brl_close_open(&pipe_open); /* no file: nothing to do */
}

/* Opens on several threads (workers) taking the same exclusive range: the
 * lock is never held twice. */
static atomic_int holders, max_holders;

static void *hammer(void *arg)
{
	struct open *o = arg;
	for (int i = 0; i < 20000; i++) {
		if (lk(o, 4096, 4096, true) != STATUS_SUCCESS)
			continue;
		int h = atomic_fetch_add(&holders, 1) + 1;
		if (h > atomic_load(&max_holders))
			atomic_store(&max_holders, h);
		assert_int_equal(brl_check_io(file, o, 4096, 1, true), STATUS_SUCCESS);
		atomic_fetch_sub(&holders, 1);
		assert_int_equal(ulk(o, 4096, 4096), STATUS_SUCCESS);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct open *os[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		os[i] = new_open(file);
		assert_int_equal(pthread_create(&th[i], NULL, hammer, os[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&max_holders), 1);
	assert_int_equal(file->n_locks, 0);
	for (int i = 0; i < 4; i++)
		free(os[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_drops_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
