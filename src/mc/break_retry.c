/* See break_retry.h. */
#include "mc/break_retry.h"

void break_retry_init(struct break_retry *br, bool once, uint64_t first)
{
	*br = (struct break_retry){ .once = once, .first = first };
}

uint64_t break_retry_next(const struct break_retry *br, const uint64_t *ids, unsigned n)
{
	uint64_t best = 0;
	if (br->once) {
		if (br->tries)
			return 0;
		for (unsigned i = 0; i < n; i++)
			if (ids[i] > best)
				best = ids[i];
		return best;
	}
	for (unsigned i = 0; i < n; i++)
		if (!br->tries && br->first && ids[i] == br->first)
			return br->first;
	/* Connection ids grow with age, and every channel the walk tried is
	 * older than the next one: the oldest channel above last_id. */
	for (unsigned i = 0; i < n; i++)
		if (ids[i] > br->last_id && ids[i] != br->first && (!best || ids[i] < best))
			best = ids[i];
	return best;
}

uint64_t break_retry_better(const struct break_retry *br, uint64_t best, uint64_t id)
{
	/* Each rule picks one member of the set by a total order (first,
	 * then the least above last_id; with `once` the greatest), so the
	 * choice of a set is the choice between pairs. */
	uint64_t pair[2] = { id, best };
	return break_retry_next(br, pair, best ? 2 : 1);
}

void break_retry_restart(struct break_retry *br)
{
	br->first = 0;
	br->cur_id = 0;
	br->last_id = 0;
}

void break_retry_tried(struct break_retry *br, uint64_t id)
{
	br->cur_id = id;
	if (id != br->first)
		br->last_id = id;
	br->tries++;
	br->stream_end = 0;
	br->acked_seen = 0;
}

void break_retry_sent(struct break_retry *br, uint64_t stream_end, uint64_t acked)
{
	br->stream_end = stream_end;
	br->acked_seen = acked;
}

enum break_verdict break_retry_check(struct break_retry *br, bool alive, uint64_t acked)
{
	if (!alive)
		return BREAK_FAILED;
	if (acked >= br->stream_end)
		return BREAK_ACKED;
	/* Bytes before the break still draining (a large READ ahead of it on
	 * a slow link): the peer is alive, so wait another round rather than
	 * tear a working channel down. */
	if (acked > br->acked_seen) {
		br->acked_seen = acked;
		return BREAK_WAIT;
	}
	return BREAK_FAILED;
}

unsigned break_retry_timeout_ms(unsigned rto_ms)
{
	if (rto_ms < BREAK_RTO_MIN_MS)
		rto_ms = BREAK_RTO_MIN_MS;
	if (rto_ms > BREAK_RTO_MAX_MS)
		rto_ms = BREAK_RTO_MAX_MS;
	return BREAK_RTO_FACTOR * rto_ms;
}
