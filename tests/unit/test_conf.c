#include <arpa/inet.h>
#include <netinet/in.h>
/* Unit tests of src/conf: options, defaults, values, errors with line
 * numbers, interfaces syntax, continuation lines, shares, dump round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

/* Messages captured from one load. */
struct msgs {
	char *err, *warn;
	size_t err_len, warn_len;
};

static struct conf *load_msgs(const char *text, struct msgs *m)
{
	FILE *e = open_memstream(&m->err, &m->err_len);
	FILE *w = open_memstream(&m->warn, &m->warn_len);
	assert_non_null(e);
	assert_non_null(w);
	struct conf *c = conf_load_string(text, "t.conf", e, w);
	fclose(e);
	fclose(w);
	return c;
}

static void msgs_free(struct msgs *m)
{
	free(m->err);
	free(m->warn);
}

/* Load text that must be valid and give no message at all. */
static struct conf *load_ok(const char *text)
{
	struct msgs m = { 0 };
	struct conf *c = load_msgs(text, &m);
	if (!c || m.err_len || m.warn_len)
		fprintf(stderr, "unexpected: err=[%s] warn=[%s]\n", m.err, m.warn);
	assert_non_null(c);
	assert_int_equal(m.err_len, 0);
	assert_int_equal(m.warn_len, 0);
	msgs_free(&m);
	return c;
}

/* Load text that must fail with `expect` among the errors. */
static void load_bad(const char *text, const char *expect)
{
	struct msgs m = { 0 };
	struct conf *c = load_msgs(text, &m);
	if (c || !strstr(m.err, expect))
		fprintf(stderr, "expected [%s] in err=[%s]\n", expect, m.err);
	assert_null(c);
	assert_non_null(strstr(m.err, expect));
	msgs_free(&m);
}

/* Samba's "log level = N class:N ...": smb3d's classes get their level,
 * Samba's other classes are accepted and change nothing, anything else
 * is an error. */
static void test_log_level_classes(void **state)
{
	(void)state;
	struct conf *c = load_ok("log level = 1 auth:3 passdb:2 smb2:5\n");
	assert_int_equal(c->log_level, 1);
	assert_int_equal(c->log_class_level[LOG_CLASS_AUTH], 3);
	assert_int_equal(c->log_class_level[LOG_CLASS_PASSDB], 2);
	assert_int_equal(c->log_class_level[LOG_CLASS_SMB2], 5);
	assert_int_equal(c->log_class_level[LOG_CLASS_VFS], -1);
	assert_int_equal(c->log_class_level[LOG_CLASS_LOCKING], -1);
	conf_free(c);
	/* commas and semicolons separate too; case does not matter; all:N
	 * is the bare number; a class without one of smb3d's changes nothing */
	c = load_ok("debug level = VFS:4,Locking:0;all:3 tdb:10 winbind:2 dsdb_group_json_audit:1\n");
	assert_int_equal(c->log_level, 3);
	assert_int_equal(c->log_class_level[LOG_CLASS_VFS], 4);
	assert_int_equal(c->log_class_level[LOG_CLASS_LOCKING], 0);
	assert_int_equal(c->log_class_level[LOG_CLASS_AUTH], -1);
	conf_free(c);
	c = load_ok("log level = smb2:4\n"); /* no bare number: all stays 1 */
	assert_int_equal(c->log_level, 1);
	assert_int_equal(c->log_class_level[LOG_CLASS_SMB2], 4);
	conf_free(c);
	load_bad("log level = 1 nosuch:3\n", "t.conf:1: 'nosuch:3' in 'log level': 'nosuch' is not a Samba debug class");
	load_bad("log level = 1 smb2\n", "t.conf:1: bad value 'smb2' for 'log level'");
	load_bad("log level = 1 auth:\n", "t.conf:1: bad value 'auth:' for 'log level'");
	load_bad("log level = 1 auth:11\n", "t.conf:1: bad value 'auth:11'");
	load_bad("log level = 1 auth:-1\n", "t.conf:1: bad value 'auth:-1'");
	load_bad("log level = 1 :3\n", "t.conf:1: ':3' in 'log level': '' is not a Samba debug class");
	load_bad("log level = 1 auth:3@/var/log/auth.log\n", "a log file per debug class is not supported");
	load_bad("log level = ,\n", "t.conf:1: bad value ',' for 'log level'");
}

static void test_defaults(void **state)
{
	struct conf *c = load_ok("");
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';
	host[15] = '\0';
	for (char *p = host; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	assert_string_equal(c->netbios_name, host);
	assert_string_equal(c->path, "t.conf");
	assert_string_equal(c->workgroup, "WORKGROUP");
	assert_string_equal(c->server_string, "smb3d");
	assert_int_equal(c->n_ports, 1);
	assert_int_equal(c->ports[0], 445);
	assert_int_equal(c->n_ifaces, 0);
	assert_false(c->bind_interfaces_only);
	assert_int_equal(c->min_protocol, 0x0202);
	assert_int_equal(c->max_protocol, 0x0311);
	assert_int_equal(c->server_signing, CONF_AUTO);
	assert_int_equal(c->smb_encrypt, CONF_OFF);
	assert_true(c->multi_channel);
	assert_string_equal(c->passdb_path, "/etc/smb3d/smbpasswd");
	assert_int_equal(c->map_to_guest, MAP_GUEST_NEVER);
	assert_string_equal(c->guest_account, "nobody");
	assert_int_equal(c->log_level, 1);
	assert_int_equal(c->io_backend, IO_BACKEND_URING);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->max_credits, 8192);
	assert_int_equal(c->max_io_size, 8 << 20);
	assert_int_equal(c->max_connections, 0);
	assert_int_equal(c->deadtime, 0);
	assert_int_equal(c->negotiate_timeout, 20);
	assert_true(c->null_session);
	assert_string_equal(c->control_socket, "/run/smb3d/control.sock");
	assert_int_equal(c->metrics_port, 0);
	assert_true(c->case_insensitive_default);
	/* IPC$ only */
	assert_int_equal(c->n_shares, 1);
	assert_true(c->shares[0].ipc);
	assert_string_equal(c->shares[0].name, "IPC$");
	assert_null(c->shares[0].path);
	assert_string_equal(c->shares[0].comment, "IPC Service (smb3d)");
	conf_free(c);
}

static void test_every_global_option(void **state)
{
	struct conf *c = load_ok(
		"[global]\n"
		"  netbios name = fileserver1\n"
		"  workgroup = example\n"
		"  server string = Files here\n"
		"  smb ports = 445, 4450\n"
		"  interfaces = eth0 192.168.1.0/24\n"
		"  bind interfaces only = yes\n"
		"  server min protocol = SMB3_00\n"
		"  server max protocol = SMB3_02\n"
		"  server signing = mandatory\n"
		"  smb encrypt = required\n"
		"  server multi channel support = no\n"
		"  passdb backend = smbpasswd:/var/lib/smb3d/passwd\n"
		"  map to guest = Bad User\n"
		"  guest account = guest\n"
		"  log level = 3 auth:5\n"
		"  io backend = threads\n"
		"  worker threads = 4\n"
		"  smb2 max credits = 512\n"
		"  smb2 max read = 1048576\n"
		"  max connections = 100\n"
		"  deadtime = 15\n"
		"  negotiate timeout = 5\n"
		"  restrict anonymous = 2\n"
		"  control socket = /tmp/ctl.sock\n"
		"  metrics port = 9100\n"
		"  case sensitive = yes\n");
	assert_string_equal(c->netbios_name, "FILESERVER1");
	assert_string_equal(c->workgroup, "EXAMPLE");
	assert_string_equal(c->server_string, "Files here");
	assert_int_equal(c->n_ports, 2);
	assert_int_equal(c->ports[0], 445);
	assert_int_equal(c->ports[1], 4450);
	assert_int_equal(c->n_ifaces, 2);
	assert_string_equal(c->ifaces[0].name, "eth0");
	assert_string_equal(c->ifaces[1].name, "192.168.1.0/24");
	assert_true(c->bind_interfaces_only);
	assert_int_equal(c->min_protocol, 0x0300);
	assert_int_equal(c->max_protocol, 0x0302);
	assert_int_equal(c->server_signing, CONF_MANDATORY);
	assert_int_equal(c->smb_encrypt, CONF_REQUIRED);
	assert_false(c->multi_channel);
	assert_string_equal(c->passdb_path, "/var/lib/smb3d/passwd");
	assert_int_equal(c->map_to_guest, MAP_GUEST_BAD_USER);
	assert_string_equal(c->guest_account, "guest");
	assert_int_equal(c->log_level, 3);
	assert_int_equal(c->io_backend, IO_BACKEND_THREADS);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->max_credits, 512);
	assert_int_equal(c->max_io_size, 1048576);
	assert_int_equal(c->max_connections, 100);
	assert_int_equal(c->deadtime, 15);
	assert_int_equal(c->negotiate_timeout, 5);
	assert_false(c->null_session);
	assert_string_equal(c->control_socket, "/tmp/ctl.sock");
	assert_int_equal(c->metrics_port, 9100);
	assert_false(c->case_insensitive_default);
	assert_string_equal(c->shares[0].comment, "IPC Service (Files here)");
	conf_free(c);
}

static void test_enum_values(void **state)
{
	struct conf *c = load_ok("map to guest = bad_password\nserver signing = disabled\n"
	                         "smb encrypt = if_required\nmin protocol = SMB2\nmax protocol = smb3\n"
	                         "io backend = io_uring\n");
	assert_int_equal(c->map_to_guest, MAP_GUEST_BAD_PASSWORD);
	assert_int_equal(c->server_signing, CONF_OFF);
	assert_int_equal(c->smb_encrypt, CONF_DESIRED);
	assert_int_equal(c->min_protocol, 0x0202);
	assert_int_equal(c->max_protocol, 0x0311);
	assert_int_equal(c->io_backend, IO_BACKEND_URING);
	conf_free(c);
	c = load_ok("server signing = required\nsmb encrypt = auto\nmap to guest = never\n"
	            "server min protocol = SMB3\nserver max protocol = SMB3_11\n");
	assert_int_equal(c->server_signing, CONF_MANDATORY);
	assert_int_equal(c->smb_encrypt, CONF_OFF);
	assert_int_equal(c->min_protocol, 0x0300);
	conf_free(c);
	c = load_ok("smb encrypt = mandatory\nsmb2 max write = 65536\nsmb2 max trans = 2097152\n");
	assert_int_equal(c->smb_encrypt, CONF_REQUIRED);
	assert_int_equal(c->max_io_size, 2097152);
	conf_free(c);
}

static void test_names_case_spaces_underscores(void **state)
{
	struct conf *c = load_ok("SMBPORTS = 139\nServer_Multi_Channel_Support = No\n"
	                         "  bind   interfaces only=yes\n");
	assert_int_equal(c->n_ports, 1);
	assert_int_equal(c->ports[0], 139);
	assert_false(c->multi_channel);
	assert_true(c->bind_interfaces_only);
	conf_free(c);
}

static void test_booleans(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "1", "on", "ON" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "0", "off", "Off" };
	char text[128];
	for (size_t i = 0; i < 7; i++) {
		snprintf(text, sizeof(text), "bind interfaces only = %s\n", yes[i]);
		struct conf *c = load_ok(text);
		assert_true(c->bind_interfaces_only);
		conf_free(c);
		snprintf(text, sizeof(text), "server multi channel support = %s\n", no[i]);
		c = load_ok(text);
		assert_false(c->multi_channel);
		conf_free(c);
	}
	load_bad("\n[global]\nbind interfaces only = maybe\n", "t.conf:3: bad boolean 'maybe'");
}

static void test_bad_values_line_numbers(void **state)
{
	load_bad("[global]\n  server signing = sometimes\n", "t.conf:2: unknown value 'sometimes' for 'server signing'");
	load_bad("# c\n\nsmb encrypt = strong\n", "t.conf:3: unknown value 'strong'");
	load_bad("map to guest = always\n", "t.conf:1: unknown value 'always' for 'map to guest'");
	load_bad("\n\nio backend = aio\n", "t.conf:3:");
	load_bad("x=1\nsmb ports = 445 70000\n", "t.conf:2: port '70000' out of range");
	load_bad("smb ports = 0\n", "t.conf:1: port '0' out of range");
	load_bad("smb ports = abc\n", "t.conf:1: port 'abc'");
	load_bad("smb ports =\n", "t.conf:1:");
	load_bad("\n\n\nworker threads = -1\n", "t.conf:4: bad value '-1' for 'worker threads'");
	load_bad("deadtime = 10m\n", "t.conf:1: bad value '10m'");
	load_bad("log level = loud\n", "t.conf:1: bad value 'loud'");
	load_bad("netbios name = ABCDEFGHIJKLMNOPQ\n", "t.conf:1: 'netbios name' must be");
	load_bad("server min protocol = NT1\n", "t.conf:1: 'server min protocol': SMB1");
	load_bad("server max protocol = SMB4\n", "t.conf:1: unknown value 'SMB4'");
	load_bad("passdb backend = tdbsam\n", "t.conf:1: passdb backend 'tdbsam' is not supported");
	load_bad("passdb backend = ldapsam:ldap://x\n", "t.conf:1: passdb backend 'ldapsam'");
	load_bad("passdb backend = smbpasswd:relative/file\n", "t.conf:1: passdb path 'relative/file' is not absolute");
	load_bad("restrict anonymous = 5\n", "t.conf:1:");
	load_bad("[s]\npath = /srv\nread only = perhaps\n", "t.conf:3: bad boolean 'perhaps' for 'read only'");
	load_bad("just words\n", "t.conf:1: syntax error");
	load_bad("[broken\n", "t.conf:1: syntax error: missing ']'");
	/* several errors: every one is reported */
	struct msgs m = { 0 };
	assert_null(load_msgs("deadtime = x\n[a]\npath = /a\nguest ok = 2\n", &m));
	assert_non_null(strstr(m.err, "t.conf:1: "));
	assert_non_null(strstr(m.err, "t.conf:4: bad boolean '2'"));
	msgs_free(&m);
}

static void test_share_validation(void **state)
{
	load_bad("[global]\n\n[data]\n  comment = no path\n", "t.conf:3: share [data] has no path");
	load_bad("[data]\n  path = srv/data\n", "t.conf:2: path 'srv/data' of share [data] is not absolute");
	load_bad("server min protocol = SMB3_11\nserver max protocol = SMB3_00\n",
	         "t.conf:2: server min protocol SMB3_11 is above server max protocol SMB3_00");
	load_bad("server max protocol = SMB2_10\n\nserver min protocol = SMB3_00\n", "t.conf:3: server min protocol");
}

static void test_min_equal_max_ok(void **state)
{
	struct conf *c = load_ok("server max protocol = SMB2_02\n");
	assert_int_equal(c->max_protocol, 0x0202);
	conf_free(c);
}

static void test_shares(void **state)
{
	struct conf *c = load_ok(
		"[global]\n"
		"workgroup = W\n"
		"[Data]\n"
		"  path = /srv/data/\n"
		"  comment = Team data\n"
		"  writable = yes\n"
		"  public = yes\n"
		"  browsable = no\n"
		"  smb encrypt = desired\n"
		"  case sensitive = yes\n"
		"  valid users = alice, @staff \"Domain User\" bob\n"
		"[ro]\n"
		"  directory = /srv/ro\n"
		"[wo]\n"
		"  path = /srv/wo\n"
		"  write ok = yes\n"
		"[w2]\n"
		"  path = /srv/w2\n"
		"  writeable = yes\n"
		"  read only = yes\n"
		"  guest ok = yes\n");
	assert_int_equal(c->n_shares, 5);
	assert_true(c->shares[0].ipc);
	const struct conf_share *s = conf_share_find(c, "data");
	assert_non_null(s);
	assert_ptr_equal(s, conf_share_find(c, "DATA"));
	assert_ptr_equal(s, &c->shares[1]);
	assert_string_equal(s->name, "Data");
	assert_string_equal(s->path, "/srv/data");
	assert_string_equal(s->comment, "Team data");
	assert_false(s->ipc);
	assert_false(s->read_only);
	assert_true(s->guest_ok);
	assert_false(s->browseable);
	assert_int_equal(s->smb_encrypt, CONF_DESIRED);
	assert_false(s->case_insensitive);
	assert_int_equal(s->n_valid_users, 4);
	assert_string_equal(s->valid_users[0], "alice");
	assert_string_equal(s->valid_users[1], "@staff");
	assert_string_equal(s->valid_users[2], "Domain User");
	assert_string_equal(s->valid_users[3], "bob");

	s = conf_share_find(c, "Ro");
	assert_non_null(s);
	assert_string_equal(s->path, "/srv/ro");
	assert_null(s->comment);
	assert_true(s->read_only);
	assert_false(s->guest_ok);
	assert_true(s->browseable);
	assert_int_equal(s->smb_encrypt, -1);
	assert_true(s->case_insensitive);
	assert_null(s->valid_users);
	assert_false(conf_share_find(c, "wo")->read_only);
	assert_true(conf_share_find(c, "w2")->read_only);
	assert_true(conf_share_find(c, "w2")->guest_ok);
	assert_non_null(conf_share_find(c, "ipc$"));
	assert_null(conf_share_find(c, "nope"));
	assert_null(conf_share_find(c, NULL));
	conf_free(c);
}

static void test_share_defaults_from_global_and_merge(void **state)
{
	struct conf *c = load_ok("[global]\nread only = no\nguest ok = yes\nvalid users = root\n"
	                         "[a]\npath = /a\n[b]\npath = /b\nread only = yes\n[A]\ncomment = merged\n");
	assert_int_equal(c->n_shares, 3);
	const struct conf_share *a = conf_share_find(c, "a");
	assert_false(a->read_only);
	assert_true(a->guest_ok);
	assert_string_equal(a->comment, "merged");
	assert_int_equal(a->n_valid_users, 1);
	assert_true(conf_share_find(c, "b")->read_only);
	conf_free(c);
}

static void test_valid_users(void **state)
{
	struct conf *c = load_ok("[s]\npath = /s\nvalid users = Alice bob\n[t]\npath = /t\n"
	                         "[r]\npath = /r\nvalid users = @root\n[e]\npath = /e\nvalid users =\n");
	const struct conf_share *s = conf_share_find(c, "s");
	assert_true(conf_share_user_ok(s, "alice"));
	assert_true(conf_share_user_ok(s, "ALICE"));
	assert_true(conf_share_user_ok(s, "bob"));
	assert_false(conf_share_user_ok(s, "carol"));
	assert_false(conf_share_user_ok(s, NULL));
	assert_true(conf_share_user_ok(conf_share_find(c, "t"), "anyone"));
	assert_true(conf_share_user_ok(conf_share_find(c, "e"), "anyone"));
	/* group membership: root's primary group is root */
	assert_true(conf_share_user_ok(conf_share_find(c, "r"), "root"));
	assert_false(conf_share_user_ok(conf_share_find(c, "r"), "no-such-user-x"));
	conf_free(c);
}

static void test_ipc(void **state)
{
	struct conf *c = load_ok("[a]\npath = /a\n[global]\nserver string = Box\n");
	assert_int_equal(c->n_shares, 2);
	assert_true(c->shares[0].ipc);
	assert_string_equal(c->shares[0].comment, "IPC Service (Box)");
	conf_free(c);
	/* a declared [IPC$] stays index 0 */
	c = load_ok("[a]\npath = /a\n[ipc$]\ncomment = remote ipc\n");
	assert_int_equal(c->n_shares, 2);
	assert_true(c->shares[0].ipc);
	assert_null(c->shares[0].path);
	assert_string_equal(c->shares[0].comment, "remote ipc");
	assert_false(c->shares[1].ipc);
	conf_free(c);
}

static void test_interfaces_override(void **state)
{
	struct conf *c = load_ok(
		"interfaces = \"eth0;if_index=65,speed=1000000000,capability=RSS\" , "
		"\"eth1;capability=RSS,capability=RDMA,speed=25000000000\",lo 10.0.0.1\n");
	assert_int_equal(c->n_ifaces, 4);
	assert_string_equal(c->ifaces[0].name, "eth0");
	assert_int_equal(c->ifaces[0].if_index, 65);
	assert_int_equal(c->ifaces[0].speed, 1000000000ULL);
	assert_true(c->ifaces[0].rss);
	assert_false(c->ifaces[0].rdma);
	assert_string_equal(c->ifaces[1].name, "eth1");
	assert_int_equal(c->ifaces[1].if_index, 0);
	assert_int_equal(c->ifaces[1].speed, 25000000000ULL);
	assert_true(c->ifaces[1].rss);
	assert_true(c->ifaces[1].rdma);
	assert_string_equal(c->ifaces[2].name, "lo");
	assert_int_equal(c->ifaces[2].speed, 0);
	assert_false(c->ifaces[2].rss);
	assert_string_equal(c->ifaces[3].name, "10.0.0.1");
	conf_free(c);
	load_bad("\ninterfaces = \"eth0;speed=fast\"\n", "t.conf:2: bad speed 'fast'");
	load_bad("interfaces = \"eth0;capability=TURBO\"\n", "t.conf:1: unknown capability 'TURBO'");
	load_bad("interfaces = \"eth0;mtu=9000\"\n", "t.conf:1: unknown interface option 'mtu'");
	load_bad("interfaces = \"eth0;if_index=x\"\n", "t.conf:1: bad if_index");
	load_bad("interfaces = eth0;if_index=1,speed=1\n", "t.conf:1: bad interface 'speed=1'");
}

static void test_continuation_lines(void **state)
{
	struct conf *c = load_ok(
		"[global]\n"
		"  workgroup = ab\\\n"
		"     cd\n"
		"  smb ports = 445 \\\n"
		"\t139\n"
		"  server min protocol = SMB3_02\n"
		"[s]\n"
		"  path = /srv/\\\n"
		"share\n"
		"  valid users = a, \\\n"
		"     b, \\\n"
		"     c\n");
	assert_string_equal(c->workgroup, "AB CD");
	assert_int_equal(c->n_ports, 2);
	assert_int_equal(c->ports[1], 139);
	assert_int_equal(c->min_protocol, 0x0302);
	assert_string_equal(conf_share_find(c, "s")->path, "/srv/share");
	assert_int_equal(conf_share_find(c, "s")->n_valid_users, 3);
	conf_free(c);
	/* an error after a continued line names the right physical line */
	load_bad("workgroup = a\\\n b\\\n c\nserver signing = bad\n", "t.conf:4: unknown value 'bad'");
	load_bad("smb ports = 445 \\\n  99999\n", "t.conf:1: port '99999'");
}

static void test_unknown_option_and_sections(void **state)
{
	struct msgs m = { 0 };
	struct conf *c = load_msgs("[global]\n\n  security = user\n[homes]\n  browseable = no\n"
	                           "[printers]\n  path = /var/spool\n[s]\n  path = /s\n  foo bar = 1\n"
	                           "  workgroup = X\n", &m);
	assert_non_null(c);
	assert_int_equal(m.err_len, 0);
	assert_non_null(strstr(m.warn, "t.conf:3: warning: option 'security' is not supported, ignored\n"));
	assert_null(strstr(m.warn, "[homes]")); /* a template now: conf->homes */
	assert_non_null(c->homes);
	assert_false(c->homes->browseable);
	assert_non_null(strstr(m.warn, "t.conf:6: warning: section [printers] is not supported"));
	assert_non_null(strstr(m.warn, "t.conf:10: warning: unknown option 'foo bar' ignored\n"));
	assert_non_null(strstr(m.warn, "t.conf:11: warning: global option 'workgroup' in share [s]"));
	assert_int_equal(c->n_shares, 2);
	assert_null(conf_share_find(c, "homes")); /* not a share of its own */
	assert_string_equal(c->workgroup, "WORKGROUP");
	conf_free(c);
	msgs_free(&m);
	/* warn stream may be NULL */
	c = conf_load_string("bogus = 1\n", "x", stderr, NULL);
	assert_non_null(c);
	conf_free(c);
}

static void test_substitutions(void **state)
{
	(void)state;
	struct conf_subst sub = { .user = "alice", .group = "staff", .share = "data", .hostname = "fs1",
	                          .netbios_name = "FS1", .client = "192.0.2.7" };
	char *r = conf_subst("/srv/%U/%G/%S %h %L %I %m %% %v %X %", &sub);
	assert_string_equal(r, "/srv/alice/staff/data fs1 FS1 192.0.2.7 192.0.2.7 % " SMB3D_VERSION " %X %");
	free(r);
	struct conf_subst none = { 0 };
	r = conf_subst("%U %S", &none); /* unknown values stay as written */
	assert_string_equal(r, "%U %S");
	free(r);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	struct conf *c = load_ok("server string = %h server (Samba %v)\n[a]\npath = /a\ncomment = share %S\n"
	                         "[homes]\npath = /home/%S\nvalid users = %S\n");
	char want[600];
	snprintf(want, sizeof(want), "%s server (Samba %s)", host, SMB3D_VERSION);
	assert_string_equal(c->server_string, want);
	assert_string_equal(conf_share_find(c, "a")->comment, "share a");
	assert_string_equal(c->homes->path, "/home/%S"); /* per connection */
	conf_free(c);
}

static void test_samba_syntax_details(void **state)
{
	/* ';' in a value is not a comment (Samba), ':' in a name is fine,
	 * comments with '#' and ';', CRLF, BOM, long lines */
	char longval[600];
	memset(longval, 'x', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fprintf(f, "\xEF\xBB\xBF# comment\r\n; other comment\r\n[global]\r\n"
	           "server string = a ; b\r\nidmap config * : backend = tdb\r\n"
	           "[s]\npath = /%s\ncomment = %s\n", longval, longval);
	fclose(f);
	struct msgs m = { 0 };
	struct conf *c = load_msgs(text, &m);
	assert_non_null(c);
	assert_int_equal(m.err_len, 0);
	assert_string_equal(c->server_string, "a ; b");
	assert_non_null(strstr(m.warn, "t.conf:5: warning: unknown option 'idmap config * : backend'"));
	const struct conf_share *s = conf_share_find(c, "s");
	assert_int_equal(strlen(s->path), strlen(longval) + 1);
	assert_string_equal(s->comment, longval);
	conf_free(c);
	msgs_free(&m);
	free(text);
}

static void test_include(void **state)
{
	char dir[] = "/tmp/test_conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char inc[256], main_path[256];
	snprintf(inc, sizeof(inc), "%s/inc.conf", dir);
	snprintf(main_path, sizeof(main_path), "%s/smb.conf", dir);
	FILE *f = fopen(inc, "w");
	fputs("workgroup = INCLUDED\n[inc]\npath = /inc\nread only = what\n", f);
	fclose(f);
	f = fopen(main_path, "w");
	fputs("[global]\ninclude = inc.conf\ninclude = missing.conf\n", f);
	fclose(f);
	struct msgs m = { 0 };
	FILE *e = open_memstream(&m.err, &m.err_len), *w = open_memstream(&m.warn, &m.warn_len);
	struct conf *c = conf_load(main_path, e, w);
	fclose(e);
	fclose(w);
	assert_null(c);
	char want[300];
	snprintf(want, sizeof(want), "%s:4: bad boolean 'what'", inc);
	assert_non_null(strstr(m.err, want));
	snprintf(want, sizeof(want), "%s:3: warning: cannot read include file", main_path);
	assert_non_null(strstr(m.warn, want));
	msgs_free(&m);

	f = fopen(inc, "w");
	fputs("workgroup = INCLUDED\n[inc]\npath = /inc\n", f);
	fclose(f);
	c = conf_load(main_path, NULL, NULL);
	assert_non_null(c);
	assert_string_equal(c->workgroup, "INCLUDED");
	assert_string_equal(c->path, main_path);
	assert_non_null(conf_share_find(c, "inc"));
	conf_free(c);
	/* self include stops at the depth limit */
	f = fopen(main_path, "w");
	fputs("include = smb.conf\n", f);
	fclose(f);
	assert_null(conf_load(main_path, NULL, NULL));
	unlink(inc);
	unlink(main_path);
	rmdir(dir);
}

static void test_load_missing_file(void **state)
{
	char *err = NULL;
	size_t len = 0;
	FILE *e = open_memstream(&err, &len);
	assert_null(conf_load("/nonexistent/smb.conf", e, NULL));
	fclose(e);
	assert_non_null(strstr(err, "/nonexistent/smb.conf: cannot read"));
	free(err);
}

static void assert_same_conf(const struct conf *a, const struct conf *b)
{
	assert_string_equal(a->netbios_name, b->netbios_name);
	assert_string_equal(a->workgroup, b->workgroup);
	assert_string_equal(a->server_string, b->server_string);
	assert_int_equal(a->n_ports, b->n_ports);
	assert_memory_equal(a->ports, b->ports, a->n_ports * sizeof(a->ports[0]));
	assert_int_equal(a->n_ifaces, b->n_ifaces);
	for (size_t i = 0; i < a->n_ifaces; i++) {
		assert_string_equal(a->ifaces[i].name, b->ifaces[i].name);
		assert_int_equal(a->ifaces[i].if_index, b->ifaces[i].if_index);
		assert_int_equal(a->ifaces[i].speed, b->ifaces[i].speed);
		assert_int_equal(a->ifaces[i].rss, b->ifaces[i].rss);
		assert_int_equal(a->ifaces[i].rdma, b->ifaces[i].rdma);
	}
	assert_int_equal(a->bind_interfaces_only, b->bind_interfaces_only);
	assert_int_equal(a->min_protocol, b->min_protocol);
	assert_int_equal(a->max_protocol, b->max_protocol);
	assert_int_equal(a->server_signing, b->server_signing);
	assert_int_equal(a->smb_encrypt, b->smb_encrypt);
	assert_int_equal(a->multi_channel, b->multi_channel);
	assert_string_equal(a->passdb_path, b->passdb_path);
	assert_int_equal(a->map_to_guest, b->map_to_guest);
	assert_string_equal(a->guest_account, b->guest_account);
	assert_int_equal(a->log_level, b->log_level);
	assert_memory_equal(a->log_class_level, b->log_class_level, sizeof(a->log_class_level));
	assert_int_equal(a->io_backend, b->io_backend);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->max_credits, b->max_credits);
	assert_int_equal(a->max_io_size, b->max_io_size);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_int_equal(a->deadtime, b->deadtime);
	assert_int_equal(a->negotiate_timeout, b->negotiate_timeout);
	assert_int_equal(a->oplock_break_timeout, b->oplock_break_timeout);
	assert_int_equal(a->null_session, b->null_session);
	assert_string_equal(a->control_socket, b->control_socket);
	assert_int_equal(a->metrics_port, b->metrics_port);
	assert_int_equal(a->case_insensitive_default, b->case_insensitive_default);
	assert_int_equal(a->n_shares, b->n_shares);
	for (size_t i = 0; i < a->n_shares; i++) {
		const struct conf_share *x = &a->shares[i], *y = &b->shares[i];
		assert_string_equal(x->name, y->name);
		if (x->path || y->path)
			assert_string_equal(x->path, y->path);
		if (x->comment || y->comment)
			assert_string_equal(x->comment, y->comment);
		assert_int_equal(x->ipc, y->ipc);
		assert_int_equal(x->read_only, y->read_only);
		assert_int_equal(x->guest_ok, y->guest_ok);
		assert_int_equal(x->browseable, y->browseable);
		assert_int_equal(x->smb_encrypt, y->smb_encrypt);
		assert_int_equal(x->case_insensitive, y->case_insensitive);
		assert_int_equal(x->n_valid_users, y->n_valid_users);
		for (size_t j = 0; j < x->n_valid_users; j++)
			assert_string_equal(x->valid_users[j], y->valid_users[j]);
	}
}

static void roundtrip(const char *text)
{
	struct conf *a = load_ok(text);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	conf_dump(a, f);
	fclose(f);
	assert_non_null(strstr(out, "# Global parameters\n[global]\n"));
	struct conf *b = load_ok(out);
	assert_same_conf(a, b);
	conf_free(a);
	conf_free(b);
	free(out);
}

static void test_dump_roundtrip(void **state)
{
	roundtrip("");
	roundtrip("[global]\nnetbios name = nb\nworkgroup = wg\nserver string = My Server\n"
	          "smb ports = 445 139\n"
	          "interfaces = \"eth0;if_index=65,speed=1000000000,capability=RSS\" lo "
	          "\"eth1;capability=RDMA\" \"eth2;speed=10\"\n"
	          "bind interfaces only = yes\nserver min protocol = SMB2_10\nserver max protocol = SMB3_02\n"
	          "server signing = mandatory\nsmb encrypt = desired\nserver multi channel support = no\n"
	          "passdb backend = smbpasswd:/x/y\nmap to guest = bad password\nguest account = g\n"
	          "log level = 4 auth:3 passdb:0 smb2:5 vfs:2 locking:10\nio backend = threads\nworker threads = 3\nsmb2 max credits = 100\n"
	          "smb2 max read = 131072\nmax connections = 7\ndeadtime = 9\nnegotiate timeout = 11\n"
	          "restrict anonymous = 1\ncontrol socket = /c.sock\nmetrics port = 9000\n"
	          "case sensitive = yes\n"
	          "[IPC$]\ncomment = custom ipc\n"
	          "[one]\npath = /srv/one\ncomment = first share\nread only = no\nguest ok = yes\n"
	          "browseable = no\nsmb encrypt = required\ncase sensitive = no\n"
	          "valid users = alice @staff \"Domain User\"\n"
	          "[two]\npath = /srv/two\nsmb encrypt = off\n");
	roundtrip("smb encrypt = required\n[x]\npath = /x\n");
}

static void test_current_refcount(void **state)
{
	assert_null(conf_current_get());
	struct conf *a = load_ok("workgroup = A\n");
	conf_current_set(a);
	struct conf *r1 = conf_current_get();
	assert_ptr_equal(r1, a);
	struct conf *b = load_ok("workgroup = B\n");
	conf_current_set(b); /* a stays alive: r1 still holds it */
	assert_string_equal(r1->workgroup, "A");
	struct conf *r2 = conf_current_get();
	assert_string_equal(r2->workgroup, "B");
	conf_current_put(r1); /* frees a (ASan checks) */
	conf_current_put(r2);
	conf_current_set(NULL); /* frees b */
	assert_null(conf_current_get());
	conf_current_put(NULL);
}


static void test_hosts_allow_deny(void **state)
{
	(void)state;
	struct conf *c = conf_load_string("[global]\nhosts allow = 10.0.0.0/8 192.168.1. fd00::/8 127.0.0.1\n"
					  "hosts deny = ALL\n", "t.conf", stderr, NULL);
	assert_non_null(c);
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	const char *yes4[] = { "10.1.2.3", "192.168.1.77", "127.0.0.1" };
	const char *no4[] = { "11.0.0.1", "192.168.2.1", "127.0.0.2" };
	for (size_t i = 0; i < 3; i++) {
		inet_pton(AF_INET, yes4[i], &a4.sin_addr);
		assert_true(conf_host_allowed(c, (struct sockaddr *)&a4));
		inet_pton(AF_INET, no4[i], &a4.sin_addr);
		assert_false(conf_host_allowed(c, (struct sockaddr *)&a4));
	}
	inet_pton(AF_INET6, "fd00::5", &a6.sin6_addr);
	assert_true(conf_host_allowed(c, (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "::ffff:10.9.9.9", &a6.sin6_addr); /* v4-mapped */
	assert_true(conf_host_allowed(c, (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "fe80::1", &a6.sin6_addr);
	assert_false(conf_host_allowed(c, (struct sockaddr *)&a6));
	conf_free(c);
	/* no lists: everyone; a bad pattern: an error with its line */
	c = conf_load_string("[global]\n", "t.conf", stderr, NULL);
	inet_pton(AF_INET, "8.8.8.8", &a4.sin_addr);
	assert_true(conf_host_allowed(c, (struct sockaddr *)&a4));
	conf_free(c);
	FILE *devnull = fopen("/dev/null", "w");
	assert_null(conf_load_string("[global]\nhosts allow = 10.0.0.0/99\n", "t.conf", devnull, NULL));
	fclose(devnull);
}

static bool host_ok(const struct conf_share *s, const char *addr)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1)
		return conf_share_host_allowed(s, (struct sockaddr *)&a4);
	assert_int_equal(inet_pton(AF_INET6, addr, &a6.sin6_addr), 1);
	return conf_share_host_allowed(s, (struct sockaddr *)&a6);
}

static void test_share_hosts_except_localhost(void **state)
{
	(void)state;
	struct conf *c = load_ok("[global]\nhosts deny = 10.9.9.9\n"
	                         "[a]\npath = /a\nhosts allow = 10. EXCEPT 10.1.0.0/16 EXCEPT 10.1.2.3\n"
	                         "[b]\npath = /b\nhosts allow = localhost\n"
	                         "[c]\npath = /c\nhosts deny = 127.0.0.1\n[d]\npath = /d\n");
	const struct conf_share *a = conf_share_find(c, "a"), *b = conf_share_find(c, "b");
	const struct conf_share *cc = conf_share_find(c, "c"), *d = conf_share_find(c, "d");
	/* the [global] list is the server's, not copied into the shares */
	assert_int_equal(c->n_hosts_deny, 1);
	assert_int_equal(d->hosts_deny.n, 0);
	assert_true(host_ok(d, "10.9.9.9"));
	assert_true(host_ok(a, "10.2.0.1"));
	assert_false(host_ok(a, "10.1.0.1"));   /* EXCEPT */
	assert_true(host_ok(a, "10.1.2.3"));    /* EXCEPT inside EXCEPT */
	assert_false(host_ok(a, "11.0.0.1"));
	assert_false(host_ok(a, "127.0.0.1"));  /* loopback is not special (stricter than Samba) */
	assert_true(host_ok(b, "127.0.0.1"));
	assert_true(host_ok(b, "::1"));
	assert_false(host_ok(b, "127.0.0.2"));
	assert_false(host_ok(cc, "127.0.0.1"));
	assert_true(host_ok(cc, "192.0.2.1"));
	conf_free(c);
	load_bad("[a]\npath = /a\nhosts allow = fileserver.example.com\n", "t.conf:3: 'hosts allow': bad address pattern");
	load_bad("[a]\npath = /a\nhosts deny = @netgroup\n", "t.conf:3: 'hosts deny': bad address pattern");
}

static void test_user_lists(void **state)
{
	(void)state;
	struct conf *c = load_ok("[global]\ninvalid users = root\n"
	                         "[ro]\npath = /ro\nwrite list = alice\n"
	                         "[rw]\npath = /rw\nread only = no\nread list = bob, alice\nwrite list = alice\n"
	                         "[v]\npath = /v\nvalid users = bob carol\ninvalid users = carol\n");
	bool ro;
	const char *why;
	const struct conf_share *s = conf_share_find(c, "ro");
	assert_false(conf_share_access(s, "root", &ro, &why)); /* [global] default */
	assert_string_equal(why, "invalid users");
	assert_true(conf_share_access(s, "alice", &ro, &why));
	assert_false(ro);
	assert_true(conf_share_access(s, "bob", &ro, &why));
	assert_true(ro);
	s = conf_share_find(c, "rw");
	assert_true(conf_share_access(s, "bob", &ro, &why));
	assert_true(ro);                                /* read list */
	assert_true(conf_share_access(s, "alice", &ro, &why));
	assert_false(ro);                               /* write list wins */
	assert_true(conf_share_access(s, "dave", &ro, &why));
	assert_false(ro);
	s = conf_share_find(c, "v");
	assert_true(conf_share_access(s, "bob", &ro, &why));
	assert_false(conf_share_access(s, "carol", &ro, &why)); /* invalid wins over valid */
	assert_false(conf_share_access(s, "dave", &ro, &why));
	assert_string_equal(why, "valid users");
	/* the deep copy a tree keeps */
	struct conf_share *dup = conf_share_dup(s);
	assert_string_equal(dup->path, "/v");
	assert_int_equal(dup->invalid_users.n, 1);
	assert_string_equal(dup->invalid_users.v[0], "carol");
	assert_false(conf_share_access(dup, "carol", &ro, &why));
	conf_share_free(dup);
	conf_free(c);
	c = load_ok("[a]\npath = /a\navailable = no\n");
	assert_false(conf_share_find(c, "a")->available);
	conf_free(c);
}

/* Samba options smb3d lacks: an error when ignoring them could grant
 * access, a warning otherwise. */
static void test_samba_options_fail_closed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"force user = no-such-user-42", "force user = %U", "force group = no-such-group-42",
		"create mask = 0800", "guest only = yes",
		"hide unwriteable files = yes", "follow symlinks = no", "vfs objects = catia fruit streams_xattr",
		"username map = /etc/samba/users.map", "root preexec = /bin/check", "copy = other",
		"access based share enum = yes", "inherit owner = maybe", "dont descend = /proc",
	};
	char text[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[a]\npath = /a\n%s\n", bad[i]);
		load_bad(text, "t.conf:3: ");
	}
	load_bad("security = ads\n", "only 'security = user'");
	load_bad("ntlm auth = disabled\n", "'ntlm auth = disabled'");
	load_bad("server smb3 encryption algorithms = AES-256-GCM\n", "restricting the ciphers");
	static const char *const harmless[] = {
		"guest only = no", "follow symlinks = yes", "security = user",
		"ntlm auth = ntlmv2-only", "server role = standalone server",
		"server smb3 encryption algorithms = AES-128-GCM, AES-128-CCM, AES-256-GCM, AES-256-CCM",
	};
	for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
		struct msgs m = { 0 };
		snprintf(text, sizeof(text), "[a]\npath = /a\n%s\n", harmless[i]);
		struct conf *c = load_msgs(text, &m);
		if (!c)
			fprintf(stderr, "%s: %s\n", harmless[i], m.err);
		assert_non_null(c);
		assert_non_null(strstr(m.warn, "is not supported, ignored"));
		conf_free(c);
		msgs_free(&m);
	}
	/* "obey pam restrictions" is enforced, not ignored (session setup asks PAM) */
	struct conf *c = NULL;
	{
		struct msgs m = { 0 };
		c = load_msgs("[global]\nobey pam restrictions = yes\n[a]\npath = /a\n", &m);
		assert_non_null(c);
		assert_true(c->obey_pam_restrictions);
		assert_null(strstr(m.warn ? m.warn : "", "obey pam"));
		conf_free(c);
		msgs_free(&m);
	}
	/* team-share options: modes and name patterns */
	struct conf *t = load_ok("[global]\ncreate mask = 0660\n[a]\npath = /a\ndirectory mode = 2770\n"
	                         "force create mode = 0020\ninherit permissions = yes\n"
	                         "veto files = /*.exe/.DS_Store/a b?/\nhide files = /~$*/\nhide dot files = no\n");
	const struct conf_share *a = conf_share_find(t, "a");
	assert_int_equal(a->create_mask, 0660);
	assert_int_equal(a->directory_mask, 02770);
	assert_int_equal(a->force_create_mode, 020);
	assert_int_equal(a->force_directory_mode, 0);
	assert_true(a->inherit_permissions);
	assert_int_equal(a->veto_files.n, 3);
	assert_string_equal(a->veto_files.v[2], "a b?");
	assert_int_equal(a->hide_files.n, 1);
	assert_false(a->hide_dot_files);
	struct conf_share *d = conf_share_dup(a);
	assert_string_equal(d->veto_files.v[1], ".DS_Store");
	conf_share_free(d);
	conf_free(t);
	t = load_ok("[a]\npath = /a\n");
	a = conf_share_find(t, "a");
	assert_int_equal(a->create_mask, 0744);
	assert_int_equal(a->directory_mask, 0755);
	assert_true(a->hide_dot_files);
	conf_free(t);
	/* force group: looked up when read; "+" = members only */
	t = load_ok("[a]\npath = /a\nforce group = root\n[b]\npath = /b\ngroup = +root\n[c]\npath = /c\n");
	assert_int_equal(conf_share_find(t, "a")->force_gid, 0);
	assert_false(conf_share_find(t, "a")->force_group_members_only);
	assert_true(conf_share_find(t, "b")->force_group_members_only);
	assert_int_equal(conf_share_find(t, "c")->force_gid, -1);
	conf_free(t);
	/* force user: looked up when read */
	t = load_ok("[a]\npath = /a\nforce user = root\n[b]\npath = /b\n");
	assert_int_equal(conf_share_find(t, "a")->force_uid, 0);
	assert_int_equal(conf_share_find(t, "b")->force_uid, -1);
	conf_free(t);
	/* admin users: a user list */
	t = load_ok("[a]\npath = /a\nadmin users = bob, @staff\n");
	assert_int_equal(conf_share_find(t, "a")->admin_users.n, 2);
	conf_free(t);
	/* vfs objects: the modules smb3d implements */
	t = load_ok("[a]\npath = /a\nvfs objects = acl_xattr streams_xattr\n[b]\npath = /b\nvfs objects =\n"
	            "[c]\npath = /c\nvfs object = io_uring\n");
	assert_true(conf_share_find(t, "a")->streams_xattr);
	assert_true(conf_share_find(t, "a")->acl_xattr);
	assert_false(conf_share_find(t, "b")->streams_xattr);
	assert_false(conf_share_find(t, "c")->streams_xattr);
	conf_free(t);
	load_bad("[a]\npath = /a\nvfs objects = streams_xattr fruit\n", "module 'fruit' is not supported");
	/* per share, Samba's meaning: tree connects to that share */
	t = load_ok("max connections = 9\n[a]\npath = /a\nmax connections = 2\n");
	assert_int_equal(t->max_connections, 9);
	assert_int_equal(conf_share_find(t, "a")->max_connections, 2);
	conf_free(t);
	/* aliases that map onto smb3d options */
	c = load_ok("max smbd processes = 7\nsmb passwd file = /x/smbpasswd\n");
	assert_int_equal(c->max_connections, 7);
	assert_string_equal(c->passdb_path, "/x/smbpasswd");
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_log_level_classes),
		cmocka_unit_test(test_every_global_option),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_names_case_spaces_underscores),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_bad_values_line_numbers),
		cmocka_unit_test(test_share_validation),
		cmocka_unit_test(test_min_equal_max_ok),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_share_defaults_from_global_and_merge),
		cmocka_unit_test(test_valid_users),
		cmocka_unit_test(test_ipc),
		cmocka_unit_test(test_interfaces_override),
		cmocka_unit_test(test_continuation_lines),
		cmocka_unit_test(test_unknown_option_and_sections),
		cmocka_unit_test(test_samba_syntax_details),
		cmocka_unit_test(test_substitutions),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_current_refcount),
		cmocka_unit_test(test_hosts_allow_deny),
		cmocka_unit_test(test_share_hosts_except_localhost),
		cmocka_unit_test(test_user_lists),
		cmocka_unit_test(test_samba_options_fail_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
