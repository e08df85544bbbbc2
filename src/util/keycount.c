#include "util/keycount.h"

#include <stdlib.h>

#include "util/log.h"

static unsigned *find_locked(struct keycount *c, uint64_t key)
{
	return c->init ? idtable_find(&c->t, key + 1) : NULL;
}

bool keycount_charge(struct keycount *c, uint64_t key, unsigned cap)
{
	pthread_mutex_lock(&c->lock);
	if (!c->init) {
		idtable_init(&c->t, 1);
		c->init = true;
	}
	unsigned *n = find_locked(c, key);
	bool ok = !n || *n < cap;
	if (ok && !n) {
		n = calloc(1, sizeof(*n));
		if (!n || idtable_insert(&c->t, key + 1, n) < 0) {
			free(n);
			ok = false;
		}
	}
	if (ok)
		(*n)++;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

void keycount_uncharge(struct keycount *c, uint64_t key)
{
	pthread_mutex_lock(&c->lock);
	unsigned *n = find_locked(c, key);
	BUG_ON(!n || !*n);
	if (--*n == 0) {
		idtable_remove(&c->t, key + 1);
		free(n);
	}
	pthread_mutex_unlock(&c->lock);
}

unsigned keycount_of(struct keycount *c, uint64_t key)
{
	pthread_mutex_lock(&c->lock);
	const unsigned *n = find_locked(c, key);
	unsigned v = n ? *n : 0;
	pthread_mutex_unlock(&c->lock);
	return v;
}
