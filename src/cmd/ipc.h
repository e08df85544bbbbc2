/* Named pipes on IPC$ (\PIPE\srvsvc, \PIPE\wkssvc, \PIPE\lsarpc) backed by src/rpc/.
 * CREATE on an IPC$ tree calls ipc_open; READ / WRITE / IOCTL
 * FSCTL_PIPE_TRANSCEIVE on an open with o->pipe call the others. */
#ifndef SMB3D_CMD_IPC_H
#define SMB3D_CMD_IPC_H

#include "proto/smb.h"
#include "state/open.h"

/* Open pipe `name` (UTF-8, without a leading "\\PIPE\\"); on success *out is
 * a registered open (caller's reference).  STATUS_OBJECT_NAME_NOT_FOUND for
 * unknown pipes. */
NTSTATUS ipc_open(struct smb2_req *req, const char *name, struct open **out);
/* Up to `len` bytes of pending response; STATUS_BUFFER_OVERFLOW when more of
 * the same message remains.  With nothing pending the READ goes async and
 * waits, as on Windows, until a WRITE or TRANSCEIVE leaves a response,
 * or fails with STATUS_CANCELLED (CANCEL, or the pipe closed).  *data is
 * malloc'd. */
NTSTATUS ipc_read(struct smb2_req *req, struct open *o, uint32_t len, uint8_t **data, uint32_t *n);
NTSTATUS ipc_write(struct smb2_req *req, struct open *o, const uint8_t *buf, uint32_t len);
NTSTATUS ipc_transceive(struct smb2_req *req, struct open *o, const uint8_t *in, uint32_t in_len,
			uint32_t max_out, uint8_t **out, uint32_t *out_len);
void ipc_close(struct open *o);

#endif
