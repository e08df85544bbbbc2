#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_LOCKING /* log lines of Samba's "locking" class */

#include "mc/lease.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mc/break_deliver.h"
#include "mc/oplock.h"
#include "state/state.h"
#include "util/log.h"
#include "util/metrics.h"

#define LEASE_BUCKETS 256

struct lease {
	atomic_int refs;
	uint8_t guid[16], key[16];          /* the identity: never change */
	uint64_t instance;                  /* this lease of the key, from a global count: never changes */
	struct file *file;                  /* reference; never changes */
	uint16_t version;                   /* 1 or 2: of the request that made it */
	uint8_t parent_key[16];
	bool has_parent;
	/* under file->lock */
	uint32_t state;                     /* Lease.LeaseState */
	bool breaking;                      /* Lease.Breaking */
	uint32_t breaking_to;               /* Lease.BreakToLeaseState: offered by the break sent */
	uint32_t breaking_to_required;      /* what the opens waiting need (<= breaking_to) */
	uint16_t epoch;                     /* Lease.Epoch (v2) */
	unsigned acks;                      /* acknowledgments so far (a break in flight stops with one) */
	unsigned breaks;                    /* breaks made so far: a newer one supersedes the older */
	bool break_told;                    /* a CREATE response showed the running break's epoch */
	bool renewed;                       /* the running break was sent again after a refused ack */
	unsigned n_opens;
	bool planned;                       /* lease_break_plan .. commit */
	uint32_t plan_keep, plan_delay;
	/* under leases_lock */
	bool in_table;
	struct lease *next;
};

/* ClientGUID + LeaseKey -> lease (3.3.1.4 LeaseTable, one per client; one
 * table here, the GUID part of the key).  Order: leases_lock -> file->lock. */
static pthread_mutex_t leases_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint dir_leases; /* leases on directories: 0 spares the parent look-ups */
static struct lease *buckets[LEASE_BUCKETS];
/* Numbers the leases made, so that a lease made again under the same key
 * (the last open closed, a new open came) is told from the one before:
 * a break of the old one is stale to the new one (issue 15). */
static atomic_uint_fast64_t instances;

static unsigned bucket_of(const uint8_t guid[16], const uint8_t key[16])
{
	unsigned h = 0;
	for (int i = 0; i < 16; i++)
		h = h * 31 + guid[i] + key[i] * 7u;
	return h % LEASE_BUCKETS;
}

static struct lease *find_locked(const uint8_t guid[16], const uint8_t key[16])
{
	for (struct lease *l = buckets[bucket_of(guid, key)]; l; l = l->next)
		if (!memcmp(l->guid, guid, 16) && !memcmp(l->key, key, 16))
			return l;
	return NULL;
}

struct lease *lease_find(const uint8_t guid[16], const uint8_t key[16])
{
	pthread_mutex_lock(&leases_lock);
	struct lease *l = find_locked(guid, key);
	if (l)
		atomic_fetch_add(&l->refs, 1);
	pthread_mutex_unlock(&leases_lock);
	return l;
}

void lease_put(struct lease *l)
{
	if (!l)
		return;
	int old = atomic_fetch_sub(&l->refs, 1);
	BUG_ON(old <= 0);
	if (old == 1) {
		BUG_ON(l->in_table); /* the table holds a reference */
		if (l->file->is_dir)
			atomic_fetch_sub(&dir_leases, 1);
		file_put(l->file);
		free(l);
	}
}

bool lease_is_for(const struct lease *l, const struct file *f)
{
	return l->file == f;
}

bool lease_dirs_leased(void)
{
	return atomic_load(&dir_leases) != 0;
}

bool lease_has_key(const struct lease *l, const uint8_t *key)
{
	return key && !memcmp(l->key, key, 16); /* never changes */
}

bool lease_keys_of(const struct open *o, uint8_t key[16], uint8_t parent[16], bool *has_parent)
{
	bool has = false;
	*has_parent = false;
	if (!o || !o->file)
		return false;
	pthread_mutex_lock(&o->file->lock); /* o->lease is cleared under it at close */
	if (o->lease) {
		has = true;
		memcpy(key, o->lease->key, 16);
		if (o->lease->has_parent) {
			memcpy(parent, o->lease->parent_key, 16);
			*has_parent = true;
		}
	}
	pthread_mutex_unlock(&o->file->lock);
	return has;
}

bool lease_is_for_inode(const struct lease *l, dev_t dev, ino_t ino)
{
	return l->file->dev == dev && l->file->ino == ino; /* never change */
}

uint32_t lease_state_of(const struct open *o)
{
	struct file *f = o->file;
	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	uint32_t s = o->lease ? o->lease->state : 0;
	pthread_mutex_unlock(&f->lock);
	return s;
}

bool lease_key_matches(const struct open *o, const uint8_t key[16])
{
	uint8_t k[16], p[16];
	bool hp;
	return lease_keys_of(o, k, p, &hp) && !memcmp(k, key, 16);
}

uint32_t lease_state_locked(const struct open *e)
{
	return e->lease ? e->lease->state : 0;
}

bool lease_breaking_locked(const struct open *e)
{
	return e->lease && e->lease->breaking;
}

/* ---- grant (3.3.5.9.8, 3.3.5.9.11) ---- */

/* R, RH, RW and RWH are leases; H, W and HW alone are granted as nothing
 * (smbtorture smb2.lease.request, as Windows). */
static uint32_t valid_state(uint32_t s)
{
	s &= LEASE_R | LEASE_H | LEASE_W;
	return (s & LEASE_R) ? s : 0;
}

/* Access that neither breaks nor limits a lease: "stat" opens.  For
 * leases READ_CONTROL is one of them, for oplocks not (smbtorture
 * smb2.lease.statopen4 and smb2.oplock.statopen1, as Windows). */
#define STAT_ACCESS (0x00000080u /* READ_ATTRIBUTES */ | 0x00000100u /* WRITE_ATTRIBUTES */ | \
		     0x00020000u /* READ_CONTROL */ | 0x00100000u /* SYNCHRONIZE */)

/* For the grant of write caching READ_CONTROL counts as more than a
 * stat open (smbtorture smb2.durable-v2-open.nonstat-and-lease: RH, not
 * RWH, next to a READ_CONTROL open). */
#define GRANT_STAT_ACCESS (STAT_ACCESS & ~0x00020000u)

bool lease_stat_access(uint32_t access)
{
	return (access & ~STAT_ACCESS) == 0;
}

/* What of `want` lease l may hold next to the other opens of its file
 * ([MS-FSA] 2.1.5.17: write caching only alone, handle caching not next
 * to an oplock).  Under f->lock. */
/* [MS-FSA] 2.1.5.17: no caching on a stream with byte-range locks
 * (smbtorture smb2.lease.lease-epoch), except those of a leased open,
 * taken under its caching (smb2.lease.lock2, lock3).  Under f->lock. */
static bool locked_by_uncached(const struct file *f)
{
	for (unsigned i = 0; i < f->n_locks; i++)
		if (!f->locks[i].owner || !f->locks[i].owner->lease)
			return true;
	return false;
}

static uint32_t grantable(const struct lease *l, const struct open *o, uint32_t want)
{
	if (locked_by_uncached(l->file))
		return 0;
	for (const struct open *e = l->file->opens; e; e = e->file_next) {
		if (e == o || e->lease == l)
			continue;
		/* another caching client, even on a stat open, or any
		 * other open that is more than a stat open (smb2.lease.statopen) */
		if ((e->access & ~GRANT_STAT_ACCESS) || lease_state_locked(e))
			want &= ~LEASE_W;
		if (e->oplock_level != SMB2_OPLOCK_LEVEL_NONE)
			want &= ~(LEASE_W | LEASE_H);
		if (e->lease && (e->lease->state & LEASE_W))
			want &= ~(LEASE_W | LEASE_H);
	}
	return valid_state(want);
}

static struct lease *lease_new(const uint8_t guid[16], const struct wire_ctx_lease *rq, struct file *f)
{
	struct lease *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	atomic_init(&l->refs, 1); /* the table's */
	l->instance = atomic_fetch_add(&instances, 1) + 1;
	memcpy(l->guid, guid, 16);
	memcpy(l->key, rq->key, 16);
	l->version = rq->version == 2 ? 2 : 1;
	if (l->version == 2 && (rq->flags & SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET)) {
		memcpy(l->parent_key, rq->parent_key, 16);
		l->has_parent = true;
	}
	l->epoch = rq->epoch;
	if (f->is_dir)
		atomic_fetch_add(&dir_leases, 1);
	atomic_fetch_add(&f->refs, 1);
	l->file = f;
	l->in_table = true;
	unsigned b = bucket_of(guid, rq->key);
	l->next = buckets[b];
	buckets[b] = l;
	return l;
}

/* The state change of a grant, under f->lock.  An existing lease changes
 * only to a strict superset it can hold whole, never while it breaks
 * (smbtorture smb2.lease.upgrade2/3, breaking1). */
static void grant_state(struct lease *l, struct open *o, uint32_t want, bool fresh)
{
	want = valid_state(want);
	if (o->is_dir)
		want &= ~LEASE_W;
	uint32_t old = l->state;
	if (fresh) {
		l->state = grantable(l, o, want);
	} else if (!l->breaking && (want & l->state) == l->state && want != l->state &&
		   grantable(l, o, want) == want) {
		l->state = want;
	}
	if (l->state != old && l->version == 2)
		l->epoch++; /* 3.3.5.9.11: every change of state */
	if (l->state != old)
		metrics_add(&metrics.leases_granted, 1);
}

static void fill_rsp(struct lease *l, struct wire_ctx_lease *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	rsp->version = l->version;
	memcpy(rsp->key, l->key, 16);
	rsp->state = l->state;
	if (l->breaking) {
		rsp->flags |= SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
		l->break_told = true; /* the client may now hold the break's epoch */
	}
	if (l->version == 2) {
		if (l->has_parent) {
			rsp->flags |= SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
			memcpy(rsp->parent_key, l->parent_key, 16);
		}
		rsp->epoch = l->epoch;
	}
}

bool lease_describe(const struct open *o, struct wire_ctx_lease *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	struct file *f = o->file;
	if (!f || !o->lease)
		return false;
	pthread_mutex_lock(&f->lock);
	fill_rsp(o->lease, rsp);
	pthread_mutex_unlock(&f->lock);
	return true;
}

NTSTATUS lease_grant(struct open *o, const uint8_t guid[16], const struct wire_ctx_lease *rq, bool dir_ok,
		     struct wire_ctx_lease *rsp)
{
	struct file *f = o->file;
	memset(rsp, 0, sizeof(*rsp));
	if (!f || (f->is_dir && !dir_ok))
		return STATUS_SUCCESS; /* no lease, no context (smb2.lease.request) */
	pthread_mutex_lock(&leases_lock);
	struct lease *l = find_locked(guid, rq->key);
	if (l && l->file != f) {
		pthread_mutex_unlock(&leases_lock);
		return STATUS_INVALID_PARAMETER; /* 3.3.5.9.8: the key names another file */
	}
	bool fresh = !l;
	if (fresh && !(l = lease_new(guid, rq, f))) {
		pthread_mutex_unlock(&leases_lock);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	atomic_fetch_add(&l->refs, 1); /* the open's */
	pthread_mutex_lock(&f->lock);
	l->n_opens++;
	o->lease = l;
	grant_state(l, o, rq->state, fresh);
	fill_rsp(l, rsp);
	pthread_mutex_unlock(&f->lock);
	pthread_mutex_unlock(&leases_lock);
	return STATUS_SUCCESS;
}

bool lease_open_closed(struct open *o)
{
	struct lease *l = o->lease;
	if (!l)
		return false;
	struct file *f = l->file;
	bool drop = false;
	pthread_mutex_lock(&leases_lock);
	pthread_mutex_lock(&f->lock);
	o->lease = NULL;
	if (--l->n_opens == 0 && l->in_table) {
		/* the last open: the lease ends (3.3.4.17 / 3.3.5.10) */
		struct lease **pp = &buckets[bucket_of(l->guid, l->key)];
		while (*pp != l)
			pp = &(*pp)->next;
		*pp = l->next;
		l->in_table = false;
		drop = true;
	}
	pthread_mutex_unlock(&f->lock);
	pthread_mutex_unlock(&leases_lock);
	if (drop)
		lease_put(l);   /* the table's */
	lease_put(l);           /* the open's */
	return drop;
}

/* ---- breaks (3.3.4.7) ---- */

void lease_break_plan(struct open *e, uint32_t keep, uint32_t delay)
{
	struct lease *l = e->lease;
	if (!l)
		return;
	if (!l->planned) {
		l->planned = true;
		l->plan_keep = LEASE_R | LEASE_H | LEASE_W;
		l->plan_delay = 0;
	}
	l->plan_keep &= keep;
	l->plan_delay |= delay;
}

/* The session of one of l's attached opens (0: none is attached). */
static uint64_t session_of(const struct lease *l)
{
	for (const struct open *e = l->file->opens; e; e = e->file_next)
		if (e->lease == l && e->session)
			return e->session->id;
	return 0;
}

/* The users of l's attached opens, the first BREAK_USERS of them: the
 * channels their break may go to (mc/break_deliver.c pick_client). */
static void users_of(const struct lease *l, struct break_notice *n)
{
	for (const struct open *e = l->file->opens; e; e = e->file_next) {
		if (e->lease != l || !e->session || !e->charge_uid)
			continue;
		bool known = false;
		for (unsigned k = 0; k < n->n_users && !known; k++)
			known = n->users[k] == e->charge_uid;
		if (!known && n->n_users < BREAK_USERS)
			n->users[n->n_users++] = e->charge_uid;
	}
}

/* break_notice.wanted of a lease break: the break is still the one the
 * client should be told.  Stale, and never sent again (issue 15), once
 * - the lease it was made for is gone, even when a lease with the same
 *   key was granted since (another instance: a break of the old one
 *   would reach the client with an epoch and states it does not hold);
 * - an acknowledgment came since it was made, on whatever channel
 *   (3.3.5.22.2: the ack is looked up by ClientGUID and LeaseKey);
 * - a newer break of the lease was made (it carries the state now);
 * - a break that needed an ack no longer runs (the break timer ended
 *   it, 3.3.6.5).
 * A break the client did not have to acknowledge goes on until TCP has
 * it, like one whose ack timed out. */
static bool lease_break_wanted(const struct break_notice *n)
{
	struct lease *l = lease_find(n->client_guid, n->lb.key);
	if (!l)
		return false;
	bool want = false;
	if (l->instance == n->lease_instance) {
		pthread_mutex_lock(&l->file->lock);
		want = l->acks == n->acks && l->breaks == n->seq &&
		       (l->breaking || !(n->lb.flags & SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED));
		pthread_mutex_unlock(&l->file->lock);
	}
	lease_put(l);
	return want;
}

/* break_notice.refresh of a lease break, before it is sent again on
 * another channel: false when stale (lease_break_wanted).  When a CREATE
 * response told the client this break's epoch (BREAK_IN_PROGRESS, as
 * smbtorture smb2.lease.v2_breaking3 expects) while the break itself was
 * lost on a channel, the client holds that epoch already, and a client
 * that applies a v2 break only when its epoch is newer than the one it
 * holds (Linux) ignores the resent break and acks the state it holds
 * (issue 15, scenario shared).  The resent break then gets the next
 * epoch (3.3.4.7: NewEpoch is the lease's epoch; it moves past the one
 * the client saw).  Without such a CREATE the epoch stays (smbtorture
 * smb2.multichannel.leases.test4: the same epoch on every channel). */
static bool lease_break_refresh(struct break_notice *n)
{
	if (!lease_break_wanted(n))
		return false;
	struct lease *l = lease_find(n->client_guid, n->lb.key);
	if (!l)
		return false;
	bool want = false;
	pthread_mutex_lock(&l->file->lock);
	if (l->instance == n->lease_instance && l->breaks == n->seq && l->acks == n->acks) {
		want = true;
		if (l->version == 2 && l->breaking && l->break_told) {
			l->epoch++;
			l->break_told = false;
			n->lb.new_epoch = l->epoch;
			log_debug("lease break resent with epoch %u: a CREATE response showed the previous one",
				  (unsigned)l->epoch);
		}
	}
	pthread_mutex_unlock(&l->file->lock);
	lease_put(l);
	return want;
}

static void send_lease_break(struct lease *l, uint32_t from, uint32_t to, bool ack)
{
	struct break_notice n = {
		.lease = true,
		.session_id = session_of(l),
		.wanted = lease_break_wanted,
		.refresh = lease_break_refresh,
		.acks = l->acks,
		.lease_instance = l->instance,
		.seq = ++l->breaks,
		.lb = {
			.new_epoch = l->version == 2 ? l->epoch : 0,
			.flags = ack ? SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED : 0,
			.current_state = from,
			.new_state = to,
		},
	};
	memcpy(n.lb.key, l->key, 16);
	memcpy(n.client_guid, l->guid, 16);
	users_of(l, &n);
	metrics_add(&metrics.leases_broken, 1);
	/* Only while one of its opens is attached: a lease whose opens are
	 * all detached (durable) has no channel to be told on; those opens
	 * are purged instead (MS-SMB2 3.3.4.7; cmd/durable.c). */
	if (n.session_id)
		oplock_send_lease_break(&n);
}

/* Break l from its state to `to` (a subset): R-only breaks at once
 * without an ack (3.3.4.7), anything else waits for one. */
static void break_to(struct lease *l, uint32_t to, bool new_epoch)
{
	uint32_t from = l->state;
	if (l->version == 2 && new_epoch)
		l->epoch++;
	l->break_told = false;
	l->renewed = false;
	if (from == LEASE_R) {
		l->state = to;
		send_lease_break(l, from, to, false);
		return;
	}
	l->breaking = true;
	l->breaking_to = to;
	send_lease_break(l, from, to, true);
}

/* One planned lease: break it if it holds more than it may keep.  true
 * when the caller must wait for its ack. */
static bool commit_one(struct lease *l)
{
	uint32_t keep = l->plan_keep, held = l->state;
	if (!(held & ~keep))
		return l->breaking; /* nothing more to take, but a break runs: wait for its end */
	uint32_t to = valid_state(held & keep);
	if (l->breaking) {
		/* an ack is pending: what is needed on top is asked for after
		 * it (next_step), and that next break is waited for
		 * (smb2.lease.breaking3) */
		l->breaking_to_required &= to;
		if (l->breaking_to & ~keep)
			return true;
	} else {
		l->breaking_to_required = to;
		break_to(l, to, true);
	}
	/* Wait only when the caching that goes is what stands in the
	 * way (smbtorture smb2.lease.breaking4: an RH lease broken by an
	 * overwrite does not hold the overwrite up). */
	return (held & ~to & l->plan_delay) != 0;
}

bool lease_break_commit(struct file *f)
{
	bool wait = false;
	for (struct open *e = f->opens; e; e = e->file_next) {
		struct lease *l = e->lease;
		if (!l || !l->planned)
			continue;
		l->planned = false;
		wait |= commit_one(l);
	}
	return wait;
}

void lease_break_timeout(struct file *f)
{
	for (struct open *e = f->opens; e; e = e->file_next) {
		struct lease *l = e->lease;
		if (l && l->breaking) {
			/* 3.3.6.5: the lease is lost (smbtorture smb2.lease.timeout) */
			l->state = 0;
			l->breaking = false;
			metrics_add(&metrics.leases_timed_out, 1);
		}
	}
}

/* ---- acknowledgment (3.3.5.22.2) ---- */

/* After an ack: when the opens that came during the break need less than
 * the client kept, break again, in steps as Windows does: a state with H
 * or W goes to R first, then to what is needed (smbtorture
 * smb2.lease.breaking3, v2_breaking3).  Under f->lock. */
static void next_step(struct lease *l)
{
	uint32_t need = l->breaking_to_required & l->state;
	if (!(l->state & ~need))
		return;
	uint32_t to = need;
	if (l->state & (LEASE_H | LEASE_W))
		to |= l->state & LEASE_R;
	break_to(l, to, false); /* the steps keep the epoch (smb2.lease.v2_breaking3) */
	if (!l->breaking)
		next_step(l); /* R -> none went without an ack */
}

/* A v2 ack that names the whole state the lease holds says the client
 * did not apply the break: a client that applies a v2 break only when
 * its epoch is newer than the one it holds (Linux) ignores a break whose
 * epoch it already learnt, from a CREATE response during the break or a
 * grant that raced with it, and acks what it holds.  The ack is refused
 * all the same (3.3.5.22.2); the break is sent once more, with the next
 * epoch, so the client can apply it (issue 15: otherwise the conflicting
 * open waits until the client closes or the break times out).  Once per
 * break: a client that refuses again waits for the break timer.  Under
 * f->lock. */
static void renew_break(struct lease *l, uint32_t acked)
{
	if (l->version != 2 || acked != l->state || l->renewed)
		return;
	l->epoch++;
	l->renewed = true;
	l->break_told = false;
	log_debug("lease ack of the whole state %x refused; break %x -> %x sent again with epoch %u", acked, l->state,
		  l->breaking_to, (unsigned)l->epoch);
	send_lease_break(l, l->state, l->breaking_to, true);
}

NTSTATUS lease_ack(const uint8_t guid[16], const struct wire_lease_ack *a, uint32_t *state)
{
	struct lease *l = lease_find(guid, a->key);
	if (!l)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	struct file *f = l->file;
	NTSTATUS st = STATUS_SUCCESS;
	pthread_mutex_lock(&f->lock);
	if (!l->breaking) {
		st = STATUS_UNSUCCESSFUL;
	} else if (a->state & ~l->breaking_to) {
		/* more than the break leaves: refused; the break goes on
		 * (smbtorture smb2.lease.breaking2) */
		st = STATUS_REQUEST_NOT_ACCEPTED;
		renew_break(l, a->state);
	} else {
		l->state = a->state;
		l->breaking = false;
		l->acks++;
		metrics_add(&metrics.leases_acked, 1);
	}
	*state = l->state; /* the response names the state acknowledged */
	if (st == STATUS_SUCCESS)
		next_step(l);
	pthread_mutex_unlock(&f->lock);
	oplock_flush_breaks(); /* the next step's break, if any */
	if (st == STATUS_SUCCESS)
		oplock_wake_file(f);
	lease_put(l);
	return st;
}
