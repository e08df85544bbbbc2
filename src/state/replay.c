#include "state/replay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "state/open.h"
#include "util/log.h"

/* A small chained hash over (ClientGUID, CreateGuid).  Entries are few (one
 * per durable v2 open and per running CREATE), so the bucket count is fixed. */
#define REPLAY_BUCKETS 1024

struct replay_entry {
	uint8_t key[32];             /* ClientGUID then CreateGuid */
	struct open *open;           /* weak; NULL while the CREATE runs */
	struct replay_entry *next;
};

static pthread_mutex_t replay_lock = PTHREAD_MUTEX_INITIALIZER;
static struct replay_entry *buckets[REPLAY_BUCKETS];
static unsigned n_entries;

static void make_key(uint8_t key[32], const uint8_t client_guid[16], const uint8_t create_guid[16])
{
	memcpy(key, client_guid, 16);
	memcpy(key + 16, create_guid, 16);
}

static struct replay_entry **slot(const uint8_t key[32])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int i = 0; i < 32; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	struct replay_entry **pp = &buckets[h % REPLAY_BUCKETS];
	while (*pp && memcmp((*pp)->key, key, 32) != 0)
		pp = &(*pp)->next;
	return pp; /* the entry, or the end of its chain */
}

static void unlink_entry(struct replay_entry **pp)
{
	struct replay_entry *e = *pp;
	*pp = e->next;
	n_entries--;
	free(e);
}

enum replay_state replay_reserve(const uint8_t client_guid[16], const uint8_t create_guid[16], struct open **found)
{
	uint8_t key[32];
	make_key(key, client_guid, create_guid);
	*found = NULL;
	pthread_mutex_lock(&replay_lock);
	struct replay_entry **pp = slot(key);
	enum replay_state r;
	if (*pp && (!(*pp)->open || atomic_load(&(*pp)->open->closed))) {
		r = REPLAY_PENDING;
	} else if (*pp) {
		open_get((*pp)->open); /* alive: open_unregister forgets before it drops the table's ref */
		*found = (*pp)->open;
		r = REPLAY_FOUND;
	} else {
		struct replay_entry *e = calloc(1, sizeof(*e));
		if (e) {
			memcpy(e->key, key, 32);
			*pp = e;
			n_entries++;
		}
		r = e ? REPLAY_NEW : REPLAY_NOMEM;
	}
	pthread_mutex_unlock(&replay_lock);
	return r;
}

void replay_complete(const uint8_t client_guid[16], const uint8_t create_guid[16], struct open *o)
{
	uint8_t key[32];
	make_key(key, client_guid, create_guid);
	pthread_mutex_lock(&replay_lock);
	struct replay_entry **pp = slot(key);
	BUG_ON(!*pp || (*pp)->open); /* reserved by this CREATE, not completed twice */
	if (atomic_load(&o->closed)) {
		/* closed already (a logoff on another channel): its
		 * open_unregister has forgotten it or will find nothing */
		unlink_entry(pp);
	} else {
		(*pp)->open = o;
		memcpy(o->replay_key, key, 32);
		o->replay_cached = true;
	}
	pthread_mutex_unlock(&replay_lock);
}

void replay_abandon(const uint8_t client_guid[16], const uint8_t create_guid[16])
{
	uint8_t key[32];
	make_key(key, client_guid, create_guid);
	pthread_mutex_lock(&replay_lock);
	struct replay_entry **pp = slot(key);
	if (*pp && !(*pp)->open)
		unlink_entry(pp);
	pthread_mutex_unlock(&replay_lock);
}

void replay_forget(struct open *o)
{
	pthread_mutex_lock(&replay_lock);
	if (o->replay_cached) {
		struct replay_entry **pp = slot(o->replay_key);
		if (*pp && (*pp)->open == o)
			unlink_entry(pp);
		o->replay_cached = false;
	}
	pthread_mutex_unlock(&replay_lock);
}

unsigned replay_count(void)
{
	pthread_mutex_lock(&replay_lock);
	unsigned n = n_entries;
	pthread_mutex_unlock(&replay_lock);
	return n;
}
