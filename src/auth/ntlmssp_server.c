/* NTLMSSP server: CHALLENGE construction and AUTHENTICATE verification
 * (MS-NLMP 3.2.5.1, NTLMv2 only). */
#include "auth/ntlmssp_server.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include "auth/ntlmv2.h"
#include "conf/conf.h"
#include "crypto/crypto.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "wire/ntlmssp.h"

/* Flags we grant when the client asks for them (MS-NLMP 3.2.5.1.1). */
#define GRANTABLE (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_ALWAYS_SIGN | \
		   NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_VERSION |           \
		   NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH)

/* Version field (MS-NLMP 2.2.2.10): 10.0 build 20348, NTLMSSP_REVISION_W2K3 */
static const uint8_t server_version[8] = { 10, 0, 0x7c, 0x4f, 0, 0, 0, 0x0f };

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* UTF-8 string to malloc'd UTF-16LE; NULL on failure. */
static uint8_t *to_utf16(const char *s, size_t *len)
{
	long n = utf8_utf16le_size(s, strlen(s));
	if (n < 0)
		return NULL;
	uint8_t *u = malloc(n ? (size_t)n : 1);
	if (!u)
		return NULL;
	if (utf8_to_utf16le(s, strlen(s), u, (size_t)n) != n) {
		free(u);
		return NULL;
	}
	*len = (size_t)n;
	return u;
}

static void av_put_str(struct wr *w, uint16_t id, const char *s)
{
	size_t n;
	uint8_t *u = to_utf16(s, &n);
	if (!u) {
		w->err = true;
		return;
	}
	ntlmssp_av_put(w, id, u, n);
	free(u);
}

/* TargetInfo (MS-NLMP 3.2.5.1.1): NetBIOS and DNS names, the time, EOL. */
static int build_target_info(const struct auth_config *cfg, uint8_t *buf, size_t cap, size_t *len)
{
	char dns_host[256];
	const char *dns_domain;
	if (cfg->dns_name && *cfg->dns_name) {
		snprintf(dns_host, sizeof(dns_host), "%s", cfg->dns_name);
	} else {
		size_t i;
		for (i = 0; cfg->netbios_name[i] && i + 1 < sizeof(dns_host); i++)
			dns_host[i] = (char)tolower((unsigned char)cfg->netbios_name[i]);
		dns_host[i] = 0;
	}
	const char *dot = strchr(dns_host, '.');
	dns_domain = dot ? dot + 1 : dns_host;

	struct wr w = wr_init(buf, cap);
	uint8_t ts[8];
	put_le64(ts, nttime_now());
	av_put_str(&w, MSV_AV_NB_DOMAIN_NAME, cfg->domain);
	av_put_str(&w, MSV_AV_NB_COMPUTER_NAME, cfg->netbios_name);
	av_put_str(&w, MSV_AV_DNS_DOMAIN_NAME, dns_domain);
	av_put_str(&w, MSV_AV_DNS_COMPUTER_NAME, dns_host);
	ntlmssp_av_put(&w, MSV_AV_TIMESTAMP, ts, 8);
	ntlmssp_av_put(&w, MSV_AV_EOL, NULL, 0);
	*len = wr_pos(&w);
	return wr_ok(&w) ? 0 : -EINVAL;
}

enum auth_status ntlms_challenge(struct ntlms *s, const uint8_t *neg, size_t len, uint8_t **out, size_t *out_len)
{
	struct ntlmssp_negotiate n;
	if (ntlmssp_decode_negotiate(neg, len, &n, NULL))
		return AUTH_INVALID;
	free(s->negotiate);
	s->negotiate = dup_bytes(neg, len);
	if (!s->negotiate)
		return AUTH_NO_MEMORY;
	s->negotiate_len = len;

	if (!s->challenge_fixed && crypto_random(s->server_challenge, 8))
		return AUTH_NO_MEMORY;

	uint8_t info[1024];
	size_t info_len;
	size_t name_len = 0;
	uint8_t *name = to_utf16(s->cfg->domain, &name_len);
	if (!name || build_target_info(s->cfg, info, sizeof(info), &info_len)) {
		free(name);
		return AUTH_INVALID;
	}
	struct ntlmssp_challenge c = {
		.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_REQUEST_TARGET |
			 NTLMSSP_TARGET_TYPE_DOMAIN | NTLMSSP_NEGOTIATE_TARGET_INFO | (n.flags & GRANTABLE),
		.target_name = name,
		.target_name_len = name_len,
		.target_info = info,
		.target_info_len = info_len,
	};
	memcpy(c.server_challenge, s->server_challenge, 8);
	memcpy(c.version, server_version, 8);
	s->chal_flags = c.flags;
	int rc = ntlmssp_encode_challenge(&c, out, out_len);
	free(name);
	if (rc)
		return rc == -ENOMEM ? AUTH_NO_MEMORY : AUTH_INVALID;
	free(s->challenge);
	s->challenge = dup_bytes(*out, *out_len);
	if (!s->challenge) {
		free(*out);
		*out = NULL;
		return AUTH_NO_MEMORY;
	}
	s->challenge_len = *out_len;
	return AUTH_CONTINUE;
}

/* A string field of the AUTHENTICATE as UTF-16LE (OEM strings are widened
 * byte by byte) and as UTF-8, both malloc'd. */
static int wire_string(const uint8_t *p, size_t len, bool unicode, uint8_t **u16, size_t *u16_len, char **utf8)
{
	size_t n = unicode ? len : 2 * len;
	*u16 = malloc(n ? n : 1);
	if (!*u16)
		return -ENOMEM;
	if (unicode) {
		if (len)
			memcpy(*u16, p, len);
	} else {
		for (size_t i = 0; i < len; i++)
			put_le16(*u16 + 2 * i, p[i]);
	}
	*u16_len = n;
	int rc = utf16le_to_utf8(*u16, n, utf8, NULL);
	if (rc) {
		free(*u16);
		*u16 = NULL;
	}
	return rc;
}

static bool is_guest_name(const struct auth_config *cfg, const char *user)
{
	return strcasecmp(user, "guest") == 0 || (cfg->guest_account && strcasecmp(user, cfg->guest_account) == 0);
}

struct verify_in {
	const uint8_t *user16, *dom16;
	size_t user16_len, dom16_len;
	const uint8_t *nt;
	size_t nt_len;
};

/* Try the domain as sent, then empty, then ours: clients differ in what
 * they put there, and NTOWFv2 covers it (MS-NLMP 3.3.2). */
static int try_password(const struct ntlms *s, const struct verify_in *v, const uint8_t nt_hash[16],
			uint8_t base_key[16])
{
	size_t ours_len = 0;
	uint8_t *ours = to_utf16(s->cfg->domain ? s->cfg->domain : "", &ours_len);
	if (!ours)
		return -ENOMEM;
	const uint8_t *doms[3] = { v->dom16, (const uint8_t *)"", ours };
	size_t lens[3] = { v->dom16_len, 0, ours_len };
	int rc = -EACCES;
	for (int i = 0; i < 3 && rc == -EACCES; i++) {
		if (i > 0 && lens[i] == v->dom16_len && memcmp(doms[i], v->dom16, lens[i]) == 0)
			continue;
		uint8_t owf[16];
		rc = ntlmv2_owf(nt_hash, v->user16, v->user16_len, doms[i], lens[i], owf);
		if (!rc)
			rc = ntlmv2_verify(owf, s->server_challenge, v->nt, v->nt_len, base_key);
	}
	free(ours);
	return rc;
}

static enum auth_status set_guest(const struct ntlms *s, struct auth_result *res)
{
	free(res->user);
	res->user = strdup(s->cfg->guest_account ? s->cfg->guest_account : "nobody");
	res->guest = true;
	res->have_session_key = false;
	return res->user ? AUTH_OK : AUTH_NO_MEMORY;
}

/* MS-NLMP 3.2.5.1.2: when the client's AV pairs carry MsvAvFlags with
 * 0x2, the MIC is HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE ||
 * AUTHENTICATE with the MIC field zeroed). */
static enum auth_status check_mic(const struct ntlms *s, const struct ntlmssp_authenticate *m,
				  const uint8_t *msg, size_t len, const uint8_t key[16])
{
	const uint8_t *av = m->nt_response + 16 + 28;
	size_t av_len = m->nt_response_len - 16 - 28;
	const uint8_t *val;
	size_t vlen;
	int rc = ntlmssp_av_find(av, av_len, MSV_AV_FLAGS, &val, &vlen);
	if (rc == -ENOENT)
		return AUTH_OK;
	if (rc || vlen != 4)
		return AUTH_LOGON_FAILURE;
	if (!(get_le32(val) & MSV_AV_FLAG_MIC_PRESENT))
		return AUTH_OK;
	if (!m->mic_room || !s->negotiate || !s->challenge)
		return AUTH_LOGON_FAILURE;
	static const uint8_t zero[NTLMSSP_MIC_LEN];
	struct iovec iov[5] = {
		{ s->negotiate, s->negotiate_len },
		{ s->challenge, s->challenge_len },
		{ (void *)msg, NTLMSSP_MIC_OFFSET },
		{ (void *)zero, NTLMSSP_MIC_LEN },
		{ (void *)(msg + NTLMSSP_MIC_OFFSET + NTLMSSP_MIC_LEN), len - NTLMSSP_MIC_OFFSET - NTLMSSP_MIC_LEN },
	};
	uint8_t mic[16];
	if (crypto_hmac_md5(key, 16, iov, 5, mic))
		return AUTH_NO_MEMORY;
	uint8_t diff = 0;
	for (int i = 0; i < 16; i++)
		diff |= (uint8_t)(mic[i] ^ m->mic[i]);
	return diff ? AUTH_LOGON_FAILURE : AUTH_OK;
}

/* Session key (MS-NLMP 3.4.5.1 KXKEY for NTLMv2 is the SessionBaseKey;
 * with KEY_EXCH the client picked a random key and sent it RC4-encrypted
 * under it, 3.2.5.1.2). */
static enum auth_status session_key(struct ntlms *s, const struct ntlmssp_authenticate *m,
				    const uint8_t base_key[16], uint8_t out[16])
{
	memcpy(out, base_key, 16);
	if (!(s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH))
		return AUTH_OK;
	if (m->enc_session_key_len != 16)
		return AUTH_LOGON_FAILURE;
	memcpy(out, m->enc_session_key, 16);
	return crypto_rc4(base_key, 16, out, 16) ? AUTH_NO_MEMORY : AUTH_OK;
}

static enum auth_status verify_user(struct ntlms *s, const struct ntlmssp_authenticate *m, const uint8_t *msg,
				    size_t len, const struct verify_in *v, const char *user, struct auth_result *res)
{
	const struct auth_config *cfg = s->cfg;
	const struct passdb_entry *e = cfg->db ? passdb_find(cfg->db, user) : NULL;
	uint8_t empty_hash[16], base_key[16];
	if (passdb_nt_hash("", empty_hash))
		return AUTH_NO_MEMORY;

	if (!e) {
		/* An unknown "guest" with an empty password is the guest logon. */
		if (cfg->guest_allowed && is_guest_name(cfg, user) && try_password(s, v, empty_hash, base_key) == 0)
			return set_guest(s, res);
		/* "map to guest = Bad User" (and Bad Password, which implies it) */
		if (cfg->guest_allowed && cfg->map_to_guest >= MAP_GUEST_BAD_USER)
			return set_guest(s, res);
		res->failure = "unknown user";
		return AUTH_LOGON_FAILURE;
	}
	if (e->disabled) {
		res->failure = "account disabled";
		return AUTH_LOGON_FAILURE;
	}
	const uint8_t *hash = e->has_nt_hash ? e->nt_hash : e->no_password ? empty_hash : NULL;
	int rc = hash ? try_password(s, v, hash, base_key) : -EACCES;
	if (rc == -ENOMEM)
		return AUTH_NO_MEMORY;
	if (rc) {
		if (cfg->guest_allowed && cfg->map_to_guest == MAP_GUEST_BAD_PASSWORD)
			return set_guest(s, res);
		res->failure = "wrong password";
		return AUTH_LOGON_FAILURE;
	}
	enum auth_status st = session_key(s, m, base_key, res->session_key);
	if (st == AUTH_OK)
		st = check_mic(s, m, msg, len, res->session_key);
	if (st != AUTH_OK) {
		memset(res->session_key, 0, 16);
		res->failure = "bad session key or MIC";
		return st;
	}
	res->user = strdup(e->name);
	if (!res->user)
		return AUTH_NO_MEMORY;
	res->uid = e->uid;
	res->have_session_key = true;
	return AUTH_OK;
}

/* MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE after the 16-byte NTProofStr:
 * RespType 1, HiRespType 1, 6 reserved bytes, TimeStamp, ChallengeFromClient,
 * 4 reserved bytes, then AV pairs that must be well formed up to MsvAvEOL
 * (Windows answers STATUS_INVALID_PARAMETER otherwise; Samba bug 14932). */
static bool ntlmv2_client_challenge_ok(const uint8_t *nt, size_t len)
{
	if (len < 16 + 28 + 4)
		return false;
	const uint8_t *c = nt + 16;
	if (c[0] != 1 || c[1] != 1)
		return false;
	const uint8_t *val;
	size_t vlen;
	/* Look for an id no pair has: a well-formed list ends at MsvAvEOL
	 * (-ENOENT), a broken one gives -EINVAL. */
	return ntlmssp_av_find(c + 28, len - 16 - 28, 0xFFFF, &val, &vlen) == -ENOENT;
}

enum auth_status ntlms_authenticate(struct ntlms *s, const uint8_t *msg, size_t len, struct auth_result *res)
{
	struct ntlmssp_authenticate m;
	if (ntlmssp_decode_authenticate(msg, len, &m, NULL))
		return AUTH_INVALID;
	/* The flags in force are those the client confirms out of what we
	 * offered (MS-NLMP 3.2.5.1.2). */
	s->flags = m.flags ? (m.flags & s->chal_flags) : s->chal_flags;
	bool unicode = s->chal_flags & NTLMSSP_NEGOTIATE_UNICODE;

	struct verify_in v = { .nt = m.nt_response, .nt_len = m.nt_response_len };
	uint8_t *user16 = NULL, *dom16 = NULL;
	char *user = NULL;
	enum auth_status st = AUTH_INVALID;
	if (wire_string(m.user, m.user_len, unicode, &user16, &v.user16_len, &user))
		goto out;
	if (wire_string(m.domain, m.domain_len, unicode, &dom16, &v.dom16_len, &res->domain))
		goto out_user;
	v.user16 = user16;
	v.dom16 = dom16;
	free(res->tried_user);
	res->tried_user = strdup(user ? user : "");

	if (m.user_len == 0 && m.nt_response_len == 0 && m.lm_response_len <= 1) {
		/* MS-NLMP 3.2.5.1.2: anonymous (null session) */
		if (!s->cfg->anonymous_allowed) {
			res->failure = "anonymous logons refused (restrict anonymous)";
			st = AUTH_LOGON_FAILURE;
			goto out_dom;
		}
		res->anonymous = true;
		res->user = strdup("");
		st = res->user ? AUTH_OK : AUTH_NO_MEMORY;
		goto out_dom;
	}
	if (m.nt_response_len <= 24) { /* NTLMv1 or LM only: refused */
		res->failure = "NTLMv1/LM response refused (NTLMv2 only)";
		st = AUTH_LOGON_FAILURE;
		goto out_dom;
	}
	if (!ntlmv2_client_challenge_ok(m.nt_response, m.nt_response_len)) {
		res->failure = "malformed NTLMv2 response";
		st = AUTH_INVALID; /* a malformed blob is a bad request, not a bad password */
		goto out_dom;
	}
	st = verify_user(s, &m, msg, len, &v, user, res);

out_dom:
	free(dom16);
out_user:
	free(user16);
	free(user);
out:
	return st;
}

void ntlms_clear(struct ntlms *s)
{
	free(s->negotiate);
	free(s->challenge);
	s->negotiate = s->challenge = NULL;
}
