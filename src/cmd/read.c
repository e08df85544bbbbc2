/* SMB2 READ ([MS-SMB2] 3.3.5.12).
 *
 * The data is read into its own buffer and sent as a separate iovec after
 * the 16-byte response body (DataOffset 0x50; 0x58 after Samba's test
 * FSCTL that pads READ responses, cmd/ioctl_torture.c), never copied into the
 * response; a zero-copy path (splice) can replace the buffer later without
 * touching the rest. */
#include <stdlib.h>

#include "util/bufpool.h"
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "cmd/ipc.h"
#include "state/brl.h"
#include "vfs/vfs.h"
#include "wire/rw.h"

static NTSTATUS read_pipe(struct smb2_req *req, struct open *o, const struct wire_read_req *q)
{
	uint8_t *data = NULL;
	uint32_t n = 0;
	NTSTATUS st = ipc_read(req, o, q->length, &data, &n);
	if (nt_is_error(st)) {
		free(data);
		return st;
	}
	/* STATUS_BUFFER_OVERFLOW (more of the message remains) carries data. */
	wire_read_encode_rsp(&req->out, n, 0, req->sc->read_body_pad);
	if (data && n) {
		req_add_data(req, data, n);
		req->data_free = free;
		req->data_free_arg = data;
	} else {
		free(data);
	}
	return st;
}

/* Below this a copy is cheaper than the extra splice round trips. */
#define ZERO_COPY_MIN (64 * 1024)

/* May this open read this range of its file? */
static NTSTATUS read_check(struct open *o, const struct wire_read_req *q)
{
	if (o->is_dir)
		return STATUS_INVALID_DEVICE_REQUEST;
	if (!(o->access & (FILE_READ_DATA | FILE_EXECUTE)))
		return STATUS_ACCESS_DENIED;
	/* File offsets are signed 64-bit in NT: the range must end at or
	 * before INT64_MAX (smb2.rw.invalid). */
	if (q->offset > INT64_MAX || q->length > INT64_MAX - q->offset)
		return STATUS_INVALID_PARAMETER;
	return brl_check_io(o->file, o, q->offset, q->length, false);
}

/* Plain read: the data goes file -> pipe -> socket by splice and never
 * through user space; only the size is needed here. */
static NTSTATUS read_spliced(struct smb2_req *req, struct open *o, const struct wire_read_req *q)
{
	struct statx stx;
	int r = vfs_statx(o->ident, o->fd, "", AT_EMPTY_PATH, STATX_SIZE, &stx);
	if (r < 0)
		return vfs_nt_status(r);
	uint64_t left = stx.stx_size > q->offset ? stx.stx_size - q->offset : 0;
	uint32_t n = left < q->length ? (uint32_t)left : q->length;
	if (n == 0 || n < q->minimum_count)
		return STATUS_END_OF_FILE;
	o->position = q->offset + n;
	wire_read_encode_rsp(&req->out, n, 0, req->sc->read_body_pad);
	req_add_file_data(req, o->fd, q->offset, n);
	return STATUS_SUCCESS;
}

/* The data read into a pooled buffer that the response sends and frees. */
static NTSTATUS read_copied(struct smb2_req *req, struct open *o, const struct wire_read_req *q)
{
	uint8_t *buf = NULL;
	ssize_t n = 0;
	if (q->length > 0) {
		buf = bufpool_get(q->length);
		if (!buf)
			return STATUS_NO_MEMORY;
		n = vfs_pread(o->ident, o->fd, buf, q->length, q->offset);
		if (n < 0) {
			bufpool_put(buf);
			return vfs_nt_status((int)n);
		}
	}
	/* Nothing at or after the end of file, or less than MinimumCount:
	 * STATUS_END_OF_FILE (a zero-length read of nothing succeeds). */
	if ((n == 0 && q->length > 0) || (uint32_t)n < q->minimum_count) {
		bufpool_put(buf);
		return STATUS_END_OF_FILE;
	}
	/* FilePositionInformation follows reads, as Samba does
	 * (smb2.read.position). */
	o->position = q->offset + (uint64_t)n;
	wire_read_encode_rsp(&req->out, (uint32_t)n, 0, req->sc->read_body_pad);
	if (n > 0) {
		req_add_data(req, buf, (size_t)n);
		req->data_free = bufpool_put;
		req->data_free_arg = buf;
	} else {
		bufpool_put(buf);
	}
	return STATUS_SUCCESS;
}

NTSTATUS cmd_read(struct smb2_req *req)
{
	struct wire_read_req q;
	if (wire_read_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	NTSTATUS st = req_check_payload(req, q.length);
	if (st)
		return st;
	/* No RDMA on a TCP transport. */
	if (q.channel != SMB2_CHANNEL_NONE)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	if (o->pipe)
		return read_pipe(req, o, &q);
	st = read_check(o, &q);
	if (st)
		return st;
	if (q.length >= ZERO_COPY_MIN && req_zero_copy_ok(req))
		return read_spliced(req, o, &q);
	return read_copied(req, o, &q);
}
