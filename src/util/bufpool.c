#include "util/bufpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIN_SHIFT 16 /* 64 KiB */
#define MAX_SHIFT 24 /* 16 MiB */
#define HDR 64       /* keeps the payload 64-byte aligned */

size_t bufpool_limit = 64u << 20;
size_t bufpool_pin_limit = 128u << 20;

struct hdr {
	uint32_t cls;        /* shift, or 0 for a plain malloc */
	int32_t slot;        /* registered slot of `owner`, or -1 */
	struct bufpool_registrar *owner;
	struct hdr *next;
	size_t mapped;       /* bytes of an mmap'd buffer (bufpool_get_lazy), 0 = malloc'd */
};
_Static_assert(sizeof(struct hdr) <= HDR, "header fits");

static __thread struct hdr *free_list[MAX_SHIFT + 1];
static __thread size_t kept;
static __thread struct bufpool_registrar *registrar;

static unsigned class_of(size_t len)
{
	unsigned s = MIN_SHIFT;
	while (s <= MAX_SHIFT && ((size_t)1 << s) < len)
		s++;
	return s;
}

/* A fresh pooled buffer: registered with this thread's ring if it has one
 * and a slot is free (otherwise it simply is not a fixed buffer). */
static void reg_buffer(struct hdr *h)
{
	struct bufpool_registrar *r = registrar;
	h->slot = -1;
	h->owner = NULL;
	if (!r)
		return;
	char *base = (char *)h + HDR;
	size_t len = (size_t)1 << h->cls;
	pthread_mutex_lock(&r->lock);
	/* Registering pins (and faults in) the whole buffer: the bytes pinned
	 * per ring are bounded, past that a buffer is simply not fixed. */
	bool room = !bufpool_pin_limit || r->pinned + len <= bufpool_pin_limit;
	for (unsigned i = 0; room && i < BUFPOOL_SLOTS && r->used < BUFPOOL_SLOTS; i++) {
		if (r->slot[i].base)
			continue;
		if (r->reg(r->ctx, i, base, len) == 0) {
			r->slot[i].base = base;
			r->slot[i].len = len;
			r->pinned += len;
			__atomic_add_fetch(&r->used, 1, __ATOMIC_RELAXED);
			h->slot = (int32_t)i;
			h->owner = r;
		}
		break;
	}
	pthread_mutex_unlock(&r->lock);
}

static void unreg_buffer(struct hdr *h)
{
	struct bufpool_registrar *r = h->owner;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->dead)
		r->unreg(r->ctx, (unsigned)h->slot);
	r->pinned -= r->slot[h->slot].len;
	r->slot[h->slot].base = NULL;
	__atomic_sub_fetch(&r->used, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->lock);
}

static void hdr_free(struct hdr *h)
{
	unreg_buffer(h);
	if (h->mapped)
		munmap(h, h->mapped);
	else
		free(h);
}

void *bufpool_get(size_t len)
{
	unsigned cls = class_of(len);
	if (cls > MAX_SHIFT || len < ((size_t)1 << (MIN_SHIFT - 1))) {
		struct hdr *h = malloc(HDR + len);
		if (!h)
			return NULL;
		h->cls = 0;
		h->slot = -1;
		h->owner = NULL;
		h->mapped = 0;
		return (char *)h + HDR;
	}
	struct hdr *h = free_list[cls];
	if (h) {
		free_list[cls] = h->next;
		kept -= (size_t)1 << cls;
	} else {
		h = malloc(HDR + ((size_t)1 << cls));
		if (!h)
			return NULL;
		h->cls = cls;
		h->mapped = 0;
		reg_buffer(h);
	}
	return (char *)h + HDR;
}

void *bufpool_get_lazy(size_t len)
{
	unsigned cls = class_of(len);
	bool pooled = cls <= MAX_SHIFT && len >= ((size_t)1 << (MIN_SHIFT - 1));
	if (pooled && free_list[cls]) {
		/* already resident and owned by the pool: no new memory */
		struct hdr *h = free_list[cls];
		free_list[cls] = h->next;
		kept -= (size_t)1 << cls;
		return (char *)h + HDR;
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t want = HDR + (pooled ? (size_t)1 << cls : len);
	size_t map = (want + page - 1) / page * page;
	/* Anonymous memory is only made resident page by page as the data
	 * is written into it; it is not registered (that would pin it all). */
	void *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct hdr *h = m;
	h->cls = pooled ? cls : 0;
	h->slot = -1;
	h->owner = NULL;
	h->mapped = map;
	return (char *)h + HDR;
}

void bufpool_put(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)((char *)p - HDR);
	size_t size = h->cls ? (size_t)1 << h->cls : 0;
	/* A buffer registered with another thread's ring goes back only to
	 * that thread's pool: here it would be an unregistered one. */
	bool foreign = h->owner && h->owner != registrar;
	if (!h->cls || foreign || kept + size > bufpool_limit) {
		hdr_free(h);
		return;
	}
	/* A buffer filled once (a received PDU) is resident now: pooled, it
	 * may become a fixed buffer of this thread's ring. */
	if (!h->owner)
		reg_buffer(h);
	h->next = free_list[h->cls];
	free_list[h->cls] = h;
	kept += size;
}

void bufpool_drop(void *p)
{
	if (p)
		hdr_free((struct hdr *)((char *)p - HDR));
}

void bufpool_registrar_start(struct bufpool_registrar *r)
{
	pthread_mutex_init(&r->lock, NULL);
	r->dead = false;
	r->used = 0;
	r->pinned = 0;
	for (unsigned i = 0; i < BUFPOOL_SLOTS; i++)
		r->slot[i].base = NULL;
	registrar = r;
}

void bufpool_thread_release(void)
{
	for (unsigned c = 0; c <= MAX_SHIFT; c++) {
		while (free_list[c]) {
			struct hdr *h = free_list[c];
			free_list[c] = h->next;
			hdr_free(h);
		}
	}
	kept = 0;
}

void bufpool_registrar_stop(struct bufpool_registrar *r)
{
	/* The kept buffers of this thread: free them while the ring exists. */
	bufpool_thread_release();
	pthread_mutex_lock(&r->lock);
	r->dead = true; /* buffers still in flight elsewhere only free */
	pthread_mutex_unlock(&r->lock);
	registrar = NULL;
}

int bufpool_fixed_slot(const void *p, size_t len)
{
	struct bufpool_registrar *r = registrar;
	/* read without the lock: only a shortcut, the scan below decides */
	if (!r || !__atomic_load_n(&r->used, __ATOMIC_RELAXED))
		return -1;
	const char *c = p;
	int found = -1;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < BUFPOOL_SLOTS; i++) {
		const char *b = r->slot[i].base;
		if (b && c >= b && c + len <= b + r->slot[i].len) {
			found = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}
