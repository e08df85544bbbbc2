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

#define MAX_HOPS 8   /* hand-overs between workers for one try */

struct break_job {
	struct break_notice n;
	struct break_retry br;     /* touched by the worker the job runs on */
	unsigned hops;
	struct conn *c;            /* the channel being tried: a reference, on its worker; NULL between tries */
	timer_id timer;
	uint64_t started_ms;
	/* under jobs_lock: the list and what status shows */
	struct break_job *next, *prev;
	uint64_t st_channel;
	unsigned st_tries;
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

static void job_status(struct break_job *j)
{
	pthread_mutex_lock(&jobs_lock);
	j->st_channel = j->br.cur_id;
	j->st_tries = j->br.tries;
	pthread_mutex_unlock(&jobs_lock);
}

static void job_finish(struct break_job *j, const char *how)
{
	log_debug("session %" PRIx64 ": %s break (file %" PRIu64 ") %s after %u channel(s), %" PRIu64 " ms",
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

/* The channel to try next (break_retry_next over the session's live
 * channels), and its worker.  The connection may be used after the
 * session lock only on its own worker: nobody else frees it. */
static struct conn *pick(struct break_job *j, struct session *s, struct worker **w)
{
	uint64_t ids[SESSION_MAX_CHANNELS];
	struct conn *conns[SESSION_MAX_CHANNELS];
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_channels && n < SESSION_MAX_CHANNELS; i++) {
		struct conn *c = s->channels[i]->conn;
		if (s->channels[i]->binding || !c || conn_is_dead(c))
			continue;
		ids[n] = c->id;
		conns[n++] = c;
	}
	/* A break with no channel of its own (a lease's) tries one on this
	 * worker first, if the session has one: it can then be sent at once,
	 * before the reply of the request that caused it, as Windows does
	 * (oplock_flush_breaks); the others follow oldest first. */
	if (!j->br.tries && !j->br.first)
		for (unsigned i = 0; i < n; i++)
			if (conns[i]->w == worker_self() && (!j->br.first || ids[i] < j->br.first))
				j->br.first = ids[i];
	uint64_t id = break_retry_next(&j->br, ids, n);
	struct conn *c = NULL;
	for (unsigned i = 0; id && i < n; i++)
		if (ids[i] == id)
			c = conns[i];
	*w = c ? c->w : NULL;
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void break_sent(void *arg, int err, uint64_t stream_end);

static bool wanted(const struct break_job *j)
{
	return !j->n.wanted || j->n.wanted(&j->n);
}

/* Try the next channel (on any worker; hands over to the channel's). */
static void deliver(void *arg)
{
	struct break_job *j = arg;
	if (j->br.tries && !wanted(j)) {
		job_finish(j, "no longer needed (acknowledged or closed)");
		return;
	}
	struct session *s = session_lookup(j->n.session_id);
	if (!s) {
		job_finish(j, "dropped (session gone)");
		return;
	}
	struct worker *w, *here = worker_self();
	struct conn *c = pick(j, s, &w);
	if (!c) {
		session_put(s);
		if (j->br.tries)
			log_warn("session %" PRIx64 ": %s break (file %" PRIu64 ") reached no channel (%u tried)",
				 j->n.session_id, kind(j), j->n.volatile_id, j->br.tries);
		job_finish(j, "undelivered");
		return;
	}
	if (w != here) {
		session_put(s);
		if (++j->hops > MAX_HOPS)
			job_finish(j, "not delivered (channels kept moving)");
		else
			post(w, j);
		return;
	}
	j->hops = 0;
	conn_get(c);
	j->c = c;
	break_retry_tried(&j->br, c->id);
	job_status(j);
	if (j->br.tries > 1)
		metrics_add(&metrics.breaks_retried, 1);
	metrics_add(&metrics.breaks_sent, 1);
	BUG_ON(!send_fn || !send_lease_fn); /* oplock_init() and oplock_init_lease() run at start-up */
	if (j->n.lease)
		send_lease_fn(c->proto, s, &j->n.lb, break_sent, j);
	else
		send_fn(c->proto, s, j->n.persistent, j->n.volatile_id, j->n.level, break_sent, j);
	session_put(s);
}

/* This channel failed the break: tear it down (it is broken, or its peer
 * does not read) and go on with the next one. */
static void channel_failed(struct break_job *j, const char *why)
{
	struct conn *c = j->c;
	j->c = NULL;
	if (!conn_is_dead(c)) {
		log_info("connection %" PRIu64 ": %s break not acknowledged (%s); closing the channel, trying the next",
			 c->id, kind(j), why);
		conn_shutdown(c, "break notification not acknowledged");
	}
	struct worker *w = c->w;
	conn_put(c);
	if (j->br.once)
		job_finish(j, "not acknowledged (no retry)");
	else
		post(w, j);
}

/* The acknowledgment timer (on the channel's worker). */
static void ack_check(void *arg)
{
	struct break_job *j = arg;
	struct conn *c = j->c;
	j->timer = 0;
	if (!wanted(j)) {
		/* The holder answered the break (on some channel) or closed:
		 * it got the break, whatever the socket says. */
		metrics_add(&metrics.breaks_acked, 1);
		job_finish(j, "acknowledged by the client");
		return;
	}
	uint64_t acked = conn_bytes_acked(c);
	log_debug("connection %" PRIu64 ": %s break ending at %" PRIu64 ": %" PRIu64 " acknowledged (%" PRIu64 " before)",
		  c->id, kind(j), j->br.stream_end, acked, j->br.acked_seen);
	switch (break_retry_check(&j->br, !conn_is_dead(c), acked)) {
	case BREAK_ACKED:
		metrics_add(&metrics.breaks_acked, 1);
		job_finish(j, "acknowledged");
		return;
	case BREAK_WAIT:
		j->timer = timer_add(c->w, timer_now_ms() + break_retry_timeout_ms(conn_rto_ms(c)), ack_check, j);
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
	if (err < 0) {
		channel_failed(j, "the connection died before the kernel took it");
		return;
	}
	if (j->br.once) {
		job_finish(j, "sent (no retry)");
		return;
	}
	break_retry_sent(&j->br, stream_end, conn_bytes_acked(c));
	log_debug("connection %" PRIu64 ": %s break sent, ends at %" PRIu64 ", %" PRIu64 " acknowledged", c->id, kind(j),
		  stream_end, j->br.acked_seen);
	j->timer = timer_add(c->w, timer_now_ms() + break_retry_timeout_ms(conn_rto_ms(c)), ack_check, j);
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
}

void break_deliver_now(const struct break_notice *n)
{
	struct break_job *j = job_new(n);
	if (j)
		deliver(j);
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
			.age_ms = now - j->started_ms,
		};
		memcpy(b.key, j->n.lb.key, sizeof(b.key));
		fn(&b, arg);
	}
	pthread_mutex_unlock(&jobs_lock);
}
