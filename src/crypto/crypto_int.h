/* Internal to src/crypto/: the algorithm objects fetched once by
 * crypto_init() and the per-thread MAC contexts.  Not for other layers. */
#ifndef SMB3D_CRYPTO_INT_H
#define SMB3D_CRYPTO_INT_H

#include <limits.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

/* Fetched once, never freed while the process runs.  Fetched objects are
 * immutable and may be shared by all threads; contexts may not. */
struct crypto_algs {
	EVP_MD *md4, *md5, *sha512;
	EVP_MAC *hmac, *cmac;
	EVP_CIPHER *rc4;
	EVP_CIPHER *aes128_ccm, *aes256_ccm, *aes128_gcm, *aes256_gcm;
};
extern struct crypto_algs crypto_algs;

/* Runs crypto_init() on first use (pthread_once); 0 or its error. */
int crypto_ready(void);

/* This thread's HMAC-SHA256 / AES-128-CMAC context, created on first use
 * with its digest or cipher already set, so a call only re-keys it (no
 * provider look-up by name on the hot path).  NULL on allocation failure.
 * Freed by crypto_thread_cleanup() or at thread exit. */
EVP_MAC_CTX *crypto_tls_hmac_sha256(void);
EVP_MAC_CTX *crypto_tls_cmac(void);

/* Check an iovec array: iovcnt >= 0, every non-empty entry has a base, each
 * entry and the sum at most INT_MAX (OpenSSL update calls take an int).
 * Stores the total length.  0 or -EINVAL. */
int crypto_iov_check(const struct iovec *iov, int iovcnt, size_t *total);

/* Feed every iovec to an EVP_MAC context.  0 or -EIO. */
int crypto_mac_update_iov(EVP_MAC_CTX *ctx, const struct iovec *iov, int iovcnt);

#endif
