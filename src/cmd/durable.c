/* Durable handles: grant, keep, scavenge, reconnect, purge (durable.h). */
#include "cmd/durable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/create_int.h"
#include "cmd/fileops.h"
#include "conf/conf.h"
#include "loop/timer.h"
#include "loop/worker.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "net/conn.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/utf16.h"
#include "vfs/vfs.h"
#include "wire/smb2.h"

/* ---- the create contexts ---- */

NTSTATUS durable_context(const struct wire_create_ctx *c, struct durable_req *d, bool *mine)
{
	*mine = true;
	if (c->name_len == 16 && !memcmp(c->name, WIRE_CTX_APP_INSTANCE_ID, 16)) {
		if (wire_ctx_app_instance_decode(c, d->app_id) < 0)
			return STATUS_INVALID_PARAMETER;
		d->app = true;
		return STATUS_SUCCESS;
	}
	if (c->name_len != 4) {
		*mine = false;
		return STATUS_SUCCESS;
	}
	/* A context sent twice is refused (3.3.5.9: duplicate contexts). */
	if (!memcmp(c->name, WIRE_CTX_DURABLE_REQ, 4)) {
		if (d->dhnq || wire_ctx_dhnq_decode(c) < 0)
			return STATUS_INVALID_PARAMETER;
		d->dhnq = true;
	} else if (!memcmp(c->name, WIRE_CTX_DURABLE_REQ_V2, 4)) {
		if (d->dh2q || wire_ctx_dh2q_decode(c, &d->q2) < 0)
			return STATUS_INVALID_PARAMETER;
		d->dh2q = true;
	} else if (!memcmp(c->name, WIRE_CTX_DURABLE_RECONNECT, 4)) {
		if (d->dhnc || wire_ctx_dhnc_decode(c, &d->fid) < 0)
			return STATUS_INVALID_PARAMETER;
		d->dhnc = true;
	} else if (!memcmp(c->name, WIRE_CTX_LEASE, 4)) {
		/* read here for a reconnect only (whatever the oplock level):
		 * create_contexts() grants leases */
		d->has_lease = wire_ctx_lease_decode(c, &d->lease) == 0;
		*mine = false;
	} else if (!memcmp(c->name, WIRE_CTX_DURABLE_RECONNECT_V2, 4)) {
		struct wire_ctx_dh2c r;
		if (d->dh2c || wire_ctx_dh2c_decode(c, &r) < 0)
			return STATUS_INVALID_PARAMETER;
		d->dh2c = true;
		d->fid = r.fid;
		memcpy(d->create_guid, r.create_guid, 16);
	} else {
		*mine = false;
	}
	return STATUS_SUCCESS;
}

NTSTATUS durable_check(struct durable_req *d, uint16_t dialect)
{
	/* 2.2.13.2.11-13: the v2 contexts and AppInstanceId exist from 3.0
	 * on; an older dialect's CREATE carrying them is treated as without */
	if (dialect < SMB2_DIALECT_300)
		d->dh2q = d->dh2c = d->app = false;
	/* 3.3.5.9.10 / .12: a v2 context with any other durable context */
	if (d->dh2q && (d->dhnq || d->dhnc || d->dh2c))
		return STATUS_INVALID_PARAMETER;
	if (d->dh2c && (d->dhnq || d->dhnc))
		return STATUS_INVALID_PARAMETER;
	/* 3.3.5.9.7: a DHnQ next to a DHnC is ignored */
	if (d->dhnc)
		d->dhnq = false;
	/* 3.3.5.9.13: AppInstanceId counts only with a DH2Q */
	if (!d->dh2q)
		d->app = false;
	return STATUS_SUCCESS;
}

/* ---- the scavenger ---- */

/* A detached open's timer: names the open, never points at it. */
struct scavenge_job {
	uint64_t persistent_id;
	uint32_t gen;
	struct open *o;       /* only while the close runs (a reference) */
};

static void scavenge_co(void *arg)
{
	struct scavenge_job *j = arg;
	if (fileops_close_detached(j->o, j->gen)) {
		metrics_add(&metrics.durable_scavenged, 1);
		struct open_path *p = open_path_get(j->o);
		log_info("durable open %llx (%s) not reconnected in time: closed", (unsigned long long)j->persistent_id,
			 p->s);
		open_path_put(p);
	}
	open_put(j->o);
	free(j);
}

/* The timer fired (on the worker that detached the open, outside any
 * coroutine): close the open if it is still the same detached open. */
static void scavenge_fire(void *arg)
{
	struct scavenge_job *j = arg;
	struct open *o = open_lookup_detached(j->persistent_id);
	bool same = false;
	if (o) {
		pthread_mutex_lock(&o->file->lock);
		same = o->detach_gen == j->gen;
		if (o->scavenger == j) { /* fired: nobody may cancel it any more */
			o->scav_w = NULL;
			o->scav_id = 0;
			o->scavenger = NULL;
		}
		pthread_mutex_unlock(&o->file->lock);
	}
	if (!same) {
		open_put(o);
		free(j);
		return;
	}
	/* The last close of a delete-on-close file removes it through the
	 * vfs, which waits in a coroutine (fileops.c remove_path). */
	j->o = o;
	struct coro *co = coro_new(scavenge_co, j);
	if (co)
		coro_resume(co);
	else
		scavenge_co(j); /* out of memory: closed, the file stays */
}

/* A reconnect cancels the pending timer; its job is freed only when the
 * cancel removed it (a timer that ran freed its own). */
struct scavenge_cancel {
	struct worker *w;
	timer_id id;
	struct scavenge_job *job;
};

static void cancel_run(void *arg)
{
	struct scavenge_cancel *c = arg;
	bool cancelled;
	if (worker_self() == c->w)
		cancelled = timer_cancel(c->w, c->id);
	else /* the mailbox drained by worker_fini: its thread has ended and
		nothing else touches its timers (loop/worker.c) */
		cancelled = timer_heap_cancel(&c->w->timers, c->id);
	if (cancelled)
		free(c->job);
	free(c);
}

/* Take the open's pending scavenger timer and cancel it.  Harmless when
 * there is none, or when it has already fired. */
static void scavenger_cancel(struct open *o)
{
	if (!o->file)
		return;
	struct scavenge_cancel *c = malloc(sizeof(*c));
	pthread_mutex_lock(&o->file->lock);
	struct scavenge_cancel taken = { o->scav_w, o->scav_id, o->scavenger };
	o->scav_w = NULL;
	o->scav_id = 0;
	o->scavenger = NULL;
	pthread_mutex_unlock(&o->file->lock);
	if (!c || !taken.w || !taken.id) {
		free(c); /* nothing to cancel, or it fires and finds an attached open */
		return;
	}
	*c = taken;
	if (worker_self() == c->w)
		cancel_run(c);
	else if (worker_post(c->w, cancel_run, c) < 0)
		free(c);
}

void durable_closed(struct open *o)
{
	scavenger_cancel(o);
}

/* ---- keeping an open at a disconnect (3.3.7.1) ---- */

/* Whether o holds a byte-range lock (under its file's lock). */
static bool holds_locks(const struct open *o)
{
	const struct file *f = o->file;
	for (unsigned i = 0; i < f->n_locks; i++)
		if (f->locks[i].owner == o)
			return true;
	return false;
}

/* Whether the lease of o still lets it be kept: handle caching, no break
 * in flight, and write caching if it holds byte-range locks (without it
 * another client could have written under them: smbtorture
 * durable-open.lock-noW-lease).  Under the file's lock. */
static bool lease_keepable(const struct open *o)
{
	uint32_t st = lease_state_locked(o);
	return (st & LEASE_H) && !lease_breaking_locked(o) && ((st & LEASE_W) || !holds_locks(o));
}

/* Whether o may outlive its session: resilient (FSCTL_LMR_REQUEST_RESILIENCY,
 * kept whatever it caches: 3.3.7.1), or durable, still holding the batch
 * oplock or the lease it was granted with, and no break in flight (a
 * client that cannot acknowledge a break must not keep the open: 3.3.7.1). */
static bool keepable(struct open *o)
{
	pthread_mutex_lock(&o->file->lock);
	bool ok = o->resilient ||
		  (o->durable && (o->lease ? lease_keepable(o)
					   : o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH && !o->oplock_breaking));
	pthread_mutex_unlock(&o->file->lock);
	return ok;
}

bool durable_keep(struct open *o)
{
	struct worker *w = worker_self();
	if (!w || o->closed || !o->file || !keepable(o))
		return false;
	struct scavenge_job *j = calloc(1, sizeof(*j));
	if (!j)
		return false;
	if (open_detach(o) < 0) {
		free(j);
		return false;
	}
	pthread_mutex_lock(&o->file->lock);
	j->persistent_id = o->persistent_id;
	j->gen = o->detach_gen;
	uint64_t deadline = o->detach_deadline_ms;
	pthread_mutex_unlock(&o->file->lock);
	timer_id id = timer_add(w, deadline, scavenge_fire, j);
	if (!id) {
		uint32_t gen = j->gen;
		free(j);
		struct open_path *p = open_path_get(o);
		log_warn("durable open %s: no timer for its scavenger, closed now", p->s);
		open_path_put(p);
		fileops_close_detached(o, gen);
		return true;
	}
	/* Recorded for a reconnect to cancel, unless one came already: then
	 * the timer finds an attached open (or a later detach) and ends. */
	pthread_mutex_lock(&o->file->lock);
	if (o->detached && o->detach_gen == j->gen) {
		o->scav_w = w;
		o->scav_id = id;
		o->scavenger = j;
	}
	pthread_mutex_unlock(&o->file->lock);
	metrics_add(&metrics.durable_kept, 1);
	log_debug("durable open %llx kept for %u ms", (unsigned long long)o->persistent_id, o->durable_timeout_ms);
	return true;
}

/* ---- reconnect (3.3.5.9.7 DHnC, 3.3.5.9.12 DH2C) ---- */

/* Does the CREATE's name (UTF-16LE, '\\'-separated, any case) name the
 * open's path? */
static bool same_name(const struct durable_req *d, const struct open *o)
{
	char *name = NULL;
	if (!d->name_len)
		return open_path_is_root(o);
	if (utf16le_to_utf8(d->name, d->name_len, &name, NULL) < 0 || !name)
		return false;
	for (char *p = name; *p; p++)
		if (*p == '\\')
			*p = '/';
	const char *n = name;
	while (*n == '/')
		n++;
	struct open_path *p = open_path_get(o); /* a rename through another open may replace it */
	bool same = !strcasecmp(n, p->s);
	open_path_put(p);
	free(name);
	return same;
}

/* 3.3.5.9.7 / .12 for an open with a lease: the request names the same
 * lease (ClientGuid and LeaseKey: OBJECT_NAME_NOT_FOUND), and then the
 * same file (INVALID_PARAMETER); an open without a lease takes no RqLs. */
static NTSTATUS reconnect_lease_check(struct smb2_req *req, const struct open *o, const struct durable_req *d)
{
	if (!o->lease)
		return d->has_lease ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_SUCCESS;
	const struct smb_client *cl = req->session->client;
	struct lease *l = d->has_lease && cl ? lease_find(cl->guid, d->lease.key) : NULL;
	bool mine = l && l == o->lease;
	lease_put(l);
	if (!mine)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	if (!o->delete_on_close && !same_name(d, o))
		return STATUS_INVALID_PARAMETER;
	return STATUS_SUCCESS;
}

/* A detached open whose lease was broken meanwhile (a write, a rename:
 * the break could not reach it) is not reclaimed: it is closed now
 * (3.3.4.7), and the reconnect finds nothing. */
static bool purge_if_broken(struct open *o)
{
	if (!o->lease)
		return false;
	pthread_mutex_lock(&o->file->lock);
	bool broken = !(lease_state_locked(o) & LEASE_H) || lease_breaking_locked(o);
	uint32_t gen = o->detach_gen;
	pthread_mutex_unlock(&o->file->lock);
	if (broken && fileops_close_detached(o, gen)) {
		metrics_add(&metrics.durable_purged, 1);
		log_debug("durable open %llx purged: its lease was broken while detached",
			  (unsigned long long)o->persistent_id);
	}
	return broken;
}

/* The checks a detached open makes of the CREATE that reclaims it. */
static NTSTATUS reconnect_check(struct smb2_req *req, const struct open *o, const struct durable_req *d)
{
	/* DH2C: the CreateGuid the open was made with (a v1 open has none:
	 * a DH2C with a zero CreateGuid finds it, smbtorture
	 * durable-open.reopen2-lease; a v2 open may be reclaimed by a DHnC,
	 * durable-v2-open.reopen2b) */
	if (d->dh2c && memcmp(o->create_guid, d->create_guid, 16))
		return STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS st = reconnect_lease_check(req, o, d);
	if (st != STATUS_SUCCESS)
		return st;
	/* the open's path is relative to its share: another share never finds it */
	if (!o->share || !req->tree->share || strcasecmp(o->share, req->tree->share->name))
		return STATUS_OBJECT_NAME_NOT_FOUND;
	/* 3.3.5.9.7: "the same security context" -- the same user */
	const struct session *s = req->session;
	if (!o->owner || !s->user || s->anonymous || strcasecmp(o->owner, s->user))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* The CREATE response of a reconnected open: its oplock or lease as they
 * stand, FILE_OPENED, its attributes, and no durable context (the client
 * already has one). */
static NTSTATUS reconnect_reply(struct smb2_req *req, struct open *o)
{
	struct fileops_attrs a;
	NTSTATUS st = fileops_stat_open(o, &a);
	if (st != STATUS_SUCCESS)
		return st;
	struct wire_ctx_lease lrsp;
	lease_describe(o, &lrsp); /* version 0 without a lease */
	struct wire_create_rsp_ctx ctx[1];
	unsigned n_ctx = 0;
	if (lrsp.version)
		wire_ctx_lease_rsp(&ctx[n_ctx++], &lrsp);
	pthread_mutex_lock(&o->file->lock);
	uint8_t level = lrsp.version ? SMB2_OPLOCK_LEVEL_LEASE : o->oplock_level;
	pthread_mutex_unlock(&o->file->lock);
	struct wire_create_rsp rsp;
	fileops_create_rsp(&rsp, o, &a, level, FILE_OPENED);
	if (req_out_reserve(req, 88 + 80) < 0 || wire_create_encode_rsp(&req->out, &rsp, ctx, n_ctx) < 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	return STATUS_SUCCESS;
}

NTSTATUS durable_reclaim(struct smb2_req *req, struct open *o, const struct durable_req *d)
{
	NTSTATUS st = reconnect_check(req, o, d);
	if (st == STATUS_SUCCESS && purge_if_broken(o))
		st = STATUS_OBJECT_NAME_NOT_FOUND;
	if (st == STATUS_SUCCESS) {
		int r = open_attach(o, req->session, req->tree);
		st = r == -ENOTCONN ? STATUS_USER_SESSION_DELETED : r < 0 ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_SUCCESS;
	}
	if (st != STATUS_SUCCESS) {
		log_debug("durable reconnect of %llx: %s", (unsigned long long)o->persistent_id, nt_status_name(st));
		return st;
	}
	scavenger_cancel(o);
	if (o->file) {
		/* its breaks go to the channel it came back on first */
		pthread_mutex_lock(&o->file->lock);
		o->conn_id = req->sc->conn->id;
		pthread_mutex_unlock(&o->file->lock);
	}
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	return STATUS_SUCCESS;
}

NTSTATUS durable_reconnect(struct smb2_req *req, const struct durable_req *d)
{
	if (req->tree->ipc)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	/* 3.3.5.9.7: looked up by the persistent FileId; an open still
	 * attached to a session is not found (durable-open.reopen1, reopen5) */
	struct open *o = open_lookup_detached(d->fid.persistent);
	if (!o)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS st = durable_reclaim(req, o, d);
	if (st != STATUS_SUCCESS) {
		open_put(o);
		return st;
	}
	st = reconnect_reply(req, o);
	if (st != STATUS_SUCCESS) {
		fileops_close_open(o, NULL); /* attached, and the client will never hear of it */
	} else {
		metrics_add(&metrics.durable_reconnected, 1);
		log_debug("durable open %llx reconnected as %llu", (unsigned long long)o->persistent_id,
			  (unsigned long long)o->volatile_id);
	}
	open_put(o);
	return st;
}

/* ---- the grant (3.3.5.9.6 DHnQ, 3.3.5.9.10 DH2Q) ---- */

unsigned durable_grant(struct smb2_req *req, struct open *o, const struct durable_req *d,
		       struct wire_create_rsp_ctx *ctx)
{
	if (!d->dhnq && !d->dh2q)
		return 0;
	const struct conf_share *sh = req->tree->share;
	/* a batch oplock or a lease with handle caching (3.3.5.9.6), never a
	 * directory; o->owner and o->share were set by create_open_new */
	if (!sh || !sh->durable_handles || o->is_dir || !o->file || !o->owner || !o->share)
		return 0;
	uint32_t timeout = DURABLE_V1_TIMEOUT_MS;
	if (d->dh2q) {
		uint64_t cap = (uint64_t)req_conf(req)->durable_timeout * 1000;
		timeout = d->q2.timeout ? d->q2.timeout : DURABLE_V2_DEFAULT_MS;
		if (timeout > cap)
			timeout = (uint32_t)cap;
	}
	pthread_mutex_lock(&o->file->lock);
	bool ok = o->lease ? (lease_state_locked(o) & LEASE_H) != 0 : o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH;
	if (ok) {
		o->durable = d->dh2q ? 2 : 1;
		o->durable_timeout_ms = timeout;
		if (d->dh2q)
			memcpy(o->create_guid, d->q2.create_guid, 16);
	}
	pthread_mutex_unlock(&o->file->lock);
	if (!ok)
		return 0;
	if (d->dh2q) {
		/* no continuous availability here: the persistent flag is
		 * never granted (3.3.5.9.10), the handle is durable only */
		wire_ctx_dh2q_rsp(ctx, timeout, 0);
	} else {
		wire_ctx_dhnq_rsp(ctx);
	}
	return 1;
}

/* ---- before a new open joins its file ---- */

#define MAX_VICTIMS 16

/* 3.3.5.9.13: a CREATE with an AppInstanceId closes the older open of the
 * same application instance on the same file, attached or not, without a
 * break (the failover of a clustered application: smbtorture
 * durable-v2-open.app-instance).  Only the same user's opens. */
static unsigned close_app_instance(struct open *o, struct file *f)
{
	struct open *v[MAX_VICTIMS];
	unsigned n = 0;
	pthread_mutex_lock(&f->lock); /* the paths of f's opens (and o's: o->file is f) are read under it */
	for (struct open *e = f->opens; e && n < MAX_VICTIMS; e = e->file_next) {
		if (e->has_app_instance && !memcmp(e->app_instance_id, o->app_instance_id, 16) && e->owner &&
		    !strcasecmp(e->owner, o->owner) && e->share && !strcasecmp(e->share, o->share) &&
		    !strcmp(e->path->s, o->path->s)) {
			open_get(e);
			v[n++] = e;
		}
	}
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < n; i++) {
		log_debug("app instance reopened: closing the older open %llx", (unsigned long long)v[i]->persistent_id);
		fileops_close_open(v[i], NULL);
		open_put(v[i]);
	}
	return n;
}

/* Close the detached opens v[0..n) (each still the same detached open)
 * and drop the references; how many were closed. */
static unsigned purge(struct oplock_victim *v, unsigned n, const char *why)
{
	unsigned closed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (fileops_close_detached(v[i].o, v[i].gen)) {
			metrics_add(&metrics.durable_purged, 1);
			log_debug("durable open %llx purged: %s", (unsigned long long)v[i].o->persistent_id, why);
			closed++;
		}
		open_put(v[i].o);
	}
	return closed;
}

/* MS-SMB2 3.3.4.6: an oplock break that cannot reach a detached open
 * closes it.  Returns how many were closed. */
static unsigned purge_detached(struct create_state *cs, struct open *o, struct file *f, bool overwrite)
{
	struct oplock_victim v[MAX_VICTIMS];
	unsigned n = oplock_detached_victims(f, o->access, o->share_access, overwrite, fileops_share_conflict,
					     cs->lease_self, v, MAX_VICTIMS);
	return purge(v, n, "another open breaks its oplock");
}

void durable_purge_victims(struct oplock_victim *v, unsigned n, const char *why)
{
	(void)purge(v, n, why);
}

void durable_purge_leased(struct file *f, const uint8_t *spare_key, uint32_t keep, const char *why)
{
	struct oplock_victim v[MAX_VICTIMS];
	/* a batch at a time; each round closes what it found (a reattached
	 * open is no longer found), so the rounds end */
	for (unsigned n = MAX_VICTIMS; n == MAX_VICTIMS;) {
		n = oplock_detached_leased(f, spare_key, keep, v, MAX_VICTIMS);
		if (!purge(v, n, why) && n)
			break;
	}
}

bool durable_before_attach(struct create_state *cs, struct open *o, struct file *f, bool overwrite)
{
	unsigned closed = 0;
	if (o->has_app_instance && o->owner && o->share)
		closed += close_app_instance(o, f);
	closed += purge_detached(cs, o, f, overwrite);
	if (!closed)
		return false;
	/* A closed open may have been the last of a delete-on-close file:
	 * then the name is gone (or names another file) and the CREATE starts
	 * again (smbtorture durable-open.delete_on_close1). */
	struct open_path *p = open_path_get(o);
	bool stream = strchr(p->s, ':') != NULL;
	open_path_put(p);
	if (stream)
		return false; /* a named stream: its base file stays */
	struct statx st;
	int r = vfs_statx(cs->id, cs->root, cs->path, 0, STATX_INO, &st);
	return r < 0 || st.stx_ino != f->ino;
}
