/* SMB2 message signing (MS-SMB2 3.1.4.1): HMAC-SHA256, AES-128-CMAC and
 * AES-128-GMAC over a message scattered in iovecs. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_int.h"

/* MS-SMB2 2.2.1: offsets in the 64-byte SYNC/ASYNC header. */
#define HDR_LEN 64
#define HDR_OFF_COMMAND 12
#define HDR_OFF_FLAGS 16
#define HDR_OFF_MESSAGE_ID 24
#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMB2_CANCEL 0x000C

int crypto_cmac(const uint8_t key[16], const struct iovec *iov, int iovcnt, uint8_t out[16])
{
	EVP_MAC_CTX *ctx;
	size_t total, outl = 0;
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (!key || !out || crypto_iov_check(iov, iovcnt, &total) < 0)
		return -EINVAL;
	ctx = crypto_tls_cmac();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_MAC_init(ctx, key, 16, NULL))
		return -EIO;
	if (crypto_mac_update_iov(ctx, iov, iovcnt) < 0)
		return -EIO;
	if (!EVP_MAC_final(ctx, out, &outl, 16) || outl != 16)
		return -EIO;
	return 0;
}

int crypto_gmac(const uint8_t key[16], const uint8_t nonce[12], const struct iovec *iov, int iovcnt, uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t none[16];
	size_t total;
	int outl, rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (!key || !nonce || !out || crypto_iov_check(iov, iovcnt, &total) < 0)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	rc = -EIO;
	/* RFC 4543: GMAC is GCM whose whole input is AAD and whose plaintext is
	 * empty; the tag is the MAC.  The cached GCM cipher avoids the by-name
	 * fetch that EVP_MAC "GMAC" would do on every call.  GCM's default IV
	 * length is the 12 bytes we use. */
	if (!EVP_EncryptInit_ex2(ctx, crypto_algs.aes128_gcm, key, nonce, NULL))
		goto free_ctx;
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len && !EVP_EncryptUpdate(ctx, NULL, &outl, iov[i].iov_base, (int)iov[i].iov_len))
			goto free_ctx;
	if (!EVP_EncryptFinal_ex(ctx, none, &outl) || !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out))
		goto free_ctx;
	rc = 0;
free_ctx:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* MS-SMB2 3.1.4.1: the AES-GMAC nonce is MessageId (8 bytes, as on the wire)
 * then a 32-bit little-endian word: bit 0 set when the sender is the server,
 * bit 1 set for an SMB2 CANCEL request, the other 30 bits zero. */
static void gmac_nonce(const uint8_t *hdr, uint8_t nonce[12])
{
	uint32_t flags = (uint32_t)hdr[HDR_OFF_FLAGS] | (uint32_t)hdr[HDR_OFF_FLAGS + 1] << 8 |
			 (uint32_t)hdr[HDR_OFF_FLAGS + 2] << 16 | (uint32_t)hdr[HDR_OFF_FLAGS + 3] << 24;
	uint16_t command = (uint16_t)(hdr[HDR_OFF_COMMAND] | hdr[HDR_OFF_COMMAND + 1] << 8);
	uint32_t word = 0;

	if (flags & SMB2_FLAGS_SERVER_TO_REDIR)
		word |= 1u;
	if (command == SMB2_CANCEL)
		word |= 2u;
	memcpy(nonce, hdr + HDR_OFF_MESSAGE_ID, 8);
	nonce[8] = (uint8_t)word;
	nonce[9] = (uint8_t)(word >> 8);
	nonce[10] = (uint8_t)(word >> 16);
	nonce[11] = (uint8_t)(word >> 24);
}

int crypto_sign(enum crypto_sign_alg alg, const uint8_t key[16], const struct iovec *iov, int iovcnt, uint8_t sig[16])
{
	uint8_t mac[32], nonce[12];
	int rc;

	if (!key || !sig || iovcnt < 1 || !iov || !iov[0].iov_base || iov[0].iov_len < HDR_LEN)
		return -EINVAL;
	switch (alg) {
	case CRYPTO_SIGN_HMAC_SHA256:
		/* MS-SMB2 3.1.4.1 (2.0.2, 2.1): the first 16 bytes of the MAC. */
		rc = crypto_hmac_sha256(key, 16, iov, iovcnt, mac);
		if (rc == 0)
			memcpy(sig, mac, 16);
		OPENSSL_cleanse(mac, sizeof(mac));
		return rc;
	case CRYPTO_SIGN_AES_CMAC:
		return crypto_cmac(key, iov, iovcnt, sig);
	case CRYPTO_SIGN_AES_GMAC:
		gmac_nonce(iov[0].iov_base, nonce);
		return crypto_gmac(key, nonce, iov, iovcnt, sig);
	}
	return -EINVAL;
}
