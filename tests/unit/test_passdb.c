/* smbpasswd file: parse a file written by Samba's smbpasswd(8), then add,
 * change and delete accounts and check the file stays Samba-compatible. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/passdb.h"
#include "crypto/crypto.h"

/* Written by `smbpasswd -a -s` / `smbpasswd -d` of Samba 4.17 (alice's
 * password is "Password", bob's "pw"), plus a comment and a blank line. */
static const char samba_file[] =
	"# written by Samba\n"
	"alice:1003:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD852:[U          ]:LCT-6B068618:\n"
	"\n"
	"bob:1004:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8CC19B6A8CFEAC299C2871C86B38DE28:[DU         ]:LCT-6B068619:\n"
	"nopw:1005:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:\n";

static char dir[64], path[128];

static int setup(void **state)
{
	crypto_init();
	strcpy(dir, "/tmp/test_passdb.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/smbpasswd", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_hash(void **state)
{
	uint8_t h[16];
	/* MS-NLMP 4.2.2.1.2: NTOWFv1("Password") */
	static const uint8_t want[16] = { 0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
					  0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52 };
	assert_int_equal(passdb_nt_hash("Password", h), 0);
	assert_memory_equal(h, want, 16);
}

static void test_parse_samba(void **state)
{
	write_file(samba_file);
	struct passdb *db;
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_int_equal(db->n_users, 3);
	const struct passdb_entry *a = passdb_find(db, "ALICE");
	assert_non_null(a);
	assert_string_equal(a->name, "alice");
	assert_int_equal(a->uid, 1003);
	assert_true(a->has_nt_hash);
	assert_false(a->disabled);
	uint8_t h[16];
	passdb_nt_hash("Password", h);
	assert_memory_equal(a->nt_hash, h, 16);
	const struct passdb_entry *b = passdb_find(db, "bob");
	assert_true(b->disabled);
	passdb_nt_hash("pw", h);
	assert_memory_equal(b->nt_hash, h, 16);
	const struct passdb_entry *n = passdb_find(db, "nopw");
	assert_false(n->has_nt_hash);
	assert_true(n->no_password);
	assert_null(passdb_find(db, "carol"));
	passdb_free(db);
}

static void test_malformed(void **state)
{
	struct passdb *db = NULL;
	int line = 0;
	write_file("# ok\nalice:1003:X:A4F49C406510BDCAB6824EE7C30FD852:[U ]:\nbad:notanumber:X:Y:\n");
	assert_int_equal(passdb_load(path, &db, &line), -EINVAL);
	assert_int_equal(line, 3);
	write_file("alice:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD8:[U ]:\n");
	assert_int_equal(passdb_load(path, &db, &line), -EINVAL);
	write_file("justaname\n");
	assert_int_equal(passdb_load(path, &db, &line), -EINVAL);
	unlink(path);
	assert_int_equal(passdb_load(path, &db, &line), -ENOENT);
}

static void test_add_passwd_del(void **state)
{
	struct stat st;
	write_file(samba_file);
	chmod(path, 0644);
	assert_int_equal(passdb_add(path, "carol", 1010, "secret"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(passdb_add(path, "Carol", 1011, "x"), -EEXIST);
	assert_int_equal(passdb_add(path, "bad:name", 1011, "x"), -EINVAL);

	struct passdb *db;
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_int_equal(db->n_users, 4);
	const struct passdb_entry *c = passdb_find(db, "carol");
	assert_int_equal(c->uid, 1010);
	uint8_t h[16];
	passdb_nt_hash("secret", h);
	assert_memory_equal(c->nt_hash, h, 16);
	passdb_free(db);

	/* the new line has Samba's layout; the others are kept verbatim */
	FILE *f = fopen(path, "r");
	char buf[2048];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, samba_file));
	char *line = strstr(buf, "carol:1010:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:");
	assert_non_null(line);
	char hex[33];
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02X", h[i]);
	assert_memory_equal(line + 44, hex, 32);
	assert_memory_equal(line + 76, ":[U          ]:LCT-", 19);
	assert_int_equal(strlen(line), 76 + 19 + 8 + 2);

	assert_int_equal(passdb_set_password(path, "BOB", "newpw"), 0);
	assert_int_equal(passdb_set_password(path, "nobody", "x"), -ENOENT);
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	const struct passdb_entry *b = passdb_find(db, "bob");
	passdb_nt_hash("newpw", h);
	assert_memory_equal(b->nt_hash, h, 16);
	assert_true(b->disabled); /* flags kept */
	assert_int_equal(b->uid, 1004);
	passdb_free(db);

	/* enable / disable: the 'D' flag only, the hash and the rest kept */
	assert_int_equal(passdb_set_disabled(path, "bob", false), 0);
	assert_int_equal(passdb_set_disabled(path, "carol", true), 0);
	assert_int_equal(passdb_set_disabled(path, "nobody", true), -ENOENT);
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_false(passdb_find(db, "bob")->disabled);
	assert_memory_equal(passdb_find(db, "bob")->nt_hash, h, 16);
	assert_true(passdb_find(db, "carol")->disabled);
	assert_int_equal(passdb_find(db, "carol")->uid, 1010);
	passdb_free(db);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, ":[UD         ]:LCT-"));
	assert_int_equal(passdb_set_disabled(path, "carol", false), 0);
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_false(passdb_find(db, "carol")->disabled);
	passdb_free(db);

	assert_int_equal(passdb_del(path, "alice"), 0);
	assert_int_equal(passdb_del(path, "alice"), -ENOENT);
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_int_equal(db->n_users, 3);
	assert_null(passdb_find(db, "alice"));
	passdb_free(db);
}

static void test_create_missing(void **state)
{
	unlink(path);
	assert_int_equal(passdb_del(path, "x"), -ENOENT);
	assert_int_equal(passdb_set_password(path, "x", "y"), -ENOENT);
	assert_int_equal(passdb_add(path, "first", 1, "pw"), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct passdb *db;
	assert_int_equal(passdb_load(path, &db, NULL), 0);
	assert_int_equal(db->n_users, 1);
	passdb_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test_setup_teardown(test_parse_samba, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_passwd_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_missing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
