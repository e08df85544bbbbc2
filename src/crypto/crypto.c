/* Provider loading, the cache of fetched algorithms, per-thread MAC contexts
 * and small shared helpers of src/crypto/. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "crypto/crypto_int.h"
#include "util/log.h"

struct crypto_algs crypto_algs;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = -EIO;
static pthread_key_t tls_key;

/* Contexts owned by one thread (see crypto_tls_*). */
struct crypto_tls {
	EVP_MAC_CTX *hmac_sha256;
	EVP_MAC_CTX *cmac;
};

static void tls_free(void *arg)
{
	struct crypto_tls *t = arg;

	if (!t)
		return;
	EVP_MAC_CTX_free(t->hmac_sha256);
	EVP_MAC_CTX_free(t->cmac);
	free(t);
}

static int fetch_all(void)
{
	struct crypto_algs *a = &crypto_algs;

	a->md4 = EVP_MD_fetch(NULL, "MD4", NULL);
	a->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	a->sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	a->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	a->cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	a->rc4 = EVP_CIPHER_fetch(NULL, "RC4", NULL);
	a->aes128_ccm = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
	a->aes256_ccm = EVP_CIPHER_fetch(NULL, "AES-256-CCM", NULL);
	a->aes128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	a->aes256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!a->md4 || !a->md5 || !a->sha512 || !a->hmac || !a->cmac || !a->rc4 || !a->aes128_ccm ||
	    !a->aes256_ccm || !a->aes128_gcm || !a->aes256_gcm)
		return -EIO;
	return 0;
}

static void unfetch_all(void)
{
	struct crypto_algs *a = &crypto_algs;

	EVP_MD_free(a->md4);
	EVP_MD_free(a->md5);
	EVP_MD_free(a->sha512);
	EVP_MAC_free(a->hmac);
	EVP_MAC_free(a->cmac);
	EVP_CIPHER_free(a->rc4);
	EVP_CIPHER_free(a->aes128_ccm);
	EVP_CIPHER_free(a->aes256_ccm);
	EVP_CIPHER_free(a->aes128_gcm);
	EVP_CIPHER_free(a->aes256_gcm);
	memset(a, 0, sizeof(*a));
}

static void do_init(void)
{
	OSSL_PROVIDER *deflt, *legacy;

	/* Loading any provider explicitly stops OpenSSL from loading "default"
	 * implicitly, so both are loaded.  MD4 and RC4 (MS-NLMP) live only in
	 * "legacy". */
	deflt = OSSL_PROVIDER_load(NULL, "default");
	if (!deflt) {
		log_err("crypto: cannot load the OpenSSL default provider");
		goto fail;
	}
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (!legacy) {
		log_err("crypto: cannot load the OpenSSL legacy provider (MD4/RC4 for NTLM)");
		goto unload_default;
	}
	if (fetch_all() < 0) {
		log_err("crypto: an algorithm is missing from the OpenSSL providers");
		goto unfetch;
	}
	if (pthread_key_create(&tls_key, tls_free) != 0)
		goto unfetch;
	init_status = 0;
	return;

unfetch:
	unfetch_all();
	OSSL_PROVIDER_unload(legacy);
unload_default:
	OSSL_PROVIDER_unload(deflt);
fail:
	init_status = -EIO;
}

int crypto_init(void)
{
	return crypto_ready();
}

int crypto_ready(void)
{
	pthread_once(&init_once, do_init);
	return init_status;
}

void crypto_thread_cleanup(void)
{
	if (crypto_ready() < 0)
		return;
	tls_free(pthread_getspecific(tls_key));
	pthread_setspecific(tls_key, NULL);
}

static struct crypto_tls *tls_get(void)
{
	struct crypto_tls *t = pthread_getspecific(tls_key);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (pthread_setspecific(tls_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* A MAC context with one string parameter (the digest or cipher name). */
static EVP_MAC_CTX *mac_ctx_new(EVP_MAC *mac, const char *param, const char *value)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);

	if (!ctx)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(param, (char *)value, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

EVP_MAC_CTX *crypto_tls_hmac_sha256(void)
{
	struct crypto_tls *t = tls_get();

	if (!t)
		return NULL;
	if (!t->hmac_sha256)
		t->hmac_sha256 = mac_ctx_new(crypto_algs.hmac, OSSL_MAC_PARAM_DIGEST, "SHA256");
	return t->hmac_sha256;
}

EVP_MAC_CTX *crypto_tls_cmac(void)
{
	struct crypto_tls *t = tls_get();

	if (!t)
		return NULL;
	/* MS-SMB2 3.1.4.1: AES-128-CMAC (RFC 4493) is CMAC over AES-128-CBC. */
	if (!t->cmac)
		t->cmac = mac_ctx_new(crypto_algs.cmac, OSSL_MAC_PARAM_CIPHER, "AES-128-CBC");
	return t->cmac;
}

int crypto_iov_check(const struct iovec *iov, int iovcnt, size_t *total)
{
	size_t sum = 0;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > INT_MAX || (iov[i].iov_len && !iov[i].iov_base))
			return -EINVAL;
		sum += iov[i].iov_len;
		if (sum > INT_MAX)
			return -EINVAL;
	}
	*total = sum;
	return 0;
}

int crypto_mac_update_iov(EVP_MAC_CTX *ctx, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len && !EVP_MAC_update(ctx, iov[i].iov_base, iov[i].iov_len))
			return -EIO;
	return 0;
}

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	int rc = crypto_ready();

	if (rc < 0)
		return rc;
	if (len && !buf)
		return -EINVAL;
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(p, n) != 1)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
