/* SMB 3.x message sealing (MS-SMB2 3.1.4.3): AES-128/256-CCM and -GCM, in
 * place over a message scattered in iovecs.  The AAD is the TRANSFORM
 * header from Nonce to SessionId (MS-SMB2 2.2.41), the tag its Signature. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_int.h"

#define AAD_LEN 32
#define TAG_LEN 16

static const EVP_CIPHER *cipher_of(enum crypto_cipher c)
{
	switch (c) {
	case CRYPTO_AES_128_CCM:
		return crypto_algs.aes128_ccm;
	case CRYPTO_AES_128_GCM:
		return crypto_algs.aes128_gcm;
	case CRYPTO_AES_256_CCM:
		return crypto_algs.aes256_ccm;
	case CRYPTO_AES_256_GCM:
		return crypto_algs.aes256_gcm;
	}
	return NULL;
}

static bool is_ccm(enum crypto_cipher c)
{
	return c == CRYPTO_AES_128_CCM || c == CRYPTO_AES_256_CCM;
}

/* Key, nonce, lengths and AAD; for decryption with CCM also the expected
 * tag, which OpenSSL wants before the key. */
static int aead_begin(EVP_CIPHER_CTX *ctx, enum crypto_cipher c, int enc, const uint8_t *key, const uint8_t *nonce,
		      const uint8_t *aad, size_t total, const uint8_t *tag)
{
	int outl;

	if (!EVP_CipherInit_ex2(ctx, cipher_of(c), NULL, NULL, enc, NULL))
		return -EIO;
	if (is_ccm(c)) {
		/* MS-SMB2 2.2.41: CCM uses the first 11 bytes of the Nonce field
		 * (so the length field is 4 bytes, messages < 4 GiB). */
		if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)crypto_cipher_noncelen(c), NULL) ||
		    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, enc ? NULL : (void *)tag))
			return -EIO;
	}
	if (!EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc, NULL))
		return -EIO;
	/* CCM (RFC 3610) encodes the message length in its first block, so
	 * OpenSSL must be told the total before any AAD or data. */
	if (is_ccm(c) && !EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)total))
		return -EIO;
	if (!EVP_CipherUpdate(ctx, NULL, &outl, aad, AAD_LEN))
		return -EIO;
	return 0;
}

/* GCM streams: one update per iovec, in place. */
static int gcm_data(EVP_CIPHER_CTX *ctx, const struct iovec *iov, int iovcnt)
{
	int outl;

	for (int i = 0; i < iovcnt; i++) {
		int n = (int)iov[i].iov_len;

		if (n && (!EVP_CipherUpdate(ctx, iov[i].iov_base, &outl, iov[i].iov_base, n) || outl != n))
			return -EIO;
	}
	return 0;
}

/* Gather the iovecs into buf (to_buf) or scatter buf back into them. */
static void copy_iov(uint8_t *buf, const struct iovec *iov, int iovcnt, bool to_buf)
{
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		if (to_buf)
			memcpy(buf, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, buf, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
}

/* OpenSSL's CCM takes the data in exactly ONE update call (on decryption
 * that call also checks the tag).  A message in one iovec is processed in
 * place; a scattered one is gathered into a temporary buffer, processed and
 * scattered back.  Returns 0, -ENOMEM, or -EBADMSG when the update fails
 * (on decryption: the tag did not verify). */
static int ccm_data(EVP_CIPHER_CTX *ctx, const struct iovec *iov, int iovcnt, size_t total)
{
	const struct iovec *only = NULL;
	uint8_t *buf;
	int outl, nonempty = 0, rc = 0;

	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len) {
			nonempty++;
			only = &iov[i];
		}
	if (nonempty == 1)
		return EVP_CipherUpdate(ctx, only->iov_base, &outl, only->iov_base, (int)total) > 0 ? 0 : -EBADMSG;

	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	copy_iov(buf, iov, iovcnt, true);
	if (EVP_CipherUpdate(ctx, buf, &outl, buf, (int)total) <= 0) {
		rc = -EBADMSG;
		goto free_buf;
	}
	copy_iov(buf, iov, iovcnt, false);
free_buf:
	OPENSSL_cleanse(buf, total);
	free(buf);
	return rc;
}

static int check_args(enum crypto_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
		      const struct iovec *iov, int iovcnt, const uint8_t *tag, size_t *total)
{
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (!cipher_of(c) || !key || !nonce || !aad || !tag)
		return -EINVAL;
	/* An empty message is never sealed (MS-SMB2 2.2.41 OriginalMessageSize
	 * covers at least an SMB2 header). */
	if (crypto_iov_check(iov, iovcnt, total) < 0 || *total == 0)
		return -EINVAL;
	return 0;
}

int crypto_encrypt(enum crypto_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t aad[32],
		   const struct iovec *iov, int iovcnt, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t none[16];
	size_t total;
	int outl, rc;

	rc = check_args(c, key, nonce, aad, iov, iovcnt, tag, &total);
	if (rc < 0)
		return rc;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	rc = aead_begin(ctx, c, 1, key, nonce, aad, total, NULL);
	if (rc < 0)
		goto free_ctx;
	rc = is_ccm(c) ? ccm_data(ctx, iov, iovcnt, total) : gcm_data(ctx, iov, iovcnt);
	if (rc < 0) {
		rc = rc == -EBADMSG ? -EIO : rc;
		goto free_ctx;
	}
	rc = -EIO;
	if (!EVP_EncryptFinal_ex(ctx, none, &outl) || !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag))
		goto free_ctx;
	rc = 0;
free_ctx:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static void wipe_iov(const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len)
			OPENSSL_cleanse(iov[i].iov_base, iov[i].iov_len);
}

int crypto_decrypt(enum crypto_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t aad[32],
		   const struct iovec *iov, int iovcnt, const uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t none[16];
	size_t total;
	int outl, rc;

	rc = check_args(c, key, nonce, aad, iov, iovcnt, tag, &total);
	if (rc < 0)
		return rc;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	rc = aead_begin(ctx, c, 0, key, nonce, aad, total, tag);
	if (rc < 0)
		goto free_ctx;
	if (is_ccm(c)) {
		/* CCM verified the tag inside its single update. */
		rc = ccm_data(ctx, iov, iovcnt, total);
		goto check;
	}
	rc = gcm_data(ctx, iov, iovcnt);
	if (rc < 0)
		goto check;
	rc = -EIO;
	if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag))
		goto check;
	rc = EVP_DecryptFinal_ex(ctx, none, &outl) > 0 ? 0 : -EBADMSG;
check:
	/* GCM has already written plaintext that did not authenticate: never
	 * leave it for a careless caller to use. */
	if (rc < 0)
		wipe_iov(iov, iovcnt);
free_ctx:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
