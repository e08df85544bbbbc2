/* OPLOCK_BREAK acknowledgment ([MS-SMB2] 3.3.5.22.1).  Lease break acks
 * (StructureSize 36) arrive with leases in multichannel part 2. */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/oplock.h"

NTSTATUS cmd_oplock_break(struct smb2_req *req)
{
	struct rd *r = &req->in;
	uint16_t size = rd_le16(r);
	if (size == 36)
		return STATUS_INVALID_PARAMETER; /* no leases are granted yet */
	if (size != 24)
		return STATUS_INVALID_PARAMETER;
	uint8_t level = rd_u8(r);
	rd_skip(r, 5);
	uint64_t persistent = rd_le64(r);
	uint64_t volatile_id = rd_le64(r);
	if (!rd_ok(r))
		return STATUS_INVALID_PARAMETER;
	struct open *o = fileops_lookup(req, persistent, volatile_id);
	if (!o)
		return STATUS_FILE_CLOSED;
	NTSTATUS st = oplock_ack(o, level);
	if (st == STATUS_SUCCESS) {
		struct wr *w = &req->out;
		wr_le16(w, 24);
		wr_u8(w, o->oplock_level);
		wr_u8(w, 0);
		wr_le32(w, 0);
		wr_le64(w, persistent);
		wr_le64(w, volatile_id);
	}
	open_put(o);
	return st;
}
