/* OPLOCK_BREAK acknowledgment ([MS-SMB2] 3.3.5.22.1).  Lease break acks
 * (StructureSize 36) arrive with leases in multichannel part 2. */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/oplock.h"
#include "wire/oplock.h"

NTSTATUS cmd_oplock_break(struct smb2_req *req)
{
	if (wire_oplock_break_form(&req->in) == WIRE_LEASE_ACK_SIZE)
		return STATUS_INVALID_PARAMETER; /* no leases are granted yet */
	struct wire_oplock_ack q;
	if (wire_oplock_ack_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	/* the 24-byte form: the pipeline looked its FileId up (fid_form) */
	struct open *o = req->open;
	NTSTATUS st = oplock_ack(o, q.level);
	if (st == STATUS_SUCCESS)
		wire_oplock_break_encode(&req->out, o->oplock_level, &q.fid);
	return st;
}
