#include "cmd/create_replay.h"

#include <string.h>

#include "cmd/fileops.h"
#include "mc/lease.h"
#include "state/replay.h"
#include "util/log.h"
#include "util/metrics.h"

/* The oplock a replay is answered with: what it asks for, never more than
 * the open holds (smbtorture replay-dhv2-oplock2: a replay asking for none
 * is answered none, the open keeps its batch oplock). */
static uint8_t replay_oplock(const struct open *o, uint8_t requested)
{
	static const uint8_t rank[256] = {
		[SMB2_OPLOCK_LEVEL_II] = 1, [SMB2_OPLOCK_LEVEL_EXCLUSIVE] = 2, [SMB2_OPLOCK_LEVEL_BATCH] = 3,
	};
	return rank[requested] < rank[o->oplock_level] ? (rank[requested] ? requested : SMB2_OPLOCK_LEVEL_NONE)
						       : o->oplock_level;
}

static const struct wire_create_ctx *asks_for(const struct wire_create_req *q, const char *name)
{
	for (unsigned i = 0; i < q->n_ctx; i++)
		if (q->ctx[i].name_len == 4 && !memcmp(q->ctx[i].name, name, 4))
			return &q->ctx[i];
	return NULL;
}

/* The oplock level and lease context of the answer.  A replay must ask
 * for what the first CREATE got: a lease of another key, or a lease where
 * the open holds an oplock, is ACCESS_DENIED (smbtorture
 * replay-dhv2-oplock-lease, replay-dhv2-lease3).  A lease is answered as
 * it stands now (upgraded since, say: replay-dhv2-lease1). */
static NTSTATUS replay_caching(const struct wire_create_req *q, struct open *o, uint8_t *level,
			       struct wire_ctx_lease *lrsp)
{
	const struct wire_create_ctx *c = asks_for(q, WIRE_CTX_LEASE);
	struct wire_ctx_lease rq;
	memset(lrsp, 0, sizeof(*lrsp));
	if (q->oplock_level == SMB2_OPLOCK_LEVEL_LEASE && c && wire_ctx_lease_decode(c, &rq) == 0) {
		if (!lease_key_matches(o, rq.key) || !lease_describe(o, lrsp))
			return STATUS_ACCESS_DENIED;
		*level = SMB2_OPLOCK_LEVEL_LEASE;
		return STATUS_SUCCESS;
	}
	pthread_mutex_lock(&o->file->lock);
	*level = replay_oplock(o, q->oplock_level);
	pthread_mutex_unlock(&o->file->lock);
	return STATUS_SUCCESS;
}

/* The response of the first CREATE, as far as the replay asks for it. */
static NTSTATUS replay_answer(struct smb2_req *req, const struct wire_create_req *q, struct open *o)
{
	uint8_t level;
	struct wire_ctx_lease lrsp;
	NTSTATUS st = replay_caching(q, o, &level, &lrsp);
	struct fileops_attrs a;
	if (st == STATUS_SUCCESS)
		st = fileops_stat_open(o, &a);
	if (st != STATUS_SUCCESS)
		return st;
	struct wire_create_rsp rsp;
	fileops_create_rsp(&rsp, o, &a, level, o->create_action);
	struct wire_create_rsp_ctx ctx[4];
	unsigned n = 0;
	if (asks_for(q, WIRE_CTX_MAXIMAL_ACCESS))
		wire_ctx_mxac_rsp(&ctx[n++], STATUS_SUCCESS, o->access);
	if (asks_for(q, WIRE_CTX_QUERY_ON_DISK_ID))
		wire_ctx_qfid_rsp(&ctx[n++], a.ino, a.dev);
	if (lrsp.version)
		wire_ctx_lease_rsp(&ctx[n++], &lrsp);
	/* durable only as far as the replay's oplock or lease would have allowed */
	if (o->durable == 2 && (level == SMB2_OPLOCK_LEVEL_BATCH ||
				(lrsp.version && (lrsp.state & SMB2_LEASE_HANDLE_CACHING))))
		wire_ctx_dh2q_rsp(&ctx[n++], o->durable_timeout_ms, 0);
	if (req_out_reserve(req, 88 + 4 * 80) < 0 || wire_create_encode_rsp(&req->out, &rsp, ctx, n) < 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	if (log_level_current >= LOG_DEBUG) {
		struct open_path *p = open_path_get(o);
		log_debug("create replay '%s' -> fid %llu", p->s, (unsigned long long)o->volatile_id);
		open_path_put(p);
	}
	return STATUS_SUCCESS;
}

/* The client lost every channel since the first CREATE: its durable open
 * waits detached, and the replay reclaims it as a DH2C would (Samba's
 * behaviour, smbtorture durable-reconnect-replay1), answered as a replay. */
static NTSTATUS replay_reclaim(struct smb2_req *req, const struct wire_create_req *q, const struct durable_req *d,
			       struct open *o)
{
	struct durable_req r = *d;
	r.dh2q = false;
	r.dh2c = true;
	r.fid.persistent = o->persistent_id;
	r.fid.volatile_ = o->volatile_id;
	memcpy(r.create_guid, d->q2.create_guid, 16);
	r.name = q->name; /* a leased open checks the name */
	r.name_len = q->name_len;
	NTSTATUS st = durable_reclaim(req, o, &r);
	if (st != STATUS_SUCCESS)
		return st;
	st = replay_answer(req, q, o);
	if (st != STATUS_SUCCESS)
		fileops_close_open(o, NULL); /* attached, and the client will never hear of it */
	return st;
}

/* The CreateGuid names open o (a reference, dropped here). */
static NTSTATUS replay_found(struct smb2_req *req, const struct wire_create_req *q, const struct durable_req *d,
			     struct open *o, bool *answered)
{
	bool replay = req->hdr.flags & SMB2_FLAGS_REPLAY_OPERATION;
	pthread_mutex_lock(&o->file->lock); /* o->session, o->detached: open.h */
	bool detached = o->detached, mine = o->session == req->session;
	pthread_mutex_unlock(&o->file->lock);
	NTSTATUS st = STATUS_SUCCESS;
	if (replay && detached) {
		st = replay_reclaim(req, q, d, o);
		*answered = st == STATUS_SUCCESS;
		req->replay_outcome = st == STATUS_SUCCESS ? METRICS_REPLAY_ANSWERED : METRICS_REPLAY_REFUSED;
	} else if (!replay || !mine) {
		/* not a replay, or of another session's open: the CreateGuid
		 * is in use */
		st = STATUS_DUPLICATE_OBJECTID;
		req->replay_outcome = METRICS_REPLAY_REFUSED;
	} else if (atomic_load(&o->replay_eligible)) {
		st = replay_answer(req, q, o);
		*answered = st == STATUS_SUCCESS;
		req->replay_outcome = st == STATUS_SUCCESS ? METRICS_REPLAY_ANSWERED : METRICS_REPLAY_REFUSED;
	}
	/* else: the open was used since; the replay is a new CREATE (replay6) */
	open_put(o);
	return st;
}

NTSTATUS create_replay_begin(struct smb2_req *req, const struct wire_create_req *q, const struct durable_req *d,
			     struct create_replay *rp, bool *answered)
{
	*answered = false;
	rp->reserved = false;
	struct smb_client *cl = req->sc->client;
	if (!d->dh2q || !cl || req->sc->dialect < SMB2_DIALECT_300)
		return STATUS_SUCCESS;
	memcpy(rp->client_guid, cl->guid, 16);
	memcpy(rp->create_guid, d->q2.create_guid, 16);
	struct open *o = NULL;
	switch (replay_reserve(rp->client_guid, rp->create_guid, &o)) {
	case REPLAY_NEW:
		rp->reserved = true;
		return STATUS_SUCCESS;
	case REPLAY_PENDING:
		/* the first CREATE still runs: the client asks again */
		req->replay_outcome = METRICS_REPLAY_RETRY;
		return STATUS_FILE_NOT_AVAILABLE;
	case REPLAY_FOUND:
		return replay_found(req, q, d, o, answered);
	case REPLAY_NOMEM:
		break;
	}
	return STATUS_INSUFFICIENT_RESOURCES;
}

void create_replay_end(struct create_replay *rp, struct open *o)
{
	if (!rp->reserved)
		return;
	rp->reserved = false;
	if (o && o->file) {
		atomic_store(&o->replay_eligible, true);
		replay_complete(rp->client_guid, rp->create_guid, o);
	} else {
		replay_abandon(rp->client_guid, rp->create_guid);
	}
}
