/* Thin wrappers over OpenSSL 3 libcrypto (EVP).  src/crypto/ is the only
 * user of OpenSSL in smb3d.  All functions return 0 on success and a
 * negative errno (-EINVAL, -EBADMSG for an authentication failure, -ENOMEM,
 * -EIO for an OpenSSL failure) otherwise. */
#ifndef SMB3D_CRYPTO_H
#define SMB3D_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Load the default and legacy providers (MD4 and RC4 live in "legacy").
 * Call once at start-up; safe to call more than once. */
int crypto_init(void);

/* ---- hashes and MACs used by NTLM (MS-NLMP) ---- */
int crypto_md4(const void *data, size_t len, uint8_t out[16]);
int crypto_md5(const void *data, size_t len, uint8_t out[16]);
int crypto_hmac_md5(const uint8_t *key, size_t keylen, const struct iovec *iov, int iovcnt, uint8_t out[16]);
/* RC4 in place (NTLMSSP key exchange). */
int crypto_rc4(const uint8_t *key, size_t keylen, uint8_t *data, size_t len);
int crypto_random(void *buf, size_t len);

/* ---- SMB 3.1.1 preauth integrity (MS-SMB2 3.3.5.4, 3.3.5.5) ----
 * hash = SHA-512(hash || iov...) */
int crypto_preauth_update(uint8_t hash[64], const struct iovec *iov, int iovcnt);

/* ---- SP800-108 counter-mode KDF with HMAC-SHA256 (MS-SMB2 3.1.4.2) ----
 * label and context are passed with their exact lengths (callers include the
 * trailing NUL where the spec says so).  out_len is 16 or 32 bytes; L in the
 * KDF input is out_len * 8. */
int crypto_kdf(const uint8_t *key, size_t keylen, const void *label, size_t label_len,
	       const void *context, size_t context_len, uint8_t *out, size_t out_len);

/* ---- signing (MS-SMB2 3.1.4.1) ---- */
enum crypto_sign_alg {
	CRYPTO_SIGN_HMAC_SHA256 = 0, /* SMB 2.0.2 / 2.1; also 3.x values for ids below */
	CRYPTO_SIGN_AES_CMAC = 1,
	CRYPTO_SIGN_AES_GMAC = 2,
};
/* Compute the 16-byte signature of one SMB2 message given as iovecs.  The
 * message begins with its 64-byte SMB2 header in iov[0] (iov[0].iov_len >= 64)
 * and the caller has already zeroed the Signature field (bytes 48..63).
 * HMAC-SHA256 uses the first 16 bytes of the MAC; AES-GMAC takes its 12-byte
 * nonce from the header: MessageId (bytes 24..31) then a 32-bit LE word whose
 * bit 0 is set when Flags (bytes 16..19) has SMB2_FLAGS_SERVER_TO_REDIR and
 * bit 1 when Command (bytes 12..13) is SMB2 CANCEL (0x000C). */
int crypto_sign(enum crypto_sign_alg alg, const uint8_t key[16], const struct iovec *iov, int iovcnt,
		uint8_t sig[16]);

/* ---- sealing (MS-SMB2 3.1.4.3) ---- */
enum crypto_cipher {
	CRYPTO_AES_128_CCM = 1, /* values are the MS-SMB2 2.2.3.1.2 cipher ids */
	CRYPTO_AES_128_GCM = 2,
	CRYPTO_AES_256_CCM = 3,
	CRYPTO_AES_256_GCM = 4,
};
static inline size_t crypto_cipher_keylen(enum crypto_cipher c)
{
	return (c == CRYPTO_AES_256_CCM || c == CRYPTO_AES_256_GCM) ? 32 : 16;
}
/* Nonce length used on the wire: 11 for CCM, 12 for GCM. */
static inline size_t crypto_cipher_noncelen(enum crypto_cipher c)
{
	return (c == CRYPTO_AES_128_CCM || c == CRYPTO_AES_256_CCM) ? 11 : 12;
}
/* Encrypt the data iovecs in place.  aad is the 32 bytes of the TRANSFORM
 * header that follow its Signature field (Nonce .. SessionId).  tag receives
 * the 16-byte signature. */
int crypto_encrypt(enum crypto_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t aad[32],
		   const struct iovec *iov, int iovcnt, uint8_t tag[16]);
/* Decrypt in place; -EBADMSG when the tag does not verify, and then the
 * iovecs are zeroed (never hand out unauthenticated plaintext).  An empty
 * message is -EINVAL.  CCM gathers a message of several iovecs into one
 * temporary buffer (OpenSSL's CCM takes one update call); GCM streams. */
int crypto_decrypt(enum crypto_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t aad[32],
		   const struct iovec *iov, int iovcnt, const uint8_t tag[16]);

/* ---- building blocks, exported for tests and for callers that need them ----
 * Each iovec is at most INT_MAX bytes, and so is their sum. */
/* HMAC-SHA256, the full 32-byte MAC. */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const struct iovec *iov, int iovcnt, uint8_t out[32]);
/* AES-128-CMAC (RFC 4493). */
int crypto_cmac(const uint8_t key[16], const struct iovec *iov, int iovcnt, uint8_t out[16]);
/* AES-128-GMAC (RFC 4543): GCM tag with every byte as AAD, no plaintext. */
int crypto_gmac(const uint8_t key[16], const uint8_t nonce[12], const struct iovec *iov, int iovcnt, uint8_t out[16]);
/* Constant-time comparison for signatures: 1 when equal, else 0. */
int crypto_memeq(const void *a, const void *b, size_t len);
/* Free the calling thread's cached MAC contexts (a worker calls this before
 * it exits; threads ending through pthread_exit/return are cleaned anyway). */
void crypto_thread_cleanup(void);

#endif
