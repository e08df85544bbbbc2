/* SMB2 header, compound split, NEGOTIATE and SMB1-upgrade codecs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/negotiate.h"
#include "wire/session_setup.h"
#include "wire/smb2.h"
#include "wire/tree.h"

static size_t put_hdr(uint8_t *b, uint16_t cmd, uint64_t mid, uint32_t next, uint32_t flags)
{
	struct smb2_hdr h = { .credit_charge = 1, .command = cmd, .credits = 1, .flags = flags,
			      .next_command = next, .message_id = mid, .tree_id = 7, .session_id = 9 };
	struct wr w = wr_init(b, SMB2_HDR_SIZE);
	smb2_hdr_encode(&w, &h);
	return wr_pos(&w);
}

static void test_hdr_roundtrip(void **state)
{
	uint8_t b[64];
	assert_int_equal(put_hdr(b, SMB2_READ, 42, 0, 0), 64);
	struct rd r = rd_init(b, sizeof(b));
	struct smb2_hdr h;
	assert_int_equal(smb2_hdr_decode(&r, &h), 0);
	assert_int_equal(h.command, SMB2_READ);
	assert_int_equal(h.message_id, 42);
	assert_int_equal(h.tree_id, 7);
	assert_int_equal(h.session_id, 9);
	/* every truncation fails */
	for (size_t i = 0; i < sizeof(b); i++) {
		struct rd t = rd_init(b, i);
		assert_int_equal(smb2_hdr_decode(&t, &h), -EINVAL);
	}
	b[0] = 0xFF; /* not SMB2 */
	r = rd_init(b, sizeof(b));
	assert_int_equal(smb2_hdr_decode(&r, &h), -EINVAL);
}

static void test_compound_split(void **state)
{
	uint8_t b[64 + 8 + 64 + 4];
	memset(b, 0, sizeof(b));
	put_hdr(b, SMB2_ECHO, 1, 72, 0);
	put_hdr(b + 72, SMB2_ECHO, 2, 0, SMB2_FLAGS_RELATED_OPERATIONS);
	struct smb2_elem el[4];
	assert_int_equal(smb2_compound_split(b, sizeof(b), el, 4), 2);
	assert_int_equal(el[1].off, 72);
	assert_int_equal(el[1].len, sizeof(b) - 72);
	assert_int_equal(smb2_compound_split(b, sizeof(b), el, 1), -E2BIG);
	/* misaligned, too small, and past-the-end NextCommand */
	uint32_t bad[] = { 70, 8, 4096, (uint32_t)sizeof(b) };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_hdr(b, SMB2_ECHO, 1, bad[i], 0);
		assert_int_equal(smb2_compound_split(b, sizeof(b), el, 4), -EINVAL);
	}
}

static const uint8_t neg311[] = {
	/* StructureSize 36, DialectCount 2, SecurityMode 1, Reserved, Capabilities */
	0x24, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x00,
	/* ClientGuid */
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	/* NegotiateContextOffset = 64 + 40 = 104, count 2, reserved */
	0x68, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	/* dialects 0x0300 0x0311 */
	0x00, 0x03, 0x11, 0x03,
	/* preauth: type 1, len 8, reserved; count 1, salt 2, SHA-512, salt */
	0x01, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0xaa, 0xbb,
	/* encryption: type 2, len 6; count 2: GCM, CCM; pad to 8 */
	0x02, 0x00, 0x06, 0x00, 0, 0, 0, 0, 0x02, 0x00, 0x02, 0x00, 0x01, 0x00,
};

static int decode_neg(const uint8_t *body, size_t len, struct neg_req *q)
{
	uint8_t *buf = calloc(1, SMB2_HDR_SIZE + len);
	memcpy(buf + SMB2_HDR_SIZE, body, len);
	struct rd r = rd_init(buf, SMB2_HDR_SIZE + len);
	r.p += SMB2_HDR_SIZE;
	int ret = neg_req_decode(&r, q);
	free(buf);
	return ret;
}

static void test_negotiate(void **state)
{
	struct neg_req q;
	assert_int_equal(decode_neg(neg311, sizeof(neg311), &q), 0);
	assert_int_equal(q.n_dialects, 2);
	assert_int_equal(q.dialects[1], 0x0311);
	assert_int_equal(q.n_preauth_ctx, 1);
	assert_int_equal(q.hash_algs[0], SMB2_PREAUTH_SHA512);
	assert_int_equal(q.n_ciphers, 2);
	assert_int_equal(q.ciphers[0], 2);
	assert_false(q.bad_context);
	/* every truncated prefix is rejected or decodes without overrun (ASan) */
	for (size_t i = 0; i < sizeof(neg311); i++)
		if (decode_neg(neg311, i, &q) == 0)
			assert_true(i >= 40);
}

static void test_smb1_upgrade(void **state)
{
	uint8_t b[128] = { 0xFF, 'S', 'M', 'B', 0x72 };
	static const char d[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
	size_t dl = sizeof(d); /* includes the final NUL */
	b[32] = 0;
	b[33] = (uint8_t)dl;
	b[34] = 0;
	memcpy(b + 35, d, dl);
	assert_int_equal(smb1_negotiate_smb2_offer(b, 35 + dl), 2);
	assert_true(smb1_negotiate_smb2_offer(b, 35 + dl - 1) < 0);
	b[4] = 0x73;
	assert_true(smb1_negotiate_smb2_offer(b, 35 + dl) < 0);
}

static void test_session_setup_offsets(void **state)
{
	uint8_t b[64 + 24 + 4] = { 0 };
	uint8_t *p = b + 64;
	p[0] = 25;
	p[12] = 64 + 24; /* SecurityBufferOffset */
	p[14] = 4;       /* SecurityBufferLength */
	struct sess_setup_req q;
	struct rd r = rd_init(b, sizeof(b));
	r.p += 64;
	assert_int_equal(sess_setup_req_decode(&r, &q), 0);
	assert_int_equal(q.sec_len, 4);
	p[14] = 5; /* past the end */
	r = rd_init(b, sizeof(b));
	r.p += 64;
	assert_int_equal(sess_setup_req_decode(&r, &q), -EINVAL);
	p[14] = 4;
	p[12] = 10; /* inside the header */
	r = rd_init(b, sizeof(b));
	r.p += 64;
	assert_int_equal(sess_setup_req_decode(&r, &q), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_compound_split),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_smb1_upgrade),
		cmocka_unit_test(test_session_setup_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
