/* Server side of SESSION_SETUP authentication: SPNEGO (MS-SPNG, RFC 4178)
 * wrapping NTLMSSP (MS-NLMP), NTLMv2 only.  A raw NTLMSSP token (no SPNEGO
 * wrapper) is accepted too, as Windows does. */
#ifndef SMB3D_AUTH_H
#define SMB3D_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/passdb.h"

struct auth_config {
	const char *netbios_name;   /* server name, upper case */
	const char *domain;         /* workgroup / domain name reported in the challenge */
	const char *dns_name;       /* may be NULL */
	const struct passdb *db;    /* users (borrowed for the duration of the exchange) */
	int map_to_guest;           /* enum conf_map_to_guest */
	bool guest_allowed;         /* some share has guest ok, so guest logons are useful */
	bool anonymous_allowed;     /* anonymous (null) sessions */
	const char *guest_account;  /* unix account guest maps to */
};

enum auth_status {
	AUTH_CONTINUE,        /* send *out with STATUS_MORE_PROCESSING_REQUIRED */
	AUTH_OK,              /* done; send *out (may be empty) with STATUS_SUCCESS */
	AUTH_LOGON_FAILURE,   /* STATUS_LOGON_FAILURE (bad user/password, NTLMv1, disabled) */
	AUTH_INVALID,         /* malformed token: STATUS_INVALID_PARAMETER */
	AUTH_NO_MEMORY,
};

struct auth_result {
	char *user;            /* account name as stored in passdb (or the guest account); malloc'd */
	char *domain;          /* domain the client sent; malloc'd */
	bool guest;            /* logged on as guest (map to guest or guest account) */
	bool anonymous;        /* null session */
	uint32_t uid;          /* unix uid from passdb (guest: resolved by the caller) */
	uint8_t session_key[16]; /* exported session key (after key exchange) */
	bool have_session_key;  /* false for anonymous/guest */
	/* After AUTH_LOGON_FAILURE / AUTH_INVALID, for the log: the user name
	 * the client sent (malloc'd, may be NULL) and why it failed (static). */
	char *tried_user;
	const char *failure;
};

struct auth_ctx;

/* Start an exchange.  `cfg` must outlive the context. */
struct auth_ctx *auth_start(const struct auth_config *cfg);
/* Feed one security buffer from the client; on AUTH_CONTINUE/AUTH_OK *out
 * (malloc'd, may be NULL with *out_len 0) is the token to return.  On AUTH_OK
 * auth_result() gives the outcome. */
enum auth_status auth_step(struct auth_ctx *a, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);
const struct auth_result *auth_result(const struct auth_ctx *a);
/* What is known of the exchange so far, whatever its state: after a
 * failure, tried_user, domain and failure say who and why. */
const struct auth_result *auth_attempt(const struct auth_ctx *a);
void auth_free(struct auth_ctx *a);

/* The SPNEGO NegTokenInit2 the server puts into its NEGOTIATE response,
 * offering NTLMSSP (and listing it as the only mechanism). malloc'd. */
int auth_negotiate_token(uint8_t **out, size_t *out_len);

#endif
