/* CLOSE ([MS-SMB2] 3.3.5.10) */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "wire/close.h"

NTSTATUS cmd_close(struct smb2_req *req)
{
	struct wire_close_req q;
	if (wire_close_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	ioctl_torture_close_wait(req, o); /* a test hook's sleep on o ends first */
	struct wire_close_rsp rsp = { 0 };
	bool post = q.flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
	bool closed = fileops_close_open(o, post ? &rsp : NULL);
	if (!closed)
		return STATUS_FILE_CLOSED; /* a concurrent CLOSE won */
	wire_close_encode_rsp(&req->out, &rsp);
	return STATUS_SUCCESS;
}
