/* IOCTL, split in four (cmd/ioctl.c: the FSCTL table, its checks and the
 * FSCTLs of the server, pipes and small ones; cmd/ioctl_copy.c: resume key
 * and server-side copy; cmd/ioctl_sparse.c: sparse files, zero data,
 * allocated ranges; cmd/ioctl_torture.c: Samba's smbtorture test FSCTLs).
 * What the four share. */
#ifndef SMB3D_CMD_IOCTL_INT_H
#define SMB3D_CMD_IOCTL_INT_H

#include <stdint.h>

#include "cmd/cmd.h"
#include "wire/ioctl.h"

struct ioctl_ctx {
	struct smb2_req *req;
	struct wire_ioctl_req q;
	const struct vfs_ident *id;
	struct open *o;          /* the FileId's open, for the FSCTLs of a file */
	uint8_t body_pad;        /* zero bytes between the response body and its output
				  * (only FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8) */
};

/* Reserve room for `payload` bytes, then begin the response; the caller
 * writes the payload and ends it with ioctl_rsp_end(c, body, status):
 * STATUS_INTERNAL_ERROR when body is NULL (no room). */
uint8_t *ioctl_rsp_begin(struct ioctl_ctx *c, size_t payload);
NTSTATUS ioctl_rsp_end(struct ioctl_ctx *c, uint8_t *body, NTSTATUS st);
/* An empty successful response. */
NTSTATUS ioctl_rsp_empty(struct ioctl_ctx *c);
/* The size of the file open on fd, or -errno. */
int64_t ioctl_file_size(const struct vfs_ident *id, int fd);

/* cmd/ioctl_copy.c (MS-SMB2 3.3.5.15.5, 3.3.5.15.6) */
NTSTATUS fsctl_request_resume_key(struct ioctl_ctx *c);
NTSTATUS fsctl_copychunk(struct ioctl_ctx *c);

/* cmd/ioctl_sparse.c (FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA,
 * FSCTL_QUERY_ALLOCATED_RANGES: [MS-FSCC] 2.3, [MS-FSA] 2.1.5.9) */
NTSTATUS fsctl_set_sparse(struct ioctl_ctx *c);
NTSTATUS fsctl_set_zero_data(struct ioctl_ctx *c);
NTSTATUS fsctl_query_allocated_ranges(struct ioctl_ctx *c);

/* cmd/ioctl_torture.c: Samba's smbtorture test FSCTLs
 * (libcli/smb/smb_constants.h), known only with "smbd:FSCTL_SMBTORTURE =
 * yes" (the table's `torture` flag) */
#define FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT 0x83848003u
#define FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8 0x83848013u
#define FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8 0x83848023u
#define FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP 0x83848043u
NTSTATUS fsctl_force_unacked(struct ioctl_ctx *c);
NTSTATUS fsctl_torture_body_padding(struct ioctl_ctx *c);
NTSTATUS fsctl_torture_read_padding(struct ioctl_ctx *c);
NTSTATUS fsctl_torture_sleep(struct ioctl_ctx *c);

#endif
