/* Commands of the file service not written yet answer STATUS_NOT_SUPPORTED
 * (never silence).  Each moves to its own file as it is implemented. */
#include "cmd/cmd.h"

#define STUB(name) \
	NTSTATUS name(struct smb2_req *req) { (void)req; return STATUS_NOT_SUPPORTED; }

STUB(cmd_create)
STUB(cmd_close)
STUB(cmd_flush)
STUB(cmd_read)
STUB(cmd_write)
STUB(cmd_lock)
STUB(cmd_query_directory)
STUB(cmd_change_notify)
STUB(cmd_query_info)
STUB(cmd_set_info)
STUB(cmd_oplock_break)
