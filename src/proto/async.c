/* Requests that wait: the interim STATUS_PENDING response and the
 * connection's list of async requests that CANCEL searches (MS-SMB2
 * 3.3.4.2, 3.3.5.16), and the wait/wake pair that parks a request's
 * coroutine until another thread has news for it (proto/chain.h has the
 * map). */
#include <stdlib.h>

#include "net/conn.h"
#include "loop/timer.h"
#include "loop/worker.h"
#include "proto/chain.h"
#include "proto/credits.h"
#include "util/coro.h"

/* How long a request that went async runs before its interim response
 * goes out.  MS-SMB2 3.3.4.2 lets the server send the interim response
 * when it chooses, and Samba waits 500 us (smbd_smb2_request_pending_queue).
 * A request that finishes within the delay is answered once, synchronously
 * (no ASYNC flag, its credits in that answer).  And the lease or oplock
 * breaks that a waiting CREATE sent on other connections leave well ahead
 * of its interim response: a client that reads one socket event per turn
 * (smbtorture's tevent loop, smb2.lease.two-leases) must see both breaks
 * before the interim on its other connection, or it pairs the wrong break
 * with the open it closes.  The timers count whole milliseconds, so the
 * interim leaves between INTERIM_DELAY_MS and INTERIM_DELAY_MS + 1 ms
 * after req_go_async. */
#define INTERIM_DELAY_MS 1

/* Link the request into the connection's async list with a new AsyncId:
 * CANCEL finds it from here on, by MessageId before its interim response
 * went out and by either id after (MS-SMB2 3.3.5.16). */
static void async_link(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	sc->n_async++;
	chain_uncharge(req->chain); /* bounded by SMB_MAX_ASYNC instead */
	req->async_linked = true;
	req->async_id = ++sc->next_async_id;
	req->async_next = sc->async_list;
	req->async_prev = NULL;
	if (sc->async_list)
		sc->async_list->async_prev = req;
	sc->async_list = req;
}

/* Interim response: STATUS_PENDING, the credits of the request, and an
 * empty error body (MS-SMB2 3.3.4.2), signed like the final response
 * would be.  Built with the request's own header builder and signer, its
 * response buffer set aside meanwhile (the handler's coroutine is parked:
 * it finds everything as it left it).  NULL when out of memory. */
static uint8_t *interim_build(struct smb2_req *req, size_t *len)
{
	*len = SMB2_HDR_SIZE + 9;
	uint8_t *buf = malloc(*len);
	if (!buf)
		return NULL;
	uint8_t *save_buf = req->out_buf;
	size_t save_cap = req->out_cap;
	struct wr save_out = req->out;
	NTSTATUS save_status = req->status;
	req->out_buf = buf;
	req->status = STATUS_PENDING;
	req_response_header(req, STATUS_PENDING, credits_grant(req->sc, req->hdr.credits));
	struct wr w = wr_init(buf + SMB2_HDR_SIZE, 9);
	smb2_error_encode(&w, NULL, 0);
	req->out = wr_init(buf, *len);
	req->out.p = buf + *len;
	int saved_n = req->n_data;
	req->n_data = 0;
	req_sign(req);
	req->n_data = saved_n;
	req->out_buf = save_buf;
	req->out_cap = save_cap;
	req->out = save_out;
	req->status = save_status;
	return buf;
}

/* The request still waits: tell the client (on the connection's worker,
 * from the timer or, without one, from req_go_async). */
static void interim_send(struct smb2_req *req)
{
	struct smb2_chain *ch = req->chain;
	if (conn_is_dead(req->conn))
		return; /* nobody to tell; the final answer is dropped too */
	req->is_async = true; /* the header builder sets the ASYNC flag and AsyncId */
	size_t len;
	uint8_t *buf = interim_build(req, &len);
	if (!buf) {
		/* The final answer comes synchronously, with the credits. */
		req->is_async = false;
		return;
	}
	bool seal_it = (req->encrypted || ch->seal_with) && req->session && req->session->cipher;
	struct session *seal_with = seal_it ? (ch->seal_with ? ch->seal_with : req->session) : NULL;
	/* The elements before this one are complete: they go out now, with the
	 * interim response last (smb2.compound.interim1/3). */
	unsigned idx = (unsigned)(req - ch->reqs);
	chain_send_range(ch, ch->sent_upto, idx, seal_with, buf, len, NULL, NULL);
	ch->sent_upto = idx;
}

static void interim_due(void *arg)
{
	struct smb2_req *req = arg;
	req->interim_timer = 0;
	interim_send(req);
}

NTSTATUS req_go_async(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	struct smb2_chain *ch = req->chain;
	if (req->async_linked)
		return STATUS_SUCCESS;
	unsigned idx = (unsigned)(req - ch->reqs);
	if (idx + 1 < ch->n)
		return STATUS_INTERNAL_ERROR;
	/* The interim response gives the request's credits back, so credits
	 * do not bound waiting requests: this does (MS-SMB2 3.3.4.2 lets a
	 * server fail what would go async when resources are constrained). */
	if (sc->n_async >= SMB_MAX_ASYNC)
		return STATUS_INSUFFICIENT_RESOURCES;
	async_link(req);
	/* The timer names the request, which lives until async_unlink
	 * cancels the timer: chain_run unlinks every request when its
	 * handler returns, before the chain can be freed. */
	req->interim_timer = timer_add(req->conn->w, timer_now_ms() + INTERIM_DELAY_MS + 1, interim_due, req);
	if (!req->interim_timer)
		interim_send(req); /* no memory for a timer: at once, as before */
	return STATUS_SUCCESS;
}

void async_unlink(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	if (!req->async_linked)
		return;
	if (req->interim_timer) {
		/* Done within the delay: no interim response, the final one
		 * is synchronous. */
		timer_cancel(req->conn->w, req->interim_timer);
		req->interim_timer = 0;
	}
	sc->n_async--;
	if (req->async_prev)
		req->async_prev->async_next = req->async_next;
	else
		sc->async_list = req->async_next;
	if (req->async_next)
		req->async_next->async_prev = req->async_prev;
	req->async_next = req->async_prev = NULL;
	req->async_linked = false;
}

static void wake_cb(void *arg)
{
	struct smb2_req *req = arg;
	coro_resume(req->co);
}

void req_wait(struct smb2_req *req)
{
	req->co = coro_self();
	coro_yield();
}

void req_wake(struct smb2_req *req)
{
	struct worker *w = req->conn->w;
	if (worker_self() == w && !coro_self())
		coro_resume(req->co);
	else
		worker_post(w, wake_cb, req);
}

void smb_cancel(struct smb_conn *sc, const struct smb2_hdr *h)
{
	for (struct smb2_req *r = sc->async_list; r; r = r->async_next) {
		bool match = (h->flags & SMB2_FLAGS_ASYNC_COMMAND) ? r->async_id == h->async_id
								   : r->hdr.message_id == h->message_id;
		if (match && !r->cancelled) {
			r->cancelled = true;
			if (r->cancel_fn)
				r->cancel_fn(r);
			return;
		}
	}
}
