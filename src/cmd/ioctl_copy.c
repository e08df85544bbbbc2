/* Resume keys and server-side copy ([MS-SMB2] 3.3.5.15.5, 3.3.5.15.6):
 * FSCTL_SRV_REQUEST_RESUME_KEY names an open, FSCTL_SRV_COPYCHUNK and
 * _COPYCHUNK_WRITE copy chunks from the open a key names into the FileId's
 * open, with copy_file_range where the kernel can. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/fileops.h"
#include "cmd/ioctl_int.h"
#include "cmd/streams.h"
#include "proto/srv.h"
#include "state/brl.h"
#include "vfs/vfs.h"

/* MS-SMB2 3.3.5.15.6: server-side copy limits (Windows' values). */
#define COPYCHUNK_MAX_CHUNKS 256u
#define COPYCHUNK_MAX_CHUNK_SIZE (1u << 20)
#define COPYCHUNK_MAX_TOTAL (16u << 20)
#define COPYCHUNK_RSP_SIZE 12u

#define RESUME_KEY_SIZE 24

/* The key names the open: its FileId, and a tag so that a key from another
 * server (or garbage) is not taken for one of ours. */
static void resume_key_make(const struct open *o, uint8_t key[RESUME_KEY_SIZE])
{
	put_le64(key, o->persistent_id);
	put_le64(key + 8, o->volatile_id);
	memcpy(key + 16, srv.server_guid, 8);
}

static struct open *resume_key_lookup(struct smb2_req *req, const uint8_t *key)
{
	if (memcmp(key + 16, srv.server_guid, 8))
		return NULL;
	/* Any tree of the same session: copies across shares are allowed. */
	return open_lookup(get_le64(key), get_le64(key + 8), req->session, NULL);
}

NTSTATUS fsctl_request_resume_key(struct ioctl_ctx *c)
{
	uint8_t key[RESUME_KEY_SIZE];
	resume_key_make(c->o, key);
	/* Key, ContextLength 0, and the 4-byte Context Windows always sends
	 * (clients parse 32 bytes). */
	uint8_t *b = ioctl_rsp_begin(c, RESUME_KEY_SIZE + 8);
	if (b) {
		wire_fsctl_resume_key_encode(&c->req->out, key);
		wr_zero(&c->req->out, 4);
	}
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

/* A request beyond the limits is answered with the limits (3.3.5.15.6). */
static NTSTATUS copychunk_limits(struct ioctl_ctx *c)
{
	uint8_t *b = ioctl_rsp_begin(c, COPYCHUNK_RSP_SIZE);
	if (b)
		wire_fsctl_copychunk_rsp_encode(&c->req->out, COPYCHUNK_MAX_CHUNKS, COPYCHUNK_MAX_CHUNK_SIZE,
						COPYCHUNK_MAX_TOTAL);
	return ioctl_rsp_end(c, b, STATUS_INVALID_PARAMETER);
}

static bool copychunk_within_limits(const struct wire_copychunk_req *cc)
{
	if (cc->chunk_count > COPYCHUNK_MAX_CHUNKS)
		return false;
	uint64_t total = 0;
	for (uint32_t i = 0; i < cc->chunk_count; i++) {
		struct wire_copychunk ch;
		wire_fsctl_copychunk_get(cc, i, &ch);
		if (ch.length == 0 || ch.length > COPYCHUNK_MAX_CHUNK_SIZE)
			return false;
		total += ch.length;
	}
	return total <= COPYCHUNK_MAX_TOTAL;
}

/* Read the chunk and write it: for what copy_file_range refuses, and
 * memmove semantics for overlapping ranges of one file. */
static int64_t copy_range_by_buffer(const struct vfs_ident *id, int in, uint64_t in_off, int out,
				    uint64_t out_off, uint32_t len)
{
	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	size_t got = 0;
	while (got < len) {
		ssize_t n = vfs_pread(id, in, buf + got, len - got, in_off + got);
		if (n < 0) {
			free(buf);
			return n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	size_t put = 0;
	while (put < got) {
		ssize_t n = vfs_pwrite(id, out, buf + put, got - put, out_off + put);
		if (n < 0) {
			free(buf);
			return n;
		}
		put += (size_t)n;
	}
	free(buf);
	return (int64_t)put;
}

/* Copy one chunk; returns bytes copied or -errno.  copy_file_range first
 * (reflinks / in-kernel copy); when the kernel refuses (same file with
 * overlapping ranges, different file systems, old kernels) through a
 * buffer. */
static int64_t copy_range(const struct vfs_ident *id, int in, uint64_t in_off, int out, uint64_t out_off,
			  uint32_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = vfs_copy_file_range(id, in, in_off + done, out, out_off + done, len - done);
		if (n == 0)
			break; /* source EOF */
		if (n < 0) {
			if (done == 0 && (n == -EXDEV || n == -EINVAL || n == -EOPNOTSUPP || n == -ENOSYS ||
					  n == -EBADF))
				return copy_range_by_buffer(id, in, in_off, out, out_off, len);
			return n;
		}
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* The target must be writable, and for FSCTL_SRV_COPYCHUNK readable too;
 * the source readable (data or execute). */
static NTSTATUS copychunk_check(const struct ioctl_ctx *c, const struct open *src)
{
	const struct open *dst = c->o;
	uint32_t need = FILE_WRITE_DATA; /* 3.3.5.15.6: not APPEND ("copy-chunk streams") */
	if (c->q.ctl_code == FSCTL_SRV_COPYCHUNK)
		need |= FILE_READ_DATA;
	if (src->is_dir || dst->is_dir || src->pipe || dst->pipe || src->fd < 0 || dst->fd < 0)
		return STATUS_INVALID_PARAMETER;
	if (fileops_check_access(dst, need) != STATUS_SUCCESS)
		return STATUS_ACCESS_DENIED;
	if (!(src->access & (FILE_READ_DATA | FILE_EXECUTE)))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* One chunk from src to the FileId's open. */
static NTSTATUS copy_chunk(struct ioctl_ctx *c, struct open *src, int64_t src_size,
			   const struct wire_copychunk *ch)
{
	struct open *dst = c->o;
	/* A chunk that reaches past the source's end fails whole. */
	if (ch->source_offset > (uint64_t)src_size || ch->length > (uint64_t)src_size - ch->source_offset)
		return STATUS_INVALID_VIEW_SIZE;
	/* Byte-range locks of other opens apply as to READ and WRITE. */
	NTSTATUS st;
	if (src->file && (st = brl_check_io(src->file, src, ch->source_offset, ch->length, false)))
		return st;
	if (dst->file && (st = brl_check_io(dst->file, dst, ch->target_offset, ch->length, true)))
		return st;
	int64_t n = copy_range(c->id, src->fd, ch->source_offset, dst->fd, ch->target_offset, ch->length);
	if (n < 0)
		return vfs_nt_status((int)n);
	if ((uint64_t)n != ch->length)
		return STATUS_INVALID_VIEW_SIZE; /* the source shrank meanwhile */
	return streams_written(dst); /* a streams_xattr stream that cannot hold it */
}

NTSTATUS fsctl_copychunk(struct ioctl_ctx *c)
{
	struct wire_copychunk_req cc;
	if (wire_fsctl_copychunk_decode(c->q.in, c->q.in_len, &cc) < 0)
		return STATUS_INVALID_PARAMETER;
	/* Limits first (3.3.5.15.6): a violation answers with the limits. */
	if (!copychunk_within_limits(&cc))
		return copychunk_limits(c);
	struct open *src = resume_key_lookup(c->req, cc.source_key);
	if (!src)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS st = copychunk_check(c, src);
	int64_t src_size = st ? 0 : ioctl_file_size(c->id, src->fd);
	if (!st && src_size < 0)
		st = vfs_nt_status((int)src_size);
	if (st) {
		open_put(src);
		return st;
	}
	uint32_t chunks = 0, total_written = 0;
	for (uint32_t i = 0; i < cc.chunk_count; i++) {
		struct wire_copychunk ch;
		wire_fsctl_copychunk_get(&cc, i, &ch);
		st = copy_chunk(c, src, src_size, &ch);
		if (st)
			break;
		chunks++;
		total_written += ch.length;
	}
	open_put(src);
	/* A failing chunk still gets the response: what was written before
	 * it (3.3.5.15.6). */
	uint8_t *b = ioctl_rsp_begin(c, COPYCHUNK_RSP_SIZE);
	if (b)
		wire_fsctl_copychunk_rsp_encode(&c->req->out, chunks, 0, total_written);
	return ioctl_rsp_end(c, b, st);
}
