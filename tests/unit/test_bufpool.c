/* The per-thread buffer pool (src/util/bufpool.c) and its registrar (the
 * io_uring fixed-buffer slots): reuse, the limit, slot lookup for pointers
 * inside a buffer, buffers given back on another thread, and the stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "util/bufpool.h"

static int n_reg, n_unreg, fail_reg;

static int fake_reg(void *ctx, unsigned slot, void *base, size_t len)
{
	(void)ctx;
	(void)slot;
	(void)base;
	(void)len;
	if (fail_reg)
		return -12;
	n_reg++;
	return 0;
}

static void fake_unreg(void *ctx, unsigned slot)
{
	(void)ctx;
	(void)slot;
	n_unreg++;
}

static struct bufpool_registrar reg = { .reg = fake_reg, .unreg = fake_unreg };

static int setup(void **state)
{
	(void)state;
	n_reg = n_unreg = fail_reg = 0;
	bufpool_limit = 64u << 20;
	bufpool_registrar_start(&reg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bufpool_registrar_stop(&reg);
	return 0;
}

static void test_reuse_and_slots(void **state)
{
	(void)state;
	char *a = bufpool_get(1 << 20);
	assert_non_null(a);
	assert_int_equal(n_reg, 1);
	int slot = bufpool_fixed_slot(a, 1 << 20);
	assert_true(slot >= 0);
	/* a pointer inside the buffer, and a range that runs past it */
	assert_int_equal(bufpool_fixed_slot(a + 4097, 100), slot);
	assert_int_equal(bufpool_fixed_slot(a + 4096, (1 << 20) + 1), -1);
	char stack[16];
	assert_int_equal(bufpool_fixed_slot(stack, sizeof(stack)), -1);
	bufpool_put(a);
	char *b = bufpool_get((1 << 20) - 5);
	assert_ptr_equal(a, b); /* same class, reused, not registered again */
	assert_int_equal(n_reg, 1);
	bufpool_put(b);
	/* small buffers are plain mallocs, never registered */
	char *s = bufpool_get(100);
	assert_int_equal(bufpool_fixed_slot(s, 100), -1);
	bufpool_put(s);
	assert_int_equal(n_reg, 1);
}

static void test_limit_frees_and_unregisters(void **state)
{
	(void)state;
	bufpool_limit = 1u << 20;
	char *a = bufpool_get(1 << 20), *b = bufpool_get(1 << 20);
	assert_int_equal(n_reg, 2);
	bufpool_put(a); /* kept */
	bufpool_put(b); /* over the limit: freed */
	assert_int_equal(n_unreg, 1);
}

static void test_failed_registration(void **state)
{
	(void)state;
	fail_reg = 1;
	char *a = bufpool_get(256 << 10);
	assert_non_null(a);
	assert_int_equal(bufpool_fixed_slot(a, 1), -1);
	memset(a, 1, 256 << 10);
	bufpool_put(a);
	assert_int_equal(n_unreg, 0);
}

static void *put_elsewhere(void *p)
{
	bufpool_put(p); /* a thread without a registrar */
	return NULL;
}

static void test_foreign_put(void **state)
{
	(void)state;
	char *a = bufpool_get(2 << 20);
	assert_int_equal(n_reg, 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, put_elsewhere, a), 0);
	pthread_join(t, NULL);
	/* not kept by the other thread: unregistered and freed */
	assert_int_equal(n_unreg, 1);
}

static void test_stop_frees_kept(void **state)
{
	(void)state;
	char *a = bufpool_get(64 << 10), *b = bufpool_get(8 << 20);
	bufpool_put(a);
	bufpool_put(b);
	assert_int_equal(n_unreg, 0);
	bufpool_registrar_stop(&reg);
	assert_int_equal(n_unreg, 2);
	assert_int_equal(reg.used, 0u);
	bufpool_registrar_start(&reg); /* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reuse_and_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_frees_and_unregisters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_frees_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
