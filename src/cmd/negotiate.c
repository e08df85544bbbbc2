/* NEGOTIATE ([MS-SMB2] 3.3.5.3 SMB1 upgrade, 3.3.5.4 SMB2). */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "cmd/cmd.h"
#include "crypto/crypto.h"
#include "proto/pipeline.h"
#include "proto/srv.h"
#include "util/log.h"
#include "util/nttime.h"
#include "wire/negotiate.h"

#define MAX_IO_202 65536u

bool negotiate_dialect_enabled(const struct conf *cf, uint16_t d)
{
	switch (d) {
	case SMB2_DIALECT_202: case SMB2_DIALECT_210: case SMB2_DIALECT_300:
	case SMB2_DIALECT_302: case SMB2_DIALECT_311:
		return d >= cf->min_protocol && d <= cf->max_protocol;
	default:
		return false;
	}
}

static void fill_common(struct smb_conn *sc, struct neg_resp *p, uint16_t dialect)
{
	const struct conf *cf = sc->conf;
	memset(p, 0, sizeof(*p));
	p->dialect = dialect;
	p->security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED;
	if (cf->server_signing == CONF_MANDATORY)
		p->security_mode |= SMB2_NEGOTIATE_SIGNING_REQUIRED;
	memcpy(p->server_guid, srv.server_guid, 16);
	uint32_t io = dialect == SMB2_DIALECT_202 ? MAX_IO_202 : cf->max_io_size;
	p->max_transact = p->max_read = p->max_write = io;
	p->system_time = nttime_now();
	p->start_time = 0; /* MS-SMB2 2.2.4: SHOULD be zero */
}

/* MS-SMB2 3.3.5.3.1: an SMB1 NEGOTIATE offering "SMB 2.???" gets an SMB2
 * NEGOTIATE response with DialectRevision 0x02FF; the client then sends an
 * SMB2 NEGOTIATE.  Offering only "SMB 2.002" selects 2.0.2 directly. */
void cmd_smb1_negotiate(struct smb_conn *sc, const uint8_t *pdu, size_t len)
{
	int offer = smb1_negotiate_smb2_offer(pdu, len);
	if (sc->negotiated || sc->smb1_upgraded || offer <= 0) {
		smb_disconnect(sc, offer <= 0 ? "SMB1 without an SMB2 dialect" : "second negotiate");
		return;
	}
	uint16_t dialect = SMB2_DIALECT_WILDCARD;
	if (offer == 1 || sc->conf->max_protocol < SMB2_DIALECT_210) {
		if (!negotiate_dialect_enabled(sc->conf, SMB2_DIALECT_202)) {
			smb_disconnect(sc, "no common dialect");
			return;
		}
		dialect = SMB2_DIALECT_202;
	}
	sc->smb1_upgraded = true;
	struct neg_resp p;
	fill_common(sc, &p, dialect);
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	auth_negotiate_token(&tok, &tok_len);
	p.sec_buf = tok;
	p.sec_len = (uint16_t)tok_len;
	size_t cap = SMB2_HDR_SIZE + 128 + tok_len;
	uint8_t *buf = calloc(1, cap);
	if (!buf) {
		free(tok);
		smb_disconnect(sc, "out of memory");
		return;
	}
	struct smb2_hdr h = { 0 };
	h.command = SMB2_NEGOTIATE;
	h.credits = 1;
	h.flags = SMB2_FLAGS_SERVER_TO_REDIR;
	struct wr w = wr_init(buf, cap);
	smb2_hdr_encode(&w, &h);
	neg_resp_encode(&w, &p);
	free(tok);
	if (dialect == SMB2_DIALECT_202) {
		sc->negotiated = true;
		sc->dialect = dialect;
		sc->signing_alg = CRYPTO_SIGN_HMAC_SHA256;
	}
	/* The SMB1 request consumed MessageId 0 and the response granted one
	 * credit: the client's SMB2 NEGOTIATE comes with MessageId 1. */
	sc->seq_low = 1;
	sc->seq_high = 2;
	smb_send_standalone(sc, buf, wr_pos(&w), NULL, NULL, NULL);
}

static uint16_t pick_cipher(const struct neg_req *q)
{
	/* The client's order of preference decides (MS-SMB2 3.3.5.4). */
	for (unsigned i = 0; i < q->n_ciphers; i++)
		if (q->ciphers[i] >= CRYPTO_AES_128_CCM && q->ciphers[i] <= CRYPTO_AES_256_GCM)
			return q->ciphers[i];
	return 0;
}

static int pick_signing(const struct neg_req *q)
{
	for (unsigned i = 0; i < q->n_sign_algs; i++)
		if (q->sign_algs[i] <= CRYPTO_SIGN_AES_GMAC)
			return q->sign_algs[i];
	return CRYPTO_SIGN_AES_CMAC;
}

/* The highest dialect both sides offer, or 0. */
static uint16_t pick_dialect(const struct conf *cf, const struct neg_req *q)
{
	uint16_t dialect = 0;
	for (unsigned i = 0; i < q->n_dialects; i++)
		if (negotiate_dialect_enabled(cf, q->dialects[i]) && q->dialects[i] > dialect)
			dialect = q->dialects[i];
	return dialect;
}

/* The 3.1.1 negotiate contexts: preauth integrity, cipher and signing
 * algorithm; the preauth hash starts with this request. */
static NTSTATUS negotiate_contexts_311(struct smb2_req *req, const struct neg_req *q,
				       struct neg_resp *p)
{
	struct smb_conn *sc = req->sc;
	/* 3.3.5.4: exactly one preauth context naming SHA-512; at most one
	 * encryption and one signing context, none of them empty. */
	if (q->n_preauth_ctx != 1 || q->n_encrypt_ctx > 1 || q->n_signing_ctx > 1 ||
	    q->n_compress_ctx > 1 || q->bad_context)
		return STATUS_INVALID_PARAMETER;
	bool sha512 = false;
	for (unsigned i = 0; i < q->n_hash_algs; i++)
		sha512 |= q->hash_algs[i] == SMB2_PREAUTH_SHA512;
	if (!sha512)
		return STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP;
	p->ctx_preauth = true;
	crypto_random(p->salt, sizeof(p->salt));
	if (q->n_encrypt_ctx) {
		p->ctx_encrypt = true;
		p->cipher = pick_cipher(q);
		sc->cipher = p->cipher;
	}
	if (q->n_signing_ctx) {
		p->ctx_signing = true;
		p->sign_alg = (uint16_t)pick_signing(q);
		sc->signing_alg = p->sign_alg;
	}
	sc->preauth_alg = SMB2_PREAUTH_SHA512;
	memset(sc->preauth, 0, sizeof(sc->preauth));
	smb_preauth_update(sc->preauth, req->in_msg, req->in_len);
	req->preauth_hash = sc->preauth;
	return STATUS_SUCCESS;
}

/* Capabilities (2.2.4): what we implement, for this dialect. */
static uint32_t server_capabilities(const struct smb_conn *sc, uint16_t dialect)
{
	uint32_t caps = 0;
	if (dialect >= SMB2_DIALECT_210)
		caps |= SMB2_GLOBAL_CAP_LARGE_MTU;
	if (dialect >= SMB2_DIALECT_210 && sc->conf->smb2_leases)
		caps |= SMB2_GLOBAL_CAP_LEASING; /* "smb2 leases" */
	if (dialect >= SMB2_DIALECT_300) {
		if (sc->conf->smb2_leases && sc->conf->dir_leases)
			caps |= SMB2_GLOBAL_CAP_DIRECTORY_LEASING; /* "smb3 directory leases" */
		if (sc->conf->multi_channel)
			caps |= SMB2_GLOBAL_CAP_MULTI_CHANNEL;
		if (dialect < SMB2_DIALECT_311 && sc->cipher)
			caps |= SMB2_GLOBAL_CAP_ENCRYPTION;
	}
	return caps;
}

/* What the connection keeps of the negotiation; 3.x clients with a
 * ClientGUID share one client object across their channels (looked up and
 * attached under the table lock). */
static void record_negotiation(struct smb2_req *req, const struct neg_req *q,
			       const struct neg_resp *p)
{
	struct smb_conn *sc = req->sc;
	sc->server_caps = p->capabilities;
	sc->server_sec_mode = p->security_mode;
	sc->signing_required = sc->conf->server_signing == CONF_MANDATORY;
	sc->dialect = p->dialect;
	sc->client_caps = q->capabilities;
	sc->client_sec_mode = q->security_mode;
	memcpy(sc->client_guid, q->client_guid, 16);
	sc->n_neg_dialects = q->n_dialects < 16 ? q->n_dialects : 16;
	memcpy(sc->neg_dialects, q->dialects, sc->n_neg_dialects * sizeof(uint16_t));
	sc->negotiated = true;
	if (p->dialect >= SMB2_DIALECT_210) {
		sc->client = client_get_or_create(q->client_guid, p->dialect, q->capabilities,
						  q->security_mode);
		if (sc->client)
			client_attach(sc->client, req->conn);
	}
}

/* The response body, with the SPNEGO token that offers NTLMSSP. */
static NTSTATUS negotiate_reply(struct smb2_req *req, struct neg_resp *p)
{
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	auth_negotiate_token(&tok, &tok_len);
	p->sec_buf = tok;
	p->sec_len = (uint16_t)tok_len;
	if (req_out_reserve(req, 256 + tok_len) < 0) {
		free(tok);
		return STATUS_NO_MEMORY;
	}
	neg_resp_encode(&req->out, p);
	free(tok);
	return STATUS_SUCCESS;
}

NTSTATUS cmd_negotiate(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	if (sc->negotiated) {
		/* MS-SMB2 3.3.5.4: a second NEGOTIATE ends the connection. */
		req_disconnect(req, "second NEGOTIATE");
		return STATUS_SUCCESS;
	}
	struct neg_req q;
	if (neg_req_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	uint16_t dialect = pick_dialect(sc->conf, &q);
	if (!dialect)
		return STATUS_NOT_SUPPORTED;
	struct neg_resp p;
	fill_common(sc, &p, dialect);
	sc->cipher = 0;
	sc->signing_alg = dialect >= SMB2_DIALECT_300 ? CRYPTO_SIGN_AES_CMAC : CRYPTO_SIGN_HMAC_SHA256;
	if (dialect == SMB2_DIALECT_311) {
		NTSTATUS st = negotiate_contexts_311(req, &q, &p);
		if (st != STATUS_SUCCESS)
			return st;
	} else if (dialect >= SMB2_DIALECT_300 && (q.capabilities & SMB2_GLOBAL_CAP_ENCRYPTION)) {
		sc->cipher = CRYPTO_AES_128_CCM;
	}
	p.capabilities = server_capabilities(sc, dialect);
	record_negotiation(req, &q, &p);
	NTSTATUS st = negotiate_reply(req, &p);
	if (st == STATUS_SUCCESS)
		log_debug("negotiated dialect %04x cipher %d signing %d", dialect, sc->cipher,
			  sc->signing_alg);
	return st;
}
