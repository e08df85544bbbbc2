/* IOCTL ([MS-SMB2] 3.3.5.15): until the FSCTL codecs land every control
 * code is answered as Windows answers an unknown one. */
#include "cmd/cmd.h"

NTSTATUS cmd_ioctl(struct smb2_req *req)
{
	return STATUS_NOT_SUPPORTED;
}
