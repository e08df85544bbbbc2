/* SMB2 FLUSH ([MS-SMB2] 3.3.5.11): the data of the file reaches stable
 * storage before the reply. */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "vfs/vfs.h"
#include "wire/rw.h"

NTSTATUS cmd_flush(struct smb2_req *req)
{
	struct wire_flush_req q;
	if (wire_flush_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	NTSTATUS st = STATUS_SUCCESS;
	/* Pipes and directories have nothing to flush. */
	if (o->pipe || o->is_dir)
		goto reply;
	/* Windows refuses a flush on an open that cannot write. */
	if (!(o->access & (FILE_WRITE_DATA | FILE_APPEND_DATA))) {
		st = STATUS_ACCESS_DENIED;
		goto reply;
	}
	int r = vfs_fsync(o->ident, o->fd, false);
	if (r < 0)
		st = vfs_nt_status(r);
reply:
	if (st == STATUS_SUCCESS)
		wire_flush_encode_rsp(&req->out);
	return st;
}
