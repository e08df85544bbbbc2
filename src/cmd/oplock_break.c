/* OPLOCK_BREAK acknowledgments: of an oplock ([MS-SMB2] 3.3.5.22.1,
 * StructureSize 24, with a FileId) or of a lease (3.3.5.22.2,
 * StructureSize 36, with a LeaseKey; on any channel of the client). */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "state/state.h"
#include "wire/oplock.h"

static NTSTATUS lease_ack_req(struct smb2_req *req)
{
	struct wire_lease_ack q;
	if (wire_lease_ack_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	if (!req->session->client)
		return STATUS_OBJECT_NAME_NOT_FOUND; /* no ClientGUID: no lease was given */
	uint32_t state = 0;
	NTSTATUS st = lease_ack(req->session->client->guid, &q, &state);
	if (st == STATUS_SUCCESS)
		wire_lease_ack_encode_rsp(&req->out, q.key, state);
	return st;
}

NTSTATUS cmd_oplock_break(struct smb2_req *req)
{
	if (wire_oplock_break_form(&req->in) == WIRE_LEASE_ACK_SIZE)
		return lease_ack_req(req);
	struct wire_oplock_ack q;
	if (wire_oplock_ack_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	/* the 24-byte form: the pipeline looked its FileId up (fid_form) */
	struct open *o = req->open;
	NTSTATUS st = oplock_ack(o, q.level);
	if (st == STATUS_SUCCESS) {
		/* the level now held, read under the lock that guards it: a
		 * write on another worker may break it to none meanwhile */
		pthread_mutex_lock(&o->file->lock);
		uint8_t level = o->oplock_level;
		pthread_mutex_unlock(&o->file->lock);
		wire_oplock_break_encode(&req->out, level, &q.fid);
	}
	return st;
}
