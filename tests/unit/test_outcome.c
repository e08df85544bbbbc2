/* Outcomes of requests that outlived their channel (src/state/outcome.c),
 * table driven: each step records a request's outcome or looks a replay
 * up, at a given time, and says what must be found. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "state/open.h"
#include "state/outcome.h"

enum op { ADD, FIND };

struct step {
	enum op op;
	uint16_t command, seq;
	const char *what;        /* the body the key is made of */
	uint64_t now;            /* ms */
	uint32_t status;         /* ADD: recorded; FIND: wanted (0 with !found) */
	bool found;              /* FIND: a record answers */
};

#define TTL 60000 /* ms */
#define W 9      /* WRITE */
#define SI 17    /* SET_INFO */

static void key(struct outcome_key *k, const struct step *s)
{
	struct iovec v = {(void *)s->what, strlen(s->what)};
	assert_true(outcome_key_make(k, s->command, s->seq, &v, 1));
}

static void run(const struct step *steps, size_t n)
{
	struct outcome_set set = {0};
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct outcome rec = {.status = s->status, .body_len = 4};
		memcpy(rec.body, "\x11\x22\x33\x44", 4);
		if (s->op == ADD) {
			key(&rec.key, s);
			assert_true(outcome_set_add(&set, &rec, s->now, TTL));
			continue;
		}
		struct outcome_key k;
		key(&k, s);
		struct outcome got;
		bool found = outcome_set_find(&set, &k, s->now, &got);
		if (found != s->found)
			fail_msg("step %zu (%s seq %u at %llu): found %d, want %d", i, s->what, s->seq,
				 (unsigned long long)s->now, found, s->found);
		if (found && (got.status != s->status || got.body_len != 4 || memcmp(got.body, rec.body, 4)))
			fail_msg("step %zu: status %#x, want %#x", i, got.status, s->status);
	}
	outcome_set_clear(&set);
	assert_int_equal(outcome_count(), 0);
}

/* A replay matches only the same command and body, under the record's
 * sequence or up to the window ahead (a client moves on once per failed
 * channel); the record stays for a replay of the replay. */
static void matching(void **state)
{
	(void)state;
	const struct step steps[] = {
		{ADD, W, 5, "off0 len4 AAAA", 0, 0},
		{ADD, SI, 5, "eof 100", 0, 0xC000007F},
		{FIND, W, 6, "off0 len4 AAAA", 10, 0, true},          /* the replay after one failure */
		{FIND, W, 6, "off0 len4 AAAA", 20, 0, true},          /* and its own replay */
		{FIND, W, 7, "off0 len4 AAAA", 30, 0, true},          /* after a second failure */
		{FIND, W, 5, "off0 len4 AAAA", 40, 0, true},          /* the same sequence */
		{FIND, W, 6, "off0 len4 AAAB", 50, 0, false},         /* other data */
		{FIND, W, 6, "off4 len4 AAAA", 60, 0, false},         /* other offset */
		{FIND, SI, 6, "off0 len4 AAAA", 70, 0, false},        /* other command */
		{FIND, SI, 6, "eof 100", 80, 0xC000007F, true},       /* an error is an outcome too */
		{FIND, W, 4, "off0 len4 AAAA", 90, 0, false},         /* an older sequence */
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

/* Bounded in time: past the lifetime nothing is answered, and a look at
 * the set frees what expired. */
static void lifetime(void **state)
{
	(void)state;
	const struct step steps[] = {
		{ADD, W, 1, "a", 1000, 0},
		{ADD, W, 1, "b", 30000, 0},
		{FIND, W, 2, "a", 1000 + TTL - 1, 0, true},
		{FIND, W, 2, "a", 1000 + TTL, 0, false},
		{FIND, W, 2, "b", 1000 + TTL, 0, true},
		{FIND, W, 2, "b", 30000 + TTL, 0, false},
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

/* Bounded by the sequence: once the open has seen a sequence more than the
 * window ahead of a record, an identical request is a new one. */
static void sequence_window(void **state)
{
	(void)state;
	const struct step steps[] = {
		{ADD, W, 0xFFFF, "a", 0, 0},                          /* wraps: 0xFFFF -> 0, 1 */
		{FIND, W, 1, "a", 1, 0, true},
		{FIND, W, 2, "a", 2, 0, false},                        /* 3 ahead: gone */
		{FIND, W, 1, "a", 3, 0, false},                        /* and freed */
		{ADD, W, 10, "b", 4, 0},
		{ADD, W, 13, "c", 5, 0},                               /* a newer record drops b */
		{FIND, W, 10, "b", 6, 0, false},
		{FIND, W, 13, "c", 7, 0, true},
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

/* Bounded in count per open: the oldest goes first. */
static void per_open_bound(void **state)
{
	(void)state;
	struct outcome_set set = {0};
	char what[OUTCOME_PER_OPEN + 1][8];
	struct outcome rec = {0};
	for (int i = 0; i <= OUTCOME_PER_OPEN; i++) {
		snprintf(what[i], sizeof(what[i]), "w%d", i);
		struct iovec v = {what[i], strlen(what[i])};
		assert_true(outcome_key_make(&rec.key, W, 3, &v, 1));
		assert_true(outcome_set_add(&set, &rec, 0, TTL));
	}
	assert_int_equal(set.n, OUTCOME_PER_OPEN);
	assert_int_equal(outcome_count(), OUTCOME_PER_OPEN);
	for (int i = 0; i <= OUTCOME_PER_OPEN; i++) {
		struct outcome_key k;
		struct iovec v = {what[i], strlen(what[i])};
		assert_true(outcome_key_make(&k, W, 3, &v, 1));
		struct outcome got;
		assert_int_equal(outcome_set_find(&set, &k, 1, &got), i > 0);
	}
	outcome_set_clear(&set);
	assert_int_equal(outcome_count(), 0);
}

/* Bounded in the server: past OUTCOME_TOTAL nothing more is recorded,
 * and a freed record makes room again. */
static void total_bound(void **state)
{
	(void)state;
	enum { SETS = OUTCOME_TOTAL / OUTCOME_PER_OPEN + 1 };
	static struct outcome_set sets[SETS];
	struct outcome rec = {0};
	unsigned added = 0;
	for (int i = 0; i < SETS; i++) {
		sets[i].owner = 1000 + (uint64_t)i; /* each open its own user: no share is reached */
		for (int j = 0; j < OUTCOME_PER_OPEN; j++) {
			char what[16];
			snprintf(what, sizeof(what), "%d/%d", i, j);
			struct iovec v = {what, strlen(what)};
			assert_true(outcome_key_make(&rec.key, W, 0, &v, 1));
			added += outcome_set_add(&sets[i], &rec, 0, TTL);
		}
	}
	assert_int_equal(added, OUTCOME_TOTAL);
	assert_int_equal(outcome_count(), OUTCOME_TOTAL);
	assert_false(outcome_set_add(&sets[SETS - 1], &rec, 0, TTL));
	outcome_set_clear(&sets[0]);
	assert_true(outcome_set_add(&sets[SETS - 1], &rec, 0, TTL));
	for (int i = 0; i < SETS; i++)
		outcome_set_clear(&sets[i]);
	assert_int_equal(outcome_count(), 0);
}

/* Bounded per user: one user's opens together hold at most
 * OUTCOME_PER_USER records, and another user still records (one client
 * cannot take the server's whole room, docs/SECURITY.md). */
static void per_user_bound(void **state)
{
	(void)state;
	enum { SETS = OUTCOME_TOTAL / OUTCOME_PER_OPEN };
	static struct outcome_set sets[SETS];
	struct outcome rec = {0};
	unsigned added = 0;
	for (int i = 0; i < SETS; i++) {
		sets[i].owner = 7;
		for (int j = 0; j < OUTCOME_PER_OPEN; j++) {
			char what[16];
			snprintf(what, sizeof(what), "%d/%d", i, j);
			struct iovec v = {what, strlen(what)};
			assert_true(outcome_key_make(&rec.key, W, 0, &v, 1));
			added += outcome_set_add(&sets[i], &rec, 0, TTL);
		}
	}
	assert_int_equal(added, OUTCOME_PER_USER);
	assert_int_equal(outcome_count_of(7), OUTCOME_PER_USER);
	struct outcome_set other = {.owner = 8};
	assert_true(outcome_set_add(&other, &rec, 0, TTL));
	assert_int_equal(outcome_count_of(8), 1);
	/* a record of the full user that goes (its open closed) makes room for it */
	outcome_set_clear(&sets[0]);
	assert_true(outcome_set_add(&sets[SETS - 1], &rec, 0, TTL));
	for (int i = 0; i < SETS; i++)
		outcome_set_clear(&sets[i]);
	outcome_set_clear(&other);
	assert_int_equal(outcome_count(), 0);
	assert_int_equal(outcome_count_of(7), 0);
	assert_int_equal(outcome_count_of(8), 0);
}

/* Two threads record into and look up one open (TSan: the striped lock). */
static struct open shared_open;

static void *hammer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	for (int i = 0; i < 2000; i++) {
		char what[32];
		snprintf(what, sizeof(what), "%lu/%d", (unsigned long)id, i % 40);
		struct iovec v = {what, strlen(what)};
		struct outcome rec = {.status = (uint32_t)i};
		assert_true(outcome_key_make(&rec.key, W, 1, &v, 1));
		if (i % 2)
			(void)open_outcome_record(&shared_open, &rec, 60);
		struct outcome got;
		(void)open_outcome_find(&shared_open, &rec.key, &got);
	}
	return NULL;
}

static void concurrent(void **state)
{
	(void)state;
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(shared_open.outcomes.n <= OUTCOME_PER_OPEN);
	outcome_set_clear(&shared_open.outcomes);
	assert_int_equal(outcome_count(), 0);
}

int main(void)
{
	crypto_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matching),
		cmocka_unit_test(lifetime),
		cmocka_unit_test(sequence_window),
		cmocka_unit_test(per_open_bound),
		cmocka_unit_test(total_bound),
		cmocka_unit_test(per_user_bound),
		cmocka_unit_test(concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
