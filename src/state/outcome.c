#include "state/outcome.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "state/open.h"
#include "util/keycount.h"
#include "util/log.h"

/* ---- what the records count against ----
 *
 * Records in the server (n_total) and per owner (the user an open is
 * charged to). */
static struct keycount per_owner = KEYCOUNT_INIT;
static atomic_uint n_total;

/* Room for one more record of owner: within the server's total and its
 * share, and charged to both; false when not (nothing charged). */
static bool charge(uint64_t owner)
{
	if (atomic_fetch_add(&n_total, 1) >= OUTCOME_TOTAL) {
		atomic_fetch_sub(&n_total, 1);
		return false;
	}
	if (!keycount_charge(&per_owner, owner, OUTCOME_PER_USER)) {
		atomic_fetch_sub(&n_total, 1);
		return false;
	}
	return true;
}

static void uncharge(uint64_t owner)
{
	keycount_uncharge(&per_owner, owner);
	atomic_fetch_sub(&n_total, 1);
}

unsigned outcome_count_of(uint64_t owner)
{
	return keycount_of(&per_owner, owner);
}

/* ---- the key ---- */

/* Drawn once: a client cannot aim for a collision with a key it does not
 * know, and the hash costs nothing on the path of a request that is no
 * replay and whose channel lives. */
static uint8_t hash_key[32];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void hash_key_init(void)
{
	if (crypto_random(hash_key, sizeof(hash_key)) < 0)
		BUG_ON(1); /* no randomness: nothing else works either */
}

bool outcome_key_make(struct outcome_key *k, uint16_t command, uint16_t seq, const struct iovec *iov, int n)
{
	pthread_once(&hash_key_once, hash_key_init);
	struct iovec v[8];
	uint8_t cmd[2] = {(uint8_t)command, (uint8_t)(command >> 8)};
	BUG_ON(n < 0 || n > 7);
	v[0] = (struct iovec){cmd, sizeof(cmd)};
	for (int i = 0; i < n; i++)
		v[i + 1] = iov[i];
	k->command = command;
	k->seq = seq;
	return crypto_hmac_sha256(hash_key, sizeof(hash_key), v, n + 1, k->digest) == 0;
}

/* ---- the rules on one set ---- */

/* How far sequence `later` is ahead of `s` (16-bit serial arithmetic);
 * more than 0x7FFF: it is behind. */
static uint16_t ahead(uint16_t later, uint16_t s)
{
	return (uint16_t)(later - s);
}

/* Is record e of no use any more at `now`, for requests of sequence seq? */
static bool stale(const struct outcome *e, uint16_t seq, uint64_t now)
{
	uint16_t d = ahead(seq, e->key.seq);
	return now >= e->expires_ms || (d > OUTCOME_SEQ_WINDOW && d <= 0x7FFF);
}

static void drop_stale(struct outcome_set *s, uint16_t seq, uint64_t now)
{
	struct outcome **pp = &s->head, *prev = NULL;
	while (*pp) {
		struct outcome *e = *pp;
		if (!stale(e, seq, now)) {
			prev = e;
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		if (s->tail == e)
			s->tail = prev;
		s->n--;
		uncharge(s->owner);
		free(e);
	}
}

static bool key_equal(const struct outcome_key *a, const struct outcome_key *b)
{
	return a->command == b->command && memcmp(a->digest, b->digest, sizeof(a->digest)) == 0;
}

bool outcome_set_find(struct outcome_set *s, const struct outcome_key *k, uint64_t now, struct outcome *out)
{
	if (!s->head)
		return false;
	drop_stale(s, k->seq, now);
	for (struct outcome *e = s->head; e; e = e->next) {
		/* not stale: k's sequence is the record's, at most the window
		 * ahead, or behind it (a stale request, refused before this) */
		if (key_equal(&e->key, k) && ahead(k->seq, e->key.seq) <= OUTCOME_SEQ_WINDOW) {
			*out = *e;
			out->next = NULL;
			return true;
		}
	}
	return false;
}

static void drop_oldest(struct outcome_set *s)
{
	struct outcome *e = s->head;
	s->head = e->next;
	if (!s->head)
		s->tail = NULL;
	s->n--;
	uncharge(s->owner);
	free(e);
}

bool outcome_set_add(struct outcome_set *s, const struct outcome *rec, uint64_t now, uint64_t ttl_ms)
{
	drop_stale(s, rec->key.seq, now);
	if (s->n >= OUTCOME_PER_OPEN)
		drop_oldest(s);
	if (!charge(s->owner))
		return false;
	struct outcome *e = malloc(sizeof(*e));
	if (!e) {
		uncharge(s->owner);
		return false;
	}
	*e = *rec;
	e->next = NULL;
	e->expires_ms = now + ttl_ms;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->n++;
	return true;
}

void outcome_set_clear(struct outcome_set *s)
{
	while (s->head)
		drop_oldest(s);
}

unsigned outcome_count(void)
{
	return atomic_load(&n_total);
}

/* ---- on a live open ---- */

/* Striped as the channel sequence locks (mc/chanseq.c): the sections are
 * short, and an open needs no mutex of its own to set up and tear down. */
#define OUTCOME_LOCKS 64
static pthread_mutex_t outcome_locks[OUTCOME_LOCKS] = {
	[0 ... OUTCOME_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER,
};

static pthread_mutex_t *outcome_lock(const struct open *o)
{
	uintptr_t h = (uintptr_t)o;
	return &outcome_locks[(h >> 6 ^ h >> 12) % OUTCOME_LOCKS];
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool open_outcome_find(struct open *o, const struct outcome_key *k, struct outcome *out)
{
	pthread_mutex_t *l = outcome_lock(o);
	pthread_mutex_lock(l);
	bool found = outcome_set_find(&o->outcomes, k, now_ms(), out);
	pthread_mutex_unlock(l);
	return found;
}

bool open_outcome_record(struct open *o, const struct outcome *rec, unsigned ttl_s)
{
	pthread_mutex_t *l = outcome_lock(o);
	pthread_mutex_lock(l);
	/* charge_uid: set by open_register before the open could be found */
	o->outcomes.owner = o->charge_uid;
	bool ok = outcome_set_add(&o->outcomes, rec, now_ms(), (uint64_t)ttl_s * 1000);
	pthread_mutex_unlock(l);
	if (!ok)
		log_debug("outcome of a %u request lost with its channel not kept (%u kept, %u of its user's)",
			  rec->key.command, outcome_count(), outcome_count_of(o->charge_uid));
	return ok;
}
