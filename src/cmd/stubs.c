/* Commands of the file service not written yet answer STATUS_NOT_SUPPORTED
 * (never silence).  Each moves to its own file as it is implemented. */
#include "cmd/cmd.h"

#define STUB(name) \
	NTSTATUS name(struct smb2_req *req) { (void)req; return STATUS_NOT_SUPPORTED; }

