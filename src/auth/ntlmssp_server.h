/* The server side of one NTLMSSP exchange (MS-NLMP 3.2.5): answer a
 * NEGOTIATE with a CHALLENGE, then check the AUTHENTICATE.  Used by
 * src/auth/ntlm.c, which adds the SPNEGO layer around it. */
#ifndef SMB3D_AUTH_NTLMSSP_SERVER_H
#define SMB3D_AUTH_NTLMSSP_SERVER_H

#include "auth/auth.h"

struct ntlms {
	const struct auth_config *cfg;
	uint8_t server_challenge[8];
	bool challenge_fixed;   /* set by tests; otherwise random */
	uint32_t chal_flags;    /* flags sent in the CHALLENGE */
	uint32_t flags;         /* flags in force after AUTHENTICATE */
	uint8_t *negotiate, *challenge; /* copies, for the MIC (MS-NLMP 3.2.5.1.2) */
	size_t negotiate_len, challenge_len;
};

/* Build the CHALLENGE for a NEGOTIATE.  AUTH_CONTINUE with *out malloc'd,
 * AUTH_INVALID, AUTH_NO_MEMORY. */
enum auth_status ntlms_challenge(struct ntlms *s, const uint8_t *neg, size_t len, uint8_t **out,
				 size_t *out_len);
/* Check an AUTHENTICATE; AUTH_OK fills *res (strings malloc'd). */
enum auth_status ntlms_authenticate(struct ntlms *s, const uint8_t *msg, size_t len, struct auth_result *res);
void ntlms_clear(struct ntlms *s);

/* For tests (defined in ntlm.c): use a fixed server challenge. */
void auth_set_server_challenge(struct auth_ctx *a, const uint8_t challenge[8]);

#endif
