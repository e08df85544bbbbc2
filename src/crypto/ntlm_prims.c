/* MD4, MD5, HMAC-MD5 and RC4: the primitives of NTLM (MS-NLMP 3.3.2,
 * 3.4.4).  Cold paths (once per authentication), so contexts are per call. */
#include <errno.h>

#include <openssl/core_names.h>

#include "crypto/crypto_int.h"

static int digest16(const EVP_MD *md, const void *data, size_t len, uint8_t out[16])
{
	unsigned int outl = 0;

	if ((len && !data) || !out)
		return -EINVAL;
	if (!EVP_Digest(data, len, out, &outl, md, NULL) || outl != 16)
		return -EIO;
	return 0;
}

int crypto_md4(const void *data, size_t len, uint8_t out[16])
{
	int rc = crypto_ready();

	return rc < 0 ? rc : digest16(crypto_algs.md4, data, len, out);
}

int crypto_md5(const void *data, size_t len, uint8_t out[16])
{
	int rc = crypto_ready();

	return rc < 0 ? rc : digest16(crypto_algs.md5, data, len, out);
}

int crypto_hmac_md5(const uint8_t *key, size_t keylen, const struct iovec *iov, int iovcnt, uint8_t out[16])
{
	static const uint8_t empty_key[1];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t total, outl = 0;
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if ((keylen && !key) || !out || crypto_iov_check(iov, iovcnt, &total) < 0)
		return -EINVAL;
	ctx = EVP_MAC_CTX_new(crypto_algs.hmac);
	if (!ctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key would mean "keep the previous key", of which there is none. */
	rc = -EIO;
	if (!EVP_MAC_init(ctx, keylen ? key : empty_key, keylen, params))
		goto free_ctx;
	if (crypto_mac_update_iov(ctx, iov, iovcnt) < 0)
		goto free_ctx;
	if (!EVP_MAC_final(ctx, out, &outl, 16) || outl != 16)
		goto free_ctx;
	rc = 0;
free_ctx:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int crypto_rc4(const uint8_t *key, size_t keylen, uint8_t *data, size_t len)
{
	EVP_CIPHER_CTX *ctx;
	int outl, rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (!key || keylen == 0 || keylen > INT_MAX || (len && !data))
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	rc = -EIO;
	/* RC4 defaults to a 16-byte key: set the real length before the key. */
	if (!EVP_EncryptInit_ex2(ctx, crypto_algs.rc4, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_key_length(ctx, (int)keylen) || !EVP_EncryptInit_ex2(ctx, NULL, key, NULL, NULL))
		goto free_ctx;
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (!EVP_EncryptUpdate(ctx, data, &outl, data, n) || outl != n)
			goto free_ctx;
		data += n;
		len -= (size_t)n;
	}
	rc = 0;
free_ctx:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
