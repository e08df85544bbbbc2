/* The request pipeline (DESIGN.md src/proto/):
 *
 *   smb_pdu()            on the connection's worker, in arrival order:
 *     TRANSFORM?  -> decrypt with the session's key (failure: disconnect)
 *     SMB1?       -> multi-protocol negotiate upgrade
 *     split the compound, consume credits for every element (a bad
 *     MessageId breaks the connection), handle CANCEL at once
 *     start a coroutine for the chain
 *   chain_run()          in the coroutine, element after element:
 *     resolve session / tree (related ones inherit), verify the signature,
 *     call the handler from the dispatch table, build the response header,
 *     grant credits, sign
 *   chain_send()         one response message per chain (compound replies
 *     padded to 8 bytes), encrypted when the request was
 *
 * This is the only place that sends anything to a client: interim
 * responses and, later, break notifications use chain_send_one(). */
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "net/conn.h"
#include "proto/credits.h"
#include "proto/pipeline.h"
#include "proto/signing.h"
#include "proto/smb.h"
#include "state/open.h"
#include "util/bufpool.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/metrics.h"
#include "vfs/vfs.h"
#include "wire/negotiate.h"
#include "wire/oplock.h"

#define CHAIN_MAX 64
#define OUT_INITIAL 1024
/* Signing or sealing more than this runs on the thread pool, so large
 * encrypted or signed transfers use every core instead of serializing all
 * channels of a worker on one (the worker goes on with other requests). */
#define CRYPTO_OFFLOAD (256 * 1024)

static long offload(long (*fn)(void *), void *arg, size_t size)
{
	if (size >= CRYPTO_OFFLOAD && coro_self())
		return vfs_call(NULL, fn, arg);
	return fn(arg);
}

struct smb2_chain {
	struct smb_conn *sc;
	struct conn *conn;
	uint8_t *pdu;                 /* the received buffer (owned) */
	uint8_t *msg;                 /* start of the plain SMB2 message(s) */
	size_t msg_len;
	bool encrypted;
	uint64_t tf_session_id;
	unsigned n, sent;             /* elements, elements already sent */
	unsigned sent_upto;           /* elements before this one were handed to the net layer */
	NTSTATUS create_err;          /* a failed CREATE: related elements after it fail alike */
	bool prepare_failed;          /* the previous element failed before its handler ran */
	unsigned charge;              /* credits counted in sc->inflight until the chain is freed */
	struct session *seal_with;    /* seal the responses with this session's key */
	struct smb2_req reqs[];       /* n of them, then CHAIN_PAD bytes per element (chain_pad) */
};

/* Zero padding sent after an element's data in a compound response.  Each
 * element has its own, in the chain's allocation: sealing encrypts the
 * message in place, so the padding must be writable and not shared (a
 * static const buffer here crashed every sealed compound whose READ data
 * needed padding). */
#define CHAIN_PAD 8

static uint8_t *chain_pad(struct smb2_chain *ch, unsigned i)
{
	return (uint8_t *)&ch->reqs[ch->n] + (size_t)i * CHAIN_PAD;
}

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

static void req_release(struct smb2_req *req)
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

/* ---- building and sending responses ---- */

static size_t req_out_len(const struct smb2_req *req)
{
	size_t len = wr_pos(&req->out) + req->file_len;
	for (int i = 0; i < req->n_data; i++)
		len += req->data[i].iov_len;
	return len;
}

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

static void chain_free(struct smb2_chain *ch);
static void chain_uncharge(struct smb2_chain *ch);

static void send_done(void *arg, int err)
{
	struct send_ctx *sx = arg;
	struct smb2_chain *ch = sx->chain;
	if (ch) {
		for (unsigned i = sx->from; i < sx->to; i++)
			req_release(&ch->reqs[i]);
		ch->sent += sx->to - sx->from;
		if (ch->sent == ch->n)
			chain_free(ch);
	}
	/* On success the kernel has just counted this message's last byte. */
	if (sx->done)
		sx->done(sx->done_arg, err, err ? 0 : conn_bytes_sent_to_kernel(sx->conn));
	free(sx->tf);
	free(sx->standalone);
	free(sx->flat);
	conn_put(sx->conn);
	free(sx);
}

struct seal_job {
	struct session *s;
	const uint8_t *nonce, *aad;
	const struct iovec *iov;
	int n;
	uint8_t tag[16];
};

static long seal_job_run(void *arg)
{
	struct seal_job *j = arg;
	return crypto_encrypt((enum crypto_cipher)j->s->cipher, j->s->enc_key, j->nonce, j->aad, j->iov, j->n, j->tag);
}

/* Seal the iovecs with the session's encryption key (MS-SMB2 3.1.4.3). */
static int seal(struct smb_conn *sc, struct session *s, struct iovec *iov, int n, uint8_t **tf_out)
{
	uint8_t *tf = malloc(SMB2_TF_HDR_SIZE);
	if (!tf)
		return -ENOMEM;
	size_t len = 0;
	for (int i = 1; i < n; i++)
		len += iov[i].iov_len;
	struct smb2_tf_hdr t = { 0 };
	crypto_random(t.nonce, crypto_cipher_noncelen((enum crypto_cipher)s->cipher));
	t.orig_size = (uint32_t)len;
	t.flags = 1; /* Encrypted (3.1.1) / EncryptionAlgorithm AES-128-CCM (3.0) */
	t.session_id = s->id;
	struct wr w = wr_init(tf, SMB2_TF_HDR_SIZE);
	smb2_tf_hdr_encode(&w, &t);
	struct seal_job j = { s, t.nonce, tf + 20, iov + 1, n - 1, { 0 } };
	int ret = (int)offload(seal_job_run, &j, len);
	uint8_t *tag = j.tag;
	if (ret) {
		free(tf);
		return ret;
	}
	memcpy(tf + 4, tag, 16);
	iov[0].iov_base = tf;
	iov[0].iov_len = SMB2_TF_HDR_SIZE;
	*tf_out = tf;
	(void)sc;
	return 0;
}

/* Send elements [from, to) of a chain as one message, followed by `extra`
 * (an interim response, owned from here on) when given.  done(done_arg,
 * ...), when given, is called once, as smb_sent_fn says. */
static void chain_send_range(struct smb2_chain *ch, unsigned from, unsigned to, struct session *seal_with,
			     uint8_t *extra, size_t extra_len, smb_sent_fn done, void *done_arg)
{
	struct iovec iov[CHAIN_MAX * 6 + 2];
	int n = 1; /* iov[0] reserved for the transform header */
	size_t total = 0;
	for (unsigned i = from; i < to; i++) {
		struct smb2_req *req = &ch->reqs[i];
		iov[n].iov_base = req->out_buf;
		iov[n].iov_len = wr_pos(&req->out);
		total += iov[n++].iov_len;
		for (int d = 0; d < req->n_data; d++) {
			iov[n] = req->data[d];
			total += iov[n++].iov_len;
		}
	}
	if (extra) {
		iov[n].iov_base = extra;
		iov[n].iov_len = extra_len;
		total += iov[n++].iov_len;
	}
	struct send_ctx *sx = calloc(1, sizeof(*sx));
	if (!sx) {
		free(extra);
		if (done)
			done(done_arg, -ENOMEM, 0);
		goto drop;
	}
	sx->done = done;
	sx->done_arg = done_arg;
	sx->chain = to > from ? ch : NULL; /* an interim alone does not pin the chain */
	sx->from = from;
	sx->to = to;
	sx->conn = ch->conn;
	sx->standalone = extra;
	conn_get(ch->conn);
	if (n - 1 > CONN_MAX_IOV - 1) {
		/* A long compound: one contiguous copy instead of many iovecs. */
		uint8_t *flat = malloc(total);
		if (!flat) {
			send_done(sx, -ENOMEM);
			return;
		}
		size_t off = 0;
		for (int k = 1; k < n; k++) {
			memcpy(flat + off, iov[k].iov_base, iov[k].iov_len);
			off += iov[k].iov_len;
		}
		sx->flat = flat;
		iov[1].iov_base = flat;
		iov[1].iov_len = total;
		n = 2;
	}
	struct iovec *first = iov + 1;
	int cnt = n - 1;
	if (seal_with) {
		if (seal(ch->sc, seal_with, iov, n, &sx->tf) < 0) {
			send_done(sx, -EIO);
			return;
		}
		first = iov;
		cnt = n;
	}
	/* a spliced payload (only ever on a lone, unsigned, unsealed element) */
	struct smb2_req *last = to > from ? &ch->reqs[to - 1] : NULL;
	int ret = last && last->file_len && !seal_with && !extra
		? conn_send_file(ch->conn, first, cnt, last->file_fd, last->file_off, last->file_len, send_done, sx)
		: conn_send(ch->conn, first, cnt, send_done, sx);
	if (ret < 0)
		send_done(sx, -ECONNRESET);
	return;
drop:
	for (unsigned i = from; i < to; i++)
		req_release(&ch->reqs[i]);
	ch->sent += to - from;
	if (ch->sent == ch->n)
		chain_free(ch);
}

int smb_send_standalone(struct smb_conn *sc, uint8_t *buf, size_t len, struct session *seal_with, smb_sent_fn done,
			void *done_arg)
{
	struct conn *c = sc->conn;
	struct send_ctx *sx = calloc(1, sizeof(*sx));
	if (!sx) {
		free(buf);
		if (done)
			done(done_arg, -ENOMEM, 0);
		return -ENOMEM;
	}
	sx->done = done;
	sx->done_arg = done_arg;
	sx->standalone = buf;
	sx->conn = c;
	conn_get(c);
	struct iovec iov[2] = { { NULL, 0 }, { buf, len } };
	struct iovec *first = iov + 1;
	int cnt = 1;
	if (seal_with) {
		if (seal(sc, seal_with, iov, 2, &sx->tf) < 0) {
			send_done(sx, -EIO);
			return -EIO;
		}
		first = iov;
		cnt = 2;
	}
	if (conn_send(c, first, cnt, send_done, sx) < 0) {
		send_done(sx, -ECONNRESET);
		return -ECONNRESET;
	}
	return 0;
}

int smb_send_oplock_break(struct smb_conn *sc, struct session *s, uint64_t persistent, uint64_t volatile_id,
			  uint8_t level, smb_sent_fn done, void *done_arg)
{
	size_t len = SMB2_HDR_SIZE + WIRE_OPLOCK_BREAK_SIZE;
	uint8_t *buf = calloc(1, len);
	if (!buf) {
		if (done)
			done(done_arg, -ENOMEM, 0);
		return -ENOMEM;
	}
	/* MS-SMB2 3.3.4.6: MessageId all ones, no session, not signed. */
	struct smb2_hdr h = { 0 };
	h.command = SMB2_OPLOCK_BREAK;
	h.flags = SMB2_FLAGS_SERVER_TO_REDIR;
	h.message_id = UINT64_MAX;
	struct wr w = wr_init(buf, len);
	smb2_hdr_encode(&w, &h);
	wire_oplock_break_encode(&w, level, &(struct wire_fileid){ persistent, volatile_id });
	bool seal_it = s->encrypt_data && s->cipher && s->state == SESSION_VALID;
	return smb_send_standalone(sc, buf, len, seal_it ? s : NULL, done, done_arg);
}

/* ---- per element ---- */

static void req_response_header(struct smb2_req *req, NTSTATUS status, uint16_t credits)
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

/* Which key signs this response (MS-SMB2 3.3.4.1.1): copied into `key`
 * under the session lock (a pool thread signs later, while other workers
 * may add and drop channels); false for none. */
static bool req_signing_key(struct smb2_req *req, int *alg, uint8_t key[16])
{
	struct session *s = req->session;
	if (!s || req->encrypted)
		return false;
	/* An unfinished SESSION_SETUP (a bind in particular: its channel has
	 * no key yet) is answered unsigned (MS-SMB2 3.3.4.1.1). */
	bool bind = req->hdr.command == SMB2_SESSION_SETUP && req->in_len > SMB2_HDR_SIZE + 2 &&
		    (((const uint8_t *)req->in_msg)[SMB2_HDR_SIZE + 2] & SMB2_SESSION_FLAG_BINDING);
	if (req->hdr.command == SMB2_SESSION_SETUP && req->status == STATUS_MORE_PROCESSING_REQUIRED && !bind)
		return false;
	/* The session's state, flags and keys are read together under its
	 * lock: a LOGOFF or teardown on another worker changes them. */
	bool sign = true;
	pthread_mutex_lock(&s->lock);
	if (s->anonymous || s->guest)
		sign = false;
	else if (!req->sign && !(req->hdr.flags & SMB2_FLAGS_SIGNED) && !s->signing_required)
		sign = false;
	else if (s->state != SESSION_VALID && !req->sign)
		sign = false;
	/* 3.1.1: each channel signs with the algorithm its connection
	 * negotiated (smb2.session.bind_negative_smb3signCtoH*). */
	*alg = req->sc->dialect >= SMB2_DIALECT_300 ? req->sc->signing_alg : s->signing_alg;
	/* Every response to a bind but the final success is signed with
	 * Session.SigningKey and the session's algorithm (the client has no
	 * channel key yet). */
	if (bind && req->status != STATUS_SUCCESS) {
		*alg = s->signing_alg;
		memcpy(key, s->signing_key, 16);
	} else {
		struct session_channel *ch = session_channel_find(s, req->conn);
		memcpy(key, ch ? ch->signing_key : s->signing_key, 16);
	}
	pthread_mutex_unlock(&s->lock);
	return sign;
}

struct sign_job {
	int alg;
	const uint8_t *key;
	struct iovec *iov;
	int n;
	bool verify;         /* verify msg/len instead of signing iov */
	uint8_t *msg;
	size_t len;
};

static long sign_job_run(void *arg)
{
	struct sign_job *j = arg;
	if (j->verify)
		return smb_verify(j->alg, j->key, j->msg, j->len) ? 1 : 0;
	return smb_sign(j->alg, j->key, j->iov, j->n);
}

static bool verify_msg(int alg, const uint8_t *key, uint8_t *msg, size_t len)
{
	struct sign_job j = { alg, key, NULL, 0, true, msg, len };
	return offload(sign_job_run, &j, len) == 1;
}

static void req_sign(struct smb2_req *req)
{
	int alg;
	uint8_t key[16];
	if (!req_signing_key(req, &alg, key))
		return;
	struct iovec iov[1 + 4];
	int n = 0;
	iov[n].iov_base = req->out_buf;
	iov[n].iov_len = wr_pos(&req->out);
	n++;
	size_t len = 0;
	for (int d = 0; d < req->n_data; d++) {
		iov[n++] = req->data[d];
		len += req->data[d].iov_len;
	}
	struct sign_job j = { alg, key, iov, n, false, NULL, 0 };
	offload(sign_job_run, &j, len);
}

NTSTATUS req_go_async(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	struct smb2_chain *ch = req->chain;
	if (req->is_async)
		return STATUS_SUCCESS;
	unsigned idx = (unsigned)(req - ch->reqs);
	if (idx + 1 < ch->n)
		return STATUS_INTERNAL_ERROR;
	/* The interim response gives the request's credits back, so credits
	 * do not bound waiting requests: this does (MS-SMB2 3.3.4.2 lets a
	 * server fail what would go async when resources are constrained). */
	if (sc->n_async >= SMB_MAX_ASYNC)
		return STATUS_INSUFFICIENT_RESOURCES;
	sc->n_async++;
	chain_uncharge(ch); /* bounded by SMB_MAX_ASYNC instead */
	req->is_async = true;
	req->async_id = ++sc->next_async_id;
	req->async_next = sc->async_list;
	req->async_prev = NULL;
	if (sc->async_list)
		sc->async_list->async_prev = req;
	sc->async_list = req;
	/* Interim response: STATUS_PENDING, the credits of the request, and an
	 * empty error body (MS-SMB2 3.3.4.2). */
	uint8_t *buf = malloc(SMB2_HDR_SIZE + 9);
	if (!buf)
		return STATUS_SUCCESS; /* the final answer still comes */
	uint8_t *save_buf = req->out_buf;
	size_t save_cap = req->out_cap;
	struct wr save_out = req->out;
	NTSTATUS save_status = req->status;
	req->out_buf = buf;
	req->status = STATUS_PENDING;
	req_response_header(req, STATUS_PENDING, credits_grant(sc, req->hdr.credits));
	struct wr w = wr_init(buf + SMB2_HDR_SIZE, 9);
	smb2_error_encode(&w, NULL, 0);
	req->out = wr_init(buf, SMB2_HDR_SIZE + 9);
	req->out.p = buf + SMB2_HDR_SIZE + 9;
	int saved_n = req->n_data;
	req->n_data = 0;
	req_sign(req);
	req->n_data = saved_n;
	req->out_buf = save_buf;
	req->out_cap = save_cap;
	req->out = save_out;
	req->status = save_status;
	bool seal_it = (req->encrypted || ch->seal_with) && req->session && req->session->cipher;
	struct session *seal_with = seal_it ? (ch->seal_with ? ch->seal_with : req->session) : NULL;
	/* The elements before this one are complete: they go out now, with the
	 * interim response last (smb2.compound.interim1/3). */
	chain_send_range(ch, ch->sent_upto, idx, seal_with, buf, SMB2_HDR_SIZE + 9, NULL, NULL);
	ch->sent_upto = idx;
	return STATUS_SUCCESS;
}

static void async_unlink(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	if (!req->is_async)
		return;
	if (req->async_prev || sc->async_list == req || req->async_next)
		sc->n_async--;
	if (req->async_prev)
		req->async_prev->async_next = req->async_next;
	else if (sc->async_list == req)
		sc->async_list = req->async_next;
	if (req->async_next)
		req->async_next->async_prev = req->async_prev;
	req->async_next = req->async_prev = NULL;
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

/* MS-SMB2 3.3.5.16: cancel the request with this MessageId (sync) or
 * AsyncId (async) from the same connection. */
static void smb_cancel(struct smb_conn *sc, const struct smb2_hdr *h)
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

/* ---- the chain ---- */

/* The chain's credits no longer count as in flight (sent, or waiting
 * asynchronously): the connection may take further PDUs. */
static void chain_uncharge(struct smb2_chain *ch)
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

/* MS-SMB2 3.3.5.2.4: a signed request must verify; a session that requires
 * signing rejects unsigned requests.  Encrypted requests need neither. */
static NTSTATUS req_check_signature(struct smb2_req *req)
{
	struct session *s = req->session;
	if (req->encrypted) {
		return STATUS_SUCCESS;
	}
	if (s->encrypt_data && s->state == SESSION_VALID && req->hdr.command != SMB2_SESSION_SETUP)
		return STATUS_ACCESS_DENIED;
	if (req->hdr.flags & SMB2_FLAGS_SIGNED) {
		int alg = req->sc->dialect >= SMB2_DIALECT_300 ? req->sc->signing_alg : s->signing_alg;
		uint8_t key[16];
		pthread_mutex_lock(&s->lock);
		struct session_channel *ch = session_channel_find(s, req->conn);
		memcpy(key, ch ? ch->signing_key : s->signing_key, 16);
		bool keyless = !ch || s->anonymous || s->guest || s->state == SESSION_IN_PROGRESS;
		pthread_mutex_unlock(&s->lock);
		if (keyless || !verify_msg(alg, key, (uint8_t *)req->in_msg, req->in_len))
			return STATUS_ACCESS_DENIED;
		req->signed_ok = true;
		return STATUS_SUCCESS;
	}
	if (s->signing_required && s->state == SESSION_VALID && !s->anonymous && !s->guest &&
	    req->hdr.command != SMB2_SESSION_SETUP)
		return STATUS_ACCESS_DENIED;
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
	if (d->need_session) {
		NTSTATUS st = req_check_session(req, d);
		if (st)
			return st;
		st = req_check_signature(req);
		if (st)
			return st;
	}
	if (d->need_tree) {
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
	req->open = o;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	return STATUS_SUCCESS;
}

/* Look up the open, run the handler, drop the open. */
static NTSTATUS req_call(struct smb2_req *req, const struct smb2_cmd_desc *d)
{
	NTSTATUS st = req_lookup_open(req, d);
	if (st == STATUS_SUCCESS)
		st = d->fn(req);
	if (req->open)
		open_put(req->open);
	req->open = NULL;
	return st;
}

static void chain_run(void *arg)
{
	struct smb2_chain *ch = arg;
	struct smb_conn *sc = ch->sc;
	for (unsigned i = 0; i < ch->n; i++) {
		struct smb2_req *req = &ch->reqs[i];
		struct smb2_req *prev = i ? &ch->reqs[i - 1] : NULL;
		req->co = coro_self();
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		NTSTATUS st = STATUS_NO_MEMORY;
		if (req_out_reserve(req, 256) == 0) {
			req->out.p = req->out_buf + SMB2_HDR_SIZE;
			if (req->hdr.command >= SMB2_N_COMMANDS || !smb2_cmds[req->hdr.command].fn) {
				st = STATUS_INVALID_PARAMETER; /* unknown command, as Windows */
			} else {
				st = req_prepare(req, prev);
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
			}
		}
		req->status = st;
		async_unlink(req);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		metrics_request(req->hdr.command, st, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
		if (req->hdr.command == SMB2_READ) {
			metrics_add(&metrics.bytes_read, req->file_len);
			for (int d = 0; d < req->n_data; d++)
				metrics_add(&metrics.bytes_read, req->data[d].iov_len);
		}
		if (req->hdr.command == SMB2_WRITE && st == STATUS_SUCCESS && req->in_len >= SMB2_HDR_SIZE + 8)
			metrics_add(&metrics.bytes_written, get_le32(req->in_msg + SMB2_HDR_SIZE + 4));
		if (!req->out_buf)
			continue;
		/* An error without a body gets the error response body (2.2.2). */
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
		uint16_t credits = req->is_async ? 0 : credits_grant(sc, req->hdr.credits);
		req_response_header(req, st, credits);
		/* Compound responses are 8-byte aligned, the padding after any
		 * data (smb2.compound.compound-padding); NextCommand links them. */
		if (ch->n > 1) {
			/* every element of a compound response is padded, the last
			 * one too, as Windows does */
			size_t pad = (8 - req_out_len(req) % 8) % 8;
			if (pad && req->n_data)
				req_add_data(req, memset(chain_pad(ch, i), 0, pad), pad);
			else if (pad)
				wr_zero(&req->out, pad);
			if (i + 1 < ch->n)
				put_le32(req->out_buf + 20, (uint32_t)req_out_len(req));
		}
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
	/* An encrypted request on a session that has just gone (LOGOFF):
	 * still answer sealed, with a reference held until it is sealed. */
	struct session *seal_ref = NULL;
	if (ch->encrypted && !ch->seal_with)
		ch->seal_with = seal_ref = session_lookup(ch->tf_session_id);
	struct session *seal_with = ch->seal_with;
	unsigned from = ch->sent_upto; /* an async element sent those before it */
	if (conn_is_dead(ch->conn)) {
		for (unsigned i = from; i < ch->n; i++)
			req_release(&ch->reqs[i]);
		ch->sent += ch->n - from;
		if (ch->sent == ch->n)
			chain_free(ch);
		goto out;
	}
	/* Elements that get no response (CANCEL) split the message.  After the
	 * last send the chain may be gone: it is not touched again. */
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
out:
	if (seal_ref)
		session_put(seal_ref);
}

/* ---- entry from the net layer ---- */

static int decrypt_pdu(struct smb_conn *sc, uint8_t *pdu, size_t len, uint64_t *sid);

bool smb_conn_busy(struct conn *c)
{
	struct smb_conn *sc = c->proto;
	return sc && sc->inflight >= (c->recv_paused ? SMB_INFLIGHT_LOW : SMB_INFLIGHT_HIGH);
}

static void smb_protocol_error(struct smb_conn *sc, const char *why)
{
	conn_shutdown(sc->conn, why);
}

struct decrypt_job {
	struct session *s;
	const uint8_t *nonce, *aad;
	const struct iovec *iov;
	const uint8_t *tag;
};

static long decrypt_job_run(void *arg)
{
	struct decrypt_job *j = arg;
	return crypto_decrypt((enum crypto_cipher)j->s->cipher, j->s->dec_key, j->nonce, j->aad, j->iov, 1, j->tag);
}

static void smb_pdu_plain(struct smb_conn *sc, uint8_t *pdu, size_t len, size_t off, bool encrypted, uint64_t tf_sid);

/* A large encrypted PDU is decrypted on the pool, in a coroutine that
 * then runs the request chain itself. */
/* A sealed PDU waiting for decryption counts as in flight too (one credit
 * per 64 KiB, as its requests will). */
static unsigned decrypt_charge(size_t len)
{
	return (unsigned)(len / 65536 + 1);
}

struct decrypt_co {
	struct smb_conn *sc;
	uint8_t *pdu;
	size_t len;
};

static void decrypt_co_run(void *arg)
{
	struct decrypt_co d = *(struct decrypt_co *)arg;
	free(arg);
	uint64_t sid = 0;
	int ret = decrypt_pdu(d.sc, d.pdu, d.len, &sid);
	/* decrypted: its chain charges itself from here on */
	d.sc->inflight -= decrypt_charge(d.len);
	if (d.sc->inflight <= SMB_INFLIGHT_LOW)
		conn_resume(d.sc->conn);
	if (ret < 0) {
		bufpool_put(d.pdu);
		conn_shutdown(d.sc->conn, "decryption failed");
	} else {
		smb_pdu_plain(d.sc, d.pdu, d.len, SMB2_TF_HDR_SIZE, true, sid);
	}
	d.sc->running--;
	conn_put(d.sc->conn);
}

static int decrypt_pdu(struct smb_conn *sc, uint8_t *pdu, size_t len, uint64_t *sid)
{
	struct rd r = rd_init(pdu, len);
	struct smb2_tf_hdr t;
	if (smb2_tf_hdr_decode(&r, &t) < 0 || t.orig_size != len - SMB2_TF_HDR_SIZE || t.orig_size < SMB2_HDR_SIZE)
		return -EINVAL;
	if (sc->dialect < SMB2_DIALECT_300 || t.flags != 1)
		return -EINVAL;
	struct session *s = session_lookup(t.session_id);
	if (!s)
		return -ENOENT;
	int ret = -EINVAL;
	if (s->cipher && s->state != SESSION_IN_PROGRESS) {
		struct iovec iov = { pdu + SMB2_TF_HDR_SIZE, t.orig_size };
		struct decrypt_job j = { s, t.nonce, pdu + 20, &iov, t.signature };
		ret = (int)offload(decrypt_job_run, &j, t.orig_size);
	}
	session_put(s);
	*sid = t.session_id;
	return ret;
}

void smb_pdu(struct conn *c, uint8_t *pdu, size_t len)
{
	struct smb_conn *sc = c->proto;
	if (len < 4) {
		bufpool_put(pdu);
		smb_protocol_error(sc, "short PDU");
		return;
	}
	/* "deadtime": an authenticated connection idle this long is closed. */
	if (sc->conf->deadtime > 0 && !c->deadline_negotiate)
		conn_set_deadline(c, c->w->now_ms + (uint64_t)sc->conf->deadtime * 60000);
	uint32_t proto = get_le32(pdu);
	size_t off = 0;
	bool encrypted = false;
	uint64_t tf_sid = 0;
	if (proto == SMB1_PROTOCOL_ID) {
		smb1_negotiate(sc, pdu, len);
		bufpool_put(pdu);
		return;
	}
	if (proto == SMB2_TF_PROTOCOL_ID && len >= CRYPTO_OFFLOAD) {
		struct decrypt_co *d = malloc(sizeof(*d));
		struct coro *co = d ? coro_new(decrypt_co_run, d) : NULL;
		if (!co) {
			free(d);
			bufpool_put(pdu);
			smb_protocol_error(sc, "out of memory");
			return;
		}
		d->sc = sc;
		d->pdu = pdu;
		d->len = len;
		sc->running++;
		sc->inflight += decrypt_charge(len);
		conn_get(c);
		coro_resume(co);
		return;
	}
	if (proto == SMB2_TF_PROTOCOL_ID) {
		/* MS-SMB2 3.3.5.2.1.1: a message that does not decrypt ends the
		 * connection. */
		if (decrypt_pdu(sc, pdu, len, &tf_sid) < 0) {
			bufpool_put(pdu);
			smb_protocol_error(sc, "decryption failed");
			return;
		}
		off = SMB2_TF_HDR_SIZE;
		encrypted = true;
	} else if (proto != SMB2_PROTOCOL_ID) {
		bufpool_put(pdu);
		smb_protocol_error(sc, "not SMB2");
		return;
	}
	smb_pdu_plain(sc, pdu, len, off, encrypted, tf_sid);
}

/* A plain SMB2 message (decrypted if it came sealed): split the compound,
 * check every element's framing and credits, run the chain. */
static void smb_pdu_plain(struct smb_conn *sc, uint8_t *pdu, size_t len, size_t off, bool encrypted, uint64_t tf_sid)
{
	struct conn *c = sc->conn;
	struct smb2_elem el[CHAIN_MAX];
	int ne = smb2_compound_split(pdu + off, len - off, el, CHAIN_MAX);
	if (ne <= 0)
		goto broken;
	unsigned n = (unsigned)ne;
	struct smb2_hdr hdrs[CHAIN_MAX];
	size_t starts[CHAIN_MAX], lens[CHAIN_MAX];
	for (unsigned i = 0; i < n; i++) {
		hdrs[i] = el[i].hdr;
		starts[i] = off + el[i].off;
		lens[i] = el[i].len;
	}
	/* CANCEL is answered by nobody and consumes no credit (3.3.5.16). */
	if (hdrs[0].command == SMB2_CANCEL && n == 1) {
		smb_cancel(sc, &hdrs[0]);
		bufpool_put(pdu);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t charge = hdrs[i].credit_charge;
		if (!smb_multi_credit(sc))
			charge = 1;
		if (hdrs[i].command == SMB2_CANCEL)
			continue;
		if (hdrs[i].flags & SMB2_FLAGS_SERVER_TO_REDIR)
			goto broken;
		if (credits_consume(sc, hdrs[i].message_id, charge) < 0) {
			log_info("message id %llu outside the credit window",
				 (unsigned long long)hdrs[i].message_id);
			goto broken;
		}
	}
	struct smb2_chain *ch = calloc(1, sizeof(*ch) + n * (sizeof(struct smb2_req) + CHAIN_PAD));
	if (!ch)
		goto broken;
	ch->sc = sc;
	ch->conn = c;
	conn_get(c);
	ch->pdu = pdu;
	ch->msg = pdu + off;
	ch->msg_len = len - off;
	ch->encrypted = encrypted;
	ch->tf_session_id = tf_sid;
	ch->n = n;
	for (unsigned i = 0; i < n; i++)
		ch->charge += smb_multi_credit(sc) && hdrs[i].credit_charge ? hdrs[i].credit_charge : 1;
	sc->inflight += ch->charge;
	for (unsigned i = 0; i < n; i++) {
		struct smb2_req *req = &ch->reqs[i];
		req->sc = sc;
		req->conn = c;
		req->chain = ch;
		req->hdr = hdrs[i];
		req->in_msg = pdu + starts[i];
		req->in_len = lens[i];
		req->in = rd_init(req->in_msg, lens[i]);
		req->in.p += SMB2_HDR_SIZE;
		req->encrypted = encrypted;
		req->file_fd = -1;
	}
	sc->running++;
	sc->requests++;
	if (coro_self()) {
		chain_run(ch); /* already on a coroutine (after a pool decryption) */
		return;
	}
	struct coro *co = coro_new(chain_run, ch);
	if (!co) {
		sc->running--;
		sc->inflight -= ch->charge;
		ch->pdu = NULL;
		free(ch);
		conn_put(c);
		goto broken;
	}
	coro_resume(co);
	return;
broken:
	bufpool_put(pdu);
	smb_protocol_error(sc, "malformed SMB2 message");
}
