/* PAM account management (pam.h). */
#include "auth/pam.h"

#include <security/pam_appl.h>
#include <stddef.h>

#include "util/log.h"

/* Account management asks nothing; a module that does gets no answer. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)data;
	*resp = NULL;
	return PAM_CONV_ERR;
}

enum auth_pam_result auth_pam_account(const char *user)
{
	struct pam_conv conv = { no_conversation, NULL };
	pam_handle_t *h = NULL;
	int r = pam_start("samba", user, &conv, &h);
	if (r != PAM_SUCCESS) {
		log_warn("PAM: cannot start for %s: %s", user, pam_strerror(h, r));
		if (h)
			pam_end(h, r);
		return AUTH_PAM_DENIED; /* fail closed */
	}
	r = pam_acct_mgmt(h, PAM_SILENT);
	enum auth_pam_result out = r == PAM_SUCCESS	     ? AUTH_PAM_OK
				   : r == PAM_ACCT_EXPIRED     ? AUTH_PAM_EXPIRED
				   : r == PAM_NEW_AUTHTOK_REQD ? AUTH_PAM_MUST_CHANGE
							       : AUTH_PAM_DENIED;
	if (out != AUTH_PAM_OK)
		log_debug("PAM account check of %s: %s", user, pam_strerror(h, r));
	pam_end(h, r);
	return out;
}

const char *auth_pam_result_name(enum auth_pam_result r)
{
	switch (r) {
	case AUTH_PAM_OK: return "ok";
	case AUTH_PAM_EXPIRED: return "account expired (PAM)";
	case AUTH_PAM_MUST_CHANGE: return "password must change (PAM)";
	default: return "account refused by PAM";
	}
}
