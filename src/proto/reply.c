/* Responses: their memory, the one response-header builder, and the one
 * path that sends anything to a client (chains of responses, interim
 * responses, oplock break notifications), through conn_send() /
 * conn_send_file() in net/conn.c (proto/chain.h has the map). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/conn.h"
#include "proto/chain.h"
#include "state/state.h"
#include "util/log.h"
#include "wire/oplock.h"

#define OUT_INITIAL 1024

/* ---- response memory ---- */

int req_out_reserve(struct smb2_req *req, size_t body)
{
	size_t used = wr_pos(&req->out);
	size_t need = used + body + 8; /* + compound padding */
	if (need <= req->out_cap)
		return 0;
	size_t cap = req->out_cap ? req->out_cap : OUT_INITIAL;
	while (cap < need)
		cap *= 2;
	uint8_t *nb = realloc(req->out_buf, cap);
	if (!nb)
		return -ENOMEM;
	req->out_buf = nb;
	req->out_cap = cap;
	req->out.base = nb;
	req->out.p = nb + used;
	req->out.end = nb + cap - 8;
	return 0;
}

void req_add_data(struct smb2_req *req, void *buf, size_t len)
{
	BUG_ON(req->n_data >= (int)(sizeof(req->data) / sizeof(req->data[0])));
	req->data[req->n_data].iov_base = buf;
	req->data[req->n_data].iov_len = len;
	req->n_data++;
}

bool req_zero_copy_ok(const struct smb2_req *req)
{
	const struct session *s = req->session;
	if (!req->sc->conf->use_sendfile || req->chain->n != 1 || req->encrypted || !s)
		return false;
	if (s->encrypt_data || (req->tree && req->tree->encrypt))
		return false;
	/* a signature covers the data, which must then be in memory */
	if (!s->anonymous && !s->guest && ((req->hdr.flags & SMB2_FLAGS_SIGNED) || s->signing_required))
		return false;
	return true;
}

void req_add_file_data(struct smb2_req *req, int fd, uint64_t off, size_t len)
{
	BUG_ON(!req_zero_copy_ok(req));
	req->file_fd = fd;
	req->file_off = off;
	req->file_len = len;
}

void req_release(struct smb2_req *req)
{
	free(req->out_buf);
	req->out_buf = NULL;
	if (req->data_free)
		req->data_free(req->data_free_arg);
	req->data_free = NULL;
	req->n_data = 0;
	if (req->tree)
		tree_put(req->tree);
	req->tree = NULL;
	if (req->session)
		session_put(req->session);
	req->session = NULL;
	session_channel_put(req->preauth_channel);
	req->preauth_channel = NULL;
}

size_t req_out_len(const struct smb2_req *req)
{
	size_t len = wr_pos(&req->out) + req->file_len;
	for (int i = 0; i < req->n_data; i++)
		len += req->data[i].iov_len;
	return len;
}

/* ---- the response header ---- */

void req_response_header(struct smb2_req *req, NTSTATUS status, uint16_t credits)
{
	struct smb2_hdr h = { 0 };
	h.credit_charge = req->hdr.credit_charge;
	h.status = status;
	h.command = req->hdr.command;
	h.credits = credits;
	h.flags = SMB2_FLAGS_SERVER_TO_REDIR | (req->hdr.flags & (SMB2_FLAGS_RELATED_OPERATIONS | SMB2_FLAGS_PRIORITY_MASK));
	h.message_id = req->hdr.message_id;
	/* A signed request whose session is gone: the answer carries the
	 * SIGNED flag with a zero signature, as Windows and Samba do (the
	 * client does not check it for USER_SESSION_DELETED, but a client
	 * that expects signing refuses an answer without the flag:
	 * smb2.session.bind_invalid_auth). */
	if (status == STATUS_USER_SESSION_DELETED && !req->session && (req->hdr.flags & SMB2_FLAGS_SIGNED))
		h.flags |= SMB2_FLAGS_SIGNED;
	if (req->is_async) {
		h.flags |= SMB2_FLAGS_ASYNC_COMMAND;
		h.async_id = req->async_id;
	} else {
		h.process_id = req->hdr.process_id;
		h.tree_id = req->hdr.tree_id;
	}
	h.session_id = req->hdr.session_id;
	struct wr w = wr_init(req->out_buf, SMB2_HDR_SIZE);
	smb2_hdr_encode(&w, &h);
}

/* ---- sending ---- */

struct send_ctx {
	struct smb2_chain *chain;     /* NULL for a standalone message */
	unsigned from, to;            /* elements of the chain in this message */
	uint8_t *tf;                  /* transform header, when sealed */
	uint8_t *standalone;          /* interim or notification buffer */
	uint8_t *flat;                /* a long compound copied into one buffer */
	struct conn *conn;
	smb_sent_fn done;             /* the sender's completion, or NULL */
	void *done_arg;
};

static void send_done(void *arg, int err)
{
	struct send_ctx *sx = arg;
	struct smb2_chain *ch = sx->chain;
	if (ch)
		chain_done_range(ch, sx->from, sx->to);
	/* On success the kernel has just counted this message's last byte. */
	if (sx->done)
		sx->done(sx->done_arg, err, err ? 0 : conn_bytes_sent_to_kernel(sx->conn));
	free(sx->tf);
	free(sx->standalone);
	free(sx->flat);
	conn_put(sx->conn);
	free(sx);
}

static struct send_ctx *send_ctx_new(struct conn *c, uint8_t *standalone, smb_sent_fn done, void *done_arg)
{
	struct send_ctx *sx = calloc(1, sizeof(*sx));
	if (!sx)
		return NULL;
	sx->done = done;
	sx->done_arg = done_arg;
	sx->standalone = standalone;
	sx->conn = c;
	conn_get(c);
	return sx;
}

/* Seal iov[1..n) when `seal_with` is given, then hand the message to the
 * net layer; with `file_req`, its spliced payload follows (only ever on a
 * lone, unsigned, unsealed element).  On failure send_done has run:
 * -EIO (sealing failed) or -ECONNRESET. */
static int send_iov(struct send_ctx *sx, struct session *seal_with, struct iovec *iov, int n,
		    const struct smb2_req *file_req, unsigned flags)
{
	struct iovec *first = iov + 1;
	int cnt = n - 1;
	if (seal_with) {
		if (smb_seal(seal_with, iov, n, &sx->tf) < 0) {
			send_done(sx, -EIO);
			return -EIO;
		}
		first = iov;
		cnt = n;
	}
	int ret = file_req && !seal_with
		? conn_send_file(sx->conn, first, cnt, file_req->file_fd, file_req->file_off, file_req->file_len,
				 flags, send_done, sx)
		: conn_send(sx->conn, first, cnt, flags, send_done, sx);
	if (ret < 0) {
		send_done(sx, -ECONNRESET);
		return -ECONNRESET;
	}
	return 0;
}

/* The responses of elements [from, to), then `extra`, into iov[1..]
 * (iov[0] stays for the transform header).  Returns the iovec count
 * including iov[0]; *total is their bytes. */
static int chain_gather(struct smb2_chain *ch, unsigned from, unsigned to, uint8_t *extra, size_t extra_len,
			struct iovec *iov, size_t *total)
{
	int n = 1;
	*total = 0;
	for (unsigned i = from; i < to; i++) {
		struct smb2_req *req = &ch->reqs[i];
		iov[n].iov_base = req->out_buf;
		iov[n].iov_len = wr_pos(&req->out);
		*total += iov[n++].iov_len;
		for (int d = 0; d < req->n_data; d++) {
			iov[n] = req->data[d];
			*total += iov[n++].iov_len;
		}
	}
	if (extra) {
		iov[n].iov_base = extra;
		iov[n].iov_len = extra_len;
		*total += iov[n++].iov_len;
	}
	return n;
}

/* A long compound: one contiguous copy (owned by sx) instead of more
 * iovecs than the net layer takes.  Returns the new count, or -ENOMEM. */
static int send_flatten(struct send_ctx *sx, struct iovec *iov, int n, size_t total)
{
	uint8_t *flat = malloc(total);
	if (!flat)
		return -ENOMEM;
	size_t off = 0;
	for (int k = 1; k < n; k++) {
		memcpy(flat + off, iov[k].iov_base, iov[k].iov_len);
		off += iov[k].iov_len;
	}
	sx->flat = flat;
	iov[1].iov_base = flat;
	iov[1].iov_len = total;
	return 2;
}

/* Whether a response (or interim response) of sc asks the peer for a
 * prompt ACK (CONN_SEND_ELICIT_ACK): when no other request of sc runs
 * (those waiting asynchronously aside), so the connection falls idle after
 * it, on a client with more than one channel.  Its breaks go out on any of
 * its channels and are retried on the next when a channel does not
 * acknowledge one (mc/break_deliver.c).  A channel that stops
 * acknowledging while the peer still delays its ACK of this response would
 * leave TCP retransmitting the response, with a later break held behind
 * it, never reaching that channel; smbtorture's multichannel tests, which
 * drop only what the client sends, count the break there.  The price, one
 * more segment and ACK, falls only on responses that leave a
 * connection idle. */
static unsigned reply_send_flags(struct smb_conn *sc)
{
	if (sc->running > 1 + sc->n_async || !sc->client)
		return 0;
	return client_n_channels(sc->client) > 1 ? CONN_SEND_ELICIT_ACK : 0;
}

void chain_send_range(struct smb2_chain *ch, unsigned from, unsigned to, struct session *seal_with,
		      uint8_t *extra, size_t extra_len, smb_sent_fn done, void *done_arg)
{
	struct iovec iov[CHAIN_MAX * 6 + 2];
	size_t total;
	int n = chain_gather(ch, from, to, extra, extra_len, iov, &total);
	struct send_ctx *sx = send_ctx_new(ch->conn, extra, done, done_arg);
	if (!sx) {
		free(extra);
		if (done)
			done(done_arg, -ENOMEM, 0);
		chain_done_range(ch, from, to);
		return;
	}
	sx->chain = to > from ? ch : NULL; /* an interim alone does not pin the chain */
	sx->from = from;
	sx->to = to;
	if (n - 1 > CONN_MAX_IOV - 1 && (n = send_flatten(sx, iov, n, total)) < 0) {
		send_done(sx, -ENOMEM);
		return;
	}
	struct smb2_req *last = to > from ? &ch->reqs[to - 1] : NULL;
	unsigned flags = to == ch->n || extra ? reply_send_flags(ch->sc) : 0;
	send_iov(sx, seal_with, iov, n, last && last->file_len && !extra ? last : NULL, flags);
}

int smb_send_standalone(struct smb_conn *sc, uint8_t *buf, size_t len, struct session *seal_with, smb_sent_fn done,
			void *done_arg)
{
	struct send_ctx *sx = send_ctx_new(sc->conn, buf, done, done_arg);
	if (!sx) {
		free(buf);
		if (done)
			done(done_arg, -ENOMEM, 0);
		return -ENOMEM;
	}
	struct iovec iov[2] = { { NULL, 0 }, { buf, len } };
	return send_iov(sx, seal_with, iov, 2, NULL, 0);
}

/* A break notification of `body` bytes (MS-SMB2 3.3.4.6 oplock, 3.3.4.7
 * lease): MessageId all ones, SessionId and TreeId zero, not signed.
 * Returns the buffer with the header written (w positioned at the body),
 * or NULL after telling `done` of the failure. */
static uint8_t *break_begin(size_t body, struct wr *w, smb_sent_fn done, void *done_arg)
{
	uint8_t *buf = calloc(1, SMB2_HDR_SIZE + body);
	if (!buf) {
		if (done)
			done(done_arg, -ENOMEM, 0);
		return NULL;
	}
	struct smb2_hdr h = { 0 };
	h.command = SMB2_OPLOCK_BREAK;
	h.flags = SMB2_FLAGS_SERVER_TO_REDIR;
	h.message_id = UINT64_MAX;
	*w = wr_init(buf, SMB2_HDR_SIZE + body);
	smb2_hdr_encode(w, &h);
	return buf;
}

/* Send it, sealed when the session encrypts everything (s NULL: plain,
 * a lease break on a channel of none of the lease's sessions). */
static int break_send(struct smb_conn *sc, struct session *s, uint8_t *buf, size_t body, smb_sent_fn done,
		      void *done_arg)
{
	bool seal_it = s && s->encrypt_data && s->cipher && s->state == SESSION_VALID;
	return smb_send_standalone(sc, buf, SMB2_HDR_SIZE + body, seal_it ? s : NULL, done, done_arg);
}

int smb_send_oplock_break(struct smb_conn *sc, struct session *s, uint64_t persistent, uint64_t volatile_id,
			  uint8_t level, smb_sent_fn done, void *done_arg)
{
	struct wr w;
	uint8_t *buf = break_begin(WIRE_OPLOCK_BREAK_SIZE, &w, done, done_arg);
	if (!buf)
		return -ENOMEM;
	wire_oplock_break_encode(&w, level, &(struct wire_fileid){ persistent, volatile_id });
	return break_send(sc, s, buf, WIRE_OPLOCK_BREAK_SIZE, done, done_arg);
}

int smb_send_lease_break(struct smb_conn *sc, struct session *s, const struct wire_lease_break *n, smb_sent_fn done,
			 void *done_arg)
{
	struct wr w;
	uint8_t *buf = break_begin(WIRE_LEASE_BREAK_SIZE, &w, done, done_arg);
	if (!buf)
		return -ENOMEM;
	wire_lease_break_encode(&w, n);
	return break_send(sc, s, buf, WIRE_LEASE_BREAK_SIZE, done, done_arg);
}
