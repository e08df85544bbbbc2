/* Worker timers (src/loop/timer.c): the heap's order (deadline, then the
 * order of adding), cancel (also of stale ids and from a callback), timers
 * added by a callback, many timers, and a real worker loop firing them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "loop/timer.h"
#include "loop/worker.h"

static struct timer_heap th;
static int fired[200000];
static int n_fired;

static void record(void *arg)
{
	fired[n_fired++] = (int)(intptr_t)arg;
}

static int setup(void **state)
{
	(void)state;
	timer_heap_init(&th);
	n_fired = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	timer_heap_fini(&th);
	return 0;
}

static void test_order(void **state)
{
	(void)state;
	/* deadlines out of order; equal deadlines keep the order of adding */
	const uint64_t when[] = { 50, 10, 30, 10, 20, 50, 10 };
	for (int i = 0; i < 7; i++)
		assert_true(timer_heap_add(&th, when[i], record, (void *)(intptr_t)i) != 0);
	uint64_t next;
	assert_true(timer_heap_next(&th, &next));
	assert_int_equal(next, 10);
	assert_int_equal(timer_heap_run(&th, 9), 0);
	assert_int_equal(timer_heap_run(&th, 20), 4);
	assert_int_equal(timer_heap_run(&th, 49), 1);
	assert_int_equal(timer_heap_run(&th, 1000), 2);
	const int want[] = { 1, 3, 6, 4, 2, 0, 5 };
	assert_int_equal(n_fired, 7);
	assert_memory_equal(fired, want, sizeof(want));
	assert_false(timer_heap_next(&th, &next));
	assert_int_equal(timer_heap_pending(&th), 0);
}

static void test_cancel(void **state)
{
	(void)state;
	timer_id a = timer_heap_add(&th, 10, record, (void *)1);
	timer_id b = timer_heap_add(&th, 20, record, (void *)2);
	timer_id c = timer_heap_add(&th, 30, record, (void *)3);
	assert_true(timer_heap_cancel(&th, b));
	assert_false(timer_heap_cancel(&th, b)); /* twice */
	assert_false(timer_heap_cancel(&th, 0));
	assert_false(timer_heap_cancel(&th, 0xFFFFFFFFull)); /* no such slot */
	assert_int_equal(timer_heap_run(&th, 100), 2);
	assert_int_equal(n_fired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 3);
	assert_false(timer_heap_cancel(&th, a)); /* already ran */
	assert_false(timer_heap_cancel(&th, c));
	/* a stale id does not cancel the timer now in its slot */
	timer_id d = timer_heap_add(&th, 40, record, (void *)4);
	assert_true(d != a && d != b && d != c);
	assert_false(timer_heap_cancel(&th, a));
	assert_false(timer_heap_cancel(&th, b));
	assert_int_equal(timer_heap_pending(&th), 1);
	assert_int_equal(timer_heap_run(&th, 40), 1);
	assert_int_equal(fired[2], 4);
}

/* ---- callbacks that cancel and add ---- */

static timer_id victim, self_id;
static bool self_cancel_result;

static void cancels_victim(void *arg)
{
	record(arg);
	assert_true(timer_heap_cancel(&th, victim));
	self_cancel_result = timer_heap_cancel(&th, self_id);
}

static void test_cancel_from_callback(void **state)
{
	(void)state;
	self_id = timer_heap_add(&th, 10, cancels_victim, (void *)1);
	victim = timer_heap_add(&th, 10, record, (void *)2); /* due in the same run */
	timer_heap_add(&th, 11, record, (void *)3);
	self_cancel_result = true;
	assert_int_equal(timer_heap_run(&th, 100), 2);
	assert_false(self_cancel_result); /* a running timer is no longer pending */
	assert_int_equal(n_fired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 3);
}

static int readds;

static void readd(void *arg)
{
	record(arg);
	if (++readds < 5)
		assert_true(timer_heap_add(&th, 0, readd, arg) != 0); /* already due */
}

static void test_add_from_callback(void **state)
{
	(void)state;
	readds = 0;
	timer_heap_add(&th, 5, readd, (void *)7);
	/* one run never runs what its callbacks added: no endless loop */
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(timer_heap_run(&th, 5), 1);
		assert_int_equal(n_fired, i);
	}
	assert_int_equal(timer_heap_run(&th, 5), 0);
}

static void test_many(void **state)
{
	(void)state;
	enum { N = 100000 };
	static uint64_t deadline[N];
	static timer_id ids[N];
	static bool cancelled[N];
	srand(12345);
	for (int i = 0; i < N; i++) {
		deadline[i] = (uint64_t)(rand() % 5000);
		ids[i] = timer_heap_add(&th, deadline[i], record, (void *)(intptr_t)i);
		assert_true(ids[i] != 0);
	}
	int n_cancel = 0;
	for (int i = 0; i < N; i += 3) {
		assert_true(timer_heap_cancel(&th, ids[i]));
		cancelled[i] = true;
		n_cancel++;
	}
	assert_int_equal(timer_heap_pending(&th), N - n_cancel);
	for (uint64_t now = 0; now < 5000; now += 37)
		timer_heap_run(&th, now);
	timer_heap_run(&th, 5000);
	assert_int_equal(n_fired, N - n_cancel);
	for (int k = 0; k < n_fired; k++) {
		int i = fired[k];
		assert_false(cancelled[i]);
		if (k) {
			int p = fired[k - 1];
			/* by deadline, then in the order added */
			assert_true(deadline[p] < deadline[i] || (deadline[p] == deadline[i] && p < i));
		}
	}
}

/* ---- on a real worker ---- */

static struct worker wk;
static sem_t sem;
static uint64_t fired_at;
static timer_id remote_id;

static void on_fire(void *arg)
{
	(void)arg;
	fired_at = timer_now_ms();
	sem_post(&sem);
}

static void add_local(void *arg)
{
	timer_add(&wk, *(uint64_t *)arg, on_fire, NULL);
}

static void started(void *arg, timer_id id)
{
	(void)arg;
	remote_id = id;
	sem_post(&sem);
}

static volatile bool cancelled_ran;

static void never(void *arg)
{
	(void)arg;
	cancelled_ran = true;
}

static void test_worker(void **state)
{
	(void)state;
	if (worker_init(&wk, 0, 64, false) < 0)
		skip();
	sem_init(&sem, 0, 0);
	assert_int_equal(worker_start(&wk), 0);
	/* the loop sleeps in the ring until the earliest deadline */
	uint64_t t0 = timer_now_ms(), due = t0 + 150;
	assert_int_equal(worker_post(&wk, add_local, &due), 0);
	sem_wait(&sem);
	assert_true(fired_at >= due);
	assert_true(fired_at < due + 1000);
	/* from another thread, through the mailbox; then cancelled the same way */
	fired_at = 0;
	assert_int_equal(timer_add_remote(&wk, timer_now_ms() + 800, never, NULL, started), 0);
	sem_wait(&sem);
	assert_true(remote_id != 0);
	assert_int_equal(timer_cancel_remote(&wk, remote_id), 0);
	due = timer_now_ms() + 1200;
	assert_int_equal(timer_add_remote(&wk, due, on_fire, NULL, NULL), 0);
	sem_wait(&sem);
	assert_true(fired_at >= due);
	assert_false(cancelled_ran);
	worker_stop(&wk);
	worker_join(&wk);
	worker_fini(&wk);
	sem_destroy(&sem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test(test_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
