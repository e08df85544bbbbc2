/* auth_* API: the SPNEGO layer (RFC 4178, MS-SPNG 3.3) around the NTLMSSP
 * server in ntlmssp_server.c.  A raw NTLMSSP exchange (no SPNEGO) is
 * accepted too. */
#include "auth/auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ntlmssp_server.h"
#include "auth/ntlmv2.h"
#include "wire/ntlmssp.h"
#include "wire/spnego.h"

enum auth_state {
	ST_INIT,             /* nothing received yet */
	ST_WANT_NEGOTIATE,   /* SPNEGO picked NTLMSSP; its NEGOTIATE is still due */
	ST_WANT_AUTHENTICATE,
	ST_DONE,
	ST_FAILED,
};

struct auth_ctx {
	const struct auth_config *cfg;
	enum auth_state state;
	bool spnego;
	/* RFC 4178 section 5: NTLMSSP was not the client's first choice, so
	 * mechListMIC must be exchanged. */
	bool mic_required;
	uint8_t *mech_types; /* the client's DER MechTypeList, for mechListMIC */
	size_t mech_types_len;
	struct ntlms ntlm;
	struct auth_result res;
};

/* MS-SPNG 2.2.1: what Windows puts in negHints.hintName */
#define HINT_NAME "not_defined_in_RFC4178@please_ignore"

struct auth_ctx *auth_start(const struct auth_config *cfg)
{
	struct auth_ctx *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cfg = cfg;
	a->ntlm.cfg = cfg;
	return a;
}

/* For tests: use a fixed server challenge instead of a random one. */
void auth_set_server_challenge(struct auth_ctx *a, const uint8_t challenge[8])
{
	memcpy(a->ntlm.server_challenge, challenge, 8);
	a->ntlm.challenge_fixed = true;
}

const struct auth_result *auth_result(const struct auth_ctx *a)
{
	return a->state == ST_DONE ? &a->res : NULL;
}

const struct auth_result *auth_attempt(const struct auth_ctx *a)
{
	return &a->res;
}

void auth_free(struct auth_ctx *a)
{
	if (!a)
		return;
	ntlms_clear(&a->ntlm);
	free(a->mech_types);
	free(a->res.user);
	free(a->res.domain);
	free(a->res.tried_user);
	memset(a->res.session_key, 0, sizeof(a->res.session_key));
	free(a);
}

int auth_negotiate_token(uint8_t **out, size_t *out_len)
{
	struct spnego_init in = {
		.n_mechs = 1,
		.hint_name = HINT_NAME,
	};
	in.mechs[0] = spnego_oid_ntlmssp;
	return spnego_encode_init(&in, out, out_len);
}

static enum auth_status resp(int state, bool mech, const uint8_t *tok, size_t tok_len, const uint8_t *mic,
			     size_t mic_len, uint8_t **out, size_t *out_len)
{
	struct spnego_resp r = {
		.neg_state = state,
		.response_token = tok,
		.response_token_len = tok_len,
		.mech_list_mic = mic,
		.mech_list_mic_len = mic_len,
	};
	if (mech)
		r.supported_mech = spnego_oid_ntlmssp;
	int rc = spnego_encode_resp(&r, out, out_len);
	return rc == 0 ? AUTH_CONTINUE : rc == -ENOMEM ? AUTH_NO_MEMORY : AUTH_INVALID;
}

/* NEGOTIATE -> CHALLENGE, wrapped in a NegTokenResp when SPNEGO is in use. */
static enum auth_status answer_negotiate(struct auth_ctx *a, const uint8_t *tok, size_t len, bool with_mech,
					 uint8_t **out, size_t *out_len)
{
	if (ntlmssp_message_type(tok, len) != NTLMSSP_NEGOTIATE)
		return AUTH_INVALID;
	uint8_t *chal;
	size_t chal_len;
	enum auth_status st = ntlms_challenge(&a->ntlm, tok, len, &chal, &chal_len);
	if (st != AUTH_CONTINUE)
		return st;
	a->state = ST_WANT_AUTHENTICATE;
	if (!a->spnego) {
		*out = chal;
		*out_len = chal_len;
		return AUTH_CONTINUE;
	}
	st = resp(SPNEGO_ACCEPT_INCOMPLETE, with_mech, chal, chal_len, NULL, 0, out, out_len);
	free(chal);
	return st;
}

static enum auth_status start_spnego(struct auth_ctx *a, const struct spnego_init *in, uint8_t **out,
				     size_t *out_len)
{
	size_t i;
	for (i = 0; i < in->n_mechs; i++)
		if (spnego_oid_eq(&in->mechs[i], &spnego_oid_ntlmssp))
			break;
	if (i == in->n_mechs)
		return AUTH_INVALID; /* no mechanism in common */
	a->spnego = true;
	a->mech_types = malloc(in->mech_types_der_len);
	if (!a->mech_types)
		return AUTH_NO_MEMORY;
	memcpy(a->mech_types, in->mech_types_der, in->mech_types_der_len);
	a->mech_types_len = in->mech_types_der_len;

	/* RFC 4178 4.2.1: the optimistic mechToken belongs to the first
	 * mechanism; if that is not NTLMSSP, drop it and ask for NTLMSSP. */
	if (i == 0 && in->mech_token)
		return answer_negotiate(a, in->mech_token, in->mech_token_len, true, out, out_len);
	a->mic_required = i != 0;
	a->state = ST_WANT_NEGOTIATE;
	return resp(SPNEGO_ACCEPT_INCOMPLETE, true, NULL, 0, NULL, 0, out, out_len);
}

/* mechListMIC (MS-SPNG 3.3.5.1, RFC 4178 section 5): the NTLMSSP signature
 * of the client's DER MechTypeList, seqnum 0 in each direction. */
static enum auth_status mech_list_mic(struct auth_ctx *a, bool client_to_server, uint8_t sig[16])
{
	struct ntlm_dir_keys k;
	if (ntlm_derive_keys(a->res.session_key, a->ntlm.flags, client_to_server, &k) ||
	    ntlm_sign(&k, a->ntlm.flags, 0, a->mech_types, a->mech_types_len, sig))
		return AUTH_NO_MEMORY;
	memset(&k, 0, sizeof(k));
	return AUTH_OK;
}

static enum auth_status finish_spnego(struct auth_ctx *a, const struct spnego_resp *r, uint8_t **out,
				      size_t *out_len)
{
	uint8_t sig[16];
	bool send_mic = false;
	if (a->res.have_session_key && (r->mech_list_mic || a->mic_required)) {
		if (r->mech_list_mic) {
			enum auth_status st = mech_list_mic(a, true, sig);
			if (st != AUTH_OK)
				return st;
			if (r->mech_list_mic_len != 16 || memcmp(sig, r->mech_list_mic, 16) != 0) {
				a->res.failure = "bad SPNEGO mechListMIC";
				return AUTH_LOGON_FAILURE;
			}
		}
		enum auth_status st = mech_list_mic(a, false, sig);
		if (st != AUTH_OK)
			return st;
		send_mic = true;
	}
	enum auth_status st = resp(SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, send_mic ? sig : NULL,
				   send_mic ? 16 : 0, out, out_len);
	return st == AUTH_CONTINUE ? AUTH_OK : st;
}

static enum auth_status authenticate(struct auth_ctx *a, const uint8_t *tok, size_t len,
				     const struct spnego_resp *r, uint8_t **out, size_t *out_len)
{
	if (ntlmssp_message_type(tok, len) != NTLMSSP_AUTHENTICATE)
		return AUTH_INVALID;
	enum auth_status st = ntlms_authenticate(&a->ntlm, tok, len, &a->res);
	if (st == AUTH_OK && r)
		st = finish_spnego(a, r, out, out_len);
	return st;
}

static enum auth_status step(struct auth_ctx *a, const uint8_t *in, size_t in_len, uint8_t **out,
			     size_t *out_len)
{
	int type = ntlmssp_message_type(in, in_len);
	if (type > 0) { /* raw NTLMSSP */
		if (a->state == ST_INIT && type == NTLMSSP_NEGOTIATE)
			return answer_negotiate(a, in, in_len, false, out, out_len);
		if (a->state == ST_WANT_AUTHENTICATE && !a->spnego)
			return authenticate(a, in, in_len, NULL, out, out_len);
		return AUTH_INVALID;
	}
	struct spnego_token t;
	if (spnego_decode(in, in_len, &t, NULL))
		return AUTH_INVALID;
	if (t.kind == SPNEGO_KIND_INIT)
		return a->state == ST_INIT ? start_spnego(a, &t.init, out, out_len) : AUTH_INVALID;
	if (!a->spnego || !t.resp.response_token)
		return AUTH_INVALID;
	if (a->state == ST_WANT_NEGOTIATE)
		return answer_negotiate(a, t.resp.response_token, t.resp.response_token_len, false, out, out_len);
	if (a->state == ST_WANT_AUTHENTICATE)
		return authenticate(a, t.resp.response_token, t.resp.response_token_len, &t.resp, out, out_len);
	return AUTH_INVALID;
}

enum auth_status auth_step(struct auth_ctx *a, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (a->state == ST_DONE || a->state == ST_FAILED)
		return AUTH_INVALID;
	enum auth_status st = step(a, in, in_len, out, out_len);
	if (st == AUTH_OK) {
		a->state = ST_DONE;
	} else if (st != AUTH_CONTINUE) {
		a->state = ST_FAILED;
		free(*out);
		*out = NULL;
		*out_len = 0;
	}
	return st;
}
