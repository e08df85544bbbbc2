/* LOGOFF ([MS-SMB2] 3.3.5.6): close the session's opens and trees and
 * remove it; the response still goes out signed with its key.  Durable
 * opens are kept detached, as Windows does: the same user may reclaim
 * them from a new session (smbtorture durable-open.reopen4). */
#include "cmd/cmd.h"
#include "wire/session_setup.h"

NTSTATUS cmd_logoff(struct smb2_req *req)
{
	if (smb2_small_req_decode(&req->in, 4) < 0)
		return STATUS_INVALID_PARAMETER;
	session_disconnect(req->session);
	smb2_small_resp_encode(&req->out, 4);
	return STATUS_SUCCESS;
}
