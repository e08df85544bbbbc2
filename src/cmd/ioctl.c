/* IOCTL ([MS-SMB2] 3.3.5.15): FSCTLs of the server (validate negotiate,
 * network interfaces, DFS, pipe wait), of named pipes (transceive), of
 * files (cmd/ioctl_copy.c: resume key and server-side copy;
 * cmd/ioctl_sparse.c: sparse files, zero data, allocated ranges), Samba's
 * test FSCTLs (cmd/ioctl_torture.c) and small ones here.  Everything else is answered as Windows answers an FSCTL it
 * does not implement.
 *
 * One table, fsctl_table below, says for each FSCTL what it works on (the
 * server, an open of a file, a pipe, or any open), what the open must
 * grant, the least input and output it takes, and whether it may come
 * before a session or a tree connect.  cmd_ioctl() checks all of that
 * before the handler runs; a handler parses the input, acts, then writes
 * the output payload between ioctl_rsp_begin and ioctl_rsp_end.  Errors
 * carry no payload, except where the spec says so (copy-chunk limits, a
 * partial pipe message). */
#include <stdlib.h>
#include <string.h>

#include "cmd/fileops.h"
#include "cmd/ioctl_int.h"
#include "cmd/ipc.h"
#include "mc/netif.h"
#include "proto/srv.h"
#include "util/log.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"

#define FSCTL_GET_OBJECT_ID 0x0009009Cu
#define FSCTL_GET_INTEGRITY_INFORMATION 0x0009027Cu
#define FSCTL_SET_INTEGRITY_INFORMATION 0x0009C280u
#define FSCTL_QUERY_FILE_REGIONS 0x00090284u

static bool fid_is_none(const struct wire_fileid *f)
{
	return f->persistent == UINT64_MAX && f->volatile_ == UINT64_MAX;
}

uint8_t *ioctl_rsp_begin(struct ioctl_ctx *c, size_t payload)
{
	if (req_out_reserve(c->req, 48 + (size_t)c->body_pad + payload + 8) < 0)
		return NULL;
	return wire_ioctl_rsp_begin(&c->req->out, c->q.ctl_code, &c->q.fid, c->body_pad);
}

NTSTATUS ioctl_rsp_end(struct ioctl_ctx *c, uint8_t *body, NTSTATUS st)
{
	if (!body || wire_ioctl_rsp_end(&c->req->out, body) < 0)
		return STATUS_INTERNAL_ERROR;
	return st;
}

NTSTATUS ioctl_rsp_empty(struct ioctl_ctx *c)
{
	return ioctl_rsp_end(c, ioctl_rsp_begin(c, 0), STATUS_SUCCESS);
}

int64_t ioctl_file_size(const struct vfs_ident *id, int fd)
{
	struct statx st;
	int r = vfs_statx(id, fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
	return r < 0 ? r : (int64_t)st.stx_size;
}

/* ---- FSCTL_VALIDATE_NEGOTIATE_INFO (3.3.5.15.12) ---- */

static NTSTATUS fsctl_validate_negotiate(struct ioctl_ctx *c)
{
	struct smb2_req *req = c->req;
	struct smb_conn *sc = req->sc;
	struct wire_validate_neg_req v;
	if (wire_fsctl_validate_neg_decode(c->q.in, c->q.in_len, &v) < 0)
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
	uint8_t *b = ioctl_rsp_begin(c, 24);
	if (b)
		wire_fsctl_validate_neg_rsp_encode(&req->out, sc->server_caps, srv.server_guid,
						   sc->server_sec_mode, sc->dialect);
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

/* ---- FSCTL_QUERY_NETWORK_INTERFACE_INFO (3.3.5.15.11) ---- */

static NTSTATUS fsctl_network_interfaces(struct ioctl_ctx *c)
{
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
		uint8_t *b = ioctl_rsp_begin(c, n * WIRE_NETIF_SIZE);
		if (b && wire_fsctl_netif_encode(&c->req->out, w, (unsigned)n) < 0)
			b = NULL;
		st = ioctl_rsp_end(c, b, STATUS_SUCCESS);
	}
	free(w);
	return st;
}

/* ---- FSCTL_PIPE_TRANSCEIVE ---- */

static NTSTATUS fsctl_pipe_transceive(struct ioctl_ctx *c)
{
	uint8_t *out = NULL;
	uint32_t out_len = 0;
	NTSTATUS st = ipc_transceive(c->req, c->o, c->q.in, c->q.in_len, c->q.max_output_response, &out, &out_len);
	if (st != STATUS_SUCCESS && st != STATUS_BUFFER_OVERFLOW) {
		free(out);
		return st;
	}
	/* A message larger than MaxOutputResponse: what fits, and
	 * STATUS_BUFFER_OVERFLOW; the client READs the rest. */
	uint8_t *b = ioctl_rsp_begin(c, out_len);
	if (b)
		wr_bytes(&c->req->out, out, out_len);
	free(out);
	return ioctl_rsp_end(c, b, st);
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
	uint8_t *b = ioctl_rsp_begin(c, 64);
	if (b) {
		uint8_t buf[64] = { 0 };
		put_le64(buf, a.ino);
		put_le64(buf + 8, a.dev);
		memcpy(buf + 16, srv.server_guid, 16);      /* BirthVolumeId */
		memcpy(buf + 32, buf, 16);                  /* BirthObjectId */
		wr_bytes(&c->req->out, buf, 64);
	}
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

/* SRV_SNAPSHOT_ARRAY ([MS-SMB2] 2.2.32.2) with no snapshots. */
static NTSTATUS fsctl_enumerate_snapshots(struct ioctl_ctx *c)
{
	uint8_t *b = ioctl_rsp_begin(c, 16);
	if (b)
		wr_zero(&c->req->out, 16); /* 0 snapshots, 0 returned, array size 2: one NUL */
	if (b)
		put_le32(b + 48 + 8, 2);
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

static NTSTATUS fsctl_get_compression(struct ioctl_ctx *c)
{
	uint8_t *b = ioctl_rsp_begin(c, 2);
	if (b)
		wr_le16(&c->req->out, 0); /* COMPRESSION_FORMAT_NONE */
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

static NTSTATUS fsctl_set_compression(struct ioctl_ctx *c)
{
	uint16_t fmt = get_le16(c->q.in);
	if (fmt > 2) /* NONE, DEFAULT, LZNT1 */
		return STATUS_INVALID_PARAMETER;
	if (fmt != 0)
		return STATUS_NOT_SUPPORTED;
	return ioctl_rsp_empty(c);
}

/* FSCTL_FILE_LEVEL_TRIM ([MS-FSCC] 2.3.20): a hint; report every range
 * as processed. */
static NTSTATUS fsctl_trim(struct ioctl_ctx *c)
{
	uint32_t ranges = get_le32(c->q.in + 4);
	if ((uint64_t)ranges * 16 > c->q.in_len - 8)
		return STATUS_INVALID_PARAMETER;
	if (c->q.max_output_response < 4)
		return ioctl_rsp_empty(c);
	uint8_t *b = ioctl_rsp_begin(c, 4);
	if (b)
		wr_le32(&c->req->out, ranges);
	return ioctl_rsp_end(c, b, STATUS_SUCCESS);
}

/* FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9): the open survives a
 * lost connection for the timeout asked for (kept detached like a durable
 * open, reclaimed by a DHnC: cmd/durable.c), at most the durable v2 cap
 * ("smb3d:durable handle timeout"); 0 asks for the server's default. */
#define RESILIENCY_DEFAULT_MS (120u * 1000)

static NTSTATUS fsctl_resiliency(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	if (c->req->sc->dialect < SMB2_DIALECT_210)
		return STATUS_INVALID_DEVICE_REQUEST;
	uint32_t timeout = get_le32(c->q.in);
	uint64_t cap = (uint64_t)req_conf(c->req)->durable_timeout * 1000;
	if (timeout > cap)
		return STATUS_INVALID_PARAMETER;
	if (!timeout)
		timeout = RESILIENCY_DEFAULT_MS < cap ? RESILIENCY_DEFAULT_MS : (uint32_t)cap;
	/* Open.DurableOwner: only this user may reclaim it (a durable
	 * request recorded it already; the share bounds the reclaim too) */
	const struct session *s = c->req->session;
	if (!s->user || s->anonymous)
		return STATUS_ACCESS_DENIED;
	char *owner = strdup(s->user), *share = strdup(c->req->tree->share->name);
	if (!owner || !share) {
		free(owner);
		free(share);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	pthread_mutex_lock(&o->file->lock);
	if (!o->owner) {
		o->owner = owner;
		owner = NULL;
	}
	if (!o->share) {
		o->share = share;
		share = NULL;
	}
	o->durable = 0; /* 3.3.5.15.9: resilient, not durable */
	o->resilient = true;
	o->durable_timeout_ms = timeout;
	pthread_mutex_unlock(&o->file->lock);
	free(owner);
	free(share);
	return ioctl_rsp_empty(c);
}

/* ---- the answers without a handler of their own ---- */

/* No DFS: as Windows without it. */
static NTSTATUS fsctl_dfs(struct ioctl_ctx *c)
{
	(void)c;
	return STATUS_FS_DRIVER_REQUIRED;
}

static NTSTATUS fsctl_pipe_wait(struct ioctl_ctx *c)
{
	struct tree *t = c->req->tree;
	return t && t->ipc ? ioctl_rsp_empty(c) : STATUS_INVALID_DEVICE_REQUEST;
}

/* No reparse points are ever made. */
static NTSTATUS fsctl_get_reparse_point(struct ioctl_ctx *c)
{
	(void)c;
	return STATUS_NOT_A_REPARSE_POINT;
}

/* Known, and refused as a file system without the feature does. */
static NTSTATUS fsctl_not_supported(struct ioctl_ctx *c)
{
	(void)c;
	return STATUS_NOT_SUPPORTED;
}

/* ---- the table ---- */

enum fsctl_target {
	FSCTL_ON_SERVER, /* no open: the server's own (the FileId is not looked up) */
	FSCTL_ON_FILE,   /* an open of a file or directory, not of a pipe */
	FSCTL_ON_PIPE,   /* an open of a named pipe */
	FSCTL_ON_OPEN,   /* any open */
};

/* What cmd_ioctl() checks before the handler runs, in this order:
 * target and FileId, no_dir, min_in, access, min_out. */
struct fsctl_desc {
	uint32_t code;
	NTSTATUS (*fn)(struct ioctl_ctx *c);
	uint8_t target;        /* enum fsctl_target; an open missing: FILE_CLOSED, the
				* wrong kind: INVALID_DEVICE_REQUEST */
	bool fid_none;         /* the FileId must be all ones, else INVALID_PARAMETER */
	bool no_dir;           /* a directory: INVALID_PARAMETER */
	uint32_t min_in;       /* InputCount at least, else INVALID_PARAMETER */
	uint32_t access;       /* the open must grant one of these, else ACCESS_DENIED */
	uint32_t min_out;      /* MaxOutputResponse at least, else small_out */
	NTSTATUS small_out;    /* 0: STATUS_INVALID_PARAMETER */
	/* May come before a session (or without a tree connect): the
	 * pipeline asks cmd_ioctl_needs().  Only FSCTLs ON_SERVER; none of
	 * Windows' need this, Samba's test FSCTLs do (smbtorture). */
	bool without_session;
	bool without_tree;
	bool torture;          /* Samba's test FSCTL: unknown unless "smbd:FSCTL_SMBTORTURE = yes" */
};

#define WRITE_ACCESS (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)

static const struct fsctl_desc fsctl_table[] = {
	/* the server's (MS-SMB2 3.3.5.15.12, 3.3.5.15.11; DFS; pipes) */
	{ FSCTL_VALIDATE_NEGOTIATE_INFO, fsctl_validate_negotiate, FSCTL_ON_SERVER,
	  .fid_none = true, .min_out = 24 },
	{ FSCTL_QUERY_NETWORK_INTERFACE_INFO, fsctl_network_interfaces, FSCTL_ON_SERVER,
	  .fid_none = true },
	{ FSCTL_DFS_GET_REFERRALS, fsctl_dfs, FSCTL_ON_SERVER },
	{ FSCTL_DFS_GET_REFERRALS_EX, fsctl_dfs, FSCTL_ON_SERVER },
	{ FSCTL_PIPE_WAIT, fsctl_pipe_wait, FSCTL_ON_SERVER },
	{ FSCTL_PIPE_TRANSCEIVE, fsctl_pipe_transceive, FSCTL_ON_PIPE },
	/* Samba's test hooks (smbtorture, cmd/ioctl_torture.c); this one is
	 * sent without a session */
	{ FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT, fsctl_force_unacked, FSCTL_ON_SERVER, .fid_none = true,
	  .without_session = true, .torture = true },
	/* and the ones it sends in a session (smb2.ioctl.bug14607 and bug14769, smb2.read.bug14607) */
	{ FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8, fsctl_torture_body_padding, FSCTL_ON_SERVER,
	  .fid_none = true, .torture = true },
	{ FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8, fsctl_torture_read_padding, FSCTL_ON_SERVER,
	  .fid_none = true, .torture = true },
	{ FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP, fsctl_torture_sleep, FSCTL_ON_FILE, .min_in = 1, .torture = true },
	/* server-side copy (3.3.5.15.5, 3.3.5.15.6): 32 bytes of key and
	 * context; the copy-chunk response is 12 */
	{ FSCTL_SRV_REQUEST_RESUME_KEY, fsctl_request_resume_key, FSCTL_ON_OPEN, .min_out = 32 },
	{ FSCTL_SRV_COPYCHUNK, fsctl_copychunk, FSCTL_ON_OPEN, .min_out = 12 },
	{ FSCTL_SRV_COPYCHUNK_WRITE, fsctl_copychunk, FSCTL_ON_OPEN, .min_out = 12 },
	/* sparse files */
	{ FSCTL_SET_SPARSE, fsctl_set_sparse, FSCTL_ON_FILE, .no_dir = true,
	  .access = WRITE_ACCESS | FILE_APPEND_DATA },
	{ FSCTL_SET_ZERO_DATA, fsctl_set_zero_data, FSCTL_ON_FILE, .no_dir = true,
	  .access = FILE_WRITE_DATA },
	{ FSCTL_QUERY_ALLOCATED_RANGES, fsctl_query_allocated_ranges, FSCTL_ON_FILE, .no_dir = true,
	  .access = FILE_READ_DATA },
	/* small ones */
	{ FSCTL_GET_REPARSE_POINT, fsctl_get_reparse_point, FSCTL_ON_FILE },
	{ FSCTL_GET_OBJECT_ID, fsctl_object_id, FSCTL_ON_FILE,
	  .min_out = 64, .small_out = STATUS_BUFFER_TOO_SMALL },
	{ FSCTL_CREATE_OR_GET_OBJECT_ID, fsctl_object_id, FSCTL_ON_FILE,
	  .min_out = 64, .small_out = STATUS_BUFFER_TOO_SMALL },
	/* 3.3.5.15.1: MaxOutputResponse under 16 is INVALID_PARAMETER */
	{ FSCTL_SRV_ENUMERATE_SNAPSHOTS, fsctl_enumerate_snapshots, FSCTL_ON_FILE, .min_out = 16 },
	{ FSCTL_GET_COMPRESSION, fsctl_get_compression, FSCTL_ON_FILE, .min_out = 2 },
	{ FSCTL_SET_COMPRESSION, fsctl_set_compression, FSCTL_ON_FILE, .min_in = 2,
	  .access = WRITE_ACCESS },
	{ FSCTL_FILE_LEVEL_TRIM, fsctl_trim, FSCTL_ON_FILE, .min_in = 8 },
	{ FSCTL_LMR_REQUEST_RESILIENCY, fsctl_resiliency, FSCTL_ON_FILE, .min_in = 8 },
	{ FSCTL_GET_INTEGRITY_INFORMATION, fsctl_not_supported, FSCTL_ON_FILE },
	{ FSCTL_SET_INTEGRITY_INFORMATION, fsctl_not_supported, FSCTL_ON_FILE },
	{ FSCTL_DUPLICATE_EXTENTS_TO_FILE, fsctl_not_supported, FSCTL_ON_FILE },
};

static const struct fsctl_desc *fsctl_lookup(const struct smb2_req *req, uint32_t code)
{
	for (size_t i = 0; i < sizeof(fsctl_table) / sizeof(fsctl_table[0]); i++)
		if (fsctl_table[i].code == code)
			return fsctl_table[i].torture && !req->sc->conf->fsctl_smbtorture ? NULL : &fsctl_table[i];
	return NULL;
}

void cmd_ioctl_needs(const struct smb2_req *req, bool *session, bool *tree)
{
	/* 2.2.31: StructureSize, Reserved, then CtlCode (the pipeline has
	 * checked that the fixed part is there). */
	const struct fsctl_desc *d = fsctl_lookup(req, get_le32(req->in.p + 4));
	if (!d)
		return;
	if (d->without_session)
		*session = *tree = false;
	else if (d->without_tree)
		*tree = false;
}

/* The open the FSCTL works on, of the right kind (d NULL: an FSCTL
 * without an entry still needs an open, then fails). */
static NTSTATUS fsctl_check_open(struct ioctl_ctx *c, const struct fsctl_desc *d)
{
	if (d && d->target == FSCTL_ON_SERVER)
		return d->fid_none && !fid_is_none(&c->q.fid) ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
	/* The pipeline looked the FileId up but left an unknown one to this
	 * handler (dispatch table: fid_optional). */
	c->o = c->req->open;
	if (!c->o)
		return STATUS_FILE_CLOSED;
	if (!d || (d->target == FSCTL_ON_PIPE && !c->o->pipe) || (d->target == FSCTL_ON_FILE && c->o->pipe))
		return STATUS_INVALID_DEVICE_REQUEST;
	return STATUS_SUCCESS;
}

/* The table's rules, in the order of struct fsctl_desc. */
static NTSTATUS fsctl_check(struct ioctl_ctx *c, const struct fsctl_desc *d)
{
	NTSTATUS st = fsctl_check_open(c, d);
	if (st)
		return st;
	if (d->no_dir && c->o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (c->q.in_len < d->min_in)
		return STATUS_INVALID_PARAMETER;
	if (d->access && !(c->o->access & d->access))
		return STATUS_ACCESS_DENIED;
	if (c->q.max_output_response < d->min_out)
		return d->small_out ? d->small_out : STATUS_INVALID_PARAMETER;
	return STATUS_SUCCESS;
}

/* The sizes of the request (3.3.5.15): within the negotiated maximum
 * (64 KiB for 2.0.2). */
static bool ioctl_sizes_ok(struct smb2_req *req, const struct wire_ioctl_req *q)
{
	uint32_t max_trans = req_conf(req)->max_io_size;
	if (req->sc->dialect == SMB2_DIALECT_202 && max_trans > 65536)
		max_trans = 65536;
	return q->in_len <= max_trans && q->max_input_response <= max_trans &&
	       q->max_output_response <= max_trans && q->out_len <= max_trans;
}

/* A replay names the same control code, flags, output sizes and input
 * (state/outcome.h). */
int cmd_ioctl_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3])
{
	struct rd r = req_body(req);
	struct wire_ioctl_req q;
	if (wire_ioctl_decode_req(&r, &q) < 0)
		return -1;
	put_le32(fixed, q.ctl_code);
	put_le32(fixed + 4, q.flags);
	put_le32(fixed + 8, q.max_output_response);
	put_le32(fixed + 12, q.max_input_response);
	put_le32(fixed + 16, q.in_len);
	put_le32(fixed + 20, q.out_len);
	int n = 0;
	iov[n++] = (struct iovec){fixed, 24};
	if (q.in_len)
		iov[n++] = (struct iovec){(void *)q.in, q.in_len};
	if (q.out_len)
		iov[n++] = (struct iovec){(void *)q.out, q.out_len};
	return n;
}

NTSTATUS cmd_ioctl(struct smb2_req *req)
{
	struct ioctl_ctx c = { .req = req };
	if (wire_ioctl_decode_req(&req->in, &c.q) < 0)
		return STATUS_INVALID_PARAMETER;
	/* 3.3.5.15: only FSCTLs travel over SMB2. */
	if (c.q.flags != SMB2_0_IOCTL_IS_FSCTL)
		return STATUS_NOT_SUPPORTED;
	if (!ioctl_sizes_ok(req, &c.q))
		return STATUS_INVALID_PARAMETER;
	c.id = req->tree ? req->tree->tok.ident : NULL;
	const struct fsctl_desc *d = fsctl_lookup(req, c.q.ctl_code);
	NTSTATUS st = d ? fsctl_check(&c, d) : fsctl_check_open(&c, NULL);
	if (st == STATUS_SUCCESS && d)
		st = d->fn(&c);
	/* A pipe share answers an FSCTL that is not a pipe's as one without
	 * the file system driver (Windows). */
	if (st == STATUS_INVALID_DEVICE_REQUEST && (!d || d->target != FSCTL_ON_SERVER) && req->tree &&
	    req->tree->ipc && c.q.ctl_code != FSCTL_PIPE_TRANSCEIVE)
		st = STATUS_FS_DRIVER_REQUIRED;
	return st;
}
