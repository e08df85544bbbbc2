/* HMAC-SHA256, the SP800-108 KDF of MS-SMB2 3.1.4.2, and the SMB 3.1.1
 * preauth integrity hash (MS-SMB2 3.3.5.4, 3.3.5.5). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_int.h"

int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const struct iovec *iov, int iovcnt, uint8_t out[32])
{
	static const uint8_t empty_key[1];
	EVP_MAC_CTX *ctx;
	size_t total, outl = 0;
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if ((keylen && !key) || !out || crypto_iov_check(iov, iovcnt, &total) < 0)
		return -EINVAL;
	ctx = crypto_tls_hmac_sha256();
	if (!ctx)
		return -ENOMEM;
	/* Passing the key every time re-keys the per-thread context; a NULL
	 * key would reuse the previous caller's key. */
	if (!EVP_MAC_init(ctx, keylen ? key : empty_key, keylen, NULL))
		return -EIO;
	if (crypto_mac_update_iov(ctx, iov, iovcnt) < 0)
		return -EIO;
	if (!EVP_MAC_final(ctx, out, &outl, 32) || outl != 32)
		return -EIO;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int crypto_kdf(const uint8_t *key, size_t keylen, const void *label, size_t label_len, const void *context,
	       size_t context_len, uint8_t *out, size_t out_len)
{
	static const uint8_t separator[1] = { 0x00 };
	uint8_t counter[4], bits[4], block[32];
	struct iovec iov[5];
	int rc;

	if ((out_len != 16 && out_len != 32) || !out || (label_len && !label) || (context_len && !context))
		return -EINVAL;
	/* SP800-108 5.1 counter mode, PRF = HMAC-SHA256, r = 32:
	 *   K(i) = PRF(Ki, [i]2 || Label || 0x00 || Context || [L]2)
	 * The 0x00 here is the KDF's own separator; the NUL that ends the
	 * MS-SMB2 3.1.4.2 labels ("SMB2AESCMAC\0") is part of label_len.
	 * L <= 256 fits in the single 32-byte block, so only i = 1 is used. */
	put_be32(counter, 1);
	put_be32(bits, (uint32_t)(out_len * 8));
	iov[0] = (struct iovec){ counter, sizeof(counter) };
	iov[1] = (struct iovec){ (void *)label, label_len };
	iov[2] = (struct iovec){ (void *)separator, sizeof(separator) };
	iov[3] = (struct iovec){ (void *)context, context_len };
	iov[4] = (struct iovec){ bits, sizeof(bits) };
	rc = crypto_hmac_sha256(key, keylen, iov, 5, block);
	if (rc == 0)
		memcpy(out, block, out_len);
	OPENSSL_cleanse(block, sizeof(block));
	return rc;
}

int crypto_preauth_update(uint8_t hash[64], const struct iovec *iov, int iovcnt)
{
	EVP_MD_CTX *ctx;
	size_t total;
	unsigned int outl = 0;
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (!hash || crypto_iov_check(iov, iovcnt, &total) < 0)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	rc = -EIO;
	/* MS-SMB2 3.3.5.4: PreauthIntegrityHashValue = SHA-512(previous value ||
	 * message); the final digest may overwrite hash, it was read first. */
	if (!EVP_DigestInit_ex2(ctx, crypto_algs.sha512, NULL) || !EVP_DigestUpdate(ctx, hash, 64))
		goto free_ctx;
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len && !EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len))
			goto free_ctx;
	if (!EVP_DigestFinal_ex(ctx, hash, &outl) || outl != 64)
		goto free_ctx;
	rc = 0;
free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}
