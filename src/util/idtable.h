/* A map from 64-bit ids to pointers (open addressing, linear probing) with
 * id allocation.  Not thread-safe: the owner holds its own lock. */
#ifndef SMB3D_IDTABLE_H
#define SMB3D_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

struct idtable {
	uint64_t *keys;   /* 0 = empty, UINT64_MAX = deleted */
	void **vals;
	size_t cap, n, used;
	uint64_t next_id;
};

void idtable_init(struct idtable *t, uint64_t first_id);
void idtable_fini(struct idtable *t);
/* Allocate a fresh id (never 0, never UINT64_MAX, never in use, below
 * `limit`, wrapping) and store v under it; returns 0 when full/no memory. */
uint64_t idtable_alloc(struct idtable *t, void *v, uint64_t limit);
int idtable_insert(struct idtable *t, uint64_t id, void *v);
void *idtable_find(const struct idtable *t, uint64_t id);
void *idtable_remove(struct idtable *t, uint64_t id);
/* Iterate: for (size_t i = 0; idtable_next(t, &i, &id, &v); ) ... */
int idtable_next(const struct idtable *t, size_t *pos, uint64_t *id, void **v);

#endif
