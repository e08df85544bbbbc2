#include "proto/signing.h"

#include <string.h>

#include "crypto/crypto.h"
#include "state/state.h"
#include "wire/cursor.h"
#include "wire/smb2.h"

int smb_sign(int alg, const uint8_t key[16], struct iovec *iov, int n)
{
	uint8_t *h = iov[0].iov_base;
	put_le32(h + 16, get_le32(h + 16) | SMB2_FLAGS_SIGNED);
	memset(h + 48, 0, 16);
	uint8_t sig[16];
	int ret = crypto_sign(alg, key, iov, n, sig);
	if (ret == 0)
		memcpy(h + 48, sig, 16);
	return ret;
}

bool smb_verify(int alg, const uint8_t key[16], uint8_t *msg, size_t len)
{
	if (len < SMB2_HDR_SIZE)
		return false;
	uint8_t got[16], want[16];
	memcpy(got, msg + 48, 16);
	memset(msg + 48, 0, 16);
	struct iovec iov = { msg, len };
	int ret = crypto_sign(alg, key, &iov, 1, want);
	memcpy(msg + 48, got, 16);
	if (ret)
		return false;
	/* constant-time compare */
	uint8_t d = 0;
	for (int i = 0; i < 16; i++)
		d |= (uint8_t)(got[i] ^ want[i]);
	return d == 0;
}

/* Labels and contexts include their terminating NUL (MS-SMB2 3.3.5.5.3). */
#define KDF(key, label, ctx, ctxlen, out, outlen) \
	crypto_kdf(key, 16, label, sizeof(label), ctx, ctxlen, out, outlen)

void smb_derive_signing_key(const uint8_t session_key[16], uint16_t dialect, const uint8_t *preauth, uint8_t out[16])
{
	if (dialect < SMB2_DIALECT_300)
		memcpy(out, session_key, 16);
	else if (dialect == SMB2_DIALECT_311)
		KDF(session_key, "SMBSigningKey", preauth, 64, out, 16);
	else
		KDF(session_key, "SMB2AESCMAC", "SmbSign", sizeof("SmbSign"), out, 16);
}

void smb_derive_keys(struct session *s, uint16_t dialect, int cipher, const uint8_t *preauth)
{
	size_t klen = cipher ? crypto_cipher_keylen((enum crypto_cipher)cipher) : 16;
	smb_derive_signing_key(s->session_key, dialect, preauth, s->signing_key);
	if (dialect == SMB2_DIALECT_311) {
		KDF(s->session_key, "SMBS2CCipherKey", preauth, 64, s->enc_key, klen);
		KDF(s->session_key, "SMBC2SCipherKey", preauth, 64, s->dec_key, klen);
		KDF(s->session_key, "SMBAppKey", preauth, 64, s->app_key, 16);
	} else if (dialect >= SMB2_DIALECT_300) {
		KDF(s->session_key, "SMB2AESCCM", "ServerOut", sizeof("ServerOut"), s->enc_key, 16);
		KDF(s->session_key, "SMB2AESCCM", "ServerIn ", sizeof("ServerIn "), s->dec_key, 16);
		KDF(s->session_key, "SMB2APP", "SmbRpc", sizeof("SmbRpc"), s->app_key, 16);
	} else {
		memcpy(s->app_key, s->session_key, 16);
	}
}
