/* Channel sequence rules (src/mc/chanseq.c, [MS-SMB2] 3.3.5.2.10), table
 * driven: each step is one request's sequence, flags and expected answer;
 * a step may leave its request running (held) to test the counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mc/chanseq.h"

#define FNA STATUS_FILE_NOT_AVAILABLE
#define OK STATUS_SUCCESS

struct step {
	uint16_t seq;
	bool replay, modifying;
	NTSTATUS want;
	bool hold;         /* keep the ticket (the request still runs) */
	int release;       /* >0: first give back the ticket held at step release-1 */
};

static void run(const struct step *steps, size_t n, uint16_t start)
{
	struct open_chanseq cs = {.seq = start};
	struct chanseq_ticket held[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		if (s->release)
			chanseq_release(&cs, &held[s->release - 1]);
		struct chanseq_ticket t;
		NTSTATUS st = chanseq_admit(&cs, s->seq, s->replay, s->modifying, &t);
		if (st != s->want)
			fail_msg("step %zu (seq %#x%s): got %#x, want %#x", i, s->seq, s->replay ? " replay" : "", st, s->want);
		if (st == OK && !s->hold)
			chanseq_release(&cs, &t);
		held[i] = t;
	}
}

/* The sequence window of smbtorture smb2.replay.channel-sequence, for a
 * modifying command, with and without the replay flag: nothing runs in
 * between, so the flag makes no difference. */
static void window(bool replay)
{
	static const struct { uint16_t seq; NTSTATUS want; } tbl[] = {
		{0, OK}, {0x8000, FNA}, {0x8001, FNA}, {0xffff, FNA}, {0x7fff, OK}, {0x7ffe, FNA},
		{0, FNA}, {0x1234, FNA}, {0x8000, OK}, {0xffff, OK}, {0, OK}, {1, OK}, {0, FNA},
		{1, OK}, {0xffff, FNA},
	};
	struct step steps[sizeof(tbl) / sizeof(tbl[0])];
	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++)
		steps[i] = (struct step){.seq = tbl[i].seq, .replay = replay, .modifying = true, .want = tbl[i].want};
	run(steps, sizeof(steps) / sizeof(steps[0]), 0);
}

static void window_plain(void **state) { (void)state; window(false); }
static void window_replay(void **state) { (void)state; window(true); }

/* Reads are never refused, but a newer one moves the open forward, so the
 * write that was sent before it is stale (smb2.replay.replay4). */
static void read_moves_sequence(void **state)
{
	(void)state;
	const struct step steps[] = {
		{.seq = 0, .modifying = true, .want = OK},
		{.seq = 1, .want = OK},                        /* READ, newer */
		{.seq = 0, .modifying = true, .want = FNA},    /* WRITE, stale */
		{.seq = 0, .replay = true, .modifying = true, .want = FNA},
		{.seq = 0, .want = OK},                        /* READ, stale: allowed */
		{.seq = 1, .modifying = true, .want = OK},
	};
	run(steps, sizeof(steps) / sizeof(steps[0]), 0);
}

/* A replay waits until every request of the older sequence has ended;
 * a request without the flag does not. */
static void replay_waits_for_older_requests(void **state)
{
	(void)state;
	const struct step steps[] = {
		/* 0 */ {.seq = 5, .modifying = true, .want = OK, .hold = true},  /* a WRITE in flight */
		/* 1 */ {.seq = 6, .replay = true, .modifying = true, .want = FNA}, /* replay on the new channel */
		/* 2 */ {.seq = 6, .replay = true, .modifying = true, .want = FNA}, /* still running */
		/* 3 */ {.seq = 6, .replay = true, .want = OK},                     /* a READ is let through */
		/* 4 */ {.seq = 6, .replay = true, .modifying = true, .want = OK, .release = 1}, /* drained */
		/* 5 */ {.seq = 6, .modifying = true, .want = OK},
	};
	run(steps, sizeof(steps) / sizeof(steps[0]), 5);
}

static void plain_request_does_not_wait(void **state)
{
	(void)state;
	const struct step steps[] = {
		{.seq = 5, .modifying = true, .want = OK, .hold = true},
		{.seq = 6, .modifying = true, .want = OK, .hold = true},
		{.seq = 6, .replay = true, .modifying = true, .want = FNA},   /* pre count 1 */
		{.seq = 6, .replay = true, .modifying = true, .want = OK, .release = 1},
	};
	run(steps, sizeof(steps) / sizeof(steps[0]), 5);
}

/* Tickets of several older generations all drain into the one pre count. */
static void counts_across_generations(void **state)
{
	(void)state;
	struct open_chanseq cs = {.seq = 0};
	struct chanseq_ticket a, b, c;
	assert_int_equal(chanseq_admit(&cs, 0, false, true, &a), OK);
	assert_int_equal(chanseq_admit(&cs, 1, false, true, &b), OK);
	assert_int_equal(chanseq_admit(&cs, 2, false, true, &c), OK);
	assert_int_equal(cs.outstanding, 1);
	assert_int_equal(cs.pre_outstanding, 2);
	chanseq_release(&cs, &c);
	chanseq_release(&cs, &a);
	assert_int_equal(cs.pre_outstanding, 1);
	chanseq_release(&cs, &b);
	assert_int_equal(cs.outstanding, 0);
	assert_int_equal(cs.pre_outstanding, 0);
	/* a refused request holds nothing */
	assert_int_equal(chanseq_admit(&cs, 0x9000, false, true, &a), FNA);
	assert_false(a.counted);
	chanseq_release(&cs, &a);
	assert_int_equal(cs.outstanding, 0);
}

/* chanseq_end_current: a request that ran while a newer sequence came
 * keeps its ticket (its outcome is kept first, state/outcome.h), and a
 * replay stays refused until chanseq_end gives it back. */
static void overtaken_request_keeps_ticket(void **state)
{
	(void)state;
	static struct open o;
	o.chanseq.seq = 3;
	struct chanseq_ticket a, b, r;
	assert_int_equal(chanseq_begin(&o, 3, false, true, &a), OK);
	assert_true(chanseq_end_current(&o, &a));            /* nothing newer came */
	assert_false(a.counted);
	assert_int_equal(o.chanseq.outstanding, 0);
	assert_int_equal(chanseq_begin(&o, 3, false, true, &b), OK);
	assert_int_equal(chanseq_begin(&o, 4, true, true, &r), FNA); /* the replay moves on, refused */
	assert_false(chanseq_end_current(&o, &b));           /* overtaken: kept */
	assert_true(b.counted);
	assert_int_equal(chanseq_begin(&o, 4, true, true, &r), FNA);
	chanseq_end(&o, &b);
	assert_int_equal(o.chanseq.pre_outstanding, 0);
	assert_int_equal(chanseq_begin(&o, 4, true, true, &r), OK);
	assert_true(chanseq_end_current(&o, &r));
}

/* 16-bit wrap: 0xffff -> 0 -> 1 is forward, 1 -> 0xffff backward. */
static void wraps(void **state)
{
	(void)state;
	const struct step steps[] = {
		{.seq = 0xffff, .modifying = true, .want = OK},
		{.seq = 0, .modifying = true, .want = OK},
		{.seq = 0xffff, .modifying = true, .want = FNA},
		{.seq = 0x7fff, .modifying = true, .want = OK},
		{.seq = 0x7fff + 0x8000, .modifying = true, .want = FNA}, /* exactly half way: older */
	};
	run(steps, sizeof(steps) / sizeof(steps[0]), 0xfff0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window_plain),
		cmocka_unit_test(window_replay),
		cmocka_unit_test(read_moves_sequence),
		cmocka_unit_test(replay_waits_for_older_requests),
		cmocka_unit_test(plain_request_does_not_wait),
		cmocka_unit_test(counts_across_generations),
		cmocka_unit_test(wraps),
		cmocka_unit_test(overtaken_request_keeps_ticket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
