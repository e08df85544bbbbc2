/* CREATE ([MS-SMB2] 3.3.5.9, [MS-FSA] 2.1.5.1): open or create a file,
 * directory or named pipe.
 *
 * Order of checks follows Windows (smbtorture smb2.create.gentest): request
 * fields (options, attributes, access bits) first, then the name, then the
 * object (existence, type, access, share modes), and only then changes to
 * the file system (create, truncate, attributes). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cmd/acl.h"
#include "cmd/alloc.h"
#include "cmd/change_notify.h"
#include "cmd/cmd.h"
#include "cmd/create_int.h"
#include "cmd/create_replay.h"
#include "cmd/durable.h"
#include "cmd/fileops.h"
#include "cmd/secdesc.h"
#include "cmd/share_policy.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "cmd/ipc.h"
#include "cmd/streams.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/create.h"
#include "wire/fscc.h"

/* Until src/cmd/ipc.c provides them (a strong definition wins). */
__attribute__((weak)) NTSTATUS ipc_open(struct smb2_req *req, const char *name, struct open **out)
{
	(void)req; (void)name; *out = NULL;
	return STATUS_OBJECT_NAME_NOT_FOUND;
}
__attribute__((weak)) void ipc_close(struct open *o)
{
	(void)o;
}

/* CreateOptions bits: Windows answers INVALID_PARAMETER / NOT_SUPPORTED
 * (smb2.create.gentest masks). */
#define OPTIONS_INVALID 0xFF000000u
#define OPTIONS_NOT_SUPPORTED 0x00102080u  /* CREATE_TREE_CONNECTION, OPEN_BY_FILE_ID, RESERVE_OPFILTER */
/* FileAttributes a client may send ([MS-FSCC] 2.6 minus VOLUME/DEVICE/...) */
#define ATTRS_VALID 0x00007FB7u
/* DesiredAccess bits no object grants (reserved bits) -> ACCESS_DENIED. */
#define ACCESS_INVALID 0x0CE0FE00u

static NTSTATUS do_open(struct create_state *cs)
{
	for (int tries = 0; tries < 4; tries++) {
		struct statx st;
		int again = 0;
		int r = vfs_statx(cs->id, cs->root, cs->path, 0, STATX_BASIC_STATS | STATX_BTIME, &st);
		NTSTATUS s;
		if (r >= 0)
			s = create_open_existing(cs, &st, &again);
		else if (r == -ENOENT)
			s = create_new(cs, &again);
		else if (r == -ENOTDIR)
			return STATUS_OBJECT_PATH_NOT_FOUND;
		else
			return vfs_nt_status(r);
		if (!again)
			return s;
	}
	return STATUS_OBJECT_NAME_COLLISION;
}

/* Named pipes on IPC$. */
static NTSTATUS create_pipe(struct smb2_req *req, const struct wire_create_req *q)
{
	char *name = NULL;
	if (!q->name_len)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	if (utf16le_to_utf8(q->name, q->name_len, &name, NULL) < 0)
		return STATUS_OBJECT_NAME_INVALID;
	const char *n = name;
	while (*n == '\\')
		n++;
	if (strncasecmp(n, "PIPE\\", 5) == 0)
		n += 5;
	struct open *o = NULL;
	NTSTATUS st = ipc_open(req, n, &o);
	free(name);
	if (st != STATUS_SUCCESS)
		return st;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	struct wire_create_rsp rsp = {
		.create_action = FILE_OPENED,
		.attrs = FILE_ATTRIBUTE_NORMAL,
		.fid = { o->persistent_id, o->volatile_id },
	};
	open_put(o);
	if (wire_create_encode_rsp(&req->out, &rsp, NULL, 0) < 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	return STATUS_SUCCESS;
}

/* Request checks that come before any look at the name or the disk. */
static NTSTATUS check_request(const struct wire_create_req *q)
{
	if (q->impersonation > 3)
		return STATUS_BAD_IMPERSONATION_LEVEL;
	if (q->create_options & OPTIONS_INVALID)
		return STATUS_INVALID_PARAMETER;
	if ((q->create_options & (FILE_DIRECTORY_FILE | FILE_NON_DIRECTORY_FILE)) ==
	    (FILE_DIRECTORY_FILE | FILE_NON_DIRECTORY_FILE))
		return STATUS_INVALID_PARAMETER;
	if (q->create_disposition > FILE_OVERWRITE_IF)
		return STATUS_INVALID_PARAMETER;
	/* MS-FSA 2.1.5.1: a directory is only opened or created. */
	if ((q->create_options & FILE_DIRECTORY_FILE) &&
	    q->create_disposition != FILE_CREATE && q->create_disposition != FILE_OPEN &&
	    q->create_disposition != FILE_OPEN_IF)
		return STATUS_INVALID_PARAMETER;
	if (q->create_options & OPTIONS_NOT_SUPPORTED)
		return STATUS_NOT_SUPPORTED;
	if (q->desired_access & ACCESS_INVALID)
		return STATUS_ACCESS_DENIED;
	if (q->file_attributes & ~ATTRS_VALID)
		return STATUS_INVALID_PARAMETER;
	if (q->desired_access & ACCESS_SYSTEM_SECURITY)
		return STATUS_PRIVILEGE_NOT_HELD; /* SeSecurityPrivilege */
	/* An open that asks for nothing is refused (smb2.create.gentest);
	 * SYNCHRONIZE alone is a valid request (smb2.sharemode). */
	if (!q->desired_access)
		return STATUS_ACCESS_DENIED;
	if ((q->create_options & FILE_DELETE_ON_CLOSE) &&
	    !(fileops_map_generic(q->desired_access) & (DELETE_ACCESS | MAXIMUM_ALLOWED)))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

static bool utf16_has_colon(const uint8_t *u, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		if (u[i] == ':' && u[i + 1] == 0)
			return true;
	return false;
}

/* The request's name -> the path on disk (case resolved) and the stream
 * name (NULL: the default stream).  Both malloc'd on success; nothing
 * allocated is left behind on failure. */
static NTSTATUS create_name(struct smb2_req *req, const struct wire_create_req *q, struct create_state *cs,
			    char **name_out, char **stream_out)
{
	char *name = NULL, *stream = NULL;
	NTSTATUS st = fileops_name_stream(req, q->name, q->name_len, &name, &cs->trailing_slash, &stream);
	if (st != STATUS_SUCCESS)
		return st;
	if (stream && (!name[0] || (q->create_options & FILE_DIRECTORY_FILE) || cs->trailing_slash)) {
		st = name[0] ? STATUS_NOT_A_DIRECTORY : STATUS_OBJECT_NAME_INVALID;
		goto fail;
	}
	/* "name::$DATA" names the data stream: a directory has none
	 * ([MS-FSA] 2.1.5.1: StreamTypeToOpen is DataStream) */
	bool data_stream = !stream && utf16_has_colon(q->name, q->name_len);
	if (data_stream && (q->create_options & FILE_DIRECTORY_FILE)) {
		st = STATUS_NOT_A_DIRECTORY;
		goto fail;
	}
	if (name[0] && req->tree->share->case_insensitive) {
		char *real = NULL;
		int r = vfs_resolve_ci(cs->id, cs->root, name, &real);
		if (r == -ENOENT || r == -ENOTDIR) {
			st = STATUS_OBJECT_PATH_NOT_FOUND;
			goto fail;
		}
		if (r >= 0 && real) {
			free(name);
			name = real;
		}
	}
	struct statx dst;
	if (data_stream && vfs_statx(cs->id, cs->root, name[0] ? name : ".", 0, STATX_TYPE, &dst) == 0 &&
	    S_ISDIR(dst.stx_mode)) {
		st = STATUS_FILE_IS_A_DIRECTORY;
		goto fail;
	}
	*name_out = name;
	*stream_out = stream;
	return STATUS_SUCCESS;
fail:
	free(name);
	free(stream);
	return st;
}

/* Leases for this request: the connection offered them (negotiate: "smb2
 * leases", dialect 2.1 and later) and the client has a ClientGUID. */
static bool leases_on(struct smb2_req *req)
{
	return (req->sc->server_caps & SMB2_GLOBAL_CAP_LEASING) && req->session->client;
}

/* The lease the request names already (cs->lease_self, a reference).  A
 * key that is another file's is refused before anything is created
 * (MS-SMB2 3.3.5.9.8); create_attach() checks again against the file the
 * open joins. */
static NTSTATUS create_lease_self(struct create_state *cs, bool stream)
{
	if (!cs->want_lease)
		return STATUS_SUCCESS;
	cs->lease_self = lease_find(cs->req->session->client->guid, cs->lease_rq.key);
	if (!cs->lease_self || stream)
		return STATUS_SUCCESS;
	struct statx st;
	if (vfs_statx(cs->id, cs->root, cs->path, 0, STATX_BASIC_STATS, &st) < 0 ||
	    !lease_is_for_inode(cs->lease_self, makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino))
		return STATUS_INVALID_PARAMETER;
	return STATUS_SUCCESS;
}

/* The oplock level of the response, and the lease context when a lease was
 * asked for (*lrsp->version 0: none given). */
static NTSTATUS create_grant(struct create_state *cs, struct open *o, uint8_t *level, struct wire_ctx_lease *lrsp)
{
	memset(lrsp, 0, sizeof(*lrsp));
	const struct conf_share *sh = cs->req->tree->share;
	if (!sh->oplocks) {
		*level = SMB2_OPLOCK_LEVEL_NONE; /* "oplocks = no": no oplock, no lease */
		return STATUS_SUCCESS;
	}
	if (!cs->want_lease) {
		*level = oplock_grant(o, cs->q->oplock_level);
		if (*level == SMB2_OPLOCK_LEVEL_II && !sh->level2_oplocks) {
			pthread_mutex_lock(&o->file->lock); /* "level2 oplocks = no" */
			o->oplock_level = *level = SMB2_OPLOCK_LEVEL_NONE;
			pthread_mutex_unlock(&o->file->lock);
		}
		return STATUS_SUCCESS;
	}
	bool dir_ok = cs->req->sc->server_caps & SMB2_GLOBAL_CAP_DIRECTORY_LEASING;
	struct wire_ctx_lease rq = cs->lease_rq;
	if (!sh->level2_oplocks && !(rq.state & SMB2_LEASE_WRITE_CACHING))
		rq.state = 0; /* "level2 oplocks = no": read caching only alone, with write caching */
	/* a directory lease other programs' changes could not break caches
	 * nothing (cmd/lease_watch.c) */
	if (o->is_dir && dir_ok && rq.state && !lease_watch_dir(o))
		rq.state = 0;
	NTSTATUS st = lease_grant(o, cs->req->session->client->guid, &rq, dir_ok, lrsp);
	*level = lrsp->version ? SMB2_OPLOCK_LEVEL_LEASE : SMB2_OPLOCK_LEVEL_NONE;
	return st;
}

/* The create contexts (MS-SMB2 3.3.5.9.x) into the state; *mxac, *qfid:
 * the response must carry those. */
static NTSTATUS create_contexts(const struct wire_create_req *q, struct create_state *cs, bool *mxac, bool *qfid)
{
	NTSTATUS st;
	for (unsigned i = 0; i < q->n_ctx; i++) {
		const struct wire_create_ctx *c = &q->ctx[i];
		if (c->name_len < 4)
			return STATUS_INVALID_PARAMETER;
		if (c->name_len != 4)
			continue; /* GUID-named contexts (AAPL ...) are not ours */
		if (!memcmp(c->name, WIRE_CTX_EA_BUFFER, 4)) {
			/* MS-SMB2 3.3.5.9.1: FILE_FULL_EA_INFORMATION, applied
			 * when the file is created or overwritten */
			if ((st = fileops_ea_check(c->data, c->data_len, NULL)))
				return st;
			if (c->data_len) {
				cs->eas = c->data;
				cs->eas_len = c->data_len;
			}
		} else if (!memcmp(c->name, WIRE_CTX_SD_BUFFER, 4)) {
			/* MS-SMB2 3.3.5.9.3: the descriptor of a new object
			 * (never silently dropped: it may restrict access) */
			if (!secdesc_valid(c->data, c->data_len))
				return STATUS_INVALID_SECURITY_DESCR;
			cs->sd = c->data;
			cs->sd_len = c->data_len;
		} else if (!memcmp(c->name, WIRE_CTX_TIMEWARP, 4)) {
			return STATUS_OBJECT_NAME_NOT_FOUND; /* no previous versions */
		} else if (!memcmp(c->name, WIRE_CTX_MAXIMAL_ACCESS, 4)) {
			struct wire_ctx_mxac m;
			if (wire_ctx_mxac_decode(c, &m) < 0)
				return STATUS_INVALID_PARAMETER;
			*mxac = true;
		} else if (!memcmp(c->name, WIRE_CTX_QUERY_ON_DISK_ID, 4)) {
			*qfid = true;
		} else if (!memcmp(c->name, WIRE_CTX_ALLOCATION_SIZE, 4)) {
			if (wire_ctx_alsi_decode(c, &cs->alloc) < 0)
				return STATUS_INVALID_PARAMETER;
		} else if (!memcmp(c->name, WIRE_CTX_LEASE, 4)) {
			/* MS-SMB2 3.3.5.9.8/.11: read only with RequestedOplockLevel
			 * LEASE, on a connection that offered leasing */
			if (q->oplock_level != SMB2_OPLOCK_LEVEL_LEASE || !leases_on(cs->req))
				continue;
			if (wire_ctx_lease_decode(c, &cs->lease_rq) < 0)
				return STATUS_INVALID_PARAMETER;
			cs->want_lease = true;
		}
		/* DHnQ, DH2Q, DHnC, DH2C: durable_contexts() */
	}
	return STATUS_SUCCESS;
}

/* The durable-handle contexts (cmd/durable.h), before anything else: a
 * reconnect ignores every other field of the request (3.3.5.9.7). */
static NTSTATUS durable_contexts(const struct smb2_req *req, const struct wire_create_req *q, struct durable_req *d)
{
	for (unsigned i = 0; i < q->n_ctx; i++) {
		bool mine;
		NTSTATUS st = durable_context(&q->ctx[i], d, &mine);
		if (st != STATUS_SUCCESS)
			return st;
	}
	return durable_check(d, req->sc->dialect);
}

/* The response of a CREATE that opened o: its attributes, the oplock or
 * lease granted, and the contexts asked for. */
static NTSTATUS create_answer(struct create_state *cs, struct open *o, const struct durable_req *dur, bool want_mxac,
			      bool want_qfid, struct open **out)
{
	struct smb2_req *req = cs->req;
	struct fileops_attrs a;
	NTSTATUS st = fileops_stat_open(o, &a);
	struct wire_ctx_lease lrsp;
	uint8_t level = SMB2_OPLOCK_LEVEL_NONE;
	if (st == STATUS_SUCCESS)
		st = create_grant(cs, o, &level, &lrsp);
	if (st != STATUS_SUCCESS) {
		if (cs->action == FILE_CREATED)
			create_undo(o);
		else
			create_open_abort(o);
		return st;
	}
	struct wire_create_rsp rsp;
	fileops_create_rsp(&rsp, o, &a, level, cs->action);
	struct wire_create_rsp_ctx ctx[4];
	unsigned n_ctx = 0;
	if (want_mxac)
		wire_ctx_mxac_rsp(&ctx[n_ctx++], STATUS_SUCCESS, cs->max_access);
	if (want_qfid)
		wire_ctx_qfid_rsp(&ctx[n_ctx++], a.ino, a.dev);
	if (lrsp.version)
		wire_ctx_lease_rsp(&ctx[n_ctx++], &lrsp);
	n_ctx += durable_grant(req, o, dur, &ctx[n_ctx]); /* after the grant: it looks at the oplock or lease */
	/* a delete is coming: other handles are not to be cached, and their
	 * breaks go before this reply (smb2.lease.unlink: smb2_util_unlink);
	 * first, since it waits and the directory's breaks must not go
	 * before the reply */
	if (cs->q->create_options & FILE_DELETE_ON_CLOSE)
		lease_break_handles_first(req, o);
	if (cs->action != FILE_OPENED) {
		lease_watch_own(o, cs->path);
		lease_break_parent(cs->id, cs->root, o, cs->path); /* a name or a size in the listing changed */
	}
	if (req_out_reserve(req, 88 + 4 * 80) < 0 ||
	    wire_create_encode_rsp(&req->out, &rsp, ctx, n_ctx) < 0) {
		create_open_abort(o);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	log_debug("create '%s' -> fid %llu action %u access %#x", cs->path,
		  (unsigned long long)o->volatile_id, cs->action, o->access);
	o->create_action = cs->action; /* for a replay (cmd/create_replay.c) */
	*out = o;
	return STATUS_SUCCESS;
}

/* A CREATE that opens (or makes) a file, directory or pipe; *out: the new
 * open (a reference) when it succeeded. */
static NTSTATUS create_fresh(struct smb2_req *req, struct wire_create_req *q, struct durable_req *dur,
			     struct open **out)
{
	NTSTATUS st = check_request(q);
	if (st != STATUS_SUCCESS)
		return st;
	/* "max open files" and its per-session / per-user bounds: refused
	 * before any descriptor is opened (Samba answers the same status). */
	if (open_limit_check(req->session) < 0)
		return STATUS_TOO_MANY_OPENED_FILES;
	if (req->tree->ipc)
		return create_pipe(req, q);

	struct create_state cs = {
		.req = req,
		.q = q,
		.id = req->tree->tok.ident,
		.root = req->tree->root_fd,
		.dur = dur,
	};
	bool want_mxac = false, want_qfid = false;
	if ((st = create_contexts(q, &cs, &want_mxac, &want_qfid)))
		return st;

	char *name = NULL, *stream = NULL;
	st = create_name(req, q, &cs, &name, &stream);
	if (st != STATUS_SUCCESS)
		return st;
	cs.path = name;
	uint32_t acc = fileops_map_generic(q->desired_access);
	cs.max_allowed = acc & MAXIMUM_ALLOWED;
	cs.want = acc;

	st = create_lease_self(&cs, stream != NULL);
	if (st == STATUS_SUCCESS)
		st = stream ? create_open_stream(&cs, stream) : do_open(&cs);
	free(stream);
	lease_put(cs.lease_self);
	if (st != STATUS_SUCCESS) {
		log_debug("create '%s' disp %u opts %#x access %#x: %s", name, q->create_disposition,
			  q->create_options, q->desired_access, nt_status_name(st));
		free(name);
		return st;
	}
	struct open *o = cs.o;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	st = create_answer(&cs, o, dur, want_mxac, want_qfid, out);
	free(name); /* after the answer: it reads cs.path (the parent's breaks, the notes of own changes) */
	return st;
}

NTSTATUS cmd_create(struct smb2_req *req)
{
	struct wire_create_req q;
	if (wire_create_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct durable_req dur = { 0 };
	NTSTATUS st = durable_contexts(req, &q, &dur);
	if (st != STATUS_SUCCESS)
		return st;
	if (dur.dhnc || dur.dh2c) {
		dur.name = q.name;
		dur.name_len = q.name_len;
		return durable_reconnect(req, &dur);
	}
	struct create_replay rp;
	bool answered;
	st = create_replay_begin(req, &q, &dur, &rp, &answered);
	if (st != STATUS_SUCCESS || answered)
		return st;
	struct open *o = NULL;
	st = create_fresh(req, &q, &dur, &o);
	create_replay_end(&rp, o);
	if (o)
		open_put(o);
	return st;
}
