#include "loop/timer.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "loop/worker.h"
#include "util/log.h"

#define NOT_QUEUED UINT32_MAX

struct timer_slot {
	uint64_t deadline;
	uint64_t seq;
	timer_fn fn;
	void *arg;
	uint32_t gen;      /* bumped whenever the slot is freed: old ids stop matching */
	uint32_t pos;      /* index in th->heap, NOT_QUEUED when free */
	uint32_t next_free;
};

uint64_t timer_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void timer_heap_init(struct timer_heap *th)
{
	*th = (struct timer_heap){ 0 };
}

void timer_heap_fini(struct timer_heap *th)
{
	free(th->slots);
	free(th->heap);
	*th = (struct timer_heap){ 0 };
}

/* ---- the heap, ordered by (deadline, seq) ---- */

static bool earlier(const struct timer_heap *th, uint32_t a, uint32_t b)
{
	const struct timer_slot *x = &th->slots[a], *y = &th->slots[b];
	return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(struct timer_heap *th, uint32_t pos, uint32_t slot)
{
	th->heap[pos] = slot;
	th->slots[slot].pos = pos;
}

static void sift_up(struct timer_heap *th, uint32_t pos)
{
	uint32_t slot = th->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!earlier(th, slot, th->heap[parent]))
			break;
		heap_set(th, pos, th->heap[parent]);
		pos = parent;
	}
	heap_set(th, pos, slot);
}

static void sift_down(struct timer_heap *th, uint32_t pos)
{
	uint32_t slot = th->heap[pos];
	for (;;) {
		uint32_t child = 2 * pos + 1;
		if (child >= th->n_heap)
			break;
		if (child + 1 < th->n_heap && earlier(th, th->heap[child + 1], th->heap[child]))
			child++;
		if (!earlier(th, th->heap[child], slot))
			break;
		heap_set(th, pos, th->heap[child]);
		pos = child;
	}
	heap_set(th, pos, slot);
}

static void heap_remove(struct timer_heap *th, uint32_t pos)
{
	BUG_ON(pos >= th->n_heap);
	uint32_t last = th->heap[--th->n_heap];
	if (pos == th->n_heap)
		return;
	heap_set(th, pos, last);
	if (pos > 0 && earlier(th, last, th->heap[(pos - 1) / 2]))
		sift_up(th, pos);
	else
		sift_down(th, pos);
}

/* ---- slots ---- */

static void slot_free(struct timer_heap *th, uint32_t idx)
{
	struct timer_slot *s = &th->slots[idx];
	s->pos = NOT_QUEUED;
	s->fn = NULL;
	s->arg = NULL;
	s->gen++;
	s->next_free = th->free_head;
	th->free_head = idx + 1;
}

static int grow(void **p, uint32_t *cap, size_t elem)
{
	if (*cap >= UINT32_MAX / 2)
		return -ENOMEM;
	uint32_t ncap = *cap ? *cap * 2 : 64;
	void *n = realloc(*p, (size_t)ncap * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = ncap;
	return 0;
}

static int slot_alloc(struct timer_heap *th, uint32_t *idx)
{
	if (th->free_head) {
		*idx = th->free_head - 1;
		th->free_head = th->slots[*idx].next_free;
		return 0;
	}
	if (th->n_slots == th->cap_slots && grow((void **)&th->slots, &th->cap_slots, sizeof(*th->slots)) < 0)
		return -ENOMEM;
	*idx = th->n_slots++;
	th->slots[*idx] = (struct timer_slot){ .gen = 1, .pos = NOT_QUEUED };
	return 0;
}

/* id = generation << 32 | (slot index + 1): never 0. */
static timer_id make_id(const struct timer_heap *th, uint32_t idx)
{
	return ((uint64_t)th->slots[idx].gen << 32) | ((uint64_t)idx + 1);
}

timer_id timer_heap_add(struct timer_heap *th, uint64_t deadline_ms, timer_fn fn, void *arg)
{
	BUG_ON(fn == NULL);
	/* the heap never holds more entries than there are slots */
	if (th->n_heap == th->cap_heap && grow((void **)&th->heap, &th->cap_heap, sizeof(*th->heap)) < 0)
		return 0;
	uint32_t idx;
	if (slot_alloc(th, &idx) < 0)
		return 0;
	struct timer_slot *s = &th->slots[idx];
	s->deadline = deadline_ms;
	s->seq = th->seq++;
	s->fn = fn;
	s->arg = arg;
	th->heap[th->n_heap] = idx;
	s->pos = th->n_heap++;
	sift_up(th, s->pos);
	return make_id(th, idx);
}

bool timer_heap_cancel(struct timer_heap *th, timer_id id)
{
	uint64_t low = id & 0xFFFFFFFFu;
	if (low == 0 || low > th->n_slots)
		return false;
	uint32_t idx = (uint32_t)(low - 1);
	struct timer_slot *s = &th->slots[idx];
	if (s->gen != (uint32_t)(id >> 32) || s->pos == NOT_QUEUED)
		return false;
	heap_remove(th, s->pos);
	slot_free(th, idx);
	return true;
}

bool timer_heap_next(const struct timer_heap *th, uint64_t *deadline_ms)
{
	if (!th->n_heap)
		return false;
	*deadline_ms = th->slots[th->heap[0]].deadline;
	return true;
}

unsigned timer_heap_pending(const struct timer_heap *th)
{
	return th->n_heap;
}

unsigned timer_heap_run(struct timer_heap *th, uint64_t now_ms)
{
	uint64_t limit = th->seq; /* timers added from here on wait for the next call */
	unsigned ran = 0;
	while (th->n_heap) {
		uint32_t idx = th->heap[0];
		struct timer_slot *s = &th->slots[idx];
		if (s->deadline > now_ms || s->seq >= limit)
			break;
		timer_fn fn = s->fn;
		void *arg = s->arg;
		/* Off the heap and its id dead before the call: the callback may
		 * cancel itself (a no-op), add timers (the slots may move) or
		 * cancel others. */
		heap_remove(th, 0);
		slot_free(th, idx);
		fn(arg);
		ran++;
	}
	return ran;
}

/* ---- on a worker ---- */

timer_id timer_add(struct worker *w, uint64_t deadline_ms, timer_fn fn, void *arg)
{
	BUG_ON(worker_self() != w);
	return timer_heap_add(&w->timers, deadline_ms, fn, arg);
}

bool timer_cancel(struct worker *w, timer_id id)
{
	if (!id)
		return false;
	BUG_ON(worker_self() != w);
	return timer_heap_cancel(&w->timers, id);
}

struct remote_add {
	struct worker *w;
	uint64_t deadline;
	timer_fn fn;
	void *arg;
	void (*started)(void *arg, timer_id id);
};

static void remote_add_run(void *p)
{
	struct remote_add *r = p;
	/* A mailbox drained after the loop ended (worker_fini, on another
	 * thread) adds nothing: the server is stopping. */
	timer_id id = 0;
	if (worker_self() == r->w) {
		id = timer_add(r->w, r->deadline, r->fn, r->arg);
		if (!id)
			log_warn("worker %d: out of memory adding a timer for another thread", r->w->id);
	}
	if (r->started)
		r->started(r->arg, id);
	free(r);
}

int timer_add_remote(struct worker *w, uint64_t deadline_ms, timer_fn fn, void *arg,
		     void (*started)(void *arg, timer_id id))
{
	struct remote_add *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct remote_add){ w, deadline_ms, fn, arg, started };
	if (worker_post(w, remote_add_run, r) < 0) {
		free(r);
		return -ENOMEM;
	}
	return 0;
}

struct remote_cancel {
	struct worker *w;
	timer_id id;
};

static void remote_cancel_run(void *p)
{
	struct remote_cancel *r = p;
	if (worker_self() == r->w)
		timer_cancel(r->w, r->id);
	free(r);
}

int timer_cancel_remote(struct worker *w, timer_id id)
{
	struct remote_cancel *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct remote_cancel){ w, id };
	if (worker_post(w, remote_cancel_run, r) < 0) {
		free(r);
		return -ENOMEM;
	}
	return 0;
}
