/* NTLMv2 computations (MS-NLMP 3.3.2, 3.4.4.2, 3.4.5): one-way function,
 * response check, session keys, and the NTLMSSP message signature used
 * for the SPNEGO mechListMIC. */
#ifndef SMB3D_AUTH_NTLMV2_H
#define SMB3D_AUTH_NTLMV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NTOWFv2 = HMAC_MD5(NT hash, UPPER(user) || domain), both UTF-16LE as
 * given (the user name is upper-cased here).  0 or -errno. */
int ntlmv2_owf(const uint8_t nt_hash[16], const uint8_t *user16, size_t user_len,
	       const uint8_t *domain16, size_t domain_len, uint8_t out[16]);

/* Check an NTLMv2 NtChallengeResponse (NTProofStr || temp) against the
 * server challenge.  0 and the SessionBaseKey on a match, -EACCES on a
 * mismatch, -EINVAL when it is too short to be NTLMv2, other -errno. */
int ntlmv2_verify(const uint8_t owf[16], const uint8_t server_challenge[8], const uint8_t *nt_resp,
		  size_t nt_len, uint8_t session_base_key[16]);

/* Signing and sealing keys of one direction (MS-NLMP 3.4.5.2, 3.4.5.3). */
struct ntlm_dir_keys {
	uint8_t sign[16];
	uint8_t seal[16];
	size_t seal_len; /* 16, 7 or 5 by NEGOTIATE_128 / _56 */
};
int ntlm_derive_keys(const uint8_t exported_key[16], uint32_t flags, bool client_to_server,
		     struct ntlm_dir_keys *out);

/* NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP
 * 3.4.4.2): version 1, HMAC_MD5(SignKey, seqnum || msg)[0..8] (RC4-sealed
 * with SealKey when KEY_EXCH is negotiated), seqnum.  A fresh RC4 state is
 * used, which is right for the first message of a direction -- the only
 * use here (mechListMIC, seqnum 0). */
int ntlm_sign(const struct ntlm_dir_keys *k, uint32_t flags, uint32_t seqnum, const uint8_t *msg,
	      size_t len, uint8_t sig[16]);

/* Upper-case UTF-16LE code units in place (ASCII, Latin-1, Greek,
 * Cyrillic; enough for user names in NTOWFv2). */
void ntlm_utf16_upper(uint8_t *s, size_t len);

#endif
