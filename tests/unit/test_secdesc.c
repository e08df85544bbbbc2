/* Tests of the security descriptor codec (src/wire/secdesc.c): a
 * hand-built descriptor decodes to its parts; every truncated prefix, bad
 * revisions, offsets, ACL and ACE sizes and sub-authority counts are
 * refused (exact-size heap copies so ASan catches any overread); every
 * single-byte change decodes or fails without reading outside; encoding
 * round-trips; the ACL builder makes ACLs the decoder accepts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/cursor.h"
#include "wire/secdesc.h"

/* owner S-1-22-1-1000, group S-1-22-2-1000, DACL: allow Everyone 0x1F01FF
 * (OI|CI), deny S-1-5-11 WRITE_DATA */
static size_t build(uint8_t *b)
{
	uint8_t owner[WIRE_SID_MAX], group[WIRE_SID_MAX], world[WIRE_SID_MAX], auth[WIRE_SID_MAX];
	uint32_t o[2] = { 1, 1000 }, g[2] = { 2, 1000 }, w[1] = { 0 }, a[1] = { 11 };
	size_t ol = wire_sid_make(owner, 22, o, 2), gl = wire_sid_make(group, 22, g, 2);
	size_t wl = wire_sid_make(world, 1, w, 1), al = wire_sid_make(auth, 5, a, 1);
	uint8_t acl[256];
	struct wire_acl_builder ab;
	wire_acl_begin(&ab, acl, sizeof(acl));
	wire_acl_add(&ab, ACE_ACCESS_ALLOWED, ACE_OBJECT_INHERIT | ACE_CONTAINER_INHERIT, 0x1F01FF, world, wl);
	wire_acl_add(&ab, ACE_ACCESS_DENIED, 0, 0x2, auth, al);
	size_t n = wire_acl_finish(&ab);
	assert_int_equal(n, 8 + 20 + 20);
	struct wire_sd sd = {
		.control = SE_DACL_PRESENT,
		.owner = owner, .owner_len = ol,
		.group = group, .group_len = gl,
		.dacl = acl, .dacl_len = n,
	};
	size_t need = wire_sd_encode(&sd, NULL, 0);
	assert_int_equal(need, 20 + 16 + 16 + n);
	assert_int_equal(wire_sd_encode(&sd, b, need), need);
	return need;
}

static int decode_copy(const uint8_t *b, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, b, len);
	struct wire_sd sd;
	int r = wire_sd_decode(c, len, &sd, NULL);
	if (r == 0) {
		struct wire_acl_iter it;
		struct wire_ace ace;
		wire_acl_iter_init(&it, sd.dacl, sd.dacl_len);
		while (wire_acl_iter_next(&it, &ace))
			;
	}
	free(c);
	return r;
}

static void test_decode(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t len = build(b);
	struct wire_sd sd;
	const char *why = NULL;
	assert_int_equal(wire_sd_decode(b, len, &sd, &why), 0);
	assert_int_equal(sd.control, SE_DACL_PRESENT | SE_SELF_RELATIVE);
	assert_int_equal(sd.owner_len, 16);
	assert_int_equal(get_le32(sd.owner + 12), 1000);
	assert_int_equal(get_le32(sd.group + 8), 2);
	assert_null(sd.sacl);
	assert_int_equal(sd.dacl_len, 48);
	struct wire_acl_iter it;
	struct wire_ace ace;
	wire_acl_iter_init(&it, sd.dacl, sd.dacl_len);
	assert_true(wire_acl_iter_next(&it, &ace));
	assert_int_equal(ace.type, ACE_ACCESS_ALLOWED);
	assert_int_equal(ace.flags, 3);
	assert_int_equal(ace.mask, 0x1F01FF);
	assert_int_equal(ace.sid_len, 12);
	assert_true(wire_acl_iter_next(&it, &ace));
	assert_int_equal(ace.type, ACE_ACCESS_DENIED);
	assert_false(wire_acl_iter_next(&it, &ace));
}

static void test_roundtrip(void **state)
{
	(void)state;
	uint8_t b[512], c[512];
	size_t len = build(b);
	struct wire_sd sd;
	assert_int_equal(wire_sd_decode(b, len, &sd, NULL), 0);
	assert_int_equal(wire_sd_encode(&sd, c, sizeof(c)), len);
	assert_memory_equal(b, c, len);
	/* too small a buffer: size only, nothing written */
	memset(c, 0xAA, sizeof(c));
	assert_int_equal(wire_sd_encode(&sd, c, len - 1), len);
	assert_int_equal(c[0], 0xAA);
}

static void test_truncated(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t len = build(b);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(decode_copy(b, n), -EINVAL);
	assert_int_equal(decode_copy(b, len), 0);
}

static void test_bytewise(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t len = build(b);
	for (size_t i = 0; i < len; i++)
		for (unsigned v = 0; v < 256; v += 17) {
			uint8_t save = b[i];
			b[i] = (uint8_t)v;
			(void)decode_copy(b, len);
			b[i] = save;
		}
}

static void expect_bad(uint8_t *b, size_t len, size_t at, uint8_t v)
{
	uint8_t save = b[at];
	b[at] = v;
	assert_int_equal(decode_copy(b, len), -EINVAL);
	b[at] = save;
}

static void test_bad_fields(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t len = build(b);
	/* layout: header 0, owner 20, group 36, DACL 52 (ACE1 60, ACE2 80) */
	expect_bad(b, len, 0, 2);             /* SD revision */
	expect_bad(b, len, 3, 0);             /* SE_SELF_RELATIVE cleared */
	expect_bad(b, len, 4, 200);           /* owner offset past the end */
	expect_bad(b, len, 4, 4);             /* owner offset inside the header */
	expect_bad(b, len, 21, 16);           /* 16 sub-authorities */
	expect_bad(b, len, 37, 15);           /* sub-authorities past the end */
	expect_bad(b, len, 16, 99);           /* DACL offset past the end */
	expect_bad(b, len, 52, 3);            /* ACL revision */
	expect_bad(b, len, 54, 200);          /* AclSize past the end */
	expect_bad(b, len, 54, 7);            /* AclSize below the header */
	expect_bad(b, len, 56, 3);            /* AceCount past AclSize */
	expect_bad(b, len, 62, 60);           /* AceSize past AclSize */
	expect_bad(b, len, 62, 7);            /* AceSize below the fixed part */
	expect_bad(b, len, 62, 12);           /* SID does not fit the ACE */
	expect_bad(b, len, 60, 4);            /* ACE type no ACL holds */
	expect_bad(b, len, 60, 0x20);         /* unknown ACE type */
	expect_bad(b, len, 69, 2);            /* ACE SID sub-authorities past the ACE */
	/* the DACL is ignored when SE_DACL_PRESENT is clear */
	uint8_t save = b[54];
	b[54] = 200;
	b[2] &= (uint8_t)~SE_DACL_PRESENT;
	assert_int_equal(decode_copy(b, len), 0);
	b[2] |= SE_DACL_PRESENT;
	b[54] = save;
	/* a NULL DACL: present, offset 0 */
	put_le32(b + 16, 0);
	struct wire_sd sd;
	assert_int_equal(wire_sd_decode(b, len, &sd, NULL), 0);
	assert_null(sd.dacl);
	assert_true(sd.control & SE_DACL_PRESENT);
}

static void test_object_ace(void **state)
{
	(void)state;
	/* SD with only a DACL holding one ACCESS_ALLOWED_OBJECT ACE with an
	 * ObjectType GUID */
	uint8_t b[128] = { 0 };
	b[0] = 1;
	put_le16(b + 2, SE_SELF_RELATIVE | SE_DACL_PRESENT);
	put_le32(b + 16, 20);
	uint8_t *acl = b + 20;
	acl[0] = WIRE_ACL_REVISION_DS;
	put_le16(acl + 4, 1);
	uint8_t *ace = acl + 8;
	ace[0] = 0x05;
	put_le16(ace + 2, 8 + 4 + 16 + 12);
	put_le32(ace + 8, 1);
	uint32_t w = 0;
	wire_sid_make(ace + 28, 1, &w, 1);
	put_le16(acl + 2, 8 + 40);
	size_t len = 20 + 48;
	assert_int_equal(decode_copy(b, len), 0);
	struct wire_sd sd;
	assert_int_equal(wire_sd_decode(b, len, &sd, NULL), 0);
	struct wire_acl_iter it;
	struct wire_ace a;
	wire_acl_iter_init(&it, sd.dacl, sd.dacl_len);
	assert_true(wire_acl_iter_next(&it, &a));
	assert_null(a.sid); /* object ACEs never match */
	put_le32(ace + 8, 3); /* both GUIDs: the SID no longer fits */
	assert_int_equal(decode_copy(b, len), -EINVAL);
}

static void test_builder_overflow(void **state)
{
	(void)state;
	uint8_t acl[30];
	uint8_t sid[WIRE_SID_MAX];
	uint32_t w = 0;
	size_t sl = wire_sid_make(sid, 1, &w, 1);
	struct wire_acl_builder b;
	wire_acl_begin(&b, acl, sizeof(acl));
	wire_acl_add(&b, ACE_ACCESS_ALLOWED, 0, 1, sid, sl);
	assert_false(b.err);
	wire_acl_add(&b, ACE_ACCESS_ALLOWED, 0, 1, sid, sl);
	assert_true(b.err);
	assert_int_equal(wire_acl_finish(&b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_object_ace),
		cmocka_unit_test(test_builder_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
