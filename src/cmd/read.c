/* SMB2 READ ([MS-SMB2] 3.3.5.12).
 *
 * The data is read into its own buffer and sent as a separate iovec after
 * the 16-byte response body (DataOffset 0x50), never copied into the
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
	wire_read_encode_rsp(&req->out, n, 0);
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
	uint8_t *buf = NULL;
	if (o->pipe) {
		st = read_pipe(req, o, &q);
		goto out;
	}
	if (o->is_dir) {
		st = STATUS_INVALID_DEVICE_REQUEST;
		goto out;
	}
	if (!(o->access & (FILE_READ_DATA | FILE_EXECUTE))) {
		st = STATUS_ACCESS_DENIED;
		goto out;
	}
	/* File offsets are signed 64-bit in NT: the range must end at or
	 * before INT64_MAX (smb2.rw.invalid). */
	if (q.offset > INT64_MAX || q.length > INT64_MAX - q.offset) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = brl_check_io(o->file, o, q.offset, q.length, false);
	if (st)
		goto out;

	ssize_t n = 0;
	if (q.length >= ZERO_COPY_MIN && req_zero_copy_ok(req)) {
		/* Plain read: the data goes file -> pipe -> socket by splice and
		 * never through user space; only the size is needed here. */
		struct statx stx;
		int r = vfs_statx(o->ident, o->fd, "", AT_EMPTY_PATH, STATX_SIZE, &stx);
		if (r < 0) {
			st = vfs_nt_status(r);
			goto out;
		}
		n = stx.stx_size > q.offset ? (ssize_t)(stx.stx_size - q.offset < q.length ? stx.stx_size - q.offset
											 : q.length) : 0;
		if (n == 0 || (uint32_t)n < q.minimum_count) {
			st = STATUS_END_OF_FILE;
			goto out;
		}
		o->position = q.offset + (uint64_t)n;
		wire_read_encode_rsp(&req->out, (uint32_t)n, 0);
		req_add_file_data(req, o->fd, q.offset, (size_t)n);
		st = STATUS_SUCCESS;
		goto out;
	}
	if (q.length > 0) {
		buf = bufpool_get(q.length);
		if (!buf) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
		n = vfs_pread(o->ident, o->fd, buf, q.length, q.offset);
		if (n < 0) {
			st = vfs_nt_status((int)n);
			goto out;
		}
	}
	/* Nothing at or after the end of file, or less than MinimumCount:
	 * STATUS_END_OF_FILE (a zero-length read of nothing succeeds). */
	if ((n == 0 && q.length > 0) || (uint32_t)n < q.minimum_count) {
		st = STATUS_END_OF_FILE;
		goto out;
	}
	/* FilePositionInformation follows reads, as Samba does
	 * (smb2.read.position). */
	o->position = q.offset + (uint64_t)n;
	wire_read_encode_rsp(&req->out, (uint32_t)n, 0);
	if (n > 0) {
		req_add_data(req, buf, (size_t)n);
		req->data_free = bufpool_put;
		req->data_free_arg = buf;
		buf = NULL;
	}
	st = STATUS_SUCCESS;
out:
	bufpool_put(buf);
	return st;
}
