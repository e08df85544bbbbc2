/* Lock sequence buckets (src/mc/lockseq.c, [MS-SMB2] 3.3.5.14). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mc/lockseq.h"

/* A recorded request replayed with the same number is detected, as often
 * as it comes; nothing is recorded until a request succeeds. */
static void replay_detected(void **state)
{
	(void)state;
	struct open_lockseq ls = {0};
	assert_false(lockseq_replayed(&ls, 1, 1));
	lockseq_record(&ls, 1, 1);
	assert_true(lockseq_replayed(&ls, 1, 1));
	assert_true(lockseq_replayed(&ls, 1, 1));
	assert_false(lockseq_replayed(&ls, 2, 1));    /* another bucket */
}

/* Another number clears the bucket: the old number is no replay any more. */
static void other_number_clears(void **state)
{
	(void)state;
	struct open_lockseq ls = {0};
	lockseq_record(&ls, 5, 3);
	assert_false(lockseq_replayed(&ls, 5, 4));
	assert_false(lockseq_replayed(&ls, 5, 3));
	lockseq_record(&ls, 5, 4);
	assert_true(lockseq_replayed(&ls, 5, 4));
}

/* Only buckets 1..64 exist; 0 and 65.. are never checked nor recorded. */
static void bucket_range(void **state)
{
	(void)state;
	struct open_lockseq ls = {0};
	for (uint32_t i = 1; i <= 64; i++)
		lockseq_record(&ls, i, (uint8_t)i);
	assert_int_equal(ls.valid, UINT64_MAX);
	assert_true(lockseq_replayed(&ls, 64, 64 & 0xF));
	lockseq_record(&ls, 0, 1);
	lockseq_record(&ls, 65, 1);
	lockseq_record(&ls, 0x0FFFFFFF, 1);
	assert_false(lockseq_replayed(&ls, 0, 1));
	assert_false(lockseq_replayed(&ls, 65, 1));
	assert_false(lockseq_replayed(&ls, 0x0FFFFFFF, 1));
	assert_int_equal(ls.valid, UINT64_MAX);
}

/* The number is 4 bits. */
static void number_is_four_bits(void **state)
{
	(void)state;
	struct open_lockseq ls = {0};
	lockseq_record(&ls, 3, 0x1F);
	assert_true(lockseq_replayed(&ls, 3, 0xF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_detected),
		cmocka_unit_test(other_number_clears),
		cmocka_unit_test(bucket_range),
		cmocka_unit_test(number_is_four_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
