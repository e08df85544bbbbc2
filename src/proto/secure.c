/* Signing, verification, sealing and decryption of the pipeline's
 * messages (MS-SMB2 3.1.4.1, 3.1.4.3, 3.3.4.1.1, 3.3.5.2.1.1, 3.3.5.2.4),
 * with the key of the right channel.  The crypto itself is in src/crypto/
 * and proto/signing.c; jobs of CRYPTO_OFFLOAD bytes or more run on the
 * vfs pool while the worker goes on (proto/chain.h has the map). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "proto/chain.h"
#include "proto/signing.h"
#include "util/coro.h"
#include "vfs/vfs.h"

static long offload(long (*fn)(void *), void *arg, size_t size)
{
	if (size >= CRYPTO_OFFLOAD && coro_self())
		return vfs_call(NULL, fn, arg);
	return fn(arg);
}

/* ---- sealing ---- */

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

int smb_seal(struct session *s, struct iovec *iov, int n, uint8_t **tf_out)
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
	return 0;
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

int smb_decrypt_pdu(struct smb_conn *sc, uint8_t *pdu, size_t len, uint64_t *sid)
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

/* ---- signing and verification ---- */

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

void req_sign(struct smb2_req *req)
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

NTSTATUS req_check_signature(struct smb2_req *req)
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
