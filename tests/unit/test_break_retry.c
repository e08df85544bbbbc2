/* The break retry state machine (src/mc/break_retry.c, issue 15). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mc/break_retry.h"

/* Oldest first, each channel once, whatever order the session lists them
 * in; none left after the newest (smb2.multichannel.oplocks.test3_specification). */
static void oldest_first_each_once(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 0);
	uint64_t ids[] = { 17, 5, 9 };
	assert_int_equal(break_retry_next(&br, ids, 3), 5);
	break_retry_tried(&br, 5);
	assert_int_equal(break_retry_next(&br, ids, 3), 9);
	break_retry_tried(&br, 9);
	/* channel 9 was torn down; a channel bound later is newer: it counts */
	uint64_t later[] = { 17, 5, 23 };
	assert_int_equal(break_retry_next(&br, later, 3), 17);
	break_retry_tried(&br, 17);
	assert_int_equal(break_retry_next(&br, later, 3), 23);
	break_retry_tried(&br, 23);
	assert_int_equal(break_retry_next(&br, later, 3), 0);
	assert_int_equal(br.tries, 4);
	assert_int_equal(break_retry_next(&br, NULL, 0), 0);
}

/* A break sent again because its answer may have been lost: the walk
 * starts over from the oldest live channel, the tries still counted. */
static void restart_walks_again(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 9);
	uint64_t ids[] = { 5, 9, 17 };
	break_retry_tried(&br, 9);
	break_retry_tried(&br, 5);
	assert_int_equal(break_retry_next(&br, ids, 3), 17);
	break_retry_restart(&br);
	uint64_t live[] = { 17, 9 };
	assert_int_equal(break_retry_next(&br, live, 2), 9);
	break_retry_tried(&br, 9);
	assert_int_equal(br.tries, 3);
	assert_int_equal(break_retry_next(&br, live, 2), 17);
}

/* The open's own channel first, then the others oldest first, skipping it
 * (smb2.multichannel.oplocks.test2: the open's channel is not the one a
 * test blocked); a dead own channel is skipped. */
static void own_channel_first(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 9);
	uint64_t ids[] = { 5, 9, 17, 3 };
	assert_int_equal(break_retry_next(&br, ids, 4), 9);
	break_retry_tried(&br, 9);
	assert_int_equal(br.cur_id, 9);
	assert_int_equal(break_retry_next(&br, ids, 4), 3);
	break_retry_tried(&br, 3);
	assert_int_equal(break_retry_next(&br, ids, 4), 5);
	break_retry_tried(&br, 5);
	assert_int_equal(break_retry_next(&br, ids, 4), 17);
	break_retry_tried(&br, 17);
	assert_int_equal(break_retry_next(&br, ids, 4), 0);

	break_retry_init(&br, false, 9);
	uint64_t gone[] = { 5, 17 };
	assert_int_equal(break_retry_next(&br, gone, 2), 5);
	break_retry_tried(&br, 5);
	assert_int_equal(break_retry_next(&br, gone, 2), 17);
}

/* One channel at a time (a client's connection list, of any length) gives
 * the choice made over the whole set, in every state of the walk: before
 * the first try, with and without the open's own channel, with `once`,
 * and after some tries. */
static void pairwise_is_whole_set(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int round = 0; round < 2000; round++) {
		struct break_retry br;
		seed = seed * 1103515245u + 12345u;
		break_retry_init(&br, (seed >> 16) % 5 == 0, (seed >> 8) % 3 ? (seed >> 20) % 12 + 1 : 0);
		unsigned tries = (seed >> 4) % 4;
		for (unsigned t = 0; t < tries; t++) {
			seed = seed * 1103515245u + 12345u;
			break_retry_tried(&br, (seed >> 16) % 12 + 1);
		}
		uint64_t ids[8];
		seed = seed * 1103515245u + 12345u;
		unsigned n = (seed >> 16) % 9;
		for (unsigned i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			ids[i] = (seed >> 16) % 12 + 1 + 12 * i; /* distinct */
		}
		uint64_t best = 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t b = break_retry_better(&br, best, ids[i]);
			if (b)
				best = b;
		}
		assert_int_equal(best, break_retry_next(&br, ids, n));
	}
}

/* "smb2 disable oplock break retry": the newest channel, once (Windows,
 * smb2.multichannel.oplocks.test3_windows). */
static void once_newest(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, true, 12);
	uint64_t ids[] = { 4, 31, 12 };
	assert_int_equal(break_retry_next(&br, ids, 3), 31);
	break_retry_tried(&br, 31);
	assert_int_equal(break_retry_next(&br, ids, 3), 0);
}

/* Acknowledged: the peer acked at least up to the break's end. */
static void acked(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 0);
	break_retry_tried(&br, 3);
	break_retry_sent(&br, 1000, 900);
	assert_int_equal(break_retry_check(&br, true, 1000), BREAK_ACKED);
	assert_int_equal(break_retry_check(&br, true, 5000), BREAK_ACKED);
}

/* Not acknowledged and no progress: failed; dead: failed at once. */
static void stuck_or_dead(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 0);
	break_retry_tried(&br, 3);
	break_retry_sent(&br, 1000, 900);
	assert_int_equal(break_retry_check(&br, true, 900), BREAK_FAILED);
	break_retry_sent(&br, 1000, 900);
	assert_int_equal(break_retry_check(&br, false, 1000), BREAK_FAILED);
	/* the test hook reports nothing acknowledged */
	break_retry_sent(&br, 1000, 0);
	assert_int_equal(break_retry_check(&br, true, 0), BREAK_FAILED);
}

/* Progress short of the break: wait another round, then fail if it stops. */
static void slow_drain_waits(void **state)
{
	(void)state;
	struct break_retry br;
	break_retry_init(&br, false, 0);
	break_retry_tried(&br, 3);
	break_retry_sent(&br, 1 << 20, 0);
	assert_int_equal(break_retry_check(&br, true, 1000), BREAK_WAIT);
	assert_int_equal(break_retry_check(&br, true, 500000), BREAK_WAIT);
	assert_int_equal(break_retry_check(&br, true, 500000), BREAK_FAILED);
	/* a new channel starts with a clean slate */
	break_retry_tried(&br, 4);
	assert_int_equal(br.stream_end, 0);
	assert_int_equal(br.acked_seen, 0);
}

/* 6 x RTO with the RTO clamped to 0.2-1.0 s. */
static void timeout_clamped(void **state)
{
	(void)state;
	assert_int_equal(break_retry_timeout_ms(0), 1200);
	assert_int_equal(break_retry_timeout_ms(3), 1200);
	assert_int_equal(break_retry_timeout_ms(200), 1200);
	assert_int_equal(break_retry_timeout_ms(350), 2100);
	assert_int_equal(break_retry_timeout_ms(1000), 6000);
	assert_int_equal(break_retry_timeout_ms(120000), 6000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oldest_first_each_once),
		cmocka_unit_test(own_channel_first),
		cmocka_unit_test(restart_walks_again),
		cmocka_unit_test(pairwise_is_whole_set),
		cmocka_unit_test(once_newest),
		cmocka_unit_test(acked),
		cmocka_unit_test(stuck_or_dead),
		cmocka_unit_test(slow_drain_waits),
		cmocka_unit_test(timeout_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
