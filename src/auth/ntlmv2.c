/* NTLMv2 computations, MS-NLMP 3.3.2 and 3.4. */
#include "auth/ntlmv2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "crypto/crypto.h"
#include "wire/ntlmssp.h"

#define IOV(p, n) ((struct iovec){ .iov_base = (void *)(p), .iov_len = (n) })

static uint16_t upper_unit(uint16_t c)
{
	if (c >= 'a' && c <= 'z')
		return (uint16_t)(c - 0x20);
	if ((c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return (uint16_t)(c - 0x20);
	if (c >= 0x450 && c <= 0x45f)
		return (uint16_t)(c - 0x50);
	if (c >= 0x100 && c <= 0x17f && (c & 1) && c != 0x131 && c != 0x149 && (c < 0x138 || c > 0x148))
		return (uint16_t)(c - 1); /* Latin Extended-A pairs (odd = lower) */
	return c;
}

void ntlm_utf16_upper(uint8_t *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		put_le16(s + i, upper_unit(get_le16(s + i)));
}

int ntlmv2_owf(const uint8_t nt_hash[16], const uint8_t *user16, size_t user_len,
	       const uint8_t *domain16, size_t domain_len, uint8_t out[16])
{
	uint8_t *up = malloc(user_len ? user_len : 1);
	if (!up)
		return -ENOMEM;
	if (user_len)
		memcpy(up, user16, user_len);
	ntlm_utf16_upper(up, user_len);
	struct iovec iov[2] = { IOV(up, user_len), IOV(domain16, domain_len) };
	int rc = crypto_hmac_md5(nt_hash, 16, iov, 2, out);
	free(up);
	return rc;
}

/* MS-NLMP 3.3.2: NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge || temp),
 * NtChallengeResponse = NTProofStr || temp,
 * SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr). */
int ntlmv2_verify(const uint8_t owf[16], const uint8_t server_challenge[8], const uint8_t *nt_resp,
		  size_t nt_len, uint8_t session_base_key[16])
{
	/* 16 proof + the NTLMv2_CLIENT_CHALLENGE header (28) at least;
	 * a 24-byte response is NTLMv1 (MS-NLMP 2.2.2.6). */
	if (nt_len < 16 + 28)
		return -EINVAL;
	uint8_t proof[16];
	struct iovec iov[2] = { IOV(server_challenge, 8), IOV(nt_resp + 16, nt_len - 16) };
	int rc = crypto_hmac_md5(owf, 16, iov, 2, proof);
	if (rc)
		return rc;
	/* constant-time compare */
	uint8_t diff = 0;
	for (int i = 0; i < 16; i++)
		diff |= (uint8_t)(proof[i] ^ nt_resp[i]);
	if (diff)
		return -EACCES;
	struct iovec k = IOV(proof, 16);
	return crypto_hmac_md5(owf, 16, &k, 1, session_base_key);
}

static int md5_with_magic(const uint8_t *key, size_t key_len, const char *magic, uint8_t out[16])
{
	size_t mlen = strlen(magic) + 1; /* the constants include their NUL */
	uint8_t buf[16 + 80];
	if (key_len > 16 || mlen > 80)
		return -EINVAL;
	memcpy(buf, key, key_len);
	memcpy(buf + key_len, magic, mlen);
	return crypto_md5(buf, key_len + mlen, out);
}

int ntlm_derive_keys(const uint8_t exported_key[16], uint32_t flags, bool client_to_server,
		     struct ntlm_dir_keys *out)
{
	/* MS-NLMP 3.4.5.2 SIGNKEY and 3.4.5.3 SEALKEY (extended session security) */
	const char *sign_magic = client_to_server
		? "session key to client-to-server signing key magic constant"
		: "session key to server-to-client signing key magic constant";
	const char *seal_magic = client_to_server
		? "session key to client-to-server sealing key magic constant"
		: "session key to server-to-client sealing key magic constant";
	size_t seal_src = 5;
	if (flags & NTLMSSP_NEGOTIATE_128)
		seal_src = 16;
	else if (flags & NTLMSSP_NEGOTIATE_56)
		seal_src = 7;
	int rc = md5_with_magic(exported_key, 16, sign_magic, out->sign);
	if (!rc)
		rc = md5_with_magic(exported_key, seal_src, seal_magic, out->seal);
	out->seal_len = 16;
	return rc;
}

int ntlm_sign(const struct ntlm_dir_keys *k, uint32_t flags, uint32_t seqnum, const uint8_t *msg,
	      size_t len, uint8_t sig[16])
{
	uint8_t seq[4], mac[16];
	put_le32(seq, seqnum);
	struct iovec iov[2] = { IOV(seq, 4), IOV(msg, len) };
	int rc = crypto_hmac_md5(k->sign, 16, iov, 2, mac);
	if (rc)
		return rc;
	if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		rc = crypto_rc4(k->seal, k->seal_len, mac, 8);
		if (rc)
			return rc;
	}
	put_le32(sig, 1);
	memcpy(sig + 4, mac, 8);
	put_le32(sig + 12, seqnum);
	return 0;
}
