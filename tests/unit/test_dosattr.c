/* user.DOSATTRIB in Samba's format (src/vfs/dosattr.c): values written by
 * Samba 4.17's smbd, older versions built from librpc/idl/xattr.idl, smb3d's
 * earlier format, every truncated prefix, and the encoder against Samba's
 * bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vfs/dosattr.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2)
		sscanf(h, "%2hhx", &out[n++]);
	return n;
}

/* Captured from smbd 4.17 (smbclient put; setmode +hr), create time
 * 0x01dd820e0e1de4b0. */
static const char samba_v5_file[] = "00000500050000001100000023000000b0e41d0e0e82dd01";
static const char samba_v5_dir[] = "00000500050000001400000014000000225f1e0e0e82dd01";

static void test_samba_v5(void **state)
{
	(void)state;
	uint8_t b[64];
	struct vfs_dosinfo_ext x;
	size_t n = unhex(samba_v5_file, b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x23); /* readonly, hidden, archive */
	assert_true(x.d.create_time == 0x01dd820e0e1de4b0ull);
	assert_false(x.has_change);
	n = unhex(samba_v5_dir, b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x04); /* system; the directory bit comes from the inode */
	/* our encoder writes exactly what smbd writes */
	struct vfs_dosinfo_ext w = { .d = { .attrs = 0x23, .create_time = 0x01dd820e0e1de4b0ull } };
	uint8_t out[VFS_DOS_ENCODED_MAX];
	n = unhex(samba_v5_file, b);
	assert_int_equal(vfs_dos_encode(&w, out), n);
	assert_memory_equal(out, b, n);
}

static void test_older_versions(void **state)
{
	(void)state;
	uint8_t b[128];
	struct vfs_dosinfo_ext x;
	/* version 3 (Samba 3.5-4.10): "0x22" NUL, pad, 3, 3, valid 0x11, attrib,
	 * ea_size, size, alloc, create, change */
	size_t n = unhex("3078323200" "00" "0300" "0300" "0000"
	                 "11000000" "22000000" "00000000" "0000000000000000" "0000000000000000"
	                 "0807060504030201" "0000000000000000", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x22);
	assert_true(x.d.create_time == 0x0102030405060708ull);
	/* version 3 without the create-time flag */
	b[12] = 0x01;
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_true(x.d.create_time == 0);
	/* version 4 (Samba 4.11-4.14): valid, attrib, itime, create */
	n = unhex("0000" "0400" "0400" "0000" "11000000" "01000000" "1111111111111111" "0807060504030201", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x01);
	assert_true(x.d.create_time == 0x0102030405060708ull);
	/* version 1 */
	n = unhex("3078323000" "00" "0100" "0100" "0000" "20000000" "00000000" "0000000000000000"
	          "0000000000000000" "0807060504030201" "0000000000000000", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x20);
	assert_true(x.d.create_time == 0x0102030405060708ull);
	/* only the hex string (before Samba 3.5) */
	n = unhex("3078323200", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x22);
	/* smb3d's earlier format */
	n = unhex("53334441" "01000000" "01000000" "00000000" "0807060504030201", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), 0);
	assert_int_equal(x.d.attrs, 0x01);
	assert_true(x.d.create_time == 0x0102030405060708ull);
	/* unknown versions, a level that is not the version, junk */
	n = unhex("0000" "0600" "0600" "0000" "11000000" "01000000" "0807060504030201", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), -ENODATA);
	n = unhex("0000" "0500" "0400" "0000" "11000000" "01000000" "0807060504030201", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), -ENODATA);
	n = unhex("7a7a00", b);
	assert_int_equal(vfs_dos_decode(b, n, &x), -ENODATA);
	assert_int_equal(vfs_dos_decode(b, 0, &x), -ENODATA);
}

static void test_change_time_extension_and_prefixes(void **state)
{
	(void)state;
	struct vfs_dosinfo_ext w = { .d = { .attrs = 0x2, .create_time = 42 }, .has_change = true,
	                             .change_time = 77, .mtime_ns = -5, .size = 1234 };
	uint8_t out[VFS_DOS_ENCODED_MAX];
	size_t n = vfs_dos_encode(&w, out);
	assert_int_equal(n, VFS_DOS_ENCODED_MAX);
	struct vfs_dosinfo_ext x;
	assert_int_equal(vfs_dos_decode(out, n, &x), 0);
	assert_int_equal(x.d.attrs, 2);
	assert_true(x.d.create_time == 42 && x.has_change && x.change_time == 77);
	assert_true(x.mtime_ns == -5 && x.size == 1234);
	/* every truncated prefix: an error or a value, never a read past the end */
	for (size_t i = 0; i < n; i++) {
		uint8_t copy[VFS_DOS_ENCODED_MAX];
		memcpy(copy, out, i);
		int r = vfs_dos_decode(copy, i, &x);
		assert_true(r == 0 || r == -ENODATA);
		if (i >= 24)
			assert_int_equal(r, 0); /* the version 5 part is whole */
		if (i < 24)
			assert_true(r == -ENODATA || x.d.create_time == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samba_v5),
		cmocka_unit_test(test_older_versions),
		cmocka_unit_test(test_change_time_extension_and_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
