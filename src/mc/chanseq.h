/* Channel sequence numbers ([MS-SMB2] 3.3.5.2.10): the order of requests on
 * one open across channels.
 *
 * A 3.x client raises the ChannelSequence in the header of its requests
 * after it lost a channel.  Each open remembers the newest sequence it has
 * seen and how many requests are running under it (Open.OutstandingRequestCount)
 * and under the older ones (Open.OutstandingPreRequestCount).  A WRITE,
 * SET_INFO or IOCTL that carries an older sequence than the open's, or a
 * replay (SMB2_FLAGS_REPLAY_OPERATION) while requests of an older sequence
 * still run, is refused with STATUS_FILE_NOT_AVAILABLE: a write the client
 * sent before the failure must never land after one it sent after.
 * Other commands with a FileId take part in the counting and may move the
 * sequence forward, but are never refused (smbtorture smb2.replay.replay4:
 * a READ with a newer sequence makes the older WRITE stale).
 *
 * "Newer" is 16-bit serial arithmetic: s is newer than or equal to the
 * open's sequence when (uint16_t)(s - open's) <= 0x7FFF.
 *
 * The state lives in the open (struct open_chanseq, state/open.h); the
 * rules and the locking live here.  A request takes a ticket when it
 * starts (chanseq_begin) and gives it back exactly once when its handler
 * returns (chanseq_end): on success, error, cancel, or a dead connection
 * alike, since the pipeline runs every handler to its end. */
#ifndef SMB3D_MC_CHANSEQ_H
#define SMB3D_MC_CHANSEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "state/open.h"
#include "wire/ntstatus.h"

/* What a request took from its open: nothing, or one count of the
 * generation it ran under (compared with the open's at the end). */
struct chanseq_ticket {
	bool counted;
	uint32_t generation;
};

/* The rules on an open's state, without locks (unit-tested). `modifying`:
 * WRITE, SET_INFO or IOCTL.  Returns STATUS_SUCCESS (t says whether the
 * request was counted) or STATUS_FILE_NOT_AVAILABLE (nothing counted). */
NTSTATUS chanseq_admit(struct open_chanseq *cs, uint16_t seq, bool replay, bool modifying,
		       struct chanseq_ticket *t);
/* Give the ticket back. */
void chanseq_release(struct open_chanseq *cs, const struct chanseq_ticket *t);

/* The same on a live open, under the open's sequence lock. */
NTSTATUS chanseq_begin(struct open *o, uint16_t seq, bool replay, bool modifying, struct chanseq_ticket *t);
void chanseq_end(struct open *o, struct chanseq_ticket *t);
/* chanseq_end, but only when no newer sequence came while the request
 * ran; otherwise the ticket is kept and false returned: the client moved
 * on (it lost the request's channel, 3.2.4.1.x), so the reply may never
 * reach it and the caller keeps the outcome for its replay
 * (state/outcome.h) before it calls chanseq_end. */
bool chanseq_end_current(struct open *o, struct chanseq_ticket *t);

#endif
