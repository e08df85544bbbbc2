/* Counts per 64-bit key with a cap each: how much of a shared, bounded
 * resource one user (or other owner) holds, so that no one owner takes it
 * all (docs/SECURITY.md "Limits").  Thread-safe: one mutex per table, a
 * leaf (nothing is taken under it). */
#ifndef SMB3D_KEYCOUNT_H
#define SMB3D_KEYCOUNT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/idtable.h"

struct keycount {
	pthread_mutex_t lock;
	struct idtable t;  /* key + 1 -> malloc'd unsigned count (idtable keys are never 0) */
	bool init;
};

#define KEYCOUNT_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* One more for key, if it holds fewer than cap; false (nothing counted)
 * at the cap or out of memory. */
bool keycount_charge(struct keycount *c, uint64_t key, unsigned cap);
/* One less for key (it must hold one). */
void keycount_uncharge(struct keycount *c, uint64_t key);
/* How many key holds. */
unsigned keycount_of(struct keycount *c, uint64_t key);

#endif
