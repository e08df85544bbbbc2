/* PAM account management for "obey pam restrictions" (Samba's option):
 * after NTLMv2 has proven the password, the unix account must also pass
 * pam_acct_mgmt() of the service "samba" (Samba's /etc/pam.d/samba):
 * expired or locked accounts, pam_access and pam_time rules apply.  The
 * password itself is never given to PAM.  Blocking (NSS, files, LDAP):
 * call it from a pool thread, never from a worker. */
#ifndef SMB3D_AUTH_PAM_H
#define SMB3D_AUTH_PAM_H

enum auth_pam_result {
	AUTH_PAM_OK,
	AUTH_PAM_EXPIRED,         /* the account has expired */
	AUTH_PAM_MUST_CHANGE,     /* a new password is required first */
	AUTH_PAM_DENIED,          /* any other refusal, or PAM could not run (Debian's
				   * common-account turns an expired account into pam_deny's
				   * PAM_AUTH_ERR: this) */
};

/* The account check for unix user `user`. */
enum auth_pam_result auth_pam_account(const char *user);
/* A word for the log. */
const char *auth_pam_result_name(enum auth_pam_result r);

#endif
