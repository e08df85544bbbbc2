/* ECHO ([MS-SMB2] 3.3.5.17) */
#include "cmd/cmd.h"
#include "wire/session_setup.h"

NTSTATUS cmd_echo(struct smb2_req *req)
{
	if (smb2_small_req_decode(&req->in, 4) < 0)
		return STATUS_INVALID_PARAMETER;
	smb2_small_resp_encode(&req->out, 4);
	return STATUS_SUCCESS;
}
