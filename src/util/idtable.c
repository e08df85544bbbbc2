#include "util/idtable.h"

#include <errno.h>
#include <stdlib.h>

#define DELETED UINT64_MAX

void idtable_init(struct idtable *t, uint64_t first_id)
{
	t->keys = NULL;
	t->vals = NULL;
	t->cap = t->n = t->used = 0;
	t->next_id = first_id ? first_id : 1;
}

void idtable_fini(struct idtable *t)
{
	free(t->keys);
	free(t->vals);
	t->keys = NULL;
	t->vals = NULL;
	t->cap = t->n = t->used = 0;
}

static size_t slot_of(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

static int grow(struct idtable *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 16;
	if (t->n * 2 < t->cap)
		ncap = t->cap; /* only tombstones: rehash at the same size */
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	void **nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (t->keys[i] == 0 || t->keys[i] == DELETED)
			continue;
		size_t s = slot_of(t->keys[i], ncap);
		while (nk[s])
			s = (s + 1) & (ncap - 1);
		nk[s] = t->keys[i];
		nv[s] = t->vals[i];
	}
	free(t->keys);
	free(t->vals);
	t->keys = nk;
	t->vals = nv;
	t->cap = ncap;
	t->used = t->n;
	return 0;
}

int idtable_insert(struct idtable *t, uint64_t id, void *v)
{
	if (id == 0 || id == DELETED)
		return -EINVAL;
	if ((t->used + 1) * 4 >= t->cap * 3 && grow(t) < 0)
		return -ENOMEM;
	size_t s = slot_of(id, t->cap);
	size_t tomb = (size_t)-1;
	while (t->keys[s]) {
		if (t->keys[s] == id)
			return -EEXIST;
		if (t->keys[s] == DELETED && tomb == (size_t)-1)
			tomb = s;
		s = (s + 1) & (t->cap - 1);
	}
	if (tomb != (size_t)-1)
		s = tomb;
	else
		t->used++;
	t->keys[s] = id;
	t->vals[s] = v;
	t->n++;
	return 0;
}

static size_t find_slot(const struct idtable *t, uint64_t id)
{
	if (!t->cap || id == 0 || id == DELETED)
		return (size_t)-1;
	size_t s = slot_of(id, t->cap);
	while (t->keys[s]) {
		if (t->keys[s] == id)
			return s;
		s = (s + 1) & (t->cap - 1);
	}
	return (size_t)-1;
}

void *idtable_find(const struct idtable *t, uint64_t id)
{
	size_t s = find_slot(t, id);
	return s == (size_t)-1 ? NULL : t->vals[s];
}

void *idtable_remove(struct idtable *t, uint64_t id)
{
	size_t s = find_slot(t, id);
	if (s == (size_t)-1)
		return NULL;
	void *v = t->vals[s];
	t->keys[s] = DELETED;
	t->vals[s] = NULL;
	t->n--;
	return v;
}

uint64_t idtable_alloc(struct idtable *t, void *v, uint64_t limit)
{
	if (limit < 2 || t->n + 1 >= limit)
		return 0;
	for (uint64_t tries = 0; tries < limit; tries++) {
		uint64_t id = t->next_id++;
		if (t->next_id >= limit || t->next_id == DELETED)
			t->next_id = 1;
		if (id == 0 || id >= limit)
			continue;
		if (idtable_find(t, id))
			continue;
		return idtable_insert(t, id, v) == 0 ? id : 0;
	}
	return 0;
}

int idtable_next(const struct idtable *t, size_t *pos, uint64_t *id, void **v)
{
	while (*pos < t->cap) {
		size_t i = (*pos)++;
		if (t->keys[i] && t->keys[i] != DELETED) {
			if (id)
				*id = t->keys[i];
			if (v)
				*v = t->vals[i];
			return 1;
		}
	}
	return 0;
}
