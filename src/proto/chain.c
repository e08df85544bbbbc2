/* Running a chain (proto/chain.h has the map): for each element of a
 * (possibly compound) request, in order, on the chain's coroutine:
 *
 *   the fixed body size (MS-SMB2 3.3.5.2.6), what a related element
 *   inherits (3.3.5.2.7.2), the session and its channel (3.3.5.2.9), the
 *   signature (3.3.5.2.4), the tree, the open of the FileId, the handler
 *   from the dispatch table; then the response: error body, header,
 *   credits, compound padding, sealing decision, signature, preauth hash.
 *
 * Then the responses go out in one message (several when an element gets
 * no response, as CANCEL), sealed when the request came sealed or the
 * session or share encrypts. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc/chanseq.h"
#include "net/conn.h"
#include "proto/chain.h"
#include "proto/credits.h"
#include "state/open.h"
#include "state/outcome.h"
#include "util/bufpool.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/metrics.h"

/* ---- the chain's life ---- */

void chain_uncharge(struct smb2_chain *ch)
{
	struct smb_conn *sc = ch->sc;
	sc->inflight -= ch->charge;
	ch->charge = 0;
	if (sc->inflight <= SMB_INFLIGHT_LOW)
		conn_resume(ch->conn);
}

static void chain_free(struct smb2_chain *ch)
{
	struct conn *c = ch->conn;
	chain_uncharge(ch);
	ch->sc->running--;
	bufpool_put(ch->pdu);
	free(ch);
	conn_put(c);
}

void chain_done_range(struct smb2_chain *ch, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		req_release(&ch->reqs[i]);
	ch->sent += to - from;
	if (ch->sent == ch->n)
		chain_free(ch);
}

/* ---- before the handler ---- */

NTSTATUS req_check_payload(const struct smb2_req *req, uint32_t len)
{
	const struct smb_conn *sc = req->sc;
	bool multi = smb_multi_credit(sc);
	uint32_t max = multi ? sc->conf->max_io_size : 65536;
	if (len > max)
		return STATUS_INVALID_PARAMETER;
	if (multi && len > 0) {
		uint32_t charge = req->hdr.credit_charge ? req->hdr.credit_charge : 1;
		if ((len - 1) / 65536 + 1 > charge)
			return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}

static NTSTATUS req_check_session(struct smb2_req *req, const struct smb2_cmd_desc *d)
{
	struct session *s = session_lookup(req->hdr.session_id);
	if (!s)
		return STATUS_USER_SESSION_DELETED;
	req->session = s;
	pthread_mutex_lock(&s->lock);
	struct session_channel *sch = session_channel_find(s, req->conn);
	bool on_channel = sch && !sch->binding;
	enum session_state st = s->state;
	pthread_mutex_unlock(&s->lock);
	/* A session is usable only on its bound channels (3.3.5.2.9). */
	if (!on_channel && req->hdr.command != SMB2_SESSION_SETUP)
		return STATUS_USER_SESSION_DELETED;
	if (st == SESSION_IN_PROGRESS && !d->allow_in_progress)
		return STATUS_USER_SESSION_DELETED;
	if (st == SESSION_EXPIRED && req->hdr.command != SMB2_SESSION_SETUP &&
	    req->hdr.command != SMB2_LOGOFF && req->hdr.command != SMB2_CLOSE)
		return STATUS_NETWORK_SESSION_EXPIRED;
	return STATUS_SUCCESS;
}

static NTSTATUS req_prepare(struct smb2_req *req, struct smb2_req *prev)
{
	struct smb2_chain *ch = req->chain;
	const struct smb2_cmd_desc *d = &smb2_cmds[req->hdr.command];
	bool related = req->hdr.flags & SMB2_FLAGS_RELATED_OPERATIONS;
	if (related) {
		/* MS-SMB2 3.3.5.2.7.2: related operations use the previous
		 * element's session, tree and file.  A related first element,
		 * or one after an element that failed before its handler ran
		 * (no session, no tree), is invalid (smb2.compound.invalid2,
		 * related9). */
		if (!prev || ch->prepare_failed)
			return STATUS_INVALID_PARAMETER;
		req->hdr.session_id = prev->hdr.session_id;
		req->hdr.tree_id = prev->hdr.tree_id;
		req->file_id_persistent = prev->file_id_persistent;
		req->file_id_volatile = prev->file_id_volatile;
	} else {
		req->file_id_persistent = req->file_id_volatile = UINT64_MAX;
	}
	/* The fixed part of the body must be there (3.3.5.2.6). */
	if (rd_left(&req->in) < 2 || rd_left(&req->in) < (size_t)(d->body_size & ~1u) ||
	    (d->body_size && get_le16(req->in.p) != d->body_size))
		return STATUS_INVALID_PARAMETER; /* body_size 0: the handler checks (several forms) */
	bool need_session = d->need_session, need_tree = d->need_tree;
	if (d->needs)
		d->needs(req, &need_session, &need_tree);
	if (need_session) {
		NTSTATUS st = req_check_session(req, d);
		if (st)
			return st;
		st = req_check_signature(req);
		if (st)
			return st;
	}
	if (need_tree) {
		struct tree *t = tree_lookup(req->session, req->hdr.tree_id);
		if (!t)
			return STATUS_NETWORK_NAME_DELETED;
		req->tree = t;
		if (t->encrypt && !req->encrypted)
			return STATUS_ACCESS_DENIED;
	}
	return STATUS_SUCCESS;
}

/* The open of the request's FileId (dispatch table: fid_off), looked up
 * once for the handler as req->open.  MS-SMB2 3.3.5.2.7.2: FileId all ones
 * in a related element names the previous element's open (req->file_id_*,
 * inherited by req_prepare; all ones in an unrelated element, naming none). */
static NTSTATUS req_lookup_open(struct smb2_req *req, const struct smb2_cmd_desc *d)
{
	const uint8_t *body = req->in.p;
	if (!d->fid_off || (d->fid_form && get_le16(body) != d->fid_form))
		return STATUS_SUCCESS;
	if (!req->session) /* a request the table lets run without one */
		return d->fid_optional ? STATUS_SUCCESS : STATUS_FILE_CLOSED;
	if (rd_left(&req->in) < (size_t)d->fid_off + 16)
		return STATUS_INVALID_PARAMETER;
	uint64_t persistent = get_le64(body + d->fid_off);
	uint64_t volatile_id = get_le64(body + d->fid_off + 8);
	if (persistent == UINT64_MAX && volatile_id == UINT64_MAX) {
		persistent = req->file_id_persistent;
		volatile_id = req->file_id_volatile;
	}
	struct open *o = open_lookup(persistent, volatile_id, req->session, req->tree);
	if (!o)
		return d->fid_optional ? STATUS_SUCCESS : STATUS_FILE_CLOSED;
	/* Used: a replayed CREATE of it is a new CREATE now (cmd/create_replay.h) */
	if (atomic_load_explicit(&o->replay_eligible, memory_order_relaxed))
		atomic_store(&o->replay_eligible, false);
	req->open = o;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	return STATUS_SUCCESS;
}

/* The channel sequence check of a request on an open (3.3.5.2.10), for
 * 3.x dialects: the ChannelSequence is the low half of the request's
 * Status field (2.2.1.2).  Only the commands the table marks chan_seq
 * (WRITE, SET_INFO, IOCTL) can be refused; the others are counted. */
static NTSTATUS req_chanseq_begin(struct smb2_req *req, const struct smb2_cmd_desc *d, struct chanseq_ticket *t)
{
	t->counted = false;
	if (!req->open || req->sc->dialect < SMB2_DIALECT_300)
		return STATUS_SUCCESS;
	return chanseq_begin(req->open, (uint16_t)req->hdr.status, req->hdr.flags & SMB2_FLAGS_REPLAY_OPERATION,
			     d->chan_seq, t);
}

/* ---- requests that outlive their channel (state/outcome.h) ---- */

static bool req_outcome_key(const struct smb2_req *req, const struct smb2_cmd_desc *d, struct outcome_key *k)
{
	uint8_t fixed[32];
	struct iovec iov[3];
	int n = d->replay_key(req, fixed, iov);
	return n >= 0 && outcome_key_make(k, req->hdr.command, (uint16_t)req->hdr.status, iov, n);
}

/* A replay of a request that ran after its channel died: answer with
 * what it answered then, without running it again. */
static bool req_outcome_answer(struct smb2_req *req, const struct smb2_cmd_desc *d, NTSTATUS *st)
{
	struct outcome_key k;
	struct outcome rec;
	if (!req_outcome_key(req, d, &k) || !open_outcome_find(req->open, &k, &rec))
		return false;
	wr_bytes(&req->out, rec.body, rec.body_len);
	*st = rec.status;
	req->replay_outcome = METRICS_REPLAY_RECORDED;
	return true;
}

/* The request ran to its end after its channel died: its reply is lost,
 * so keep its outcome for the replay the client will send.  The body as
 * the handler wrote it (none for most errors: the pipeline adds the
 * error body); a larger one is not kept, and its replay runs again. */
static void req_outcome_keep(struct smb2_req *req, const struct smb2_cmd_desc *d, NTSTATUS st)
{
	const uint8_t *body = req->out_buf + SMB2_HDR_SIZE;
	size_t len = (size_t)(req->out.p - body);
	if (req->n_data || req->file_len || req->out.err || len > OUTCOME_BODY_MAX)
		return;
	struct outcome rec = {.status = st, .body_len = (uint16_t)len};
	memcpy(rec.body, body, len);
	if (req_outcome_key(req, d, &rec.key))
		open_outcome_record(req->open, &rec, (unsigned)req_conf(req)->replay_outcome_timeout);
}

/* Run the handler of a request admitted on its open; a replay whose
 * outcome was kept is answered instead.  *ran: the handler ran (on a
 * 3.x open, for a command whose outcome can be kept).  Only replays pay
 * for the look-up (a hash of what they name). */
static NTSTATUS req_run(struct smb2_req *req, const struct smb2_cmd_desc *d, const struct chanseq_ticket *t,
			bool *ran)
{
	bool keeps = t->counted && d->replay_key; /* a 3.x request on an open */
	NTSTATUS st;
	if (keeps && (req->hdr.flags & SMB2_FLAGS_REPLAY_OPERATION) && req_outcome_answer(req, d, &st))
		return st;
	*ran = keeps;
	return d->fn(req);
}

/* Give the sequence ticket back.  A request that ran while its channel
 * died, or while the client moved the open to a newer sequence (it gave
 * the channel up), keeps its outcome first: a replay waits at the
 * sequence barrier until the ticket is back, and then finds it. */
static void req_end(struct smb2_req *req, const struct smb2_cmd_desc *d, struct chanseq_ticket *t, bool ran,
		    NTSTATUS st)
{
	if (ran && (conn_is_dead(req->conn) || !chanseq_end_current(req->open, t)))
		req_outcome_keep(req, d, st);
	chanseq_end(req->open, t);
}

/* Look up the open, run the handler, drop the open.  The handler runs to
 * its end whatever happens to the connection, so the open's sequence
 * ticket is given back on every path here. */
static NTSTATUS req_call(struct smb2_req *req, const struct smb2_cmd_desc *d)
{
	struct chanseq_ticket ticket = {0};
	bool ran = false;
	req->replay_outcome = -1;
	NTSTATUS st = req_lookup_open(req, d);
	if (st == STATUS_SUCCESS) {
		st = req_chanseq_begin(req, d, &ticket);
		if (st == STATUS_FILE_NOT_AVAILABLE)
			req->replay_outcome = METRICS_REPLAY_RETRY;
	}
	if (st == STATUS_SUCCESS)
		st = req_run(req, d, &ticket, &ran);
	if (req->replay_outcome >= 0 || (req->hdr.flags & SMB2_FLAGS_REPLAY_OPERATION))
		metrics_replay(req->hdr.command, req->replay_outcome >= 0 ? (enum metrics_replay)req->replay_outcome
									   : METRICS_REPLAY_EXECUTED);
	if (req->open) {
		req_end(req, d, &ticket, ran, st);
		open_put(req->open);
	}
	req->open = NULL;
	return st;
}

/* Prepare the element and run its handler; the chain remembers what the
 * related elements after it need to know. */
static NTSTATUS req_dispatch(struct smb2_chain *ch, struct smb2_req *req, struct smb2_req *prev)
{
	if (req->hdr.command >= SMB2_N_COMMANDS || !smb2_cmds[req->hdr.command].fn)
		return STATUS_INVALID_PARAMETER; /* unknown command, as Windows */
	NTSTATUS st = req_prepare(req, prev);
	bool prepared = st == STATUS_SUCCESS;
	/* A failed CREATE fails the related elements after it
	 * with its own status (3.3.5.2.7.2, smb2.compound.related8). */
	if (prepared && (req->hdr.flags & SMB2_FLAGS_RELATED_OPERATIONS) && ch->create_err)
		st = ch->create_err;
	else if (prepared)
		st = req_call(req, &smb2_cmds[req->hdr.command]);
	ch->prepare_failed = !prepared;
	if (req->hdr.command == SMB2_CREATE)
		ch->create_err = nt_is_error(st) ? st : STATUS_SUCCESS;
	return st;
}

/* The request's time and bytes in the metrics. */
static void req_account(const struct smb2_req *req, NTSTATUS st, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_request(req->hdr.command, st, (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000));
	if (req->hdr.command == SMB2_READ) {
		metrics_add(&metrics.bytes_read, req->file_len);
		for (int d = 0; d < req->n_data; d++)
			metrics_add(&metrics.bytes_read, req->data[d].iov_len);
	}
	if (req->hdr.command == SMB2_WRITE && st == STATUS_SUCCESS && req->in_len >= SMB2_HDR_SIZE + 8)
		metrics_add(&metrics.bytes_written, get_le32(req->in_msg + SMB2_HDR_SIZE + 4));
}

/* ---- after the handler ---- */

/* An error without a body gets the error response body (2.2.2); a body
 * that overflowed its buffer becomes STATUS_INTERNAL_ERROR.  Returns the
 * status to answer. */
static NTSTATUS req_error_body(struct smb2_req *req, NTSTATUS st)
{
	if (wr_pos(&req->out) == SMB2_HDR_SIZE || (nt_is_error(st) && st != STATUS_MORE_PROCESSING_REQUIRED &&
	    !(req->hdr.command == SMB2_IOCTL && st == STATUS_BUFFER_OVERFLOW) && req->out.p == req->out_buf + SMB2_HDR_SIZE)) {
		req->out.p = req->out_buf + SMB2_HDR_SIZE;
		if (req->data_free)
			req->data_free(req->data_free_arg);
		req->data_free = NULL;
		req->n_data = 0;
		req->file_len = 0;
		smb2_error_encode(&req->out, NULL, 0);
	}
	if (req->out.err) {
		log_warn("%s response overflowed its buffer", smb2_command_name(req->hdr.command));
		req->out.err = false;
		req->out.p = req->out_buf + SMB2_HDR_SIZE;
		smb2_error_encode(&req->out, NULL, 0);
		req->status = st = STATUS_INTERNAL_ERROR;
	}
	return st;
}

/* Compound responses are 8-byte aligned, the padding after any data
 * (smb2.compound.compound-padding); NextCommand links them.  Every
 * element of a compound response is padded, the last one too, as Windows
 * does. */
static void req_pad(struct smb2_chain *ch, unsigned i)
{
	struct smb2_req *req = &ch->reqs[i];
	size_t pad = (8 - req_out_len(req) % 8) % 8;
	if (pad && req->n_data)
		req_add_data(req, memset(chain_pad(ch, i), 0, pad), pad);
	else if (pad)
		wr_zero(&req->out, pad);
	if (i + 1 < ch->n)
		put_le32(req->out_buf + 20, (uint32_t)req_out_len(req));
}

/* The element's response, complete: body, header, credits, padding,
 * signature, preauth hash; and whether the chain's message is sealed. */
static void req_finish(struct smb2_chain *ch, unsigned i, NTSTATUS st)
{
	struct smb2_req *req = &ch->reqs[i];
	st = req_error_body(req, st);
	uint16_t credits = req->is_async ? 0 : credits_grant(ch->sc, req->hdr.credits);
	req_response_header(req, st, credits);
	if (ch->n > 1)
		req_pad(ch, i);
	/* Seal when the request came sealed or the session or share
	 * encrypts; the SESSION_SETUP that establishes an encrypting
	 * session is answered signed, not sealed (3.3.5.5.3). */
	bool seal_me = req->encrypted || (req->session && req->hdr.command != SMB2_SESSION_SETUP &&
					  (req->session->encrypt_data || (req->tree && req->tree->encrypt)));
	if (seal_me && req->session && req->session->cipher && req->session->state == SESSION_VALID)
		ch->seal_with = req->session;
	req_sign(req);
	/* 3.1.1 preauth integrity: NEGOTIATE and SESSION_SETUP responses
	 * extend the hash their handler chose, exactly as sent. */
	if (req->preauth_hash)
		smb_preauth_update(req->preauth_hash, req->out_buf, wr_pos(&req->out));
}

/* ---- sending the chain ---- */

/* Send the responses not sent yet (an async element sent those before
 * it).  Elements that get no response (CANCEL) split the message.  After
 * the last send the chain may be gone: it is not touched again. */
static void chain_send(struct smb2_chain *ch, struct session *seal_with)
{
	unsigned from = ch->sent_upto;
	if (conn_is_dead(ch->conn)) {
		chain_done_range(ch, from, ch->n);
		return;
	}
	unsigned n = ch->n;
	for (unsigned i = from; i < n; i++) {
		if (ch->reqs[i].no_response) {
			if (from < i)
				chain_send_range(ch, from, i, seal_with, NULL, 0, NULL, NULL);
			req_release(&ch->reqs[i]);
			ch->sent++;
			from = i + 1;
		}
	}
	if (from < n)
		chain_send_range(ch, from, n, seal_with, NULL, 0, NULL, NULL);
	else if (ch->sent == ch->n)
		chain_free(ch);
}

void chain_run(void *arg)
{
	struct smb2_chain *ch = arg;
	for (unsigned i = 0; i < ch->n; i++) {
		struct smb2_req *req = &ch->reqs[i];
		req->co = coro_self();
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		NTSTATUS st = STATUS_NO_MEMORY;
		if (req_out_reserve(req, 256) == 0) {
			req->out.p = req->out_buf + SMB2_HDR_SIZE;
			st = req_dispatch(ch, req, i ? &ch->reqs[i - 1] : NULL);
		}
		req->status = st;
		async_unlink(req);
		req_account(req, st, &t0);
		if (req->out_buf)
			req_finish(ch, i, st);
	}
	/* An encrypted request on a session that has just gone (LOGOFF):
	 * still answer sealed, with a reference held until it is sealed. */
	struct session *seal_ref = NULL;
	if (ch->encrypted && !ch->seal_with)
		ch->seal_with = seal_ref = session_lookup(ch->tf_session_id);
	chain_send(ch, ch->seal_with);
	if (seal_ref)
		session_put(seal_ref);
}
