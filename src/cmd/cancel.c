/* CANCEL ([MS-SMB2] 3.3.5.16).  A lone CANCEL is handled by the pipeline
 * as soon as it arrives (it must not wait behind the request it cancels);
 * one inside a compound lands here and, like every CANCEL, gets no reply. */
#include "cmd/cmd.h"

NTSTATUS cmd_cancel(struct smb2_req *req)
{
	req->no_response = true;
	return STATUS_SUCCESS;
}
