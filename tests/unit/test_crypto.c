/* Unit tests of src/crypto/ against published vectors:
 *  - RFC 1320 (MD4), RFC 1321 (MD5), RFC 2202 (HMAC-MD5), RFC 6229 (RC4),
 *    RFC 4231 (HMAC-SHA256), RFC 4493 (AES-CMAC), McGrew-Viega GCM test 1;
 *  - Microsoft Open Specifications blog posts "SMB 3.1.1 Pre-authentication
 *    integrity in Windows 10", "Encryption in SMB 3.0: a protocol
 *    perspective", "SMB 3.1.1 Encryption in Windows 10" and "SMB 2 and SMB 3
 *    security in Windows 10: the anatomy of signing and cryptographic keys":
 *    preauth hash chain, derived keys, a CMAC-signed session setup response,
 *    CCM and GCM transform messages;
 *  - AES-GMAC signing (no published SMB vector): expected tags computed with
 *    the Python "cryptography" package from the MS-SMB2 3.1.4.1 nonce rule;
 *  - round trips and tamper checks for all four ciphers over odd iovecs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"

/* ---- helpers ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into a fresh buffer (caller frees); *len gets its length. */
static uint8_t *unhex(const char *s, size_t *len)
{
	size_t n = strlen(s);
	uint8_t *out;

	assert_int_equal(n % 2, 0);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	size_t wlen;
	uint8_t *w = unhex(want, &wlen);

	assert_int_equal(wlen, len);
	assert_memory_equal(got, w, len);
	free(w);
}

/* Split buf into iovecs at the given cut points (ascending, < len). */
static int split(uint8_t *buf, size_t len, const size_t *cuts, int ncuts, struct iovec *iov)
{
	size_t prev = 0;
	int n = 0;

	for (int i = 0; i < ncuts; i++) {
		iov[n++] = (struct iovec){ buf + prev, cuts[i] - prev };
		prev = cuts[i];
	}
	iov[n++] = (struct iovec){ buf + prev, len - prev };
	return n;
}

static int setup(void **state)
{
	(void)state;
	return crypto_init();
}

static int teardown(void **state)
{
	(void)state;
	crypto_thread_cleanup();
	return 0;
}

/* ---- NTLM primitives ---- */

static void test_md4_rfc1320(void **state)
{
	static const struct { const char *in, *md; } v[] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "043f8582f241db351ce627e153e7f0e4" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(crypto_md4(v[i].in, strlen(v[i].in), out), 0);
		assert_hex(out, 16, v[i].md);
	}
}

static void test_md5_rfc1321(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(crypto_md5("", 0, out), 0);
	assert_hex(out, 16, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(crypto_md5("abc", 3, out), 0);
	assert_hex(out, 16, "900150983cd24fb0d6963f7d28e17f72");
}

static void test_hmac_md5_rfc2202(void **state)
{
	uint8_t key[16], data[50], out[16];
	char msg[] = "what do ya want for nothing?";
	struct iovec iov[3];
	size_t cuts[] = { 5, 6 };

	(void)state;
	memset(key, 0x0b, sizeof(key));
	iov[0] = (struct iovec){ "Hi There", 8 };
	assert_int_equal(crypto_hmac_md5(key, 16, iov, 1, out), 0);
	assert_hex(out, 16, "9294727a3638bb1c13f48ef8158bfc9d");

	/* Scattered input, including an empty middle piece. */
	split((uint8_t *)msg, strlen(msg), cuts, 2, iov);
	assert_int_equal(crypto_hmac_md5((const uint8_t *)"Jefe", 4, iov, 3, out), 0);
	assert_hex(out, 16, "750c783e6ab0b503eaa86e310a5db738");

	memset(key, 0xaa, sizeof(key));
	memset(data, 0xdd, sizeof(data));
	iov[0] = (struct iovec){ data, sizeof(data) };
	assert_int_equal(crypto_hmac_md5(key, 16, iov, 1, out), 0);
	assert_hex(out, 16, "56be34521d144c88dbb8c733f0e8b3f6");
}

static void test_rc4(void **state)
{
	uint8_t key5[] = { 1, 2, 3, 4, 5 }, key16[16], buf[16] = { 0 };
	char text[] = "Plaintext";

	(void)state;
	/* RFC 6229 keystream at offset 0, 40-bit and 128-bit keys. */
	assert_int_equal(crypto_rc4(key5, sizeof(key5), buf, sizeof(buf)), 0);
	assert_hex(buf, 16, "b2396305f03dc027ccc3524a0a1118a8");
	for (int i = 0; i < 16; i++)
		key16[i] = (uint8_t)(i + 1);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crypto_rc4(key16, sizeof(key16), buf, sizeof(buf)), 0);
	assert_hex(buf, 16, "9ac7cc9a609d1ef7b2932899cde41b97");

	/* The classic Key/Plaintext vector, and back again. */
	assert_int_equal(crypto_rc4((const uint8_t *)"Key", 3, (uint8_t *)text, 9), 0);
	assert_hex((uint8_t *)text, 9, "bbf316e8d940af0ad3");
	assert_int_equal(crypto_rc4((const uint8_t *)"Key", 3, (uint8_t *)text, 9), 0);
	assert_memory_equal(text, "Plaintext", 9);

	assert_int_equal(crypto_rc4(NULL, 3, buf, 1), -EINVAL);
	assert_int_equal(crypto_rc4(key5, 0, buf, 1), -EINVAL);
}

static void test_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(NULL, 0), 0);
}

/* ---- MACs ---- */

static void test_hmac_sha256_rfc4231(void **state)
{
	uint8_t key[131], data[50], out[32];
	char msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	struct iovec iov[4];
	size_t cuts[] = { 1, 17, 40 };

	(void)state;
	memset(key, 0x0b, 20);
	iov[0] = (struct iovec){ "Hi There", 8 };
	assert_int_equal(crypto_hmac_sha256(key, 20, iov, 1, out), 0);
	assert_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	iov[0] = (struct iovec){ "what do ya want ", 16 };
	iov[1] = (struct iovec){ "for nothing?", 12 };
	assert_int_equal(crypto_hmac_sha256((const uint8_t *)"Jefe", 4, iov, 2, out), 0);
	assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	memset(key, 0xaa, 20);
	memset(data, 0xdd, sizeof(data));
	iov[0] = (struct iovec){ data, sizeof(data) };
	assert_int_equal(crypto_hmac_sha256(key, 20, iov, 1, out), 0);
	assert_hex(out, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, 131);
	split((uint8_t *)msg, strlen(msg), cuts, 3, iov);
	assert_int_equal(crypto_hmac_sha256(key, 131, iov, 4, out), 0);
	assert_hex(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static const char rfc4493_key[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char rfc4493_msg[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
				  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void test_cmac_rfc4493(void **state)
{
	static const struct { size_t len; const char *mac; } v[] = {
		{ 0, "bb1d6929e95937287fa37d129b756746" },
		{ 16, "070a16b46b4d4144f79bdd9dd04a287c" },
		{ 40, "dfa66747de9ae63030ca32611497c827" },
		{ 64, "51f0bebf7e3b9d92fc49741779363cfe" },
	};
	size_t klen, mlen;
	uint8_t *key = unhex(rfc4493_key, &klen), *msg = unhex(rfc4493_msg, &mlen), out[16];
	struct iovec iov[4];
	size_t cuts[] = { 7, 16, 33 };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		iov[0] = (struct iovec){ msg, v[i].len };
		assert_int_equal(crypto_cmac(key, iov, 1, out), 0);
		assert_hex(out, 16, v[i].mac);
	}
	/* 40 bytes scattered over pieces that straddle AES blocks. */
	split(msg, 40, cuts, 3, iov);
	assert_int_equal(crypto_cmac(key, iov, 4, out), 0);
	assert_hex(out, 16, v[2].mac);

	/* Through crypto_sign: the 64-byte example stands in for a header. */
	iov[0] = (struct iovec){ msg, 64 };
	assert_int_equal(crypto_sign(CRYPTO_SIGN_AES_CMAC, key, iov, 1, out), 0);
	assert_hex(out, 16, v[3].mac);
	iov[0] = (struct iovec){ msg, 63 };
	assert_int_equal(crypto_sign(CRYPTO_SIGN_AES_CMAC, key, iov, 1, out), -EINVAL);
	free(key);
	free(msg);
}

static void test_gmac_gcm_tc1(void **state)
{
	uint8_t key[16] = { 0 }, nonce[12] = { 0 }, out[16];

	(void)state;
	/* McGrew-Viega GCM test case 1: empty P and A, so the tag is GMAC(""). */
	assert_int_equal(crypto_gmac(key, nonce, NULL, 0, out), 0);
	assert_hex(out, 16, "58e2fccefa7e3061367f1d57a4e7455a");
}

/* A 64-byte header + 37-byte body with the fields the GMAC nonce uses. */
static void make_msg(uint8_t msg[101], uint16_t command, uint32_t flags)
{
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 37; i++)
		msg[64 + i] = (uint8_t)(i * 13 + 5);
	msg[12] = (uint8_t)command;
	msg[13] = (uint8_t)(command >> 8);
	for (int i = 0; i < 4; i++)
		msg[16 + i] = (uint8_t)(flags >> (8 * i));
	for (int i = 0; i < 8; i++)
		msg[24 + i] = (uint8_t)(i + 1); /* MessageId 0x0807060504030201 */
	memset(msg + 48, 0, 16);
}

static void test_sign_gmac_nonce(void **state)
{
	static const struct { uint16_t cmd; uint32_t flags; const char *sig; } v[] = {
		{ 0x000C, 0x9, "00827cd209697cbfbefcdf65109e76a0" }, /* server, CANCEL: word 3 */
		{ 0x0008, 0x8, "32fdb62bbaca7f4cc71a0dfb4ab32d41" }, /* client READ: word 0 */
		{ 0x000C, 0x8, "774e492a535b91b8984407c95d5e0012" }, /* client CANCEL: word 2 */
		{ 0x0008, 0x1, "7eb8ba32c4447f87ba5fa3a84709589e" }, /* server READ: word 1 */
	};
	uint8_t key[16], msg[101], sig[16];
	struct iovec iov[3];
	size_t cuts[] = { 64, 65 };

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		make_msg(msg, v[i].cmd, v[i].flags);
		split(msg, sizeof(msg), cuts, 2, iov);
		assert_int_equal(crypto_sign(CRYPTO_SIGN_AES_GMAC, key, iov, 3, sig), 0);
		assert_hex(sig, 16, v[i].sig);
	}
}

static void test_sign_hmac_sha256(void **state)
{
	uint8_t key[16], msg[101], sig[16];
	struct iovec iov[2];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	make_msg(msg, 0x0008, 0x8);
	iov[0] = (struct iovec){ msg, 70 };
	iov[1] = (struct iovec){ msg + 70, 31 };
	assert_int_equal(crypto_sign(CRYPTO_SIGN_HMAC_SHA256, key, iov, 2, sig), 0);
	assert_hex(sig, 16, "bc4eb84d14ba8c0ce3fb33f2fcc7753d");
	assert_int_equal(crypto_sign((enum crypto_sign_alg)7, key, iov, 2, sig), -EINVAL);
	assert_true(crypto_memeq(sig, sig, 16));
}

/* ---- KDF (MS-SMB2 3.1.4.2) ---- */

static void kdf_check(const char *skey, const char *label, size_t label_len, const uint8_t *ctx, size_t ctx_len,
		      const char *want)
{
	size_t klen;
	uint8_t *key = unhex(skey, &klen), out[16];

	assert_int_equal(crypto_kdf(key, klen, label, label_len, ctx, ctx_len, out, 16), 0);
	assert_hex(out, 16, want);
	free(key);
}

/* Labels and contexts include their NUL: sizeof on the literal. */
#define LC(s) s, sizeof(s)

static void test_kdf_smb30(void **state)
{
	const char *sk = "7CD451825D0450D235424E44BA6E78CC";

	(void)state;
	kdf_check(sk, LC("SMB2AESCMAC"), (const uint8_t *)LC("SmbSign"), "0B7E9C5CAC36C0F6EA9AB275298CEDCE");
	kdf_check(sk, LC("SMB2APP"), (const uint8_t *)LC("SmbRpc"), "BB23A4575AA26C721AF525AF15A87B4F");
	/* The blog speaks as the client: its EncryptionKey is "ServerIn ". */
	kdf_check(sk, LC("SMB2AESCCM"), (const uint8_t *)LC("ServerIn "), "FAD27796665B313EBB578F388632B4F7");
	kdf_check(sk, LC("SMB2AESCCM"), (const uint8_t *)LC("ServerOut"), "B0F0427F7CEB416D1D9DCC0CD4F99447");
	/* The keys of the SMB 3.0 encryption example. */
	kdf_check("B4546771B515F766A86735532DD6C4F0", LC("SMB2AESCCM"), (const uint8_t *)LC("ServerIn "),
		  "261B72350558F2E9DCF613070383EDBF");
	kdf_check("B4546771B515F766A86735532DD6C4F0", LC("SMB2AESCCM"), (const uint8_t *)LC("ServerOut"),
		  "8FE2B57EC34D2DB5B1A9727F526BBDB5");
}

static const char preauth_311[] = "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79"
				  "28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01";
static const char preauth_enc[] = "B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDB"
				  "A7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770";

static void test_kdf_smb311(void **state)
{
	const char *sk = "270E1BA896585EEB7AF3472D3B4C75A7";
	size_t plen, klen;
	uint8_t *pa = unhex(preauth_311, &plen), *key, out32[32], out16[16];

	(void)state;
	kdf_check(sk, LC("SMBSigningKey"), pa, plen, "73FE7A9A77BEF0BDE49C650D8CCB5F76");
	kdf_check(sk, LC("SMBC2SCipherKey"), pa, plen, "629BCBC54422A0F572B97F45989B6073");
	kdf_check(sk, LC("SMBS2CCipherKey"), pa, plen, "E2AF0DCEFAC68DA71A0DFBD0D1350D74");
	kdf_check(sk, LC("SMBAppKey"), pa, plen, "6D7AD7954E9EC61E907B4D473DC178FF");
	free(pa);

	pa = unhex(preauth_enc, &plen);
	kdf_check("419FDDF34C1E001909D362AE7FB6AF79", LC("SMBC2SCipherKey"), pa, plen,
		  "A2F5E80E5D59103034F32E52F698E5EC");
	kdf_check("419FDDF34C1E001909D362AE7FB6AF79", LC("SMBS2CCipherKey"), pa, plen,
		  "748C50868C90F302962A5C35F5F9A8BF");

	/* MS-SMB2 3.3.5.5.3: AES-256 ciphers use L = 256, which changes every
	 * byte, not just the length (no published vector: computed with Python
	 * hmac from the SP800-108 formula, whose 128-bit form matches above). */
	key = unhex("419FDDF34C1E001909D362AE7FB6AF79", &klen);
	assert_int_equal(crypto_kdf(key, klen, LC("SMBC2SCipherKey"), pa, plen, out32, 32), 0);
	assert_hex(out32, 32, "cb61eb110446fbcaeb6a83beedb92779130b833a706e5b3495879d52195b90ed");
	assert_int_equal(crypto_kdf(key, klen, LC("SMBC2SCipherKey"), pa, plen, out16, 24), -EINVAL);
	free(key);
	free(pa);
}

/* ---- preauth integrity (MS-SMB2 3.3.5.4) and a signed response ---- */

/* From "SMB 3.1.1 Pre-authentication integrity in Windows 10": the five
 * messages of NEGOTIATE and SESSION_SETUP and the hash after each. */
static const char *const preauth_msgs[5] = {
	"FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000"
	"00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32"
	"6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000"
	"010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000"
	"0200060000000000020002000100",

	"FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000"
	"000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942"
	"BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001"
	"80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182"
	"3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000"
	"60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51"
	"FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000"
	"5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000"
	"7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000"
	"3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562"
	"6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075"
	"626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4"
	"83CA5B65385A251117BEB30712E50000020004000000000001000200",

	"FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000"
	"00000000000000000000000000000000000000000000000019000001010000000000000058004A00"
	"0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A"
	"04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000"
	"000F",

	"FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000"
	"190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003"
	"0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038"
	"00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53"
	"005500540033003100310002000C0053005500540033003100310001000C00530055005400330031"
	"00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1"
	"A1F5ADCBAED00100000000",

	"FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000"
	"1900000000100000000000000000000000000000000000001900000101000000000000005800CF01"
	"0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000"
	"001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000"
	"001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055"
	"005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049"
	"0056004500520033003100310000000000000000000000000000000000000000000000000063078E"
	"B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000"
	"0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055"
	"00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004"
	"00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B"
	"8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016"
	"0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F"
	"5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000",
};
static const char *const preauth_hashes[5] = {
	"DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C736"
	"2B8C47122594CDE0CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426",
	"324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE"
	"3C94A79F36011E997E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513",
	"AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5"
	"D432F8ED42C55E33197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9",
	"2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B88357"
	"40A73760085633364C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387",
	preauth_311,
};

static void test_preauth_chain(void **state)
{
	uint8_t hash[64] = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		size_t len;
		uint8_t *m = unhex(preauth_msgs[i], &len);
		/* Scatter the message: header, one odd byte, the rest. */
		struct iovec iov[3] = { { m, 64 }, { m + 64, 1 }, { m + 65, len - 65 } };

		assert_int_equal(crypto_preauth_update(hash, iov, 3), 0);
		assert_hex(hash, 64, preauth_hashes[i]);
		free(m);
	}
}

static void test_preauth_sha512_abc(void **state)
{
	uint8_t hash[64] = { 0 };
	struct iovec iov = { "abc", 3 };

	(void)state;
	/* SHA-512(64 zero bytes || "abc"), computed with Python hashlib. */
	assert_int_equal(crypto_preauth_update(hash, &iov, 1), 0);
	assert_hex(hash, 64, "7682b6b84c6f692545a896ad210299bcc6f74e189d829e165739b11dd83b6f2c"
			     "8cfacf27e812bf064df756d6235ac33c062b89ecb80f8215516dbbb844ce8480");
}

/* The final SESSION_SETUP response of the same exchange, signed with
 * AES-128-CMAC under the SigningKey derived from the hash above. */
static void test_sign_cmac_session_setup(void **state)
{
	size_t len, klen;
	uint8_t *m = unhex("FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000"
			   "1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A01"
			   "00A3120410010000003B453CDC3524164200000000",
			   &len);
	uint8_t *key = unhex("73FE7A9A77BEF0BDE49C650D8CCB5F76", &klen), want[16], sig[16];
	struct iovec iov[2];

	(void)state;
	memcpy(want, m + 48, 16);
	memset(m + 48, 0, 16);
	iov[0] = (struct iovec){ m, 64 };
	iov[1] = (struct iovec){ m + 64, len - 64 };
	assert_int_equal(crypto_sign(CRYPTO_SIGN_AES_CMAC, key, iov, 2, sig), 0);
	assert_memory_equal(sig, want, 16);
	free(m);
	free(key);
}

/* ---- sealing: published transform messages ---- */

/* A TRANSFORM message (MS-SMB2 2.2.41): ProtocolId 4, Signature 16,
 * then the 32 AAD bytes Nonce .. SessionId, then the ciphertext. */
static void check_decrypt(enum crypto_cipher c, const char *key_hex, const char *xform, const char *plain)
{
	size_t klen, tlen, plen;
	uint8_t *key = unhex(key_hex, &klen), *t = unhex(xform, &tlen), *p = unhex(plain, &plen);
	struct iovec iov[3];
	size_t data = tlen - 52, cuts[] = { 17, 30 };

	assert_int_equal(data, plen);
	split(t + 52, data, cuts, 2, iov);
	assert_int_equal(crypto_decrypt(c, key, t + 20, t + 20, iov, 3, t + 4), 0);
	assert_memory_equal(t + 52, p, plen);
	free(key);
	free(t);
	free(p);
}

static void check_encrypt(enum crypto_cipher c, const char *key_hex, const char *xform, const char *plain)
{
	size_t klen, tlen, plen;
	uint8_t *key = unhex(key_hex, &klen), *t = unhex(xform, &tlen), *p = unhex(plain, &plen), tag[16];
	struct iovec iov[4];
	size_t cuts[] = { 64, 65, 100 };

	assert_int_equal(tlen - 52, plen);
	split(p, plen, cuts, 3, iov);
	assert_int_equal(crypto_encrypt(c, key, t + 20, t + 20, iov, 4, tag), 0);
	assert_memory_equal(p, t + 52, plen);
	assert_memory_equal(tag, t + 4, 16);
	free(key);
	free(t);
	free(p);
}

/* "Encryption in SMB 3.0: a protocol perspective": AES-128-CCM. */
static void test_smb30_ccm_vectors(void **state)
{
	(void)state;
	check_encrypt(CRYPTO_AES_128_CCM, "261B72350558F2E9DCF613070383EDBF",
		      "FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A"
		      "744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5"
		      "2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4"
		      "4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5"
		      "AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6"
		      "C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB",
		      "FE534D4240000100000000000900400008000000000000000400000000000000"
		      "FFFE0000010000001100001400E4080000000000000000000000000000000000"
		      "3100700017000000000000000000000015010000390000020100000039020000"
		      "00000000000000007000000000000000536D623320656E6372797074696F6E20"
		      "74657374696E67");
	check_decrypt(CRYPTO_AES_128_CCM, "8FE2B57EC34D2DB5B1A9727F526BBDB5",
		      "FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014"
		      "00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079"
		      "E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787"
		      "1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1"
		      "77309E5B",
		      "FE534D4240000100000000000900210009000000000000000400000000000000"
		      "FFFE0000010000001100001400E4080000000000000000000000000000000000"
		      "11000000170000000000000000000000");
}

/* "SMB 3.1.1 Encryption in Windows 10": AES-128-GCM. */
static void test_smb311_gcm_vectors(void **state)
{
	(void)state;
	check_encrypt(CRYPTO_AES_128_GCM, "A2F5E80E5D59103034F32E52F698E5EC",
		      "FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000"
		      "0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02"
		      "D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB4"
		      "4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9"
		      "1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8",
		      "FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000"
		      "25000000001000000000000000000000000000000000000031007000170000000000000000000000"
		      "0600000004000000010000000400000000000000000000007000000000000000536D623320656E63"
		      "72797074696F6E2074657374696E67");
	check_decrypt(CRYPTO_AES_128_GCM, "748C50868C90F302962A5C35F5F9A8BF",
		      "FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B40000000000000000500000000"
		      "0000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8"
		      "F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B"
		      "82E03C9E18A050FF0EA1C967",
		      "FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000"
		      "25000000001000000000000000000000000000000000000011000000170000000000000000000000");
}

/* ---- sealing: round trips and tampering, all four ciphers ---- */

#define RT_LEN 1000

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static void roundtrip_one(enum crypto_cipher c, const size_t *cuts, int ncuts)
{
	uint8_t key[32], nonce[16], aad[32], tag[16], orig[RT_LEN], buf[RT_LEN];
	struct iovec iov[8];
	int n;

	fill(key, sizeof(key), (unsigned)c);
	fill(nonce, sizeof(nonce), 77);
	fill(aad, sizeof(aad), 5);
	fill(orig, sizeof(orig), 9);
	memcpy(buf, orig, sizeof(buf));
	n = split(buf, sizeof(buf), cuts, ncuts, iov);

	assert_int_equal(crypto_encrypt(c, key, nonce, aad, iov, n, tag), 0);
	assert_memory_not_equal(buf, orig, sizeof(buf));
	assert_int_equal(crypto_decrypt(c, key, nonce, aad, iov, n, tag), 0);
	assert_memory_equal(buf, orig, sizeof(buf));

	/* A flipped bit in the data, the AAD or the tag: -EBADMSG, and the
	 * buffer is wiped rather than left holding unauthenticated output. */
	for (int what = 0; what < 3; what++) {
		uint8_t zero[RT_LEN] = { 0 };

		memcpy(buf, orig, sizeof(buf));
		assert_int_equal(crypto_encrypt(c, key, nonce, aad, iov, n, tag), 0);
		if (what == 0)
			buf[RT_LEN - 3] ^= 0x10;
		else if (what == 1)
			aad[31] ^= 0x01;
		else
			tag[0] ^= 0x80;
		assert_int_equal(crypto_decrypt(c, key, nonce, aad, iov, n, tag), -EBADMSG);
		assert_memory_equal(buf, zero, sizeof(buf));
		if (what == 1)
			aad[31] ^= 0x01;
	}

	/* Encryption does not depend on how the message is scattered. */
	{
		uint8_t whole[RT_LEN], tag1[16];
		struct iovec one = { whole, sizeof(whole) };

		memcpy(whole, orig, sizeof(whole));
		memcpy(buf, orig, sizeof(buf));
		assert_int_equal(crypto_encrypt(c, key, nonce, aad, &one, 1, tag1), 0);
		assert_int_equal(crypto_encrypt(c, key, nonce, aad, iov, n, tag), 0);
		assert_memory_equal(whole, buf, sizeof(buf));
		assert_memory_equal(tag1, tag, 16);
	}
}

static void test_seal_roundtrip(void **state)
{
	static const enum crypto_cipher ciphers[] = { CRYPTO_AES_128_CCM, CRYPTO_AES_128_GCM, CRYPTO_AES_256_CCM,
						      CRYPTO_AES_256_GCM };
	static const size_t odd[] = { 1, 17, 64, 64, 333, 999 }; /* includes an empty piece */
	static const size_t none[1];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		roundtrip_one(ciphers[i], none, 0);
		roundtrip_one(ciphers[i], odd, 6);
	}
}

static void test_seal_bad_args(void **state)
{
	uint8_t key[32] = { 0 }, nonce[16] = { 0 }, aad[32] = { 0 }, tag[16], b[4] = { 0 };
	struct iovec iov = { b, sizeof(b) }, empty = { NULL, 0 };

	(void)state;
	assert_int_equal(crypto_encrypt((enum crypto_cipher)0, key, nonce, aad, &iov, 1, tag), -EINVAL);
	assert_int_equal(crypto_encrypt((enum crypto_cipher)5, key, nonce, aad, &iov, 1, tag), -EINVAL);
	assert_int_equal(crypto_encrypt(CRYPTO_AES_128_GCM, key, nonce, aad, &empty, 1, tag), -EINVAL);
	assert_int_equal(crypto_decrypt(CRYPTO_AES_128_CCM, key, nonce, aad, &iov, 0, tag), -EINVAL);
	assert_int_equal(crypto_encrypt(CRYPTO_AES_128_GCM, NULL, nonce, aad, &iov, 1, tag), -EINVAL);
	iov.iov_base = NULL;
	assert_int_equal(crypto_encrypt(CRYPTO_AES_128_GCM, key, nonce, aad, &iov, 1, tag), -EINVAL);
	assert_int_equal(crypto_cipher_keylen(CRYPTO_AES_256_GCM), 32);
	assert_int_equal(crypto_cipher_noncelen(CRYPTO_AES_256_CCM), 11);
}

/* ---- threads: per-thread contexts give the same answers ---- */

static void *sign_thread(void *arg)
{
	uint8_t key[16] = { 0 }, msg[101], sig[16];
	struct iovec iov = { msg, sizeof(msg) };
	int *ok = arg;

	make_msg(msg, 0x0008, 0x8);
	*ok = 1;
	for (int i = 0; i < 200; i++) {
		for (int k = 0; k < 16; k++)
			key[k] = (uint8_t)k;
		if (crypto_sign(CRYPTO_SIGN_HMAC_SHA256, key, &iov, 1, sig) != 0 ||
		    memcmp(sig, "\xbc\x4e\xb8\x4d\x14\xba\x8c\x0c\xe3\xfb\x33\xf2\xfc\xc7\x75\x3d", 16) != 0)
			*ok = 0;
		key[0] ^= 1; /* another key in between must not leak into the next */
		if (crypto_sign(CRYPTO_SIGN_AES_CMAC, key, &iov, 1, sig) != 0)
			*ok = 0;
	}
	return NULL; /* the thread's contexts are freed by the key destructor */
}

static void test_threads(void **state)
{
	pthread_t th[4];
	int ok[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, sign_thread, &ok[i]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(ok[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md4_rfc1320),
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_hmac_md5_rfc2202),
		cmocka_unit_test(test_rc4),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_hmac_sha256_rfc4231),
		cmocka_unit_test(test_cmac_rfc4493),
		cmocka_unit_test(test_gmac_gcm_tc1),
		cmocka_unit_test(test_sign_gmac_nonce),
		cmocka_unit_test(test_sign_hmac_sha256),
		cmocka_unit_test(test_kdf_smb30),
		cmocka_unit_test(test_kdf_smb311),
		cmocka_unit_test(test_preauth_chain),
		cmocka_unit_test(test_preauth_sha512_abc),
		cmocka_unit_test(test_sign_cmac_session_setup),
		cmocka_unit_test(test_smb30_ccm_vectors),
		cmocka_unit_test(test_smb311_gcm_vectors),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_bad_args),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
