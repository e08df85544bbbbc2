/* Create replay ([MS-SMB2] 3.3.5.9.10): a durable v2 CREATE that a client
 * resends with SMB2_FLAGS_REPLAY_OPERATION (its channel failed before the
 * response arrived) gets the open the first CREATE made: the same FileId
 * and oplock, no second open, no break.
 *
 * The CreateGuid table is state/replay.h.  A CREATE with DH2Q reserves its
 * CreateGuid before it opens anything; while it runs, a replay of it gets
 * STATUS_FILE_NOT_AVAILABLE (the client retries: Samba's behaviour, which
 * smbtorture's `*-sane` cases check; Windows answers differently).  When it
 * succeeds, the entry names its open until it closes, durable or not (a
 * DH2Q without a batch oplock gives no durable handle, but its replay
 * still gets the same open, as Samba does); when it fails, the
 * reservation goes.
 *
 * An open is replay-eligible from its CREATE until the first request that
 * uses its FileId (proto/chain.c clears it): a replay after that is a new
 * CREATE, as Windows does (smbtorture smb2.replay.replay6).  A CREATE
 * without the replay flag whose CreateGuid names an open gets
 * STATUS_DUPLICATE_OBJECTID. */
#ifndef SMB3D_CMD_CREATE_REPLAY_H
#define SMB3D_CMD_CREATE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/durable.h"
#include "wire/create.h"

struct create_replay {
	bool reserved;                /* this CREATE holds the CreateGuid's entry */
	uint8_t client_guid[16], create_guid[16];
};

/* Before the CREATE opens anything.  *answered: the request was a replay
 * and its response is written (from the open the first CREATE made). */
NTSTATUS create_replay_begin(struct smb2_req *req, const struct wire_create_req *q, const struct durable_req *d,
			     struct create_replay *rp, bool *answered);
/* After it: o is the new open (NULL when the CREATE failed). */
void create_replay_end(struct create_replay *rp, struct open *o);

#endif
