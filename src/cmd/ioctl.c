/* IOCTL ([MS-SMB2] 3.3.5.15): FSCTLs of the server (validate negotiate,
 * network interfaces, resume key + server-side copy), of named pipes
 * (transceive) and of the file system (sparse files, zero data, allocated
 * ranges).  Everything else is answered as Windows answers an FSCTL it does
 * not implement.
 *
 * Shape of every FSCTL handler: check the FileId and access, parse the
 * input, act, then write the output payload between wire_ioctl_rsp_begin
 * and _end.  Errors carry no payload, except where the spec says so
 * (copy-chunk limits, a partial pipe message). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/alloc.h"
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "cmd/streams.h"
#include "cmd/ipc.h"
#include "mc/netif.h"
#include "proto/srv.h"
#include "state/brl.h"
#include "util/log.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"
#include "wire/ioctl.h"

#define FSCTL_GET_OBJECT_ID 0x0009009Cu
#define FSCTL_GET_INTEGRITY_INFORMATION 0x0009027Cu
#define FSCTL_SET_INTEGRITY_INFORMATION 0x0009C280u
#define FSCTL_QUERY_FILE_REGIONS 0x00090284u

/* MS-SMB2 3.3.5.15.6: server-side copy limits (Windows' values). */
#define COPYCHUNK_MAX_CHUNKS 256u
#define COPYCHUNK_MAX_CHUNK_SIZE (1u << 20)
#define COPYCHUNK_MAX_TOTAL (16u << 20)
#define COPYCHUNK_RSP_SIZE 12u

#define RESUME_KEY_SIZE 24
#define QAR_MAX_RANGES 65536u

struct ioctl_ctx {
	struct smb2_req *req;
	struct wire_ioctl_req q;
	const struct vfs_ident *id;
	struct open *o;          /* the FileId's open, for file FSCTLs */
};

static bool fid_is_none(const struct wire_fileid *f)
{
	return f->persistent == UINT64_MAX && f->volatile_ == UINT64_MAX;
}

/* Reserve room, then begin the response; the caller writes the payload. */
static uint8_t *rsp_begin(struct ioctl_ctx *c, size_t payload)
{
	if (req_out_reserve(c->req, 48 + payload + 8) < 0)
		return NULL;
	return wire_ioctl_rsp_begin(&c->req->out, c->q.ctl_code, &c->q.fid);
}

static NTSTATUS rsp_end(struct ioctl_ctx *c, uint8_t *body, NTSTATUS st)
{
	if (!body || wire_ioctl_rsp_end(&c->req->out, body) < 0)
		return STATUS_INTERNAL_ERROR;
	return st;
}

/* An empty successful response. */
static NTSTATUS rsp_empty(struct ioctl_ctx *c)
{
	return rsp_end(c, rsp_begin(c, 0), STATUS_SUCCESS);
}

/* ---- FSCTL_VALIDATE_NEGOTIATE_INFO (3.3.5.15.12) ---- */

static NTSTATUS fsctl_validate_negotiate(struct ioctl_ctx *c)
{
	struct smb2_req *req = c->req;
	struct smb_conn *sc = req->sc;
	if (!fid_is_none(&c->q.fid))
		return STATUS_INVALID_PARAMETER;
	struct wire_validate_neg_req v;
	if (wire_fsctl_validate_neg_decode(c->q.in, c->q.in_len, &v) < 0)
		return STATUS_INVALID_PARAMETER;
	if (c->q.max_output_response < 24)
		return STATUS_INVALID_PARAMETER;
	/* The greatest dialect common to the server and the request's list
	 * must be the connection's; everything else must be what NEGOTIATE
	 * carried.  A mismatch means someone tampered with the negotiation:
	 * drop the connection without an answer. */
	uint16_t best = 0;
	for (unsigned i = 0; i < v.dialect_count; i++) {
		uint16_t d = wire_fsctl_validate_neg_dialect(&v, i);
		if (negotiate_dialect_enabled(sc->conf, d) && d > best)
			best = d;
	}
	const char *why = NULL;
	if (best != sc->dialect)
		why = "dialect";
	else if (memcmp(v.guid, sc->client_guid, 16))
		why = "client guid";
	else if (v.security_mode != sc->client_sec_mode)
		why = "security mode";
	else if (v.capabilities != sc->client_caps)
		why = "capabilities";
	if (why) {
		log_warn("VALIDATE_NEGOTIATE_INFO: %s differs from the negotiation; disconnecting", why);
		req_disconnect(req, "validate negotiate mismatch");
		return STATUS_ACCESS_DENIED;
	}
	req->sign = true; /* 3.3.5.15.12: the response MUST be signed */
	uint8_t *b = rsp_begin(c, 24);
	if (b)
		wire_fsctl_validate_neg_rsp_encode(&req->out, sc->server_caps, srv.server_guid,
						   sc->server_sec_mode, sc->dialect);
	return rsp_end(c, b, STATUS_SUCCESS);
}

/* ---- FSCTL_QUERY_NETWORK_INTERFACE_INFO (3.3.5.15.11) ---- */

static NTSTATUS fsctl_network_interfaces(struct ioctl_ctx *c)
{
	if (!fid_is_none(&c->q.fid))
		return STATUS_INVALID_PARAMETER;
	struct conf *cf = conf_current_get();
	struct netif *v = NULL;
	size_t n = 0;
	int r = netif_list(cf, &v, &n);
	conf_current_put(cf);
	if (r < 0)
		return vfs_nt_status(r);
	NTSTATUS st = STATUS_SUCCESS;
	struct wire_netif *w = calloc(n ? n : 1, sizeof(*w));
	if (!w) {
		free(v);
		return STATUS_NO_MEMORY;
	}
	for (size_t i = 0; i < n; i++) {
		w[i].ifindex = v[i].if_index;
		w[i].capability = (v[i].rss ? SMB2_NETIF_RSS_CAPABLE : 0) | (v[i].rdma ? SMB2_NETIF_RDMA_CAPABLE : 0);
		w[i].link_speed = v[i].speed;
		w[i].ipv6 = v[i].ipv6;
		memcpy(w[i].addr, v[i].addr, 16);
		w[i].scope_id = v[i].ipv6 ? v[i].scope_id : 0;
	}
	free(v);
	if ((uint64_t)n * WIRE_NETIF_SIZE > c->q.max_output_response) {
		st = STATUS_BUFFER_TOO_SMALL;
	} else {
		uint8_t *b = rsp_begin(c, n * WIRE_NETIF_SIZE);
		if (b && wire_fsctl_netif_encode(&c->req->out, w, (unsigned)n) < 0)
			b = NULL;
		st = rsp_end(c, b, STATUS_SUCCESS);
	}
	free(w);
	return st;
}

/* ---- FSCTL_PIPE_TRANSCEIVE ---- */

static NTSTATUS fsctl_pipe_transceive(struct ioctl_ctx *c)
{
	if (!c->o->pipe)
		return STATUS_INVALID_DEVICE_REQUEST;
	uint8_t *out = NULL;
	uint32_t out_len = 0;
	NTSTATUS st = ipc_transceive(c->req, c->o, c->q.in, c->q.in_len, c->q.max_output_response, &out, &out_len);
	if (st != STATUS_SUCCESS && st != STATUS_BUFFER_OVERFLOW) {
		free(out);
		return st;
	}
	/* A message larger than MaxOutputResponse: what fits, and
	 * STATUS_BUFFER_OVERFLOW; the client READs the rest. */
	uint8_t *b = rsp_begin(c, out_len);
	if (b)
		wr_bytes(&c->req->out, out, out_len);
	free(out);
	return rsp_end(c, b, st);
}

/* ---- resume key and server-side copy (3.3.5.15.5, 3.3.5.15.6) ---- */

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

static NTSTATUS fsctl_request_resume_key(struct ioctl_ctx *c)
{
	if (c->q.max_output_response < RESUME_KEY_SIZE + 8)
		return STATUS_INVALID_PARAMETER;
	uint8_t key[RESUME_KEY_SIZE];
	resume_key_make(c->o, key);
	/* Key, ContextLength 0, and the 4-byte Context Windows always sends
	 * (clients parse 32 bytes). */
	uint8_t *b = rsp_begin(c, RESUME_KEY_SIZE + 8);
	if (b) {
		wire_fsctl_resume_key_encode(&c->req->out, key);
		wr_zero(&c->req->out, 4);
	}
	return rsp_end(c, b, STATUS_SUCCESS);
}

static NTSTATUS copychunk_limits(struct ioctl_ctx *c)
{
	uint8_t *b = rsp_begin(c, COPYCHUNK_RSP_SIZE);
	if (b)
		wire_fsctl_copychunk_rsp_encode(&c->req->out, COPYCHUNK_MAX_CHUNKS, COPYCHUNK_MAX_CHUNK_SIZE,
						COPYCHUNK_MAX_TOTAL);
	return rsp_end(c, b, STATUS_INVALID_PARAMETER);
}

static int64_t file_size(const struct vfs_ident *id, int fd)
{
	struct statx st;
	int r = vfs_statx(id, fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
	return r < 0 ? r : (int64_t)st.stx_size;
}

/* Copy one chunk; returns bytes copied or -errno.  copy_file_range first
 * (reflinks / in-kernel copy); when the kernel refuses (same file with
 * overlapping ranges, different file systems, old kernels) read the whole
 * chunk and write it, which also gives memmove semantics for overlaps. */
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
				goto fallback;
			return n;
		}
		done += (uint64_t)n;
	}
	return (int64_t)done;
fallback:;
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

static NTSTATUS fsctl_copychunk(struct ioctl_ctx *c)
{
	struct wire_copychunk_req cc;
	struct open *dst = c->o;
	if (c->q.max_output_response < COPYCHUNK_RSP_SIZE)
		return STATUS_INVALID_PARAMETER;
	if (wire_fsctl_copychunk_decode(c->q.in, c->q.in_len, &cc) < 0)
		return STATUS_INVALID_PARAMETER;
	/* Limits first (3.3.5.15.6): a violation answers with the limits. */
	if (cc.chunk_count > COPYCHUNK_MAX_CHUNKS)
		return copychunk_limits(c);
	uint64_t total = 0;
	for (uint32_t i = 0; i < cc.chunk_count; i++) {
		struct wire_copychunk ch;
		wire_fsctl_copychunk_get(&cc, i, &ch);
		if (ch.length == 0 || ch.length > COPYCHUNK_MAX_CHUNK_SIZE)
			return copychunk_limits(c);
		total += ch.length;
	}
	if (total > COPYCHUNK_MAX_TOTAL)
		return copychunk_limits(c);
	struct open *src = resume_key_lookup(c->req, cc.source_key);
	if (!src)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS st = STATUS_SUCCESS;
	/* The target must be writable, and for FSCTL_SRV_COPYCHUNK readable
	 * too; the source readable (data or execute). */
	uint32_t need = FILE_WRITE_DATA; /* 3.3.5.15.6: not APPEND ("copy-chunk streams") */
	if (c->q.ctl_code == FSCTL_SRV_COPYCHUNK)
		need |= FILE_READ_DATA;
	if (src->is_dir || dst->is_dir || src->pipe || dst->pipe || src->fd < 0 || dst->fd < 0)
		st = STATUS_INVALID_PARAMETER;
	else if (fileops_check_access(dst, need) != STATUS_SUCCESS)
		st = STATUS_ACCESS_DENIED;
	else if (!(src->access & (FILE_READ_DATA | FILE_EXECUTE)))
		st = STATUS_ACCESS_DENIED;
	if (st) {
		open_put(src);
		return st;
	}
	int64_t src_size = file_size(c->id, src->fd);
	if (src_size < 0) {
		open_put(src);
		return vfs_nt_status((int)src_size);
	}
	uint32_t chunks = 0, total_written = 0;
	for (uint32_t i = 0; i < cc.chunk_count; i++) {
		struct wire_copychunk ch;
		wire_fsctl_copychunk_get(&cc, i, &ch);
		/* A chunk that reaches past the source's end fails whole. */
		if (ch.source_offset > (uint64_t)src_size || ch.length > (uint64_t)src_size - ch.source_offset) {
			st = STATUS_INVALID_VIEW_SIZE;
			break;
		}
		/* Byte-range locks of other opens apply as to READ and WRITE. */
		if (src->file && (st = brl_check_io(src->file, src, ch.source_offset, ch.length, false)))
			break;
		if (dst->file && (st = brl_check_io(dst->file, dst, ch.target_offset, ch.length, true)))
			break;
		int64_t n = copy_range(c->id, src->fd, ch.source_offset, dst->fd, ch.target_offset, ch.length);
		if (n < 0) {
			st = vfs_nt_status((int)n);
			break;
		}
		if ((uint64_t)n != ch.length) {
			st = STATUS_INVALID_VIEW_SIZE; /* the source shrank meanwhile */
			break;
		}
		if ((st = streams_written(dst)))
			break; /* a streams_xattr stream that cannot hold it */
		chunks++;
		total_written += (uint32_t)n;
	}
	open_put(src);
	/* A failing chunk still gets the response: what was written before
	 * it (3.3.5.15.6). */
	uint8_t *b = rsp_begin(c, COPYCHUNK_RSP_SIZE);
	if (b)
		wire_fsctl_copychunk_rsp_encode(&c->req->out, chunks, 0, total_written);
	return rsp_end(c, b, st);
}

/* ---- sparse files, zero data, allocated ranges ---- */

#define DOS_STORED_ATTRS (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
			  FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_SPARSE_FILE)

static bool is_sparse(struct ioctl_ctx *c)
{
	struct vfs_dosinfo d;
	return vfs_dos_get(c->id, c->o->fd, &d) == 0 && (d.attrs & FILE_ATTRIBUTE_SPARSE_FILE);
}

static NTSTATUS fsctl_set_sparse(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	if (o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (!(o->access & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_APPEND_DATA)))
		return STATUS_ACCESS_DENIED;
	bool sparse;
	if (wire_fsctl_set_sparse_decode(c->q.in, c->q.in_len, &sparse) < 0)
		return STATUS_INVALID_PARAMETER;
	struct fileops_attrs a;
	NTSTATUS st = fileops_stat_open(o, &a);
	if (st)
		return st;
	struct vfs_dosinfo d = { 0 };
	if (vfs_dos_get(c->id, o->fd, &d) < 0)
		d.create_time = a.create;
	d.attrs = a.attrs & DOS_STORED_ATTRS;
	if (sparse)
		d.attrs |= FILE_ATTRIBUTE_SPARSE_FILE;
	else
		d.attrs &= ~FILE_ATTRIBUTE_SPARSE_FILE;
	int r = vfs_dos_set(c->id, o->fd, &d);
	fileops_attr_cache_drop(o);
	if (r < 0)
		return vfs_nt_status(r);
	return rsp_empty(c);
}

static NTSTATUS fsctl_set_zero_data(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	if (o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (!(o->access & FILE_WRITE_DATA))
		return STATUS_ACCESS_DENIED;
	struct wire_zero_data z;
	if (wire_fsctl_zero_data_decode(c->q.in, c->q.in_len, &z) < 0)
		return STATUS_INVALID_PARAMETER;
	if (z.offset > z.beyond_final_zero || z.beyond_final_zero > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	int64_t size = file_size(c->id, o->fd);
	if (size < 0)
		return vfs_nt_status((int)size);
	/* Zeroing never changes the file size: clip to EOF. */
	uint64_t end = z.beyond_final_zero < (uint64_t)size ? z.beyond_final_zero : (uint64_t)size;
	if (z.offset >= end)
		return rsp_empty(c);
	uint64_t len = end - z.offset;
	if (o->file) {
		NTSTATUS lst = brl_check_io(o->file, o, z.offset, len, true);
		if (lst)
			return lst;
	}
	/* Sparse files get a hole; others keep their allocation (as NTFS),
	 * which fills their holes in the range: when that needs more than
	 * the free space allows (alloc.h), or runs out of it, the range is
	 * deallocated instead -- it reads as zeroes either way, and what a
	 * failed ZERO_RANGE took is given back. */
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int mode = punch;
	if (!is_sparse(c) && alloc_check(c->id, o->fd, alloc_holes(c->id, o->fd, z.offset, end)) == STATUS_SUCCESS)
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int r = vfs_fallocate(c->id, o->fd, mode, z.offset, len);
	if ((r == -EOPNOTSUPP || r == -ENOSPC || r == -EDQUOT) && mode != punch)
		r = vfs_fallocate(c->id, o->fd, punch, z.offset, len);
	if (r == -EOPNOTSUPP) {
		/* No fallocate support: write zeroes, if the space is there. */
		NTSTATUS ast = alloc_check(c->id, o->fd, alloc_holes(c->id, o->fd, z.offset, end));
		if (ast != STATUS_SUCCESS)
			return ast;
		size_t blk = len < (1u << 20) ? (size_t)len : (1u << 20);
		uint8_t *zero = calloc(1, blk);
		if (!zero)
			return STATUS_NO_MEMORY;
		r = 0;
		for (uint64_t off = z.offset; off < end && r >= 0;) {
			size_t n = end - off < blk ? (size_t)(end - off) : blk;
			ssize_t w = vfs_pwrite(c->id, o->fd, zero, n, off);
			r = w < 0 ? (int)w : 0;
			off += w > 0 ? (uint64_t)w : n;
		}
		free(zero);
	}
	if (r < 0)
		return vfs_nt_status(r);
	NTSTATUS wst = streams_written(o);
	return wst ? wst : rsp_empty(c);
}

static NTSTATUS fsctl_query_allocated_ranges(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	if (o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (!(o->access & FILE_READ_DATA))
		return STATUS_ACCESS_DENIED;
	struct wire_alloc_range in;
	if (wire_fsctl_alloc_range_decode(c->q.in, c->q.in_len, &in) < 0)
		return STATUS_INVALID_PARAMETER;
	if (in.offset > INT64_MAX || in.length > INT64_MAX || in.offset + in.length > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	int64_t size = file_size(c->id, o->fd);
	if (size < 0)
		return vfs_nt_status((int)size);
	uint64_t end = in.offset + in.length;
	if (end > (uint64_t)size)
		end = (uint64_t)size;
	struct wire_alloc_range *v = NULL;
	unsigned n = 0, cap = 0;
	NTSTATUS st = STATUS_SUCCESS;
	if (in.offset < end && !is_sparse(c)) {
		/* A file that is not sparse is allocated throughout (NTFS). */
		v = malloc(sizeof(*v));
		if (!v)
			return STATUS_NO_MEMORY;
		v[0].offset = in.offset;
		v[0].length = end - in.offset;
		n = 1;
	} else {
		for (uint64_t pos = in.offset; pos < end;) {
			int64_t data = vfs_lseek(c->id, o->fd, (int64_t)pos, SEEK_DATA);
			if (data == -ENXIO || (data >= 0 && (uint64_t)data >= end))
				break;
			if (data < 0) {
				st = vfs_nt_status((int)data);
				break;
			}
			int64_t hole = vfs_lseek(c->id, o->fd, data, SEEK_HOLE);
			if (hole < 0) {
				st = vfs_nt_status((int)hole);
				break;
			}
			uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
			if (n == cap) {
				if (cap >= QAR_MAX_RANGES) {
					st = STATUS_BUFFER_OVERFLOW;
					break;
				}
				cap = cap ? cap * 2 : 16;
				struct wire_alloc_range *nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					st = STATUS_NO_MEMORY;
					break;
				}
				v = nv;
			}
			v[n].offset = (uint64_t)data;
			v[n].length = stop - (uint64_t)data;
			n++;
			pos = stop;
		}
	}
	if (nt_is_error(st)) {
		free(v);
		return st;
	}
	/* Whole ranges only: none fits -> BUFFER_TOO_SMALL, some ->
	 * BUFFER_OVERFLOW with those (as Windows). */
	unsigned fit = c->q.max_output_response / 16;
	if (n && !fit) {
		free(v);
		return STATUS_BUFFER_TOO_SMALL;
	}
	if (fit < n) {
		n = fit;
		st = STATUS_BUFFER_OVERFLOW;
	}
	uint8_t *b = rsp_begin(c, (size_t)n * 16);
	if (b && wire_fsctl_alloc_ranges_encode(&c->req->out, v, n) != n)
		b = NULL;
	free(v);
	return rsp_end(c, b, st);
}

/* ---- small ones ---- */

/* FILE_OBJECTID_BUFFER ([MS-FSCC] 2.1.3): every file has an id derived
 * from its inode, so GET and CREATE_OR_GET agree. */
static NTSTATUS fsctl_object_id(struct ioctl_ctx *c)
{
	struct fileops_attrs a;
	NTSTATUS st = fileops_stat_open(c->o, &a);
	if (st)
		return st;
	if (c->q.max_output_response < 64)
		return STATUS_BUFFER_TOO_SMALL;
	uint8_t *b = rsp_begin(c, 64);
	if (b) {
		uint8_t buf[64] = { 0 };
		put_le64(buf, a.ino);
		put_le64(buf + 8, a.dev);
		memcpy(buf + 16, srv.server_guid, 16);      /* BirthVolumeId */
		memcpy(buf + 32, buf, 16);                  /* BirthObjectId */
		wr_bytes(&c->req->out, buf, 64);
	}
	return rsp_end(c, b, STATUS_SUCCESS);
}

/* SRV_SNAPSHOT_ARRAY ([MS-SMB2] 2.2.32.2) with no snapshots. */
static NTSTATUS fsctl_enumerate_snapshots(struct ioctl_ctx *c)
{
	if (c->q.max_output_response < 16)
		return STATUS_INVALID_PARAMETER;
	uint8_t *b = rsp_begin(c, 16);
	if (b)
		wr_zero(&c->req->out, 16); /* 0 snapshots, 0 returned, array size 2: one NUL */
	if (b)
		put_le32(b + 48 + 8, 2);
	return rsp_end(c, b, STATUS_SUCCESS);
}

static NTSTATUS fsctl_get_compression(struct ioctl_ctx *c)
{
	if (c->q.max_output_response < 2)
		return STATUS_INVALID_PARAMETER;
	uint8_t *b = rsp_begin(c, 2);
	if (b)
		wr_le16(&c->req->out, 0); /* COMPRESSION_FORMAT_NONE */
	return rsp_end(c, b, STATUS_SUCCESS);
}

static NTSTATUS fsctl_set_compression(struct ioctl_ctx *c)
{
	if (c->q.in_len < 2)
		return STATUS_INVALID_PARAMETER;
	if (!(c->o->access & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)))
		return STATUS_ACCESS_DENIED;
	uint16_t fmt = get_le16(c->q.in);
	if (fmt > 2) /* NONE, DEFAULT, LZNT1 */
		return STATUS_INVALID_PARAMETER;
	if (fmt != 0)
		return STATUS_NOT_SUPPORTED;
	return rsp_empty(c);
}

/* FSCTL_FILE_LEVEL_TRIM ([MS-FSCC] 2.3.20): a hint; report every range
 * as processed. */
static NTSTATUS fsctl_trim(struct ioctl_ctx *c)
{
	if (c->q.in_len < 8)
		return STATUS_INVALID_PARAMETER;
	uint32_t ranges = get_le32(c->q.in + 4);
	if ((uint64_t)ranges * 16 > c->q.in_len - 8)
		return STATUS_INVALID_PARAMETER;
	if (c->q.max_output_response < 4)
		return rsp_empty(c);
	uint8_t *b = rsp_begin(c, 4);
	if (b)
		wr_le32(&c->req->out, ranges);
	return rsp_end(c, b, STATUS_SUCCESS);
}

/* ---- the handler ---- */

/* FSCTLs that work on an open's file. */
static NTSTATUS fsctl_on_file(struct ioctl_ctx *c)
{
	switch (c->q.ctl_code) {
	case FSCTL_PIPE_TRANSCEIVE:
		return fsctl_pipe_transceive(c);
	case FSCTL_SRV_REQUEST_RESUME_KEY:
		return fsctl_request_resume_key(c);
	case FSCTL_SRV_COPYCHUNK:
	case FSCTL_SRV_COPYCHUNK_WRITE:
		return fsctl_copychunk(c);
	default:
		break;
	}
	if (c->o->pipe)
		return STATUS_INVALID_DEVICE_REQUEST;
	switch (c->q.ctl_code) {
	case FSCTL_SET_SPARSE:
		return fsctl_set_sparse(c);
	case FSCTL_SET_ZERO_DATA:
		return fsctl_set_zero_data(c);
	case FSCTL_QUERY_ALLOCATED_RANGES:
		return fsctl_query_allocated_ranges(c);
	case FSCTL_GET_REPARSE_POINT:
		return STATUS_NOT_A_REPARSE_POINT;
	case FSCTL_GET_OBJECT_ID:
	case FSCTL_CREATE_OR_GET_OBJECT_ID:
		return fsctl_object_id(c);
	case FSCTL_SRV_ENUMERATE_SNAPSHOTS:
		return fsctl_enumerate_snapshots(c);
	case FSCTL_GET_COMPRESSION:
		return fsctl_get_compression(c);
	case FSCTL_SET_COMPRESSION:
		return fsctl_set_compression(c);
	case FSCTL_FILE_LEVEL_TRIM:
		return fsctl_trim(c);
	case FSCTL_GET_INTEGRITY_INFORMATION:
	case FSCTL_SET_INTEGRITY_INFORMATION:
	case FSCTL_DUPLICATE_EXTENTS_TO_FILE:
		return STATUS_NOT_SUPPORTED;
	default:
		return STATUS_INVALID_DEVICE_REQUEST;
	}
}

NTSTATUS cmd_ioctl(struct smb2_req *req)
{
	struct ioctl_ctx c = { .req = req };
	if (wire_ioctl_decode_req(&req->in, &c.q) < 0)
		return STATUS_INVALID_PARAMETER;
	/* 3.3.5.15: only FSCTLs travel over SMB2. */
	if (c.q.flags != SMB2_0_IOCTL_IS_FSCTL)
		return STATUS_NOT_SUPPORTED;
	uint32_t max_trans = req_conf(req)->max_io_size;
	if (req->sc->dialect == SMB2_DIALECT_202 && max_trans > 65536)
		max_trans = 65536;
	if (c.q.in_len > max_trans || c.q.max_input_response > max_trans ||
	    c.q.max_output_response > max_trans || c.q.out_len > max_trans)
		return STATUS_INVALID_PARAMETER;
	c.id = req->tree ? req->tree->tok.ident : NULL;
	/* FSCTLs of the server itself, not of an open. */
	switch (c.q.ctl_code) {
	case FSCTL_VALIDATE_NEGOTIATE_INFO:
		return fsctl_validate_negotiate(&c);
	case FSCTL_QUERY_NETWORK_INTERFACE_INFO:
		return fsctl_network_interfaces(&c);
	case FSCTL_DFS_GET_REFERRALS:
	case FSCTL_DFS_GET_REFERRALS_EX:
		return STATUS_FS_DRIVER_REQUIRED; /* no DFS: as Windows without it */
	case FSCTL_PIPE_WAIT:
		return req->tree && req->tree->ipc ? rsp_empty(&c) : STATUS_INVALID_DEVICE_REQUEST;
	default:
		break;
	}
	/* The FSCTLs of a file: the pipeline looked the FileId up but left an
	 * unknown one to this handler (dispatch table: fid_optional). */
	c.o = req->open;
	if (!c.o)
		return STATUS_FILE_CLOSED;
	NTSTATUS st = fsctl_on_file(&c);
	if (st == STATUS_INVALID_DEVICE_REQUEST && req->tree && req->tree->ipc && c.q.ctl_code != FSCTL_PIPE_TRANSCEIVE)
		st = STATUS_FS_DRIVER_REQUIRED;
	return st;
}
