/* smb3c: NEGOTIATE, SESSION_SETUP with NTLMv2 inside SPNEGO, key
 * derivation (MS-SMB2 3.2.5.3.1) and channel binding (3.2.4.2.3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/ntlmv2.h"
#include "crypto/crypto.h"
#include "smb3c.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "wire/negotiate.h"
#include "wire/ntlmssp.h"
#include "wire/spnego.h"

static const uint16_t all_dialects[] = { SMB2_DIALECT_210, SMB2_DIALECT_300, SMB2_DIALECT_302, SMB2_DIALECT_311 };

static void put_ctx(struct wr *w, uint16_t type, const uint8_t *data, uint16_t len)
{
	wr_align(w, 8);
	wr_le16(w, type);
	wr_le16(w, len);
	wr_le32(w, 0);
	wr_bytes(w, data, len);
}

/* The NEGOTIATE request: every dialect up to the session's maximum, and
 * for 3.1.1 the preauth, encryption and signing contexts. */
static int neg_encode(struct chan *ch, struct msg *m)
{
	struct session *s = ch->s;
	uint8_t *h = msg_smb(m);
	struct wr w = wr_init(h, m->cap);
	w.p += SMB2_HDR_SIZE;
	uint16_t dialects[4];
	unsigned nd = 0;
	for (unsigned i = 0; i < 4; i++)
		if (all_dialects[i] <= s->max_dialect)
			dialects[nd++] = all_dialects[i];
	wr_le16(&w, 36);
	wr_le16(&w, (uint16_t)nd);
	wr_le16(&w, s->want_sign ? SMB2_NEGOTIATE_SIGNING_REQUIRED : SMB2_NEGOTIATE_SIGNING_ENABLED);
	wr_le16(&w, 0);
	wr_le32(&w, SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_MULTI_CHANNEL | SMB2_GLOBAL_CAP_ENCRYPTION);
	wr_bytes(&w, s->client_guid, 16);
	uint8_t *ctx_off = w.p;
	wr_le32(&w, 0);
	uint8_t *ctx_cnt = w.p;
	wr_le16(&w, 0);
	wr_le16(&w, 0);
	for (unsigned i = 0; i < nd; i++)
		wr_le16(&w, dialects[i]);
	if (s->max_dialect >= SMB2_DIALECT_311) {
		wr_align(&w, 8);
		put_le32(ctx_off, (uint32_t)wr_pos(&w));
		put_le16(ctx_cnt, 3);
		uint8_t pre[38];
		put_le16(pre, 1);       /* HashAlgorithmCount */
		put_le16(pre + 2, 32);  /* SaltLength */
		put_le16(pre + 4, SMB2_PREAUTH_SHA512);
		crypto_random(pre + 6, 32);
		put_ctx(&w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pre, sizeof(pre));
		uint8_t enc[10];
		put_le16(enc, 4);
		put_le16(enc + 2, CRYPTO_AES_128_GCM);
		put_le16(enc + 4, CRYPTO_AES_128_CCM);
		put_le16(enc + 6, CRYPTO_AES_256_GCM);
		put_le16(enc + 8, CRYPTO_AES_256_CCM);
		put_ctx(&w, SMB2_ENCRYPTION_CAPABILITIES, enc, sizeof(enc));
		uint8_t sig[8];
		put_le16(sig, 3);
		put_le16(sig + 2, CRYPTO_SIGN_AES_GMAC);
		put_le16(sig + 4, CRYPTO_SIGN_AES_CMAC);
		put_le16(sig + 6, CRYPTO_SIGN_HMAC_SHA256);
		put_ctx(&w, SMB2_SIGNING_CAPABILITIES, sig, sizeof(sig));
	}
	if (!wr_ok(&w))
		return -ENOSPC;
	m->len = wr_pos(&w);
	return 0;
}

/* The cipher and signing algorithm of a 3.1.1 response's contexts. */
static void neg_contexts(struct chan *ch, const struct req *r, unsigned nctx, size_t off)
{
	for (unsigned i = 0; i < nctx; i++) {
		off = (off + 7) & ~(size_t)7;
		struct rd c = rd_init(r->msg, r->msg_len);
		rd_seek(&c, off);
		uint16_t type = rd_le16(&c), len = rd_le16(&c);
		rd_skip(&c, 4);
		const uint8_t *d = rd_ptr(&c, len);
		if (!rd_ok(&c) || !d)
			break;
		if (type == SMB2_ENCRYPTION_CAPABILITIES && len >= 4 && get_le16(d) == 1)
			ch->cipher = get_le16(d + 2);
		else if (type == SMB2_SIGNING_CAPABILITIES && len >= 4 && get_le16(d) == 1)
			ch->sign_alg = get_le16(d + 2);
		off += 8 + len;
	}
}

/* What the channel keeps of the NEGOTIATE response. */
static int neg_parse(struct chan *ch, const struct req *r)
{
	struct rd rd = rd_init(r->msg, r->msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE);
	uint16_t ssize = rd_le16(&rd);
	ch->server_sec_mode = rd_le16(&rd);
	ch->dialect = rd_le16(&rd);
	uint16_t nctx = rd_le16(&rd);
	rd_bytes(&rd, ch->server_guid, 16);
	ch->server_caps = rd_le32(&rd);
	ch->max_transact = rd_le32(&rd);
	ch->max_read = rd_le32(&rd);
	ch->max_write = rd_le32(&rd);
	rd_skip(&rd, 16);
	uint16_t sec_off = rd_le16(&rd), sec_len = rd_le16(&rd);
	uint32_t ctx_at = rd_le32(&rd);
	if (!rd_ok(&rd) || ssize != 65)
		return -EBADMSG;
	const uint8_t *sec = rd_range(&rd, sec_off, sec_len);
	if (sec && sec_len) {
		ch->neg_token = malloc(sec_len);
		if (ch->neg_token) {
			memcpy(ch->neg_token, sec, sec_len);
			ch->neg_token_len = sec_len;
		}
	}
	ch->cipher = 0;
	ch->sign_alg = ch->dialect >= SMB2_DIALECT_300 ? CRYPTO_SIGN_AES_CMAC : CRYPTO_SIGN_HMAC_SHA256;
	if (ch->dialect >= SMB2_DIALECT_300 && ch->dialect < SMB2_DIALECT_311 &&
	    (ch->server_caps & SMB2_GLOBAL_CAP_ENCRYPTION))
		ch->cipher = CRYPTO_AES_128_CCM;
	if (ch->dialect == SMB2_DIALECT_311) {
		preauth_update(ch->preauth, r->msg, r->msg_len);
		neg_contexts(ch, r, nctx, ctx_at);
	}
	return 0;
}

int sess_negotiate(struct chan *ch)
{
	struct msg m;
	int rc = msg_new(&m, NULL, SMB2_NEGOTIATE, 512, 0);
	if (rc)
		return rc;
	if ((rc = neg_encode(ch, &m))) {
		msg_free(&m);
		return rc;
	}
	memset(ch->preauth, 0, 64);
	struct req r = { .preauth = ch->s->max_dialect >= SMB2_DIALECT_311 ? ch->preauth : NULL };
	rc = chan_call(ch, &m, &r, false);
	if (rc)
		return rc;
	if (r.status != STATUS_SUCCESS) {
		fprintf(stderr, "smb3c: NEGOTIATE: %s\n", nt_errstr(r.status));
		req_release(&r);
		return -EPROTO;
	}
	rc = neg_parse(ch, &r);
	if (!rc)
		vlog("channel %d: dialect 0x%04x cipher %u signing %u max_read %u max_write %u caps 0x%x\n",
		     ch->index, ch->dialect, ch->cipher, ch->sign_alg, ch->max_read, ch->max_write,
		     ch->server_caps);
	req_release(&r);
	return rc;
}

/* ---- NTLMv2 client (MS-NLMP 3.1.5.1.2, 3.3.2) ---- */

struct ntlm_client {
	uint32_t flags;
	uint8_t *neg;
	size_t neg_len;
	uint8_t exported[16];
};

#define CLIENT_NTLM_FLAGS (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN | \
	NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN | \
	NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO | \
	NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56)

static int utf16_dup(const char *s, uint8_t **out, size_t *len)
{
	long n = utf8_utf16le_size(s, strlen(s));
	if (n < 0)
		return (int)n;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return -ENOMEM;
	long k = utf8_to_utf16le(s, strlen(s), *out, (size_t)n + 1);
	if (k < 0) {
		free(*out);
		return (int)k;
	}
	*len = (size_t)k;
	return 0;
}

/* The NTLMv2 response (MS-NLMP 3.3.2): NTProofStr then the
 * NTLMv2_CLIENT_CHALLENGE (2.2.2.7), into *nt_resp (*nt_len bytes), and the
 * session base key. */
static int ntlmv2_response(const uint8_t owf[16], const struct ntlmssp_challenge *ch, uint8_t **nt_resp,
			   size_t *nt_len, uint8_t base_key[16])
{
	uint64_t ts = nttime_now();
	const uint8_t *tsv;
	size_t tsl;
	if (ntlmssp_av_find(ch->target_info, ch->target_info_len, MSV_AV_TIMESTAMP, &tsv, &tsl) == 0 && tsl == 8)
		ts = get_le64(tsv);
	size_t tlen = 28 + ch->target_info_len + 4;
	uint8_t *temp = calloc(1, tlen);
	*nt_resp = malloc(16 + tlen);
	if (!temp || !*nt_resp) {
		free(temp);
		return -ENOMEM;
	}
	temp[0] = 1;
	temp[1] = 1;
	put_le64(temp + 8, ts);
	crypto_random(temp + 16, 8);
	memcpy(temp + 28, ch->target_info, ch->target_info_len);
	uint8_t proof[16];
	struct iovec iov[2] = { { (void *)ch->server_challenge, 8 }, { temp, tlen } };
	int rc = crypto_hmac_md5(owf, 16, iov, 2, proof);
	if (!rc) {
		memcpy(*nt_resp, proof, 16);
		memcpy(*nt_resp + 16, temp, tlen);
		*nt_len = 16 + tlen;
		struct iovec pv = { proof, 16 };
		rc = crypto_hmac_md5(owf, 16, &pv, 1, base_key);
	}
	free(temp);
	return rc;
}

static int ntlm_authenticate(struct session *s, struct ntlm_client *nc, const uint8_t *chal_buf, size_t chal_len,
			     uint8_t **out, size_t *out_len)
{
	struct ntlmssp_challenge ch;
	const char *why = NULL;
	if (ntlmssp_decode_challenge(chal_buf, chal_len, &ch, &why)) {
		fprintf(stderr, "smb3c: bad NTLMSSP CHALLENGE: %s\n", why ? why : "?");
		return -EBADMSG;
	}
	uint8_t *user16 = NULL, *dom16 = NULL, *pass16 = NULL, *ws16 = NULL, *nt_resp = NULL;
	size_t ul = 0, dl = 0, pl = 0, wl = 0, nt_len = 0;
	int rc = utf16_dup(s->user, &user16, &ul);
	if (!rc) rc = utf16_dup(s->domain, &dom16, &dl);
	if (!rc) rc = utf16_dup(s->pass, &pass16, &pl);
	if (!rc) rc = utf16_dup("SMB3C", &ws16, &wl);
	uint8_t nt_hash[16], owf[16], base_key[16];
	if (!rc)
		rc = crypto_md4(pass16, pl, nt_hash);
	if (!rc)
		rc = ntlmv2_owf(nt_hash, user16, ul, dom16, dl, owf);
	if (!rc)
		rc = ntlmv2_response(owf, &ch, &nt_resp, &nt_len, base_key);
	if (rc)
		goto out;
	uint32_t flags = ch.flags & (CLIENT_NTLM_FLAGS | NTLMSSP_NEGOTIATE_VERSION);
	uint8_t enc_key[16];
	if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		crypto_random(nc->exported, 16);
		memcpy(enc_key, nc->exported, 16);
		rc = crypto_rc4(base_key, 16, enc_key, 16);
		if (rc)
			goto out;
	} else {
		memcpy(nc->exported, base_key, 16);
	}
	uint8_t lm[24] = { 0 };
	struct ntlmssp_authenticate a = {
		.flags = flags,
		.lm_response = lm, .lm_response_len = 24,
		.nt_response = nt_resp, .nt_response_len = nt_len,
		.domain = dom16, .domain_len = dl,
		.user = user16, .user_len = ul,
		.workstation = ws16, .workstation_len = wl,
		.enc_session_key = enc_key,
		.enc_session_key_len = (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? 16 : 0,
	};
	rc = ntlmssp_encode_authenticate(&a, out, out_len);
out:
	free(user16);
	free(dom16);
	free(pass16);
	free(ws16);
	free(nt_resp);
	return rc;
}

/* One SESSION_SETUP round trip.  *rsp_token points into r->rsp. */
static int setup_leg(struct chan *ch, bool bind, const uint8_t *tok, size_t tok_len, uint8_t *preauth,
		     uint8_t *preauth2, struct req *r)
{
	struct session *s = ch->s;
	struct msg m;
	int rc = msg_new(&m, s, SMB2_SESSION_SETUP, 24 + tok_len, 0);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	put_le16(b, 25);
	b[2] = bind ? SMB2_SESSION_FLAG_BINDING : 0;
	b[3] = s->want_sign ? SMB2_NEGOTIATE_SIGNING_REQUIRED : SMB2_NEGOTIATE_SIGNING_ENABLED;
	put_le32(b + 4, 0);  /* Capabilities */
	put_le32(b + 8, 0);  /* Channel */
	put_le16(b + 12, SMB2_HDR_SIZE + 24);
	put_le16(b + 14, (uint16_t)tok_len);
	put_le64(b + 16, 0);
	memcpy(b + 24, tok, tok_len);
	memset(r, 0, sizeof(*r));
	r->preauth = ch->dialect == SMB2_DIALECT_311 ? preauth : NULL;
	r->preauth2 = ch->dialect == SMB2_DIALECT_311 ? preauth2 : NULL;
	/* MS-SMB2 3.2.4.2.3: binding requests are signed with the session key. */
	ch->binding = bind;
	rc = chan_call(ch, &m, r, bind);
	ch->binding = false;
	return rc;
}

static int sess_body(const struct req *r, uint16_t *flags, const uint8_t **tok, size_t *tok_len)
{
	struct rd rd = rd_init(r->msg, r->msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE);
	uint16_t ss = rd_le16(&rd);
	*flags = rd_le16(&rd);
	uint16_t off = rd_le16(&rd), len = rd_le16(&rd);
	if (!rd_ok(&rd) || ss != 9)
		return -EBADMSG;
	*tok = rd_range(&rd, off, len);
	*tok_len = *tok ? len : 0;
	return 0;
}

static void kdf16(const uint8_t key[16], const char *label, size_t llen, const void *ctx, size_t clen, uint8_t *out,
		  size_t olen)
{
	crypto_kdf(key, 16, label, llen, ctx, clen, out, olen);
}

static bool verify_with(struct session *s, const struct req *r, const uint8_t key[16])
{
	return msg_signature_ok(s->sign_alg, key, (uint8_t *)r->msg, r->msg_len);
}

/* The first leg: SPNEGO offering NTLMSSP with its NEGOTIATE message; the
 * challenge comes back in r.  preauth goes on over the response, and
 * alt_preauth over it unsigned (diagnosis only: the hash a server would
 * have if it hashed its first binding response before signing it, a
 * server bug seen once). */
static int setup_first_leg(struct chan *ch, bool bind, uint8_t preauth[64], uint8_t alt_preauth[64],
			   struct req *r)
{
	struct ntlmssp_negotiate nm = { .flags = CLIENT_NTLM_FLAGS };
	uint8_t *ntlm_neg = NULL, *tok = NULL;
	size_t ntlm_neg_len, tok_len;
	int rc = ntlmssp_encode_negotiate(&nm, &ntlm_neg, &ntlm_neg_len);
	if (rc)
		return rc;
	struct spnego_init init = { .n_mechs = 1, .mech_token = ntlm_neg, .mech_token_len = ntlm_neg_len };
	init.mechs[0] = spnego_oid_ntlmssp;
	rc = spnego_encode_init(&init, &tok, &tok_len);
	if (!rc)
		rc = setup_leg(ch, bind, tok, tok_len, preauth, NULL, r);
	free(ntlm_neg);
	free(tok);
	if (rc)
		return rc;
	if (r->status != STATUS_MORE_PROCESSING_REQUIRED) {
		fprintf(stderr, "smb3c: SESSION_SETUP%s (1): %s\n", bind ? " bind" : "", nt_errstr(r->status));
		return -EACCES;
	}
	memcpy(alt_preauth, preauth, 64);
	if (ch->dialect == SMB2_DIALECT_311) {
		preauth_update(preauth, r->msg, r->msg_len);
		uint8_t *copy = malloc(r->msg_len);
		if (copy) {
			memcpy(copy, r->msg, r->msg_len);
			put_le32(copy + 16, get_le32(copy + 16) & ~SMB2_FLAGS_SIGNED);
			memset(copy + 48, 0, 16);
			preauth_update(alt_preauth, copy, r->msg_len);
			free(copy);
		}
	}
	return 0;
}

/* The second leg: the NTLMSSP AUTHENTICATE answering the challenge of the
 * first leg's response r, which is released; the final response comes
 * back in r. */
static int setup_second_leg(struct chan *ch, bool bind, struct ntlm_client *nc, uint8_t preauth[64],
			    uint8_t alt_preauth[64], struct req *r)
{
	uint16_t sflags;
	const uint8_t *rt;
	size_t rt_len;
	struct spnego_token st;
	const char *why = NULL;
	if (sess_body(r, &sflags, &rt, &rt_len) || spnego_decode(rt, rt_len, &st, &why) ||
	    st.kind != SPNEGO_KIND_RESP || !st.resp.response_token) {
		fprintf(stderr, "smb3c: bad SPNEGO reply: %s\n", why ? why : "?");
		return -EBADMSG;
	}
	uint8_t *auth = NULL, *tok = NULL;
	size_t auth_len, tok_len;
	int rc = ntlm_authenticate(ch->s, nc, st.resp.response_token, st.resp.response_token_len, &auth,
				   &auth_len);
	req_release(r);
	if (rc)
		return rc;
	struct spnego_resp resp = { .neg_state = SPNEGO_STATE_ABSENT, .response_token = auth,
				    .response_token_len = auth_len };
	rc = spnego_encode_resp(&resp, &tok, &tok_len);
	if (!rc)
		rc = setup_leg(ch, bind, tok, tok_len, preauth, alt_preauth, r);
	free(auth);
	free(tok);
	if (rc)
		return rc;
	if (r->status != STATUS_SUCCESS) {
		fprintf(stderr, "smb3c: SESSION_SETUP%s (2): %s\n", bind ? " bind" : "", nt_errstr(r->status));
		return -EACCES;
	}
	return 0;
}

/* The final response of a new session: signed with the signing key, unless
 * the server does not sign a guest's or anonymous one; then whether the
 * session encrypts and signs. */
static int session_check_final(struct chan *ch, const struct req *r, uint16_t sflags)
{
	struct session *s = ch->s;
	if (r->hdr.flags & SMB2_FLAGS_SIGNED) {
		if (!verify_with(s, r, s->sign_key)) {
			fprintf(stderr, "smb3c: SESSION_SETUP response signature does not verify\n");
			return -EBADMSG;
		}
	} else if (s->want_sign && !(sflags & (SMB2_SESSION_FLAG_IS_GUEST | SMB2_SESSION_FLAG_IS_NULL))) {
		fprintf(stderr, "smb3c: final SESSION_SETUP response is not signed\n");
		return -EBADMSG;
	}
	if (sflags & SMB2_SESSION_FLAG_ENCRYPT_DATA)
		s->encrypt = true;
	if (s->want_encrypt) {
		if (!s->cipher) {
			fprintf(stderr, "smb3c: server offers no encryption\n");
			return -ENOTSUP;
		}
		s->encrypt = true;
	}
	s->signing = s->want_sign || (ch->server_sec_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
	crypto_random(s->nonce_salt, sizeof(s->nonce_salt));
	s->valid = true;
	return 0;
}

/* MS-SMB2 3.2.5.3.1: the keys of a new session (3.1.1 uses the preauth
 * hash as context), then the checks of its final response r. */
static int session_keys(struct chan *ch, const struct ntlm_client *nc, const uint8_t preauth[64],
			const struct req *r, uint16_t sflags)
{
	struct session *s = ch->s;
	s->dialect = ch->dialect;
	s->sign_alg = ch->sign_alg;
	s->cipher = ch->cipher;
	memcpy(s->session_key, nc->exported, 16);
	size_t kl = s->cipher ? crypto_cipher_keylen(s->cipher) : 16;
	if (ch->dialect == SMB2_DIALECT_311) {
		kdf16(s->session_key, "SMBSigningKey", 14, preauth, 64, s->sign_key, 16);
		kdf16(s->session_key, "SMBC2SCipherKey", 16, preauth, 64, s->enc_key, kl);
		kdf16(s->session_key, "SMBS2CCipherKey", 16, preauth, 64, s->dec_key, kl);
	} else if (s->dialect >= SMB2_DIALECT_300) {
		kdf16(s->session_key, "SMB2AESCMAC", 12, "SmbSign", 8, s->sign_key, 16);
		kdf16(s->session_key, "SMB2AESCCM", 11, "ServerIn ", 10, s->enc_key, 16);
		kdf16(s->session_key, "SMB2AESCCM", 11, "ServerOut", 10, s->dec_key, 16);
	} else {
		memcpy(s->sign_key, s->session_key, 16);
	}
	memcpy(ch->sign_key, s->sign_key, 16);
	ch->have_sign_key = true;
	return session_check_final(ch, r, sflags);
}

/* A bound channel's signing key.  Samba derives it from the session key of
 * the binding authentication; MS-SMB2 3.3.5.5.3 reads as
 * Session.SessionKey.  Both are tried against the server's signed final
 * response r, which tells which one the server uses. */
static int bind_key(struct chan *ch, const struct ntlm_client *nc, const uint8_t preauth[64],
		    const uint8_t alt_preauth[64], const struct req *r)
{
	struct session *s = ch->s;
	bool v311 = ch->dialect == SMB2_DIALECT_311, is_signed = r->hdr.flags & SMB2_FLAGS_SIGNED;
	uint8_t cand[2][16];
	const uint8_t *base[2] = { nc->exported, s->session_key };
	for (int i = 0; i < 2; i++) {
		if (v311)
			kdf16(base[i], "SMBSigningKey", 14, preauth, 64, cand[i], 16);
		else if (ch->dialect >= SMB2_DIALECT_300)
			kdf16(base[i], "SMB2AESCMAC", 12, "SmbSign", 8, cand[i], 16);
		else
			memcpy(cand[i], base[i], 16);
	}
	int which = -1;
	for (int i = 0; is_signed && i < 2 && which < 0; i++)
		if (verify_with(s, r, cand[i]))
			which = i;
	if (is_signed && which < 0 && verify_with(s, r, s->sign_key))
		which = 2;
	if (which < 0 && v311 && is_signed) {
		/* Tell a server bug from a client bug. */
		uint8_t k[16];
		kdf16(nc->exported, "SMBSigningKey", 14, alt_preauth, 64, k, 16);
		if (verify_with(s, r, k))
			fprintf(stderr, "smb3c: the server hashed its first binding response before "
					"signing it (MS-SMB2 3.3.5.5.3: the hash covers the response as sent)\n");
	}
	if (which < 0) {
		fprintf(stderr, "smb3c: binding response on channel %d is %s\n", ch->index,
			is_signed ? "signed with an unknown key" : "not signed");
		return -EBADMSG;
	}
	memcpy(ch->sign_key, which == 2 ? s->sign_key : cand[which], 16);
	ch->have_sign_key = true;
	vlog("channel %d bound (key from %s)\n", ch->index,
	     which == 0 ? "binding auth" : which == 1 ? "session key" : "session signing key");
	return 0;
}

int sess_setup(struct chan *ch, bool bind)
{
	struct session *s = ch->s;
	uint8_t preauth[64], alt_preauth[64];
	memcpy(preauth, ch->preauth, 64);
	struct ntlm_client nc = { 0 };
	struct req r = { 0 };
	if (!bind)
		s->id = 0;
	int rc = setup_first_leg(ch, bind, preauth, alt_preauth, &r);
	if (rc)
		goto out;
	if (!bind)
		s->id = r.hdr.session_id;
	rc = setup_second_leg(ch, bind, &nc, preauth, alt_preauth, &r);
	if (rc)
		goto out;
	uint16_t sflags = 0;
	const uint8_t *rt;
	size_t rt_len;
	sess_body(&r, &sflags, &rt, &rt_len);
	rc = bind ? bind_key(ch, &nc, preauth, alt_preauth, &r) : session_keys(ch, &nc, preauth, &r, sflags);
out:
	req_release(&r);
	return rc;
}
