/* See break_deliver.h. */
#include "mc/break_deliver.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "loop/timer.h"
#include "loop/worker.h"
#include "mc/break_retry.h"
#include "net/conn.h"
#include "state/state.h"
#include "util/log.h"
#include "util/metrics.h"

#define MAX_HOPS 8            /* hand-overs between workers for one try */
#define REASK_MAX 3           /* sends of a lease break again for a lost answer */
#define ANSWER_WAIT_MS 1000u  /* for the answer, once the client's TCP has the break */

struct break_job {
	struct break_notice n;     /* n.fence: held until the first send ends */
	struct break_retry br;     /* touched by the worker the job runs on */
	unsigned hops;
	struct conn *c;            /* the channel being tried: a reference, on its worker; NULL between tries */
	timer_id timer;
	uint64_t started_ms;
	uint64_t deadline_ms;      /* the verdict on the channel being tried (6 x RTO) */
	unsigned poll_ms;          /* its acknowledgment is looked at every RTO until then */
	/* a lease break's wait for the client's answer (await_answer) */
	bool lost_known;           /* lost_seen is set (the first pick) */
	unsigned lost_seen;        /* the client's channels lost when the job began */
	unsigned reasks;           /* sent again for a lost answer */
	struct worker *answer_w;   /* the worker of its timer (the job holds no connection then) */
	/* under jobs_lock: the list and what status shows */
	struct break_job *next, *prev;
	uint64_t st_channel;
	unsigned st_tries;
	bool st_awaiting;          /* TCP has it; the client's answer is awaited */
};

/* Lock order: leaf.  Guards the list of jobs and their st_* fields. */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct break_job *jobs;
static oplock_send_fn send_fn;      /* set once by break_deliver_init, before any connection */
static lease_send_fn send_lease_fn; /* likewise, by break_deliver_init_lease */

void break_deliver_init(oplock_send_fn send)
{
	send_fn = send;
}

void break_deliver_init_lease(lease_send_fn send)
{
	send_lease_fn = send;
}

static const char *kind(const struct break_job *j)
{
	return j->n.lease ? "lease" : "oplock";
}

static void job_status(struct break_job *j, bool awaiting)
{
	pthread_mutex_lock(&jobs_lock);
	j->st_channel = j->br.cur_id;
	j->st_tries = j->br.tries;
	j->st_awaiting = awaiting;
	pthread_mutex_unlock(&jobs_lock);
}

void break_fence_hold(struct break_fence *f)
{
	atomic_fetch_add(&f->refs, 1);
	atomic_fetch_add(&f->pending, 1);
	f->held++;
}

void break_fence_put(struct break_fence *f)
{
	if (atomic_fetch_sub(&f->refs, 1) == 1)
		free(f);
}

void break_fence_fire(struct break_fence *f)
{
	if (!atomic_exchange(&f->fired, true))
		f->wake(f->arg);
}

void break_fence_release(struct break_fence *f)
{
	if (atomic_fetch_sub(&f->pending, 1) == 1)
		break_fence_fire(f);
	break_fence_put(f);
}

/* The job's break went to the kernel, or will not: its fence goes. */
static void job_unfence(struct break_job *j)
{
	if (j->n.fence) {
		break_fence_release(j->n.fence);
		j->n.fence = NULL;
	}
}

static void job_finish(struct break_job *j, const char *how)
{
	job_unfence(j);
	/* A break that needed another channel is worth an admin's eye (a
	 * channel failed under it), as is the channel_failed line before. */
	int lvl = j->br.tries > 1 ? LOG_INFO : LOG_DEBUG;
	if (log_level_current >= lvl)
		log_msg(lvl, "session %" PRIx64 ": %s break (file %" PRIu64 ") %s after %u channel(s), %" PRIu64 " ms",
			j->n.session_id, kind(j), j->n.volatile_id, how, j->br.tries, timer_now_ms() - j->started_ms);
	if (j->c)
		conn_put(j->c); /* on its worker: the job runs there */
	pthread_mutex_lock(&jobs_lock);
	if (j->prev)
		j->prev->next = j->next;
	else
		jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	pthread_mutex_unlock(&jobs_lock);
	free(j);
}

static void deliver(void *arg);

/* Run deliver(j) from w's loop (never nested in a completion). */
static void post(struct worker *w, struct break_job *j)
{
	if (!w || worker_post(w, deliver, j) != 0)
		job_finish(j, "not delivered (no worker took it)");
}

/* A channel to try next, with its worker.  The connection may be used
 * after the list's lock only on its own worker: nobody else frees it. */
struct pick {
	uint64_t id;
	struct conn *c;
	struct worker *w;
};

static void consider(const struct break_job *j, struct pick *p, struct conn *c)
{
	if (!c || conn_is_dead(c))
		return;
	uint64_t id = break_retry_better(&j->br, p->id, c->id);
	if (id && id == c->id && id != p->id)
		*p = (struct pick){ .id = id, .c = c, .w = c->w };
}

/* An oplock break: the live, non-binding channels of session s. */
static struct pick pick_session(const struct break_job *j, struct session *s)
{
	struct pick p = { 0 };
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_channels; i++)
		if (!s->channels[i]->binding)
			consider(j, &p, s->channels[i]->conn);
	pthread_mutex_unlock(&s->lock);
	return p;
}

/* A lease break: every live connection of client cl (MS-SMB2 3.3.4.7:
 * the lease table is the client's; smbtorture smb2.lease.v2_complex1
 * expects the break of a lease held on a second connection on the
 * first one, and smb2.multichannel.leases.test2/test4 on another
 * session's channels of the same client) on which one of the lease's
 * users authenticated.  The ClientGUID is whatever a NEGOTIATE says: a
 * connection of another user, or of nobody, that claims it must not
 * take the breaks (they would be lost for the lease's holder, whose
 * cache then goes stale, and would tell a stranger its lease keys). */
static struct pick pick_client(const struct break_job *j, struct smb_client *cl)
{
	struct pick p = { 0 };
	pthread_mutex_lock(&cl->lock);
	for (unsigned i = 0; i < cl->n_channels; i++)
		if (client_channel_has_user(cl, i, j->n.users, j->n.n_users))
			consider(j, &p, cl->channels[i]);
	pthread_mutex_unlock(&cl->lock);
	return p;
}

/* The session a lease break is sealed with on channel c: the notice's,
 * when c is one of its channels (its key means nothing on another
 * connection); else none, as Samba sends lease breaks.  A reference. */
static struct session *lease_seal_session(const struct break_job *j, const struct conn *c)
{
	struct session *s = j->n.session_id ? session_lookup(j->n.session_id) : NULL;
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	bool ours = session_channel_find(s, c) != NULL;
	pthread_mutex_unlock(&s->lock);
	if (!ours) {
		session_put(s);
		return NULL;
	}
	return s;
}

static void break_sent(void *arg, int err, uint64_t stream_end);

static bool wanted(const struct break_job *j)
{
	return !j->n.wanted || j->n.wanted(&j->n);
}

/* The next channel for j, or {0} when none is left; false when the
 * session (oplock) or the client (lease) is gone. */
static bool pick_next(struct break_job *j, struct pick *p)
{
	if (j->n.lease) {
		struct smb_client *cl = client_lookup(j->n.client_guid);
		if (!cl)
			return false;
		if (!j->lost_known) {
			j->lost_seen = client_channels_lost(cl);
			j->lost_known = true;
		}
		*p = pick_client(j, cl);
		client_put(cl);
		return true;
	}
	struct session *s = session_lookup(j->n.session_id);
	if (!s)
		return false;
	*p = pick_session(j, s);
	session_put(s);
	return true;
}

/* The session to send j with on c: an oplock break's own (NULL: gone),
 * a lease break's lease_seal_session (NULL: plain).  A reference. */
static struct session *send_session(const struct break_job *j, const struct conn *c)
{
	return j->n.lease ? lease_seal_session(j, c) : session_lookup(j->n.session_id);
}

/* Try the next channel (on any worker; hands over to the channel's). */
static void deliver(void *arg)
{
	struct break_job *j = arg;
	if (j->br.tries && !(j->n.refresh ? j->n.refresh(&j->n) : wanted(j))) {
		job_finish(j, "no longer needed (acknowledged, closed, or superseded)");
		return;
	}
	struct pick p;
	if (!pick_next(j, &p)) {
		job_finish(j, j->n.lease ? "dropped (client gone)" : "dropped (session gone)");
		return;
	}
	if (!p.c) {
		if (j->br.tries)
			log_warn("session %" PRIx64 ": %s break (file %" PRIu64 ") reached no channel (%u tried)",
				 j->n.session_id, kind(j), j->n.volatile_id, j->br.tries);
		job_finish(j, "undelivered");
		return;
	}
	if (p.w != worker_self()) {
		if (++j->hops > MAX_HOPS)
			job_finish(j, "not delivered (channels kept moving)");
		else
			post(p.w, j);
		return;
	}
	/* On p.c's worker: p.c is alive (it leaves its lists in its
	 * teardown, which runs here, before its last reference goes). */
	struct session *s = send_session(j, p.c);
	if (!s && !j->n.lease) {
		job_finish(j, "dropped (session gone)");
		return;
	}
	j->hops = 0;
	conn_get(p.c);
	j->c = p.c;
	break_retry_tried(&j->br, p.c->id);
	job_status(j, false);
	if (j->br.tries > 1)
		metrics_add(&metrics.breaks_retried, 1);
	metrics_add(&metrics.breaks_sent, 1);
	BUG_ON(!send_fn || !send_lease_fn); /* oplock_init() and oplock_init_lease() run at start-up */
	if (j->n.lease)
		send_lease_fn(p.c->proto, s, &j->n.lb, break_sent, j);
	else
		send_fn(p.c->proto, s, j->n.persistent, j->n.volatile_id, j->n.level, break_sent, j);
	if (s)
		session_put(s);
}

/* This channel failed the break: reset it (it is broken, or its peer
 * does not read; conn_abort) and go on with the next one. */
static void channel_failed(struct break_job *j, const char *why)
{
	struct conn *c = j->c;
	j->c = NULL;
	if (!conn_is_dead(c)) {
		log_info("connection %" PRIu64 ": %s break not acknowledged (%s); closing the channel, trying the next",
			 c->id, kind(j), why);
		conn_abort(c, "break notification not acknowledged");
	}
	struct worker *w = c->w;
	conn_put(c);
	if (j->br.once)
		job_finish(j, "not acknowledged (no retry)");
	else
		post(w, j);
}

/* May the client's answer to j have been lost?  Yes once a channel of
 * the client has gone since j began (it may have taken the answer
 * along), and whenever the client has more than one channel: it may have
 * sent the answer on one that is cut, which smb3d learns only when the
 * client has noticed and reconnected (issue 15, kernel-client scenario
 * shared: 14.2 s). */
static bool answer_may_be_lost(const struct break_job *j)
{
	struct smb_client *cl = client_lookup(j->n.client_guid);
	if (!cl)
		return false;
	bool lost = client_channels_lost(cl) != j->lost_seen || client_n_channels(cl) > 1;
	client_put(cl);
	return lost;
}

static void answer_check(void *arg);

/* A lease break the client must answer, once its TCP has it: the answer
 * can still be lost.  The Linux client sends it once, on whichever
 * channel it picks, and not again when that channel dies; a channel cut
 * under the break (the one this break gave up on, whose end the client
 * has not seen yet) takes it along, and the open waiting for the break
 * waits for the break timer (issue 15, kernel-client scenario shared).
 * So the job stays until the answer comes; when the client has more
 * than one channel, or a channel of it has gone since the break began,
 * every second without an answer sends the break again, REASK_MAX times
 * at most (the Linux client answers a second notification when its first
 * answer has failed, on a channel it still trusts).  A client
 * answers a break it already applied with the state it holds, which is
 * the state the break asked for ([MS-SMB2] 3.2.5.19.2): the break ends.
 * Not for oplock breaks (a break from level II needs no answer, and the
 * job cannot tell).  true: the job waits. */
static bool await_answer(struct break_job *j)
{
	if (!j->n.lease || !(j->n.lb.flags & SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED) || j->reasks >= REASK_MAX)
		return false;
	j->answer_w = j->c->w;
	j->timer = timer_add(j->answer_w, timer_now_ms() + ANSWER_WAIT_MS, answer_check, j);
	if (!j->timer)
		return false;
	/* The channel's part is done: holding it would keep a client that
	 * went away, and its session and opens, until the break timer. */
	conn_put(j->c);
	j->c = NULL;
	job_status(j, true);
	return true;
}

/* The answer timer (on the worker of the channel that carried the break;
 * the job holds no connection). */
static void answer_check(void *arg)
{
	struct break_job *j = arg;
	j->timer = 0;
	if (!wanted(j)) {
		job_finish(j, "answered by the client (or superseded)");
		return;
	}
	if (!answer_may_be_lost(j)) {
		/* one channel, none lost: wait on, until the answer or the
		 * break timer (3.3.6.5) ends the break */
		j->timer = timer_add(j->answer_w, timer_now_ms() + ANSWER_WAIT_MS, answer_check, j);
		if (!j->timer)
			job_finish(j, "acknowledged (no timer to wait for the answer)");
		return;
	}
	j->reasks++;
	metrics_add(&metrics.breaks_reasked, 1);
	log_info("session %" PRIx64 ": lease break not answered %" PRIu64 " ms after it began, on a client with "
		 "another channel or one lost since: sending it again (%u of %u)",
		 j->n.session_id, timer_now_ms() - j->started_ms, j->reasks, REASK_MAX);
	break_retry_restart(&j->br);
	post(j->answer_w, j);
}

static void ack_check(void *arg);

/* Wait 6 x RTO for the peer's TCP to acknowledge the break on c, looking
 * every RTO: a break it has is known delivered one RTO later, not 6.
 * j->timer 0: no timer. */
static void arm_ack_check(struct break_job *j, struct conn *c)
{
	unsigned wait_ms = break_retry_timeout_ms(conn_rto_ms(c));
	uint64_t now = timer_now_ms();
	j->deadline_ms = now + wait_ms;
	j->poll_ms = wait_ms / BREAK_RTO_FACTOR;
	j->timer = timer_add(c->w, now + j->poll_ms, ack_check, j);
}

/* The acknowledgment timer (on the channel's worker). */
static void ack_check(void *arg)
{
	struct break_job *j = arg;
	struct conn *c = j->c;
	j->timer = 0;
	if (!wanted(j)) {
		/* The holder answered the break (on some channel) or closed, or
		 * the break was superseded (a newer break, the lease made again):
		 * nothing more to deliver, whatever the socket says. */
		metrics_add(&metrics.breaks_acked, 1);
		job_finish(j, "acknowledged by the client, or superseded");
		return;
	}
	uint64_t acked = conn_bytes_acked(c), now = timer_now_ms();
	bool alive = !conn_is_dead(c);
	if (alive && acked < j->br.stream_end && now < j->deadline_ms) {
		/* not yet, and no verdict due: look again in one RTO */
		j->timer = timer_add(c->w, now + j->poll_ms, ack_check, j);
		if (j->timer)
			return;
	}
	log_debug("connection %" PRIu64 ": %s break ending at %" PRIu64 ": %" PRIu64 " acknowledged (%" PRIu64 " before)",
		  c->id, kind(j), j->br.stream_end, acked, j->br.acked_seen);
	switch (break_retry_check(&j->br, alive, acked)) {
	case BREAK_ACKED:
		metrics_add(&metrics.breaks_acked, 1);
		if (!await_answer(j))
			job_finish(j, "acknowledged");
		return;
	case BREAK_WAIT:
		arm_ack_check(j, c);
		if (j->timer)
			return;
		/* fall through: no timer, no way to wait */
	case BREAK_FAILED:
		break;
	}
	metrics_add(&metrics.breaks_timed_out, 1);
	channel_failed(j, conn_is_dead(c) ? "the connection died" : "timeout");
}

/* The send completed (on the channel's worker, maybe inside send_fn). */
static void break_sent(void *arg, int err, uint64_t stream_end)
{
	struct break_job *j = arg;
	struct conn *c = j->c;
	job_unfence(j); /* sent (or failed): the request behind it may reply */
	if (err < 0) {
		channel_failed(j, "the connection died before the kernel took it");
		return;
	}
	if (j->br.once) {
		job_finish(j, "sent (no retry)");
		return;
	}
	break_retry_sent(&j->br, stream_end, conn_bytes_acked(c));
	arm_ack_check(j, c);
	log_debug("connection %" PRIu64 ": %s break sent, ends at %" PRIu64 ", %" PRIu64 " acknowledged, given up in %u ms",
		  c->id, kind(j), stream_end, j->br.acked_seen, (unsigned)(j->deadline_ms - timer_now_ms()));
	if (!j->timer)
		job_finish(j, "sent (no timer to check its acknowledgment)");
}

static struct break_job *job_new(const struct break_notice *n)
{
	struct break_job *j = worker_self() ? calloc(1, sizeof(*j)) : NULL;
	if (!j)
		return NULL;
	j->n = *n;
	struct conf *cf = conf_current_get();
	break_retry_init(&j->br, !n->lease && cf && cf->disable_oplock_break_retry, n->conn_id);
	if (cf)
		conf_current_put(cf);
	j->started_ms = timer_now_ms();
	pthread_mutex_lock(&jobs_lock);
	j->next = jobs;
	if (jobs)
		jobs->prev = j;
	jobs = j;
	pthread_mutex_unlock(&jobs_lock);
	return j;
}

void break_deliver(const struct break_notice *n)
{
	struct break_job *j = job_new(n);
	if (j)
		post(worker_self(), j); /* from the loop, not from the caller's coroutine or lock */
	else if (n->fence)
		break_fence_release(n->fence);
}

void break_deliver_now(const struct break_notice *n)
{
	struct break_job *j = job_new(n);
	if (j)
		deliver(j);
	else if (n->fence)
		break_fence_release(n->fence);
}

void break_deliver_foreach(void (*fn)(const struct break_status *b, void *arg), void *arg)
{
	uint64_t now = timer_now_ms();
	pthread_mutex_lock(&jobs_lock);
	for (struct break_job *j = jobs; j; j = j->next) {
		struct break_status b = {
			.session_id = j->n.session_id,
			.lease = j->n.lease,
			.file = j->n.volatile_id,
			.to = j->n.lease ? j->n.lb.new_state : j->n.level,
			.channel = j->st_channel,
			.tries = j->st_tries,
			.awaiting_answer = j->st_awaiting,
			.age_ms = now - j->started_ms,
		};
		memcpy(b.key, j->n.lb.key, sizeof(b.key));
		fn(&b, arg);
	}
	pthread_mutex_unlock(&jobs_lock);
}
