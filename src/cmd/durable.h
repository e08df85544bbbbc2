/* Durable handles ([MS-SMB2] 3.3.5.9.6, .7, .10, .12, .13; 3.3.7.1): the
 * grant at CREATE, keeping an open detached when its session ends with the
 * open still open (connection lost, LOGOFF, PreviousSessionId), the
 * scavenger that closes it at its timeout, the reconnect (DHnC / DH2C),
 * purging a detached open whose oplock another open breaks, and the
 * AppInstanceId context.
 *
 * Lifetime of a detached open (docs/ARCHITECTURE.md "Durable handles"): it
 * stays in the persistent FileId table (open_detach) with its file, share
 * mode, byte-range locks and oplock, and a timer on the worker that
 * detached it.  The timer's argument is a small job naming the open by
 * persistent id and detach number, never a pointer: a reconnect (any
 * worker) cancels the timer when it can, and a timer that fires anyway
 * finds another detach number or an attached open and does nothing. */
#ifndef SMB3D_CMD_DURABLE_H
#define SMB3D_CMD_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "state/open.h"
#include "wire/create.h"

struct create_state;
struct file;

/* v1 (DHnQ): kept 16 minutes, as Windows does (MS-SMB2 3.3.5.9.6 <322>). */
#define DURABLE_V1_TIMEOUT_MS (16u * 60 * 1000)
/* v2 (DH2Q) with Timeout 0: 60 s (3.3.5.9.10). */
#define DURABLE_V2_DEFAULT_MS (60u * 1000)

/* The durable-handle contexts of one CREATE. */
struct durable_req {
	bool dhnq, dh2q, dhnc, dh2c, app;
	struct wire_ctx_dh2q q2;      /* DH2Q */
	struct wire_fileid fid;       /* DHnC / DH2C: the open to reclaim */
	uint8_t create_guid[16];      /* DH2C */
	uint8_t app_id[16];           /* AppInstanceId (with DH2Q only) */
	bool has_lease;               /* RqLs, for a reconnect: it must name the open's lease */
	struct wire_ctx_lease lease;
	const uint8_t *name;          /* the CREATE's name (UTF-16LE): a leased reconnect checks it */
	uint16_t name_len;
};

/* The context c (name_len 4 or 16) into d; STATUS_SUCCESS also for
 * contexts that are not durable ones (*mine false). */
NTSTATUS durable_context(const struct wire_create_ctx *c, struct durable_req *d, bool *mine);
/* The combination rules of 3.3.5.9.7 / .10 / .12 (INVALID_PARAMETER);
 * before 3.0 the v2 contexts do not count. */
NTSTATUS durable_check(struct durable_req *d, uint16_t dialect);

/* DHnC / DH2C: reattach the detached open to this session and tree and
 * answer the CREATE.  Every other field of the request is ignored. */
NTSTATUS durable_reconnect(struct smb2_req *req, const struct durable_req *d);
/* The checks and the reattachment of a reconnect, for the detached open o
 * (the caller's reference), without the answer: a replayed DH2Q CREATE
 * whose CreateGuid names a detached open reclaims it this way
 * (cmd/create_replay.c). */
NTSTATUS durable_reclaim(struct smb2_req *req, struct open *o, const struct durable_req *d);

/* After the oplock grant of a new open: make it durable when it may be
 * (the `durable handles` share option, a batch oplock, not a directory);
 * fills *ctx with the response context and returns 1, else 0. */
unsigned durable_grant(struct smb2_req *req, struct open *o, const struct durable_req *d,
		       struct wire_create_rsp_ctx *ctx);

/* Before the oplock breaks and the share-mode check of a new open o of f:
 * close the older open of the same application instance, and the detached
 * opens whose oplock the new open would break.  true when f's name no
 * longer exists after that (a purged open was delete-on-close): the CREATE
 * starts again. */
bool durable_before_attach(struct create_state *cs, struct open *o, struct file *f, bool overwrite);

/* MS-SMB2 3.3.4.7: a lease break that no channel can carry closes the
 * detached opens it is for, at once.  Before breaking the leases of f but
 * those with key spare_key to at most `keep` (a rename or a delete takes
 * handle caching): close the detached opens whose lease would lose
 * something, so the break waits for none of them.  In a coroutine (a
 * close may yield), without a file lock.  `why` goes to the log. */
void durable_purge_leased(struct file *f, const uint8_t *spare_key, uint32_t keep, const char *why);
/* The same for victims found already (oplock_break_level2's); drops their
 * references. */
struct oplock_victim;
void durable_purge_victims(struct oplock_victim *v, unsigned n, const char *why);

/* Session teardown without a close (state_close_opens_of_tree with
 * keep_durable): detach o and arm its scavenger; false when o is not to be
 * kept (the caller closes it).  On the worker that runs the teardown. */
bool durable_keep(struct open *o);
/* The open is closing (fileops): its scavenger timer, if any, goes. */
void durable_closed(struct open *o);

#endif
