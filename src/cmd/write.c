/* SMB2 WRITE ([MS-SMB2] 3.3.5.13).
 *
 * The data is written straight from the received message (no copy). */
#include "mc/oplock.h"
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "cmd/streams.h"
#include "cmd/ipc.h"
#include "state/brl.h"
#include "vfs/vfs.h"
#include "wire/rw.h"


/* The largest file NTFS allows (16 TiB - 64 KiB); Windows refuses a write
 * that would end beyond it with STATUS_INVALID_PARAMETER (smb2.rw.invalid
 * checks the same limit). */
#define WRITE_MAX_FILE_SIZE 0xFFFFFFF0000ull


/* End of file for an append-only open. */
static NTSTATUS file_size(struct smb2_req *req, struct open *o, uint64_t *size)
{
	struct statx st;
	int r = vfs_statx(o->ident, o->fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
	if (r < 0)
		return vfs_nt_status(r);
	*size = st.stx_size;
	return STATUS_SUCCESS;
}

/* A replay names the same range, flags and data (state/outcome.h). */
int cmd_write_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3])
{
	struct rd r = req_body(req);
	struct wire_write_req q;
	if (wire_write_decode_req(&r, &q) < 0)
		return -1;
	put_le64(fixed, q.offset);
	put_le32(fixed + 8, q.length);
	put_le32(fixed + 12, q.flags);
	iov[0] = (struct iovec){fixed, 16};
	iov[1] = (struct iovec){(void *)q.data, q.length};
	return q.length ? 2 : 1;
}

NTSTATUS cmd_write(struct smb2_req *req)
{
	struct wire_write_req q;
	if (wire_write_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	NTSTATUS st = req_check_payload(req, q.length);
	if (st)
		return st;
	if (q.channel != SMB2_CHANNEL_NONE)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	uint32_t count = 0;
	if (o->pipe) {
		st = ipc_write(req, o, q.data, q.length);
		count = q.length;
		goto reply;
	}
	if (o->is_dir) {
		st = STATUS_INVALID_DEVICE_REQUEST;
		goto reply;
	}
	if (!(o->access & (FILE_WRITE_DATA | FILE_APPEND_DATA)) || (req->tree && req->tree->read_only)) {
		st = STATUS_ACCESS_DENIED;
		goto reply;
	}
	uint64_t offset = q.offset;
	/* [MS-FSA] 2.1.5.3: an open with FILE_APPEND_DATA but not
	 * FILE_WRITE_DATA writes at the end of file whatever the offset
	 * (0xFFFFFFFFFFFFFFFF, "write to end of file", included).  Other opens
	 * give an offset beyond INT64_MAX STATUS_INVALID_PARAMETER, -1
	 * included, as Windows (smb2.rw.invalid). */
	if (!(o->access & FILE_WRITE_DATA)) {
		st = file_size(req, o, &offset);
		if (st)
			goto reply;
	}
	/* offset <= INT64_MAX and length < 2^32: the sum cannot wrap. */
	if (offset > INT64_MAX || (q.length > 0 && offset + q.length > WRITE_MAX_FILE_SIZE)) {
		st = STATUS_INVALID_PARAMETER;
		goto reply;
	}
	/* Windows cannot extend a file to exactly the maximum size either:
	 * STATUS_DISK_FULL (smb2.rw.invalid against Windows). */
	if (q.length > 0 && offset + q.length == WRITE_MAX_FILE_SIZE) {
		st = STATUS_DISK_FULL;
		goto reply;
	}
	st = brl_check_io(o->file, o, offset, q.length, true);
	if (st)
		goto reply;
	if (q.length > 0) {
		ssize_t n = vfs_pwrite(o->ident, o->fd, q.data, q.length, offset);
		if (n < 0) {
			st = vfs_nt_status((int)n);
			goto reply;
		}
		count = (uint32_t)n;
		/* a streams_xattr stream: stored now, or refused and unchanged */
		if ((st = streams_written(o)))
			goto reply;
		o->position = offset + (uint64_t)n;
		/* other opens' level II oplocks no longer describe the data */
		lease_break_data(o->file, o);
		/* the size and times a listing shows change: the parent's
		 * directory leases break at the close (smb2.dirlease.v2_request) */
		atomic_store(&o->written, true);
		/* The file's last-write time is the kernel's mtime; a "sticky"
		 * write time set by SET_INFO (o->last_write_nt) is the info
		 * handlers' business. */
	}
	if ((q.flags & SMB2_WRITEFLAG_WRITE_THROUGH) || o->write_through) {
		int r = vfs_fsync(o->ident, o->fd, true);
		if (r < 0) {
			st = vfs_nt_status(r);
			goto reply;
		}
	}
	st = STATUS_SUCCESS;
reply:
	if (st == STATUS_SUCCESS)
		wire_write_encode_rsp(&req->out, count);
	return st;
}
