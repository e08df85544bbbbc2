/* Credits and the command sequence window (MS-SMB2 3.3.1.1, 3.3.1.2,
 * 3.3.5.2.3).  The window is [seq_low, seq_high): ids the client may use.
 * Ids used out of order are marked in a ring bitmap until seq_low passes
 * them.  Grants keep seq_high - seq_low <= max_credits, so the bitmap never
 * needs more than max_credits bits. */
#include "proto/credits.h"

#include <errno.h>
#include <stdlib.h>

#include "proto/smb.h"

static size_t bit_cap(uint32_t max)
{
	size_t cap = 64;
	while (cap < (size_t)max + 1)
		cap <<= 1;
	return cap;
}

int credits_init(struct smb_conn *sc, uint32_t max_credits)
{
	sc->max_credits = max_credits ? max_credits : 8192;
	sc->used_cap = (uint32_t)bit_cap(sc->max_credits);
	sc->used = calloc(sc->used_cap / 8, 1);
	if (!sc->used)
		return -ENOMEM;
	sc->seq_low = 0;
	sc->seq_high = 1; /* the first NEGOTIATE uses MessageId 0 */
	return 0;
}

static bool bit(const struct smb_conn *sc, uint64_t id)
{
	size_t i = id & (sc->used_cap - 1);
	return sc->used[i / 8] & (1u << (i % 8));
}

static void set_bit(struct smb_conn *sc, uint64_t id, bool v)
{
	size_t i = id & (sc->used_cap - 1);
	if (v)
		sc->used[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		sc->used[i / 8] &= (uint8_t)~(1u << (i % 8));
}

int credits_consume(struct smb_conn *sc, uint64_t mid, uint16_t charge)
{
	uint64_t n = charge ? charge : 1;
	if (mid < sc->seq_low || mid >= sc->seq_high || n > sc->seq_high - mid)
		return -ERANGE;
	for (uint64_t i = 0; i < n; i++)
		if (bit(sc, mid + i))
			return -EEXIST;
	for (uint64_t i = 0; i < n; i++)
		set_bit(sc, mid + i, true);
	while (sc->seq_low < sc->seq_high && bit(sc, sc->seq_low)) {
		set_bit(sc, sc->seq_low, false);
		sc->seq_low++;
	}
	return 0;
}

uint16_t credits_grant(struct smb_conn *sc, uint16_t requested)
{
	uint64_t span = sc->seq_high - sc->seq_low;
	uint64_t room = sc->max_credits > span ? sc->max_credits - span : 0;
	uint64_t g = requested ? requested : 1;
	if (g > room)
		g = room;
	/* Never leave the client with no credit at all (3.3.1.2). */
	if (g == 0 && span == 0)
		g = 1;
	sc->seq_high += g;
	return (uint16_t)g;
}

uint32_t credits_outstanding(const struct smb_conn *sc)
{
	return (uint32_t)(sc->seq_high - sc->seq_low);
}
