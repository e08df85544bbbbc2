/* NTLMv2 server: MS-NLMP 4.2.4 vectors, full exchanges (raw and SPNEGO
 * with MIC and mechListMIC), guest/anonymous rules, and a cross-check
 * against impacket's client when it is installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>

#include "auth/auth.h"
#include "auth/ntlmssp_server.h"
#include "auth/ntlmv2.h"
#include "conf/conf.h"
#include "crypto/crypto.h"
#include "util/utf16.h"
#include "wire/ntlmssp.h"
#include "wire/spnego.h"

static const uint8_t srv_chal[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
/* MS-NLMP 4.2.4 expected values */
static const uint8_t v_ntowf[16] = { 0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
				     0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f };
static const uint8_t v_proof[16] = { 0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
				     0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c };
static const uint8_t v_base[16] = { 0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82,
				    0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9, 0x5c, 0xa3 };
static const uint8_t v_enckey[16] = { 0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90,
				      0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e };

static size_t u16(const char *s, uint8_t *out)
{
	return (size_t)utf8_to_utf16le(s, strlen(s), out, 512);
}

/* temp of MS-NLMP 3.3.2 with the 4.2.4 AV pairs, plus optional MsvAvFlags */
static size_t make_temp(uint8_t *t, uint32_t av_flags)
{
	uint8_t name[64];
	struct wr w = wr_init(t, 512);
	wr_u8(&w, 1);
	wr_u8(&w, 1);
	wr_zero(&w, 6);
	wr_zero(&w, 8); /* time 0 */
	for (int i = 0; i < 8; i++)
		wr_u8(&w, 0xaa);
	wr_zero(&w, 4);
	ntlmssp_av_put(&w, MSV_AV_NB_DOMAIN_NAME, name, u16("Domain", name));
	ntlmssp_av_put(&w, MSV_AV_NB_COMPUTER_NAME, name, u16("Server", name));
	if (av_flags) {
		uint8_t f[4];
		put_le32(f, av_flags);
		ntlmssp_av_put(&w, MSV_AV_FLAGS, f, 4);
	}
	ntlmssp_av_put(&w, MSV_AV_EOL, NULL, 0);
	wr_zero(&w, 4);
	return wr_pos(&w);
}

static void nt_response(const char *user, const char *pw, const char *dom, const uint8_t chal[8],
			uint32_t av_flags, uint8_t *resp, size_t *len, uint8_t base[16])
{
	uint8_t h[16], owf[16], ub[128], db[128];
	assert_int_equal(passdb_nt_hash(pw, h), 0);
	assert_int_equal(ntlmv2_owf(h, ub, u16(user, ub), db, u16(dom, db), owf), 0);
	size_t tl = make_temp(resp + 16, av_flags);
	struct iovec iov[2] = { { (void *)chal, 8 }, { resp + 16, tl } };
	assert_int_equal(crypto_hmac_md5(owf, 16, iov, 2, resp), 0);
	struct iovec k = { resp, 16 };
	assert_int_equal(crypto_hmac_md5(owf, 16, &k, 1, base), 0);
	*len = 16 + tl;
}

/* ---- fixtures */

static struct passdb db;
static struct passdb_entry users[3];
static struct auth_config cfg = {
	.netbios_name = "SERVER", .domain = "Domain", .db = &db, .guest_account = "nobody",
};

static int setup(void **state)
{
	crypto_init();
	users[0] = (struct passdb_entry){ .name = "User", .uid = 1000, .has_nt_hash = true };
	passdb_nt_hash("Password", users[0].nt_hash);
	users[1] = (struct passdb_entry){ .name = "off", .uid = 1001, .has_nt_hash = true, .disabled = true };
	passdb_nt_hash("Password", users[1].nt_hash);
	db.users = users;
	db.n_users = 2;
	cfg.map_to_guest = MAP_GUEST_NEVER;
	cfg.guest_allowed = false;
	cfg.anonymous_allowed = false;
	return 0;
}

/* ---- vectors */

static void test_vectors(void **state)
{
	uint8_t h[16], owf[16], ub[64], db16[64], resp[512], base[16];
	passdb_nt_hash("Password", h);
	assert_int_equal(ntlmv2_owf(h, ub, u16("User", ub), db16, u16("Domain", db16), owf), 0);
	assert_memory_equal(owf, v_ntowf, 16);
	size_t len;
	nt_response("User", "Password", "Domain", srv_chal, 0, resp, &len, base);
	assert_memory_equal(resp, v_proof, 16);
	uint8_t sbk[16];
	assert_int_equal(ntlmv2_verify(owf, srv_chal, resp, len, sbk), 0);
	assert_memory_equal(sbk, v_base, 16);
	uint8_t key[16];
	memset(key, 0x55, 16);
	assert_int_equal(crypto_rc4(sbk, 16, key, 16), 0);
	assert_memory_equal(key, v_enckey, 16);
	resp[3] ^= 1;
	assert_int_equal(ntlmv2_verify(owf, srv_chal, resp, len, sbk), -EACCES);
}

/* mechListMIC signature, cross-checked with impacket's ntlm.SIGN */
static void test_sign_vector(void **state)
{
	static const uint8_t mech[] = { 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
	static const uint8_t c2s[16] = { 1, 0, 0, 0, 0x22, 0xa3, 0x98, 0x4f, 0xef, 0xbb, 0x9c, 0x32, 0, 0, 0, 0 };
	static const uint8_t s2c[16] = { 1, 0, 0, 0, 0x7d, 0xd6, 0xda, 0x05, 0x64, 0x8a, 0x73, 0xae, 0, 0, 0, 0 };
	uint32_t flags = NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_SIGN |
			 NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	uint8_t key[16], sig[16];
	memset(key, 0x55, 16);
	struct ntlm_dir_keys k;
	assert_int_equal(ntlm_derive_keys(key, flags, true, &k), 0);
	assert_int_equal(ntlm_sign(&k, flags, 0, mech, sizeof(mech), sig), 0);
	assert_memory_equal(sig, c2s, 16);
	assert_int_equal(ntlm_derive_keys(key, flags, false, &k), 0);
	assert_int_equal(ntlm_sign(&k, flags, 0, mech, sizeof(mech), sig), 0);
	assert_memory_equal(sig, s2c, 16);
}

/* ---- exchanges */

#define CLIENT_FLAGS 0xe2888235u /* KEY_EXCH 56 128 VERSION TARGET_INFO ESS ALWAYS_SIGN NTLM SEAL SIGN REQ_TARGET UNICODE */

struct client {
	uint8_t *neg, *chal;
	size_t neg_len, chal_len;
	uint8_t exported[16];
};

static uint8_t *make_negotiate(size_t *len)
{
	struct ntlmssp_negotiate n = { .flags = CLIENT_FLAGS };
	uint8_t *m;
	assert_int_equal(ntlmssp_encode_negotiate(&n, &m, len), 0);
	return m;
}

/* AUTHENTICATE for the challenge; with_mic adds MsvAvFlags and the MIC. */
static uint8_t *make_authenticate(struct client *c, const char *user, const char *pw, const char *dom,
				  bool with_mic, size_t *len)
{
	uint8_t resp[512], base[16], ub[128], db16[128], enc[16];
	size_t rl;
	nt_response(user, pw, dom, srv_chal, with_mic ? MSV_AV_FLAG_MIC_PRESENT : 0, resp, &rl, base);
	memset(c->exported, 0x55, 16);
	memcpy(enc, c->exported, 16);
	crypto_rc4(base, 16, enc, 16);
	uint8_t lm[24] = { 0 };
	struct ntlmssp_authenticate a = {
		.flags = CLIENT_FLAGS & ~NTLMSSP_REQUEST_TARGET,
		.lm_response = lm, .lm_response_len = 24,
		.nt_response = resp, .nt_response_len = rl,
		.domain = db16, .domain_len = u16(dom, db16),
		.user = ub, .user_len = u16(user, ub),
		.enc_session_key = enc, .enc_session_key_len = 16,
	};
	uint8_t *m;
	assert_int_equal(ntlmssp_encode_authenticate(&a, &m, len), 0);
	if (with_mic) {
		struct iovec iov[3] = { { c->neg, c->neg_len }, { c->chal, c->chal_len }, { m, *len } };
		assert_int_equal(crypto_hmac_md5(c->exported, 16, iov, 3, m + NTLMSSP_MIC_OFFSET), 0);
	}
	return m;
}

static enum auth_status raw_exchange(const char *user, const char *pw, const char *dom, bool mic,
				     struct auth_ctx **out_ctx)
{
	struct client c = { 0 };
	struct auth_ctx *a = auth_start(&cfg);
	auth_set_server_challenge(a, srv_chal);
	c.neg = make_negotiate(&c.neg_len);
	assert_int_equal(auth_step(a, c.neg, c.neg_len, &c.chal, &c.chal_len), AUTH_CONTINUE);
	struct ntlmssp_challenge ch;
	assert_int_equal(ntlmssp_decode_challenge(c.chal, c.chal_len, &ch, NULL), 0);
	assert_memory_equal(ch.server_challenge, srv_chal, 8);
	assert_true(ch.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
	assert_true(ch.flags & NTLMSSP_TARGET_TYPE_DOMAIN);
	const uint8_t *v;
	size_t vl;
	assert_int_equal(ntlmssp_av_find(ch.target_info, ch.target_info_len, MSV_AV_TIMESTAMP, &v, &vl), 0);
	assert_int_equal(vl, 8);
	assert_int_equal(ntlmssp_av_find(ch.target_info, ch.target_info_len, MSV_AV_DNS_COMPUTER_NAME, &v, &vl), 0);
	size_t len;
	uint8_t *auth = make_authenticate(&c, user, pw, dom, mic, &len);
	uint8_t *out;
	size_t out_len;
	enum auth_status st = auth_step(a, auth, len, &out, &out_len);
	free(out);
	free(auth);
	free(c.neg);
	free(c.chal);
	if (out_ctx)
		*out_ctx = a;
	else
		auth_free(a);
	return st;
}

static void test_raw_ok(void **state)
{
	struct auth_ctx *a;
	assert_int_equal(raw_exchange("User", "Password", "Domain", false, &a), AUTH_OK);
	const struct auth_result *r = auth_result(a);
	assert_non_null(r);
	assert_string_equal(r->user, "User");
	assert_string_equal(r->domain, "Domain");
	assert_int_equal(r->uid, 1000);
	assert_true(r->have_session_key);
	assert_false(r->guest);
	uint8_t k[16];
	memset(k, 0x55, 16);
	assert_memory_equal(r->session_key, k, 16);
	auth_free(a);
}

static void test_raw_variants(void **state)
{
	assert_int_equal(raw_exchange("uSeR", "Password", "WHATEVER", true, NULL), AUTH_OK);
	assert_int_equal(raw_exchange("User", "Password", "", true, NULL), AUTH_OK);
	assert_int_equal(raw_exchange("User", "wrong", "Domain", false, NULL), AUTH_LOGON_FAILURE);
	assert_int_equal(raw_exchange("nobody-here", "Password", "Domain", false, NULL), AUTH_LOGON_FAILURE);
	assert_int_equal(raw_exchange("off", "Password", "Domain", false, NULL), AUTH_LOGON_FAILURE);
}

static void test_guest_rules(void **state)
{
	struct auth_ctx *a;
	cfg.guest_allowed = true;
	cfg.map_to_guest = MAP_GUEST_BAD_USER;
	assert_int_equal(raw_exchange("stranger", "x", "Domain", false, &a), AUTH_OK);
	assert_true(auth_result(a)->guest);
	assert_false(auth_result(a)->have_session_key);
	assert_string_equal(auth_result(a)->user, "nobody");
	auth_free(a);
	assert_int_equal(raw_exchange("User", "wrong", "Domain", false, NULL), AUTH_LOGON_FAILURE);
	cfg.map_to_guest = MAP_GUEST_BAD_PASSWORD;
	assert_int_equal(raw_exchange("User", "wrong", "Domain", false, &a), AUTH_OK);
	assert_true(auth_result(a)->guest);
	auth_free(a);
	cfg.map_to_guest = MAP_GUEST_NEVER;
	assert_int_equal(raw_exchange("Guest", "", "Domain", false, &a), AUTH_OK);
	assert_true(auth_result(a)->guest);
	auth_free(a);
	assert_int_equal(raw_exchange("guest", "pw", "Domain", false, NULL), AUTH_LOGON_FAILURE);
	cfg.guest_allowed = false;
	assert_int_equal(raw_exchange("Guest", "", "Domain", false, NULL), AUTH_LOGON_FAILURE);
}

static enum auth_status send_auth(struct ntlmssp_authenticate *m, struct auth_ctx **ctx)
{
	struct auth_ctx *a = auth_start(&cfg);
	size_t nl, cl, al;
	uint8_t *neg = make_negotiate(&nl), *chal, *auth, *out;
	assert_int_equal(auth_step(a, neg, nl, &chal, &cl), AUTH_CONTINUE);
	assert_int_equal(ntlmssp_encode_authenticate(m, &auth, &al), 0);
	enum auth_status st = auth_step(a, auth, al, &out, &cl);
	free(neg);
	free(chal);
	free(auth);
	free(out);
	*ctx = a;
	return st;
}

static void test_ntlmv1_and_anonymous(void **state)
{
	uint8_t v1[24] = { 1, 2, 3 }, ub[32];
	struct ntlmssp_authenticate m = {
		.flags = 0x00088205, .lm_response = v1, .lm_response_len = 24, .nt_response = v1,
		.nt_response_len = 24, .user = ub, .user_len = u16("User", ub),
	};
	struct auth_ctx *a;
	assert_int_equal(send_auth(&m, &a), AUTH_LOGON_FAILURE);
	auth_free(a);
	m.nt_response_len = 0; /* LM only */
	assert_int_equal(send_auth(&m, &a), AUTH_LOGON_FAILURE);
	auth_free(a);

	struct ntlmssp_authenticate anon = { .flags = 0x00088a05, .lm_response = v1 + 10, .lm_response_len = 1 };
	assert_int_equal(send_auth(&anon, &a), AUTH_LOGON_FAILURE);
	auth_free(a);
	cfg.anonymous_allowed = true;
	assert_int_equal(send_auth(&anon, &a), AUTH_OK);
	assert_true(auth_result(a)->anonymous);
	assert_false(auth_result(a)->have_session_key);
	auth_free(a);
}

static void test_bad_mic(void **state)
{
	struct client c = { 0 };
	struct auth_ctx *a = auth_start(&cfg);
	auth_set_server_challenge(a, srv_chal);
	c.neg = make_negotiate(&c.neg_len);
	assert_int_equal(auth_step(a, c.neg, c.neg_len, &c.chal, &c.chal_len), AUTH_CONTINUE);
	size_t len;
	uint8_t *auth = make_authenticate(&c, "User", "Password", "Domain", true, &len), *out;
	auth[NTLMSSP_MIC_OFFSET + 3] ^= 0x40;
	assert_int_equal(auth_step(a, auth, len, &out, &len), AUTH_LOGON_FAILURE);
	assert_null(auth_result(a));
	free(auth);
	free(c.neg);
	free(c.chal);
	auth_free(a);
}

/* SPNEGO: NegTokenInit with [other, NTLMSSP] (so the server must pick
 * NTLMSSP and ask for its NEGOTIATE), then the AUTHENTICATE with MIC and
 * a mechListMIC; the server's mechListMIC must verify. */
static void spnego_exchange(bool ntlm_first)
{
	static const uint8_t krb5[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
	struct spnego_oid k5 = { krb5, sizeof(krb5) };
	struct client c = { 0 };
	struct auth_ctx *a = auth_start(&cfg);
	auth_set_server_challenge(a, srv_chal);
	c.neg = make_negotiate(&c.neg_len);
	struct spnego_init in = { .n_mechs = 2 };
	in.mechs[0] = ntlm_first ? spnego_oid_ntlmssp : k5;
	in.mechs[1] = ntlm_first ? k5 : spnego_oid_ntlmssp;
	in.mech_token = ntlm_first ? c.neg : (const uint8_t *)"kerberos-ticket";
	in.mech_token_len = ntlm_first ? c.neg_len : 15;
	uint8_t *tok, *out, *mt;
	size_t tok_len, out_len, mt_len;
	assert_int_equal(spnego_encode_init(&in, &tok, &tok_len), 0);
	assert_int_equal(spnego_encode_mech_types(in.mechs, 2, &mt, &mt_len), 0);
	assert_int_equal(auth_step(a, tok, tok_len, &out, &out_len), AUTH_CONTINUE);
	free(tok);
	struct spnego_token t;
	assert_int_equal(spnego_decode(out, out_len, &t, NULL), 0);
	assert_int_equal(t.kind, SPNEGO_KIND_RESP);
	assert_int_equal(t.resp.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_true(spnego_oid_eq(&t.resp.supported_mech, &spnego_oid_ntlmssp));
	if (!ntlm_first) {
		assert_null(t.resp.response_token);
		free(out);
		struct spnego_resp r = { .neg_state = SPNEGO_STATE_ABSENT, .response_token = c.neg,
					 .response_token_len = c.neg_len };
		assert_int_equal(spnego_encode_resp(&r, &tok, &tok_len), 0);
		assert_int_equal(auth_step(a, tok, tok_len, &out, &out_len), AUTH_CONTINUE);
		free(tok);
		assert_int_equal(spnego_decode(out, out_len, &t, NULL), 0);
	}
	assert_non_null(t.resp.response_token);
	c.chal_len = t.resp.response_token_len;
	c.chal = malloc(c.chal_len);
	memcpy(c.chal, t.resp.response_token, c.chal_len);
	free(out);

	size_t al;
	uint8_t *auth = make_authenticate(&c, "User", "Password", "Domain", true, &al);
	uint32_t flags = CLIENT_FLAGS & ~NTLMSSP_REQUEST_TARGET;
	struct ntlm_dir_keys ck, sk;
	uint8_t mic[16], smic[16];
	ntlm_derive_keys(c.exported, flags, true, &ck);
	ntlm_derive_keys(c.exported, flags, false, &sk);
	ntlm_sign(&ck, flags, 0, mt, mt_len, mic);
	ntlm_sign(&sk, flags, 0, mt, mt_len, smic);
	struct spnego_resp r = { .neg_state = SPNEGO_STATE_ABSENT, .response_token = auth,
				 .response_token_len = al, .mech_list_mic = mic, .mech_list_mic_len = 16 };
	assert_int_equal(spnego_encode_resp(&r, &tok, &tok_len), 0);
	assert_int_equal(auth_step(a, tok, tok_len, &out, &out_len), AUTH_OK);
	assert_int_equal(spnego_decode(out, out_len, &t, NULL), 0);
	assert_int_equal(t.resp.neg_state, SPNEGO_ACCEPT_COMPLETED);
	assert_int_equal(t.resp.mech_list_mic_len, 16);
	assert_memory_equal(t.resp.mech_list_mic, smic, 16);
	assert_true(auth_result(a)->have_session_key);
	free(out);
	free(tok);
	auth_free(a);

	/* the same with a broken mechListMIC fails */
	a = auth_start(&cfg);
	auth_set_server_challenge(a, srv_chal);
	in.mechs[0] = spnego_oid_ntlmssp;
	in.mechs[1] = k5;
	in.mech_token = c.neg;
	in.mech_token_len = c.neg_len;
	assert_int_equal(spnego_encode_init(&in, &tok, &tok_len), 0);
	assert_int_equal(auth_step(a, tok, tok_len, &out, &out_len), AUTH_CONTINUE);
	free(tok);
	free(out);
	free(mt);
	assert_int_equal(spnego_encode_mech_types(in.mechs, 2, &mt, &mt_len), 0);
	ntlm_sign(&ck, flags, 0, mt, mt_len, mic);
	mic[5] ^= 1;
	assert_int_equal(spnego_encode_resp(&r, &tok, &tok_len), 0);
	assert_int_equal(auth_step(a, tok, tok_len, &out, &out_len), AUTH_LOGON_FAILURE);
	assert_null(out);
	free(tok);
	auth_free(a);
	free(auth);
	free(mt);
	free(c.neg);
	free(c.chal);
}

static void test_spnego_ntlm_first(void **state) { spnego_exchange(true); }
static void test_spnego_ntlm_second(void **state) { spnego_exchange(false); }

static void test_negotiate_token(void **state)
{
	uint8_t *tok;
	size_t len;
	assert_int_equal(auth_negotiate_token(&tok, &len), 0);
	struct spnego_token t;
	assert_int_equal(spnego_decode(tok, len, &t, NULL), 0);
	assert_int_equal(t.kind, SPNEGO_KIND_INIT);
	assert_int_equal(t.init.n_mechs, 1);
	assert_true(spnego_oid_eq(&t.init.mechs[0], &spnego_oid_ntlmssp));
	assert_non_null(memmem(tok, len, "not_defined_in_RFC4178@please_ignore", 36));
	free(tok);
}

static void test_state_errors(void **state)
{
	struct auth_ctx *a = auth_start(&cfg);
	uint8_t *out;
	size_t len, nl;
	uint8_t junk[3] = { 0x60, 0x01, 0x00 };
	assert_int_equal(auth_step(a, junk, 3, &out, &len), AUTH_INVALID);
	assert_int_equal(auth_step(a, junk, 3, &out, &len), AUTH_INVALID); /* stays failed */
	auth_free(a);
	a = auth_start(&cfg);
	uint8_t *neg = make_negotiate(&nl);
	put_le32(neg + 8, NTLMSSP_AUTHENTICATE);
	assert_int_equal(auth_step(a, neg, nl, &out, &len), AUTH_INVALID); /* AUTHENTICATE first */
	free(neg);
	auth_free(a);
}

/* Tokens from impacket's NTLM client (an independent implementation). */
static void test_impacket(void **state)
{
	struct auth_ctx *a = auth_start(&cfg);
	const char *py = "/usr/bin/python3 -c '"
			 "import sys\n"
			 "from impacket import ntlm\n"
			 "t1 = ntlm.getNTLMSSPType1(\"\", \"\", signingRequired=True)\n"
			 "print(t1.getData().hex(), flush=True)\n"
			 "t2 = bytes.fromhex(sys.stdin.readline().strip())\n"
			 "t3, key = ntlm.getNTLMSSPType3(t1, t2, \"user\", \"Password\", \"WORKGROUP\")\n"
			 "print(t3.getData().hex()); print(key.hex())\n"
			 "' 2>/dev/null";
	int to_py[2], from_py[2];
	if (system("/usr/bin/python3 -c 'import impacket' 2>/dev/null") != 0) {
		auth_free(a);
		skip();
	}
	assert_int_equal(pipe(to_py), 0);
	assert_int_equal(pipe(from_py), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(to_py[0], 0);
		dup2(from_py[1], 1);
		close(to_py[1]);
		close(from_py[0]);
		execl("/bin/sh", "sh", "-c", py, (char *)NULL);
		_exit(127);
	}
	close(to_py[0]);
	close(from_py[1]);
	FILE *in = fdopen(from_py[0], "r"), *outf = fdopen(to_py[1], "w");
	static char line[8192];
	uint8_t bin[4096], *o;
	size_t n, ol;
#define HEX2BIN()                                                                   \
	do {                                                                        \
		assert_non_null(fgets(line, sizeof(line), in));                     \
		for (n = 0; line[2 * n] && line[2 * n] != '\n'; n++)                \
			sscanf(line + 2 * n, "%2hhx", &bin[n]);                     \
	} while (0)
	HEX2BIN();
	assert_int_equal(auth_step(a, bin, n, &o, &ol), AUTH_CONTINUE);
	for (size_t i = 0; i < ol; i++)
		fprintf(outf, "%02x", o[i]);
	fprintf(outf, "\n");
	fflush(outf);
	free(o);
	HEX2BIN();
	assert_int_equal(auth_step(a, bin, n, &o, &ol), AUTH_OK);
	free(o);
	HEX2BIN();
	assert_int_equal(n, 16);
	assert_memory_equal(auth_result(a)->session_key, bin, 16);
	fclose(in);
	fclose(outf);
	waitpid(pid, NULL, 0);
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vectors, setup),
		cmocka_unit_test_setup(test_sign_vector, setup),
		cmocka_unit_test_setup(test_raw_ok, setup),
		cmocka_unit_test_setup(test_raw_variants, setup),
		cmocka_unit_test_setup(test_guest_rules, setup),
		cmocka_unit_test_setup(test_ntlmv1_and_anonymous, setup),
		cmocka_unit_test_setup(test_bad_mic, setup),
		cmocka_unit_test_setup(test_spnego_ntlm_first, setup),
		cmocka_unit_test_setup(test_spnego_ntlm_second, setup),
		cmocka_unit_test_setup(test_negotiate_token, setup),
		cmocka_unit_test_setup(test_state_errors, setup),
		cmocka_unit_test_setup(test_impacket, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
