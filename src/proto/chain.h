/* The request pipeline's insides, shared by its files (proto/ only).
 *
 *   pipeline.c  from the net layer: a PDU is decrypted (or an SMB1
 *               NEGOTIATE answered), split into its compound elements,
 *               its credits consumed, and a chain started on a coroutine
 *   chain.c     runs the chain element after element: session, signature,
 *               tree, the open of the FileId, the handler; then finishes
 *               each response (error body, header, credits, padding, sign)
 *               and sends the chain
 *   reply.c     response memory, the one response-header builder, and the
 *               one send path (chains, interim responses, break
 *               notifications)
 *   secure.c    signing, verification, sealing and decryption; large jobs
 *               run on the vfs pool
 *   async.c     interim responses (req_go_async), CANCEL, waiting and waking
 *
 * Everything here runs on the connection's worker (in the chain's
 * coroutine or in a CQE callback), except req_wake, which any thread may
 * call. */
#ifndef SMB3D_PROTO_CHAIN_H
#define SMB3D_PROTO_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proto/pipeline.h"
#include "proto/smb.h"

#define CHAIN_MAX 64
/* Signing, sealing or decrypting this much or more runs on the thread
 * pool, so large encrypted or signed transfers use every core instead of
 * serializing all channels of a worker on one (the worker goes on with
 * other requests). */
#define CRYPTO_OFFLOAD (256 * 1024)

/* One received SMB2 message (possibly compound) and its responses.  Owned
 * by its coroutine while it runs, then by the sends of its responses: the
 * last one to complete frees it (chain_done_range). */
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

static inline uint8_t *chain_pad(struct smb2_chain *ch, unsigned i)
{
	return (uint8_t *)&ch->reqs[ch->n] + (size_t)i * CHAIN_PAD;
}

/* ---- chain.c ---- */

/* The coroutine body: run every element, then send the responses. */
void chain_run(void *arg);
/* The chain's credits no longer count as in flight (sent, or waiting
 * asynchronously): the connection may take further PDUs. */
void chain_uncharge(struct smb2_chain *ch);
/* Elements [from, to) are done with (sent or dropped): release them; the
 * chain is freed with its last element. */
void chain_done_range(struct smb2_chain *ch, unsigned from, unsigned to);

/* ---- reply.c ---- */

/* Drop what a request holds: its response memory, data, tree, session. */
void req_release(struct smb2_req *req);
/* Bytes of the response: header, body and data. */
size_t req_out_len(const struct smb2_req *req);
/* Write the response header into req->out_buf (MS-SMB2 2.2.1.2): normal,
 * interim and compound responses alike (CONVENTIONS rule 6). */
void req_response_header(struct smb2_req *req, NTSTATUS status, uint16_t credits);
/* Send elements [from, to) of a chain as one message, sealed with
 * `seal_with` when not NULL, followed by `extra` (an interim response,
 * owned from here on) when given.  done(done_arg, ...), when given, is
 * called once, as smb_sent_fn says. */
void chain_send_range(struct smb2_chain *ch, unsigned from, unsigned to, struct session *seal_with,
		      uint8_t *extra, size_t extra_len, smb_sent_fn done, void *done_arg);

/* ---- secure.c ---- */

/* MS-SMB2 3.3.5.2.4: a signed request must verify; a session that
 * requires signing rejects unsigned requests.  Encrypted requests need
 * neither.  STATUS_ACCESS_DENIED when the request fails. */
NTSTATUS req_check_signature(struct smb2_req *req);
/* Sign the response when MS-SMB2 3.3.4.1.1 says so (req->out_buf and the
 * data iovecs), with the key of this channel. */
void req_sign(struct smb2_req *req);
/* Seal iov[1..n) with the session's key (MS-SMB2 3.1.4.3): iov[0] becomes
 * the transform header, malloc'd in *tf_out.  0 or -errno. */
int smb_seal(struct session *s, struct iovec *iov, int n, uint8_t **tf_out);
/* Decrypt a TRANSFORM message in place (MS-SMB2 3.3.5.2.1.1); *sid is its
 * SessionId.  0, or -errno when it does not decrypt. */
int smb_decrypt_pdu(struct smb_conn *sc, uint8_t *pdu, size_t len, uint64_t *sid);

/* ---- async.c ---- */

/* The request no longer waits asynchronously: CANCEL cannot find it. */
void async_unlink(struct smb2_req *req);
/* MS-SMB2 3.3.5.16: cancel the request with this MessageId (sync) or
 * AsyncId (async) from the same connection. */
void smb_cancel(struct smb_conn *sc, const struct smb2_hdr *h);

#endif
