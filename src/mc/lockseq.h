/* Lock sequence numbers ([MS-SMB2] 3.3.5.14): a LOCK replayed after a
 * channel failure is not applied twice.
 *
 * A client numbers its LOCK requests with a LockSequenceIndex (1..64, a
 * "bucket") and a 4-bit LockSequenceNumber.  After a lock or unlock request
 * succeeds, its bucket remembers its number; a later request with the same
 * bucket and number is a replay and succeeds at once without touching any
 * lock.  A different number clears the bucket and the request runs.  Index
 * 0 and indexes past 64 are never checked (smbtorture
 * smb2.lock.replay_smb3_specification_*).
 *
 * The buckets live in the open (struct open_lockseq, state/open.h), under
 * the open's file lock.  Which opens are checked is the caller's decision
 * (cmd/lock.c): durable and resilient ones, and on a multichannel 3.x
 * connection all of them unless `smb2 disable lock sequence checking`. */
#ifndef SMB3D_MC_LOCKSEQ_H
#define SMB3D_MC_LOCKSEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "state/open.h"

/* Is this request a replay of one that succeeded?  When not, the bucket
 * is cleared (the request runs again and is recorded if it succeeds). */
bool lockseq_replayed(struct open_lockseq *ls, uint32_t index, uint8_t number);
/* The request succeeded: remember it in its bucket. */
void lockseq_record(struct open_lockseq *ls, uint32_t index, uint8_t number);

#endif
