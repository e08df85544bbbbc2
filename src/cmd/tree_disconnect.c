/* TREE_DISCONNECT ([MS-SMB2] 3.3.5.8) */
#include "cmd/cmd.h"
#include "wire/session_setup.h"

NTSTATUS cmd_tree_disconnect(struct smb2_req *req)
{
	if (smb2_small_req_decode(&req->in, 4) < 0)
		return STATUS_INVALID_PARAMETER;
	if (!tree_disconnect(req->session, req->tree->id))
		return STATUS_NETWORK_NAME_DELETED;
	smb2_small_resp_encode(&req->out, 4);
	return STATUS_SUCCESS;
}
