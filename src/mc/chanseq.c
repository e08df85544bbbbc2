#include "mc/chanseq.h"

#include <pthread.h>

#include "util/log.h"
#include "util/metrics.h"

/* The sequence state of an open is guarded by one of a few striped locks
 * chosen by the open's address: the critical sections are a handful of
 * instructions, and the open needs no lock of its own to set up and tear
 * down.  Leaf locks: nothing else is taken under them. */
#define SEQ_LOCKS 64
static pthread_mutex_t seq_locks[SEQ_LOCKS] = {
	[0 ... SEQ_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER,
};

static pthread_mutex_t *seq_lock(const struct open *o)
{
	uintptr_t h = (uintptr_t)o;
	return &seq_locks[(h >> 6 ^ h >> 12) % SEQ_LOCKS];
}

/* s is the open's sequence or newer (16-bit serial arithmetic). */
static bool not_older(uint16_t s, uint16_t current)
{
	return (uint16_t)(s - current) <= 0x7FFF;
}

static void take(struct open_chanseq *cs, struct chanseq_ticket *t)
{
	cs->outstanding++;
	t->counted = true;
	t->generation = cs->generation;
}

/* A newer sequence: everything running so far belongs to the past. */
static void advance(struct open_chanseq *cs, uint16_t seq)
{
	cs->pre_outstanding += cs->outstanding;
	cs->outstanding = 0;
	cs->seq = seq;
	cs->generation++;
}

NTSTATUS chanseq_admit(struct open_chanseq *cs, uint16_t seq, bool replay, bool modifying,
		       struct chanseq_ticket *t)
{
	t->counted = false;
	if (seq == cs->seq) {
		/* A replay must not overtake requests of an older sequence. */
		if (replay && cs->pre_outstanding)
			return modifying ? STATUS_FILE_NOT_AVAILABLE : STATUS_SUCCESS;
		take(cs, t);
		return STATUS_SUCCESS;
	}
	if (!not_older(seq, cs->seq))
		return modifying ? STATUS_FILE_NOT_AVAILABLE : STATUS_SUCCESS; /* stale */
	advance(cs, seq);
	if (replay && cs->pre_outstanding)
		return modifying ? STATUS_FILE_NOT_AVAILABLE : STATUS_SUCCESS;
	take(cs, t);
	return STATUS_SUCCESS;
}

void chanseq_release(struct open_chanseq *cs, const struct chanseq_ticket *t)
{
	if (!t->counted)
		return;
	uint32_t *n = t->generation == cs->generation ? &cs->outstanding : &cs->pre_outstanding;
	BUG_ON(*n == 0); /* every ticket is given back once */
	(*n)--;
}

NTSTATUS chanseq_begin(struct open *o, uint16_t seq, bool replay, bool modifying, struct chanseq_ticket *t)
{
	pthread_mutex_t *l = seq_lock(o);
	pthread_mutex_lock(l);
	NTSTATUS st = chanseq_admit(&o->chanseq, seq, replay, modifying, t);
	pthread_mutex_unlock(l);
	if (st)
		metrics_add(&metrics.chanseq_stale, 1);
	return st;
}

bool chanseq_end_current(struct open *o, struct chanseq_ticket *t)
{
	if (!t->counted)
		return true;
	pthread_mutex_t *l = seq_lock(o);
	pthread_mutex_lock(l);
	bool current = t->generation == o->chanseq.generation;
	if (current)
		chanseq_release(&o->chanseq, t);
	pthread_mutex_unlock(l);
	if (current)
		t->counted = false;
	return current;
}

void chanseq_end(struct open *o, struct chanseq_ticket *t)
{
	if (!t->counted)
		return;
	pthread_mutex_t *l = seq_lock(o);
	pthread_mutex_lock(l);
	chanseq_release(&o->chanseq, t);
	pthread_mutex_unlock(l);
	t->counted = false;
}
