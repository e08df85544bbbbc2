/* The request pipeline (DESIGN.md src/proto/), from the net layer:
 *
 *   smb_pdu()            on the connection's worker, in arrival order:
 *     TRANSFORM?  -> decrypt with the session's key (failure: disconnect;
 *                    a large one on the pool, in a coroutine)
 *     SMB1?       -> the multi-protocol negotiate cmd_init() installed
 *     split the compound, consume credits for every element (a bad
 *     MessageId breaks the connection), handle a lone CANCEL at once
 *     start a coroutine for the chain (chain.c)
 *
 * proto/chain.h maps the rest: chain.c runs the elements, reply.c builds
 * and sends every response (it is the only code that sends to a client),
 * secure.c signs, verifies, seals and decrypts, async.c handles interim
 * responses, CANCEL and waiting. */
#include <stdlib.h>

#include "net/conn.h"
#include "proto/chain.h"
#include "proto/credits.h"
#include "util/bufpool.h"
#include "util/coro.h"
#include "util/log.h"

bool smb_conn_busy(struct conn *c)
{
	struct smb_conn *sc = c->proto;
	return sc && sc->inflight >= (c->recv_paused ? SMB_INFLIGHT_LOW : SMB_INFLIGHT_HIGH);
}

static void smb_protocol_error(struct smb_conn *sc, const char *why)
{
	conn_shutdown(sc->conn, why);
}

static void smb_pdu_plain(struct smb_conn *sc, uint8_t *pdu, size_t len, size_t off, bool encrypted, uint64_t tf_sid);

/* A sealed PDU waiting for decryption counts as in flight too (one credit
 * per 64 KiB, as its requests will). */
static unsigned decrypt_charge(size_t len)
{
	return (unsigned)(len / 65536 + 1);
}

/* A large encrypted PDU is decrypted on the pool, in a coroutine that
 * then runs the request chain itself. */
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
	int ret = smb_decrypt_pdu(d.sc, d.pdu, d.len, &sid);
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

static void decrypt_start(struct smb_conn *sc, uint8_t *pdu, size_t len)
{
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
	conn_get(sc->conn);
	coro_resume(co);
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
		decrypt_start(sc, pdu, len);
		return;
	}
	if (proto == SMB2_TF_PROTOCOL_ID) {
		/* MS-SMB2 3.3.5.2.1.1: a message that does not decrypt ends the
		 * connection. */
		if (smb_decrypt_pdu(sc, pdu, len, &tf_sid) < 0) {
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

/* Every element's MessageId range is consumed from the credit window
 * (MS-SMB2 3.3.5.2.3); CANCEL consumes none.  False: the connection
 * breaks. */
static bool chain_consume_credits(struct smb_conn *sc, const struct smb2_elem *el, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct smb2_hdr *h = &el[i].hdr;
		uint16_t charge = h->credit_charge;
		if (!smb_multi_credit(sc))
			charge = 1;
		if (h->command == SMB2_CANCEL)
			continue;
		if (h->flags & SMB2_FLAGS_SERVER_TO_REDIR)
			return false;
		if (credits_consume(sc, h->message_id, charge) < 0) {
			log_info("message id %llu outside the credit window", (unsigned long long)h->message_id);
			return false;
		}
	}
	return true;
}

/* A chain for the n elements of the message at pdu + off, which it owns
 * from here on, charged to the connection's requests in flight. */
static struct smb2_chain *chain_new(struct smb_conn *sc, uint8_t *pdu, size_t len, size_t off, bool encrypted,
				    uint64_t tf_sid, const struct smb2_elem *el, unsigned n)
{
	struct smb2_chain *ch = calloc(1, sizeof(*ch) + n * (sizeof(struct smb2_req) + CHAIN_PAD));
	if (!ch)
		return NULL;
	ch->sc = sc;
	ch->conn = sc->conn;
	conn_get(sc->conn);
	ch->pdu = pdu;
	ch->msg = pdu + off;
	ch->msg_len = len - off;
	ch->encrypted = encrypted;
	ch->tf_session_id = tf_sid;
	ch->n = n;
	for (unsigned i = 0; i < n; i++)
		ch->charge += smb_multi_credit(sc) && el[i].hdr.credit_charge ? el[i].hdr.credit_charge : 1;
	sc->inflight += ch->charge;
	for (unsigned i = 0; i < n; i++) {
		struct smb2_req *req = &ch->reqs[i];
		req->sc = sc;
		req->conn = sc->conn;
		req->chain = ch;
		req->hdr = el[i].hdr;
		req->in_msg = pdu + off + el[i].off;
		req->in_len = el[i].len;
		req->in = rd_init(req->in_msg, el[i].len);
		req->in.p += SMB2_HDR_SIZE;
		req->encrypted = encrypted;
		req->file_fd = -1;
	}
	return ch;
}

/* A plain SMB2 message (decrypted if it came sealed): split the compound,
 * check every element's framing and credits, run the chain. */
static void smb_pdu_plain(struct smb_conn *sc, uint8_t *pdu, size_t len, size_t off, bool encrypted, uint64_t tf_sid)
{
	struct smb2_elem el[CHAIN_MAX];
	int ne = smb2_compound_split(pdu + off, len - off, el, CHAIN_MAX);
	if (ne <= 0)
		goto broken;
	unsigned n = (unsigned)ne;
	/* CANCEL is answered by nobody and consumes no credit (3.3.5.16). */
	if (el[0].hdr.command == SMB2_CANCEL && n == 1) {
		smb_cancel(sc, &el[0].hdr);
		bufpool_put(pdu);
		return;
	}
	if (!chain_consume_credits(sc, el, n))
		goto broken;
	struct smb2_chain *ch = chain_new(sc, pdu, len, off, encrypted, tf_sid, el, n);
	if (!ch)
		goto broken;
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
		conn_put(sc->conn);
		goto broken;
	}
	coro_resume(co);
	return;
broken:
	bufpool_put(pdu);
	smb_protocol_error(sc, "malformed SMB2 message");
}
