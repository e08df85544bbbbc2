#include "mc/lockseq.h"

/* Buckets 1..64 are bits 0..63 of `valid` and entries 0..63 of `number`. */
static bool bucket(uint32_t index, unsigned *b)
{
	if (index < 1 || index > OPEN_LOCKSEQ_BUCKETS)
		return false;
	*b = index - 1;
	return true;
}

bool lockseq_replayed(struct open_lockseq *ls, uint32_t index, uint8_t number)
{
	unsigned b;
	if (!bucket(index, &b) || !(ls->valid & (UINT64_C(1) << b)))
		return false;
	if (ls->number[b] == (number & 0xF))
		return true;
	ls->valid &= ~(UINT64_C(1) << b);
	return false;
}

void lockseq_record(struct open_lockseq *ls, uint32_t index, uint8_t number)
{
	unsigned b;
	if (!bucket(index, &b))
		return;
	ls->number[b] = number & 0xF;
	ls->valid |= UINT64_C(1) << b;
}
