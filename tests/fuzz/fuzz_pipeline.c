/* Fuzz the request pipeline and the command handlers in-process.
 *
 * Each input is one client of the smb3d of fakeconn.c: the harness
 * negotiates (the dialect, signing and cipher preferences come from the
 * input's first byte), logs on as the test user with NTLMv2, connects the
 * trees `share`, `IPC$` and `sealed` (smb encrypt = required), binds a second
 * connection to the session as a second channel when the mode asks
 * (see negotiate()), or, for mode & 7 == 7, logs a second connection on
 * as a session of its own (the same user and ClientGuid: where a durable
 * open is reconnected), then sends the input's records, one message each:
 *
 *   input   := mode:u8 record*
 *   record  := flags:u8 chan:1 len:15 message[len]     (chan|len big-endian)
 *
 * A record with REC_RAW and no message drops its connection (the client
 * shuts the socket down and waits until the server has let it go).
 *
 * A message is one SMB2 message, compound or not, as the fuzzer made it.
 * Unless REC_RAW is set the harness makes it reach the handlers: in every
 * element it sets the MessageId from the credit window, the SessionId
 * (unless REC_KEEP_SID or the element is related) and the TreeId of the
 * tree REC_TREE picks; a FileId whose persistent half is
 * 0xFFFFFFFFFFFFFFF0 + k becomes the k-th newest FileId a CREATE returned;
 * the elements are signed when the session signs (or REC_SIGN asks) and
 * the message is sealed when the tree or REC_SEAL asks.  After a record the
 * harness waits until the server is quiet (unless REC_NOWAIT), reads every
 * response, and acknowledges oplock and lease breaks (unless REC_NOACK).  At the end
 * it closes the connections and waits until the server has released them:
 * a connection that is never released aborts the run (a hang).
 *
 * tests/fuzz/gen_pipeline_corpus.py writes the seed corpus. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/ntlmv2.h"
#include "crypto/crypto.h"
#include "fakeconn.h"
#include "wire/cursor.h"
#include "wire/negotiate.h"
#include "wire/ntlmssp.h"
#include "wire/ntstatus.h"
#include "wire/smb2.h"

enum {
	REC_RAW = 0x01,      /* no fix-ups at all */
	REC_SIGN = 0x02,     /* sign even if the session does not require it */
	REC_SEAL = 0x04,     /* seal even if the tree does not require it */
	REC_TREE = 0x18,     /* tree: 0 share, 1 IPC$, 2 sealed, 3 none (TreeId 0) */
	REC_KEEP_SID = 0x20, /* keep the message's own SessionId */
	REC_NOWAIT = 0x40,   /* do not wait for the responses (pipelining) */
	REC_NOACK = 0x80,    /* leave oplock breaks unacknowledged */
};

#define FID_MARK 0xFFFFFFFFFFFFFFF0ull
#define N_FIDS 8
#define QUIET_MS 2000
#define RELEASE_MS 10000

/* FileIds from CREATE responses, shared by the channels of the session. */
struct fidring {
	uint8_t ids[N_FIDS][16];
	unsigned n;
};

/* One channel (connection) and what it knows of the session. */
struct cli {
	int fd;
	uint64_t sent;          /* bytes written, framing included */
	uint64_t mid;
	uint16_t dialect;
	int sign_alg, cipher;
	bool must_sign;
	uint8_t preauth[64];
	uint64_t sid;
	uint32_t tid[3];
	bool have_keys;
	uint8_t sign_key[16], enc_key[32], dec_key[32];
	uint64_t nonce;
	struct fidring *fr;
	uint64_t last_async;
	bool broken;
};

/* ---- framing ---- */

static void cli_send(struct cli *c, const uint8_t *msg, size_t len)
{
	uint8_t h[4] = { 0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = { { h, 4 }, { (void *)msg, len } };
	size_t left = 4 + len;
	int i = 0;
	while (left && !c->broken) {
		ssize_t n = writev(c->fd, iov + i, 2 - i);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->broken = true;
			break;
		}
		left -= (size_t)n;
		c->sent += (uint64_t)n;
		while (i < 2 && (size_t)n >= iov[i].iov_len)
			n -= (ssize_t)iov[i++].iov_len;
		if (i < 2) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	if (!len)
		c->sent -= 4;   /* a keep-alive: the server counts only PDUs */
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool read_exact(int fd, uint8_t *p, size_t n, int timeout_ms)
{
	int64_t end = ms_now() + timeout_ms;
	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int64_t left = end - ms_now();
		int pr = poll(&pf, 1, left > 0 ? (int)left : 0);
		if (pr < 0 && errno == EINTR && left > 0)
			continue;   /* libFuzzer's timer signals */
		if (pr <= 0)
			return false;
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* One frame, or NULL (closed, or nothing within timeout_ms). */
static uint8_t *cli_recv(struct cli *c, size_t *len, int timeout_ms)
{
	uint8_t h[4];
	if (c->broken || !read_exact(c->fd, h, 4, timeout_ms)) {
		if (timeout_ms > 0)
			c->broken = true;
		return NULL;
	}
	*len = ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
	uint8_t *b = malloc(*len ? *len : 1);
	if (!b || !read_exact(c->fd, b, *len, 5000)) {
		free(b);
		c->broken = true;
		return NULL;
	}
	return b;
}

/* ---- signing and sealing (MS-SMB2 3.1.4.1, 3.1.4.3) ---- */

static void sign_elem(struct cli *c, uint8_t *el, size_t len)
{
	put_le32(el + 16, get_le32(el + 16) | SMB2_FLAGS_SIGNED);
	memset(el + 48, 0, 16);
	struct iovec iov = { el, len };
	uint8_t sig[16];
	crypto_sign((enum crypto_sign_alg)c->sign_alg, c->sign_key, &iov, 1, sig);
	memcpy(el + 48, sig, 16);
}

/* msg -> transform header + ciphertext (malloc'd), or NULL. */
static uint8_t *seal(struct cli *c, const uint8_t *msg, size_t len, size_t *out_len)
{
	uint8_t *t = malloc(SMB2_TF_HDR_SIZE + len);
	if (!t)
		return NULL;
	memset(t, 0, SMB2_TF_HDR_SIZE);
	put_le32(t, SMB2_TF_PROTOCOL_ID);
	c->nonce++;
	put_le64(t + 20, c->nonce);
	put_le32(t + 36, (uint32_t)len);
	put_le16(t + 42, 1);
	put_le64(t + 44, c->sid);
	memcpy(t + SMB2_TF_HDR_SIZE, msg, len);
	struct iovec iov = { t + SMB2_TF_HDR_SIZE, len };
	crypto_encrypt((enum crypto_cipher)c->cipher, c->enc_key, t + 20, t + 20, &iov, 1, t + 4);
	*out_len = SMB2_TF_HDR_SIZE + len;
	return t;
}

/* A sealed response decrypted in place; false if it cannot be. */
static bool unseal(struct cli *c, uint8_t **msg, size_t *len)
{
	if (*len < SMB2_TF_HDR_SIZE + SMB2_HDR_SIZE || get_le32(*msg) != SMB2_TF_PROTOCOL_ID || !c->cipher ||
	    !c->have_keys)
		return false;
	uint8_t *t = *msg;
	size_t n = get_le32(t + 36);
	if (n != *len - SMB2_TF_HDR_SIZE)
		return false;
	struct iovec iov = { t + SMB2_TF_HDR_SIZE, n };
	if (crypto_decrypt((enum crypto_cipher)c->cipher, c->dec_key, t + 20, t + 20, &iov, 1, t + 4) < 0)
		return false;
	*msg = t + SMB2_TF_HDR_SIZE;
	*len = n;
	return true;
}

/* ---- requests of the harness itself ---- */

static void hdr(uint8_t *h, uint16_t cmd, uint64_t mid, uint64_t sid, uint32_t tid)
{
	memset(h, 0, SMB2_HDR_SIZE);
	put_le32(h, SMB2_PROTOCOL_ID);
	put_le16(h + 4, SMB2_HDR_SIZE);
	put_le16(h + 6, 1);      /* CreditCharge */
	put_le16(h + 12, cmd);
	put_le16(h + 14, 64);    /* CreditRequest */
	put_le64(h + 24, mid);
	put_le32(h + 36, tid);
	put_le64(h + 40, sid);
}

/* Send one harness request (signed when the session signs, sealed when
 * asked) and return the final response for it (interims skipped). */
static uint8_t *call(struct cli *c, uint8_t *msg, size_t len, bool sealit, size_t *rlen, uint8_t **frame)
{
	uint64_t mid = get_le64(msg + 24);
	c->mid++;
	/* Signed whenever there are keys: a 3.1.1 TREE_CONNECT must be. */
	if (c->have_keys && !sealit)
		sign_elem(c, msg, len);
	if (sealit) {
		size_t sl;
		uint8_t *s = seal(c, msg, len, &sl);
		if (s)
			cli_send(c, s, sl);
		free(s);
	} else {
		cli_send(c, msg, len);
	}
	for (;;) {
		uint8_t *f = cli_recv(c, rlen, 5000);
		if (!f)
			return NULL;
		uint8_t *m = f;
		unseal(c, &m, rlen);
		if (*rlen >= SMB2_HDR_SIZE && get_le64(m + 24) == mid && get_le32(m + 8) != STATUS_PENDING) {
			*frame = f;
			return m;
		}
		free(f);
	}
}

static void put_ctx(struct wr *w, uint16_t type, const uint8_t *data, uint16_t len)
{
	wr_align(w, 8);
	wr_le16(w, type);
	wr_le16(w, len);
	wr_le32(w, 0);
	wr_bytes(w, data, len);
}

static void neg_contexts(struct wr *w, uint8_t *ctx_off, uint8_t *ctx_cnt, uint8_t mode)
{
	static const uint16_t ciphers[4][4] = {
		{ CRYPTO_AES_128_GCM, CRYPTO_AES_128_CCM, CRYPTO_AES_256_GCM, CRYPTO_AES_256_CCM },
		{ CRYPTO_AES_128_CCM, CRYPTO_AES_128_GCM, 0, 0 },
		{ CRYPTO_AES_256_GCM, 0, 0, 0 },
		{ CRYPTO_AES_256_CCM, CRYPTO_AES_128_GCM, 0, 0 },
	};
	static const uint16_t sigs[4][3] = {
		{ CRYPTO_SIGN_AES_GMAC, CRYPTO_SIGN_AES_CMAC, CRYPTO_SIGN_HMAC_SHA256 },
		{ CRYPTO_SIGN_AES_CMAC, 0, 0 },
		{ CRYPTO_SIGN_HMAC_SHA256, 0, 0 },
		{ CRYPTO_SIGN_AES_GMAC, 0, 0 },
	};
	wr_align(w, 8);
	put_le32(ctx_off, (uint32_t)wr_pos(w));
	put_le16(ctx_cnt, 3);
	uint8_t pre[38] = { 1, 0, 32, 0, SMB2_PREAUTH_SHA512, 0 };
	memset(pre + 6, 0x5A, 32);
	put_ctx(w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pre, sizeof(pre));
	const uint16_t *cl = ciphers[(mode >> 4) & 3];
	uint8_t enc[10];
	unsigned n = 0;
	for (unsigned i = 0; i < 4 && cl[i]; i++)
		put_le16(enc + 2 + 2 * n++, cl[i]);
	put_le16(enc, (uint16_t)n);
	put_ctx(w, SMB2_ENCRYPTION_CAPABILITIES, enc, (uint16_t)(2 + 2 * n));
	const uint16_t *sl = sigs[(mode >> 6) & 3];
	uint8_t sig[8];
	n = 0;
	for (unsigned i = 0; i < 3 && (sl[i] || i == 0); i++)
		put_le16(sig + 2 + 2 * n++, sl[i]);
	put_le16(sig, (uint16_t)n);
	put_ctx(w, SMB2_SIGNING_CAPABILITIES, sig, (uint16_t)(2 + 2 * n));
}

static void parse_neg_contexts(struct cli *c, const uint8_t *m, size_t len, unsigned nctx, size_t off)
{
	for (unsigned i = 0; i < nctx; i++) {
		off = (off + 7) & ~(size_t)7;
		if (off + 8 > len)
			return;
		uint16_t type = get_le16(m + off), dl = get_le16(m + off + 2);
		if (off + 8 + dl > len)
			return;
		const uint8_t *d = m + off + 8;
		if (type == SMB2_ENCRYPTION_CAPABILITIES && dl >= 4 && get_le16(d) == 1)
			c->cipher = get_le16(d + 2);
		else if (type == SMB2_SIGNING_CAPABILITIES && dl >= 4 && get_le16(d) == 1)
			c->sign_alg = get_le16(d + 2);
		off += 8 + dl;
	}
}

/* mode bits 0-2: highest dialect (0-3: 2.0.2 to 3.0.2, 4 and 7: 3.1.1,
 * 5: 3.1.1 and a second channel, 6: 3.0.2 and a second channel); 3: require
 * signing; 4-5: cipher preference; 6-7: signing algorithm preference. */
static bool two_channels(uint8_t mode)
{
	return (mode & 7) == 5 || (mode & 7) == 6;
}

/* 3.1.1 and a second connection with a session of its own. */
static bool two_sessions(uint8_t mode)
{
	return (mode & 7) == 7;
}

static bool negotiate(struct cli *c, uint8_t mode)
{
	static const uint16_t all[5] = { SMB2_DIALECT_202, SMB2_DIALECT_210, SMB2_DIALECT_300, SMB2_DIALECT_302,
					 SMB2_DIALECT_311 };
	unsigned hi = mode & 7, nd = hi <= 3 ? hi + 1 : hi == 6 ? 4 : 5;
	uint8_t buf[512];
	hdr(buf, SMB2_NEGOTIATE, c->mid, 0, 0);
	struct wr w = wr_init(buf, sizeof(buf));
	w.p += SMB2_HDR_SIZE;
	c->must_sign = mode & 8;
	wr_le16(&w, 36);
	wr_le16(&w, (uint16_t)nd);
	wr_le16(&w, c->must_sign ? SMB2_NEGOTIATE_SIGNING_REQUIRED : SMB2_NEGOTIATE_SIGNING_ENABLED);
	wr_le16(&w, 0);
	wr_le32(&w, SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_MULTI_CHANNEL | SMB2_GLOBAL_CAP_ENCRYPTION);
	wr_zero(&w, 16);          /* ClientGuid: filled below */
	uint8_t *ctx_off = w.p;
	wr_le32(&w, 0);
	uint8_t *ctx_cnt = w.p;
	wr_le32(&w, 0);
	for (unsigned i = 0; i < nd; i++)
		wr_le16(&w, all[i]);
	memset(buf + SMB2_HDR_SIZE + 12, 0xC1, 16);
	if (nd == 5)
		neg_contexts(&w, ctx_off, ctx_cnt, mode);
	size_t len = wr_pos(&w), rlen;
	memset(c->preauth, 0, 64);
	crypto_preauth_update(c->preauth, &(struct iovec){ buf, len }, 1);
	uint8_t *f = NULL, *m = call(c, buf, len, false, &rlen, &f);
	bool ok = m && rlen >= SMB2_HDR_SIZE + 64 && get_le32(m + 8) == STATUS_SUCCESS;
	if (ok) {
		const uint8_t *b = m + SMB2_HDR_SIZE;
		c->dialect = get_le16(b + 4);
		c->sign_alg = c->dialect >= SMB2_DIALECT_300 ? CRYPTO_SIGN_AES_CMAC : CRYPTO_SIGN_HMAC_SHA256;
		c->cipher = c->dialect >= SMB2_DIALECT_300 && c->dialect < SMB2_DIALECT_311 &&
				    (get_le32(b + 24) & SMB2_GLOBAL_CAP_ENCRYPTION) ? CRYPTO_AES_128_CCM : 0;
		if (get_le16(b + 2) & SMB2_NEGOTIATE_SIGNING_REQUIRED)
			c->must_sign = true;
		if (c->dialect == SMB2_DIALECT_311) {
			crypto_preauth_update(c->preauth, &(struct iovec){ m, rlen }, 1);
			parse_neg_contexts(c, m, rlen, get_le16(b + 6), get_le32(b + 60));
		}
	}
	free(f);
	return ok;
}

/* ---- NTLMv2 logon of the test user (MS-NLMP 3.1.5.1.2) ---- */

#define CLI_NTLM_FLAGS (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN | \
	NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN | \
	NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO | \
	NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56)

/* The exported session key the client chooses: fixed, so the 3.0 keys
 * are the same in every run. */
static const uint8_t test_session_key[16] = "smb3d-fuzz-key!";

static size_t u16(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; *s; s++, n += 2)
		out[n] = (uint8_t)*s, out[n + 1] = 0;
	return n;
}

static uint8_t *ntlm_auth(const uint8_t *chal, size_t chal_len, size_t *out_len)
{
	struct ntlmssp_challenge ch;
	if (ntlmssp_decode_challenge(chal, chal_len, &ch, NULL))
		return NULL;
	uint8_t user[64], dom[64], pass[64], nt_hash[16], owf[16], proof[16], base[16], enc[16];
	size_t ul = u16(FAKE_USER, user), dl = u16(FAKE_DOMAIN, dom), pl = u16(FAKE_PASS, pass);
	crypto_md4(pass, pl, nt_hash);
	ntlmv2_owf(nt_hash, user, ul, dom, dl, owf);
	size_t tl = 28 + ch.target_info_len + 4;
	uint8_t *temp = calloc(1, tl), *nt = malloc(16 + tl), *out = NULL;
	if (!temp || !nt)
		goto done;
	temp[0] = temp[1] = 1;
	const uint8_t *ts;
	size_t tsl;
	if (ntlmssp_av_find(ch.target_info, ch.target_info_len, MSV_AV_TIMESTAMP, &ts, &tsl) == 0 && tsl == 8)
		memcpy(temp + 8, ts, 8);
	memset(temp + 16, 0xCC, 8);   /* client challenge */
	memcpy(temp + 28, ch.target_info, ch.target_info_len);
	struct iovec iov[2] = { { ch.server_challenge, 8 }, { temp, tl } };
	crypto_hmac_md5(owf, 16, iov, 2, proof);
	memcpy(nt, proof, 16);
	memcpy(nt + 16, temp, tl);
	crypto_hmac_md5(owf, 16, &(struct iovec){ proof, 16 }, 1, base);
	memcpy(enc, test_session_key, 16);
	crypto_rc4(base, 16, enc, 16);
	uint8_t lm[24] = { 0 }, ws[16];
	struct ntlmssp_authenticate a = {
		.flags = ch.flags & (CLI_NTLM_FLAGS | NTLMSSP_NEGOTIATE_VERSION),
		.lm_response = lm, .lm_response_len = 24, .nt_response = nt, .nt_response_len = 16 + tl,
		.domain = dom, .domain_len = dl, .user = user, .user_len = ul,
		.workstation = ws, .workstation_len = u16("FUZZ", ws),
		.enc_session_key = enc, .enc_session_key_len = 16,
	};
	if (!(a.flags & NTLMSSP_NEGOTIATE_KEY_EXCH))
		goto done;   /* the server always offers key exchange; the key must be ours */
	ntlmssp_encode_authenticate(&a, &out, out_len);
done:
	free(temp);
	free(nt);
	return out;
}

static uint8_t *setup_leg(struct cli *c, const uint8_t *tok, size_t tok_len, size_t *rlen, uint8_t **f,
			  bool bind)
{
	uint8_t *buf = malloc(SMB2_HDR_SIZE + 24 + tok_len);
	if (!buf)
		return NULL;
	hdr(buf, SMB2_SESSION_SETUP, c->mid, c->sid, 0);
	uint8_t *b = buf + SMB2_HDR_SIZE;
	memset(b, 0, 24);
	put_le16(b, 25);
	b[2] = bind ? 0x01 : 0;   /* SMB2_SESSION_FLAG_BINDING */
	b[3] = c->must_sign ? SMB2_NEGOTIATE_SIGNING_REQUIRED : SMB2_NEGOTIATE_SIGNING_ENABLED;
	put_le16(b + 12, SMB2_HDR_SIZE + 24);
	put_le16(b + 14, (uint16_t)tok_len);
	memcpy(b + 24, tok, tok_len);
	size_t len = SMB2_HDR_SIZE + 24 + tok_len;
	/* The hash covers the request as sent: sign first (a bind is signed
	 * with the session's key, MS-SMB2 3.2.4.2.3). */
	if (c->have_keys)
		sign_elem(c, buf, len);
	if (c->dialect == SMB2_DIALECT_311)
		crypto_preauth_update(c->preauth, &(struct iovec){ buf, len }, 1);
	bool keyed = c->have_keys;
	c->have_keys = false;     /* already signed */
	uint8_t *m = call(c, buf, len, false, rlen, f);
	c->have_keys = keyed;
	free(buf);
	return m;
}

static void derive_keys(struct cli *c)
{
	const uint8_t *k = test_session_key;
	size_t kl = c->cipher ? crypto_cipher_keylen((enum crypto_cipher)c->cipher) : 16;
	if (c->dialect == SMB2_DIALECT_311) {
		crypto_kdf(k, 16, "SMBSigningKey", 14, c->preauth, 64, c->sign_key, 16);
		crypto_kdf(k, 16, "SMBC2SCipherKey", 16, c->preauth, 64, c->enc_key, kl);
		crypto_kdf(k, 16, "SMBS2CCipherKey", 16, c->preauth, 64, c->dec_key, kl);
	} else if (c->dialect >= SMB2_DIALECT_300) {
		crypto_kdf(k, 16, "SMB2AESCMAC", 12, "SmbSign", 8, c->sign_key, 16);
		crypto_kdf(k, 16, "SMB2AESCCM", 11, "ServerIn ", 10, c->enc_key, 16);
		crypto_kdf(k, 16, "SMB2AESCCM", 11, "ServerOut", 10, c->dec_key, 16);
	} else {
		memcpy(c->sign_key, k, 16);
	}
	c->have_keys = true;
}

/* Log on; with `main` set, bind this connection to main's session as a
 * second channel (MS-SMB2 3.2.4.2.3). */
static bool session_setup(struct cli *c, const struct cli *main)
{
	struct ntlmssp_negotiate nm = { .flags = CLI_NTLM_FLAGS };
	uint8_t *neg = NULL, *auth = NULL, *f1 = NULL, *f2 = NULL;
	size_t neg_len, auth_len = 0, r1, r2;
	bool ok = false;
	if (ntlmssp_encode_negotiate(&nm, &neg, &neg_len))
		return false;
	if (main) {
		c->sid = main->sid;
		memcpy(c->sign_key, main->sign_key, 16);   /* the bind is signed with the session's key */
		c->sign_alg = main->sign_alg;
		c->have_keys = true;
	}
	uint8_t *m1 = setup_leg(c, neg, neg_len, &r1, &f1, main != NULL);
	if (!m1 || r1 < SMB2_HDR_SIZE + 8 || get_le32(m1 + 8) != STATUS_MORE_PROCESSING_REQUIRED)
		goto out;
	c->sid = get_le64(m1 + 40);
	if (c->dialect == SMB2_DIALECT_311)
		crypto_preauth_update(c->preauth, &(struct iovec){ m1, r1 }, 1);
	struct rd rd = rd_init(m1, r1);
	rd_seek(&rd, SMB2_HDR_SIZE + 4);
	uint16_t off = rd_le16(&rd), len = rd_le16(&rd);
	const uint8_t *tok = rd_range(&rd, off, len);
	auth = tok ? ntlm_auth(tok, len, &auth_len) : NULL;
	if (!auth)
		goto out;
	uint8_t *m2 = setup_leg(c, auth, auth_len, &r2, &f2, main != NULL);
	ok = m2 && r2 >= SMB2_HDR_SIZE + 8 && get_le32(m2 + 8) == STATUS_SUCCESS;
	if (ok && main) {
		/* The channel signs with its own key; the session's other keys stay. */
		c->must_sign = main->must_sign;
		c->cipher = main->cipher;
		memcpy(c->enc_key, main->enc_key, sizeof(c->enc_key));
		memcpy(c->dec_key, main->dec_key, sizeof(c->dec_key));
		if (c->dialect == SMB2_DIALECT_311)
			crypto_kdf(test_session_key, 16, "SMBSigningKey", 14, c->preauth, 64, c->sign_key, 16);
		memcpy(c->tid, main->tid, sizeof(c->tid));
	} else if (ok) {
		derive_keys(c);
		if (get_le16(m2 + SMB2_HDR_SIZE + 2) & 0x0004) /* SMB2_SESSION_FLAG_ENCRYPT_DATA */
			c->must_sign = true;
	}
out:
	free(neg);
	free(auth);
	free(f1);
	free(f2);
	return ok;
}

static uint32_t tree_connect(struct cli *c, const char *name)
{
	uint8_t buf[256];
	hdr(buf, SMB2_TREE_CONNECT, c->mid, c->sid, 0);
	char path[64];
	snprintf(path, sizeof(path), "\\\\127.0.0.1\\%s", name);
	uint8_t *b = buf + SMB2_HDR_SIZE;
	memset(b, 0, 8);
	put_le16(b, 9);
	put_le16(b + 4, SMB2_HDR_SIZE + 8);
	size_t pl = u16(path, b + 8);
	put_le16(b + 6, (uint16_t)pl);
	size_t rlen;
	uint8_t *f = NULL, *m = call(c, buf, SMB2_HDR_SIZE + 8 + pl, false, &rlen, &f);
	uint32_t tid = m && rlen >= SMB2_HDR_SIZE && get_le32(m + 8) == STATUS_SUCCESS ? get_le32(m + 36) : 0;
	if (!tid && getenv("FUZZ_PIPELINE_DEBUG"))
		fprintf(stderr, "fuzz_pipeline: tree connect %s: 0x%08x\n", name, m && rlen >= 12 ? get_le32(m + 8) : 0);
	free(f);
	return tid;
}

/* ---- the input's records ---- */

/* Remember FileIds and AsyncIds from responses; acknowledge breaks. */
static void send_msg(struct cli *c, uint8_t *msg, size_t len, uint8_t flags, bool sealit);

/* An oplock break is acknowledged with its own 24 bytes; a lease break
 * (StructureSize 44, MS-SMB2 2.2.23.2) with the 36-byte lease
 * acknowledgment (2.2.24.2): its LeaseKey and the NewLeaseState. */
static void ack_break(struct cli *c, const uint8_t *h, size_t el)
{
	uint8_t ack[SMB2_HDR_SIZE + 36] = { 0 };
	const uint8_t *b = h + SMB2_HDR_SIZE;
	size_t len = SMB2_HDR_SIZE + 24;
	hdr(ack, SMB2_OPLOCK_BREAK, 0, c->sid, c->tid[0]);
	if (get_le16(b) == 44 && el >= SMB2_HDR_SIZE + 44) {
		put_le16(ack + SMB2_HDR_SIZE, 36);
		memcpy(ack + SMB2_HDR_SIZE + 8, b + 8, 16);
		memcpy(ack + SMB2_HDR_SIZE + 24, b + 28, 4);
		len = SMB2_HDR_SIZE + 36;
	} else {
		memcpy(ack + SMB2_HDR_SIZE, b, 24);
	}
	send_msg(c, ack, len, 0, false);
}

static void note_response(struct cli *c, uint8_t *m, size_t len, uint8_t flags)
{
	for (size_t pos = 0; pos + SMB2_HDR_SIZE <= len;) {
		uint8_t *h = m + pos;
		uint16_t cmd = get_le16(h + 12);
		uint32_t st = get_le32(h + 8);
		size_t next = get_le32(h + 20), el = next && pos + next <= len ? next : len - pos;
		if (getenv("FUZZ_PIPELINE_DEBUG"))
			fprintf(stderr, "fuzz_pipeline: <- %s 0x%08x\n", smb2_command_name(cmd), st);
		if (st == STATUS_PENDING && (get_le32(h + 16) & SMB2_FLAGS_ASYNC_COMMAND))
			c->last_async = get_le64(h + 32);
		if (cmd == SMB2_CREATE && st == STATUS_SUCCESS && el >= SMB2_HDR_SIZE + 80) {
			memcpy(c->fr->ids[c->fr->n % N_FIDS], h + SMB2_HDR_SIZE + 64, 16);
			c->fr->n++;
		}
		if (cmd == SMB2_OPLOCK_BREAK && get_le64(h + 24) == ~0ull && el >= SMB2_HDR_SIZE + 24 &&
		    !(flags & REC_NOACK))
			ack_break(c, h, el);
		if (!next)
			break;
		pos += next;
	}
}

/* Read and note every response that is there; returns how many. */
static int drain(struct cli *c, uint8_t flags)
{
	int rounds = 0;
	for (; rounds < 256 && !c->broken; rounds++) {
		size_t len;
		uint8_t *f = cli_recv(c, &len, 0);
		if (!f)
			break;
		uint8_t *m = f;
		if (get_le32(f) != SMB2_TF_PROTOCOL_ID || unseal(c, &m, &len))
			note_response(c, m, len, flags);
		free(f);
	}
	return rounds;
}

/* Fix up every element of a message the fuzzer made (see the top). */
static void fix_elements(struct cli *c, uint8_t *msg, size_t len, uint8_t flags)
{
	unsigned tree = (flags & REC_TREE) >> 3;
	for (size_t pos = 0; pos + SMB2_HDR_SIZE <= len;) {
		uint8_t *h = msg + pos;
		size_t next = get_le32(h + 20);
		size_t el = next && pos + next <= len ? next : len - pos;
		uint16_t cmd = get_le16(h + 12);
		uint32_t hf = get_le32(h + 16) & ~SMB2_FLAGS_SIGNED;
		put_le32(h + 16, hf);
		if (cmd == SMB2_CANCEL) {
			put_le64(h + 24, c->mid ? c->mid - 1 : 0);
		} else {
			uint16_t charge = get_le16(h + 6);
			put_le64(h + 24, c->mid);
			c->mid += charge && c->dialect >= SMB2_DIALECT_210 ? charge : 1;
		}
		if (hf & SMB2_FLAGS_ASYNC_COMMAND)
			put_le64(h + 32, c->last_async);
		else
			put_le32(h + 36, tree < 3 ? c->tid[tree] : 0);
		if (!(flags & REC_KEEP_SID) && !(hf & SMB2_FLAGS_RELATED_OPERATIONS))
			put_le64(h + 40, c->sid);
		for (size_t o = SMB2_HDR_SIZE; o + 16 <= el; o += 8) {
			uint64_t v = get_le64(h + o);
			unsigned n = c->fr->n;
			if (v >= FID_MARK && v < FID_MARK + N_FIDS && n)
				memcpy(h + o, c->fr->ids[(n - 1 - (v - FID_MARK) % n) % N_FIDS], 16);
		}
		if (!next || pos + next > len)
			break;
		pos += next;
	}
	bool sign = c->have_keys && (c->must_sign || (flags & REC_SIGN));
	for (size_t pos = 0; sign && pos + SMB2_HDR_SIZE <= len;) {
		size_t next = get_le32(msg + pos + 20);
		size_t el = next && pos + next <= len ? next : len - pos;
		sign_elem(c, msg + pos, el);
		if (!next || pos + next > len)
			break;
		pos += next;
	}
}

static void send_msg(struct cli *c, uint8_t *msg, size_t len, uint8_t flags, bool sealit)
{
	if (!(flags & REC_RAW) && len >= SMB2_HDR_SIZE && get_le32(msg) == SMB2_PROTOCOL_ID)
		fix_elements(c, msg, len, flags);
	if (sealit && c->have_keys && c->cipher && len >= SMB2_HDR_SIZE) {
		size_t sl;
		uint8_t *s = seal(c, msg, len, &sl);
		if (s)
			cli_send(c, s, sl);
		free(s);
	} else {
		cli_send(c, msg, len);
	}
}

/* Read responses (on every channel) and answer breaks until the server is
 * quiet (a reply that fills the socket keeps it busy until read), for
 * QUIET_MS at most. */
static void settle(struct cli *ch, unsigned n, uint8_t flags)
{
	for (unsigned waited = 0; waited < QUIET_MS; waited += 20) {
		int fds[2];
		uint64_t sent[2], before = 0;
		for (unsigned i = 0; i < n; i++) {
			fds[i] = ch[i].fd;
			sent[i] = ch[i].sent;
			before += sent[i];
		}
		bool quiet = fake_quiet(fds, sent, n, 20);
		int got = 0;
		for (unsigned i = 0; i < n; i++)
			got += ch[i].broken ? 0 : drain(&ch[i], flags);
		uint64_t after = 0;
		for (unsigned i = 0; i < n; i++)
			after += ch[i].sent;
		if (!got && quiet && after == before)
			return;
	}
}

/* A record's length has 15 bits; the top bit sends it on the second
 * channel when there is one. */
static void run_records(struct cli *ch, unsigned n, const uint8_t *data, size_t size)
{
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = ((size_t)(data[1] & 0x7F) << 8) | data[2];
		struct cli *c = &ch[(data[1] & 0x80) && n > 1 ? 1 : 0];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		uint8_t *msg = malloc(len ? len : 1);
		if (!msg)
			return;
		memcpy(msg, data, len);
		data += len;
		size -= len;
		bool sealit = !(flags & REC_RAW) && ((flags & REC_SEAL) || ((flags & REC_TREE) >> 3) == 2);
		if ((flags & REC_RAW) && !len && !c->broken) {
			shutdown(c->fd, SHUT_RDWR);
			c->broken = true;
			fake_wait_gone(c->fd, QUIET_MS);
		} else if (!c->broken) {
			send_msg(c, msg, len, flags, sealit);
		}
		free(msg);
		if (flags & REC_NOWAIT)
			continue;
		settle(ch, n, flags);
	}
	settle(ch, n, 0);
}

static void connect_trees(struct cli *c)
{
	c->tid[0] = tree_connect(c, "share");
	c->tid[1] = tree_connect(c, "IPC$");
	c->tid[2] = tree_connect(c, "sealed");
	if (!c->tid[0] && !getenv("FUZZ_PIPELINE_QUIET"))
		fprintf(stderr, "fuzz_pipeline: tree connect to share failed\n");
}

static bool log_on(struct cli *c, uint8_t mode, const struct cli *main)
{
	c->fd = fake_connect();
	if (c->fd < 0)
		return false;
	if (!negotiate(c, mode) || !session_setup(c, main)) {
		if (!getenv("FUZZ_PIPELINE_QUIET"))
			fprintf(stderr, "fuzz_pipeline: the harness could not %s (mode 0x%02x)\n",
				main ? "bind a second channel" : "log on", mode);
		return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fidring fr = { 0 };
	struct cli ch[2] = { { .fd = -1, .fr = &fr }, { .fd = -1, .fr = &fr, .nonce = 1ull << 56 } };
	unsigned n = 0;
	if (log_on(&ch[0], data[0], NULL)) {
		n = 1;
		connect_trees(&ch[0]);
		if (two_channels(data[0]) && log_on(&ch[1], data[0], &ch[0]))
			n = 2;
		if (two_sessions(data[0]) && log_on(&ch[1], data[0], NULL)) {
			connect_trees(&ch[1]);
			n = 2;
		}
		run_records(ch, n, data + 1, size - 1);
	}
	/* The second channel goes first; then wait until the server has
	 * released both. */
	if (ch[1].fd >= 0)
		close(ch[1].fd);
	if (ch[0].fd >= 0)
		fake_close(ch[0].fd, RELEASE_MS);
	return 0;
}
