/* SPNEGO DER codec: round trips, every truncated prefix and single-byte
 * corruption of valid tokens, and hand-made malformed tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "auth/auth.h"
#include "wire/spnego.h"

static const uint8_t krb5[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };

static uint8_t *make_init(bool init2, size_t *len)
{
	static uint8_t big[300];
	memset(big, 0x42, sizeof(big)); /* forces long-form lengths */
	struct spnego_init in = { .n_mechs = 2, .mech_token = big, .mech_token_len = sizeof(big),
				  .mech_list_mic = (const uint8_t *)"0123456789abcdef", .mech_list_mic_len = 16,
				  .hint_name = init2 ? "not_defined_in_RFC4178@please_ignore" : NULL };
	in.mechs[0] = (struct spnego_oid){ krb5, sizeof(krb5) };
	in.mechs[1] = spnego_oid_ntlmssp;
	uint8_t *out;
	assert_int_equal(spnego_encode_init(&in, &out, len), 0);
	return out;
}

static uint8_t *make_resp(size_t *len)
{
	struct spnego_resp r = { .neg_state = SPNEGO_ACCEPT_INCOMPLETE, .supported_mech = spnego_oid_ntlmssp,
				 .response_token = (const uint8_t *)"NTLMSSP\0tok", .response_token_len = 11,
				 .mech_list_mic = (const uint8_t *)"mic", .mech_list_mic_len = 3 };
	uint8_t *out;
	assert_int_equal(spnego_encode_resp(&r, &out, len), 0);
	return out;
}

static void check_init(const uint8_t *tok, size_t len)
{
	struct spnego_token t;
	const char *why = NULL;
	assert_int_equal(spnego_decode(tok, len, &t, &why), 0);
	assert_null(why);
	assert_int_equal(t.kind, SPNEGO_KIND_INIT);
	assert_int_equal(t.init.n_mechs, 2);
	assert_int_equal(t.init.mechs[0].len, sizeof(krb5));
	assert_memory_equal(t.init.mechs[0].der, krb5, sizeof(krb5));
	assert_true(spnego_oid_eq(&t.init.mechs[1], &spnego_oid_ntlmssp));
	assert_int_equal(t.init.mech_token_len, 300);
	assert_int_equal(t.init.mech_token[299], 0x42);
	assert_int_equal(t.init.mech_list_mic_len, 16);
	assert_memory_equal(t.init.mech_list_mic, "0123456789abcdef", 16);
	/* the raw MechTypeList is what encode_mech_types gives */
	uint8_t *mt;
	size_t mt_len;
	assert_int_equal(spnego_encode_mech_types(t.init.mechs, 2, &mt, &mt_len), 0);
	assert_int_equal(mt_len, t.init.mech_types_der_len);
	assert_memory_equal(mt, t.init.mech_types_der, mt_len);
	free(mt);
}

static void test_init_round_trip(void **state)
{
	size_t len;
	uint8_t *tok = make_init(false, &len);
	assert_int_equal(tok[0], 0x60);
	check_init(tok, len);
	free(tok);
	tok = make_init(true, &len);
	check_init(tok, len);
	free(tok);
}

static void test_resp_round_trip(void **state)
{
	size_t len;
	uint8_t *tok = make_resp(&len);
	assert_int_equal(tok[0], 0xa1);
	struct spnego_token t;
	assert_int_equal(spnego_decode(tok, len, &t, NULL), 0);
	assert_int_equal(t.kind, SPNEGO_KIND_RESP);
	assert_int_equal(t.resp.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_true(spnego_oid_eq(&t.resp.supported_mech, &spnego_oid_ntlmssp));
	assert_int_equal(t.resp.response_token_len, 11);
	assert_memory_equal(t.resp.response_token, "NTLMSSP\0tok", 11);
	assert_int_equal(t.resp.mech_list_mic_len, 3);
	free(tok);

	/* only negState: a0 03 0a 01 00 inside 30 inside a1 */
	struct spnego_resp r = { .neg_state = SPNEGO_ACCEPT_COMPLETED };
	assert_int_equal(spnego_encode_resp(&r, &tok, &len), 0);
	static const uint8_t want[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00 };
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(tok, want, len);
	free(tok);
}

static void test_negotiate_token_bytes(void **state)
{
	uint8_t *tok;
	size_t len;
	assert_int_equal(auth_negotiate_token(&tok, &len), 0);
	/* 60 L 06 06 <spnego> a0 L 30 L a0 0e 30 0c 06 0a <ntlmssp> a3 L 30 L a0 L 1b L "not_defined..." */
	static const uint8_t head[] = { 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
	static const uint8_t mechs[] = { 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01,
					 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa3 };
	assert_int_equal(tok[0], 0x60);
	assert_int_equal(tok[1], len - 2);
	assert_memory_equal(tok + 2, head, sizeof(head));
	assert_memory_equal(tok + 14, mechs, sizeof(mechs));
	assert_int_equal(tok[len - 38], 0x1b);
	assert_memory_equal(tok + len - 36, "not_defined_in_RFC4178@please_ignore", 36);
	free(tok);
}

/* Every proper prefix of a valid token must be rejected (DER lengths make
 * each one inconsistent), and no single-byte change may crash. */
static void prefixes_and_flips(uint8_t *tok, size_t len)
{
	struct spnego_token t;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, tok, n);
		const char *why = NULL;
		assert_int_equal(spnego_decode(copy, n, &t, &why), -EINVAL);
		assert_non_null(why);
		free(copy);
	}
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			tok[i] ^= (uint8_t)(1 << bit);
			(void)spnego_decode(tok, len, &t, NULL);
			tok[i] ^= (uint8_t)(1 << bit);
		}
	}
}

static void test_truncations(void **state)
{
	size_t len;
	uint8_t *tok = make_init(false, &len);
	prefixes_and_flips(tok, len);
	free(tok);
	tok = make_init(true, &len);
	prefixes_and_flips(tok, len);
	free(tok);
	tok = make_resp(&len);
	prefixes_and_flips(tok, len);
	free(tok);
	assert_int_equal(auth_negotiate_token(&tok, &len), 0);
	prefixes_and_flips(tok, len);
	free(tok);
}

static void test_malformed(void **state)
{
	struct spnego_token t;
	/* indefinite length */
	static const uint8_t indef[] = { 0xa1, 0x80, 0x30, 0x03, 0xa0, 0x01, 0x00, 0x00, 0x00 };
	assert_int_equal(spnego_decode(indef, sizeof(indef), &t, NULL), -EINVAL);
	/* trailing byte after a valid negTokenResp */
	static const uint8_t trail[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0xff };
	assert_int_equal(spnego_decode(trail, sizeof(trail), &t, NULL), -EINVAL);
	assert_int_equal(spnego_decode(trail, sizeof(trail) - 1, &t, NULL), 0);
	/* negState out of range */
	static const uint8_t badstate[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x07 };
	assert_int_equal(spnego_decode(badstate, sizeof(badstate), &t, NULL), -EINVAL);
	/* repeated field */
	static const uint8_t dup[] = { 0xa1, 0x0c, 0x30, 0x0a, 0xa0, 0x03, 0x0a, 0x01, 0x00,
				       0xa0, 0x03, 0x0a, 0x01, 0x00 };
	assert_int_equal(spnego_decode(dup, sizeof(dup), &t, NULL), -EINVAL);
	/* wrong mechanism OID in the InitialContextToken (Kerberos) */
	static const uint8_t wrongoid[] = { 0x60, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
	assert_int_equal(spnego_decode(wrongoid, sizeof(wrongoid), &t, NULL), -EINVAL);
	/* 5-byte length */
	static const uint8_t huge[] = { 0xa1, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00 };
	assert_int_equal(spnego_decode(huge, sizeof(huge), &t, NULL), -EINVAL);
	/* length beyond the buffer */
	static const uint8_t over[] = { 0xa1, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30 };
	assert_int_equal(spnego_decode(over, sizeof(over), &t, NULL), -EINVAL);
	/* init without mechTypes */
	static const uint8_t nomech[] = { 0xa0, 0x08, 0x30, 0x06, 0xa2, 0x04, 0x04, 0x02, 0x41, 0x42 };
	assert_int_equal(spnego_decode(nomech, sizeof(nomech), &t, NULL), -EINVAL);
	assert_int_equal(spnego_decode(NULL, 0, &t, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_round_trip),
		cmocka_unit_test(test_resp_round_trip),
		cmocka_unit_test(test_negotiate_token_bytes),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
