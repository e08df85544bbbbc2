/* smb3ctl user: manage the smbpasswd file (src/auth/passdb.h).
 *
 *   user add NAME [--uid N] [-s]   uid defaults to the unix account's
 *   user del NAME
 *   user passwd NAME [-s]
 *   user list
 *   user enable|disable NAME      the smbpasswd 'D' flag, as smbpasswd -e/-d
 *
 * -s reads the new password twice from stdin, one per line, like
 * `smbpasswd -s`; otherwise it is asked for twice on the terminal with
 * echo off. */
#include "ctl.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/passdb.h"
#include "crypto/crypto.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: smb3ctl user add NAME [--uid N] [-s]\n"
		   "       smb3ctl user del NAME\n"
		   "       smb3ctl user passwd NAME [-s]\n"
		   "       smb3ctl user list\n"
		   "       smb3ctl user enable|disable NAME\n");
}

static bool read_line(FILE *f, char *buf, size_t size)
{
	if (!fgets(buf, (int)size, f))
		return false;
	buf[strcspn(buf, "\r\n")] = 0;
	return true;
}

/* One line, with terminal echo off when reading from a terminal. */
static bool prompt(FILE *in, const char *text, char *buf, size_t size)
{
	struct termios old, quiet;
	int fd = fileno(in);
	bool tty = isatty(fd) && tcgetattr(fd, &old) == 0;
	fputs(text, stderr);
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	bool ok = read_line(in, buf, size);
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return ok;
}

/* The new password, asked for twice; NULL (after a message) on failure. */
static char *get_password(bool from_stdin)
{
	char a[512], b[512];
	FILE *in = stdin, *tty = NULL;
	if (!from_stdin) {
		tty = fopen("/dev/tty", "r+e");
		if (tty)
			in = tty;
	}
	bool ok = from_stdin ? read_line(in, a, sizeof(a)) && read_line(in, b, sizeof(b))
			     : prompt(in, "New SMB password: ", a, sizeof(a)) &&
				       prompt(in, "Retype new SMB password: ", b, sizeof(b));
	if (tty)
		fclose(tty);
	char *pw = NULL;
	if (!ok)
		fprintf(stderr, "smb3ctl: could not read the password\n");
	else if (strcmp(a, b) != 0)
		fprintf(stderr, "smb3ctl: passwords do not match\n");
	else if (!(pw = strdup(a)))
		fprintf(stderr, "smb3ctl: out of memory\n");
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	return pw;
}

static int report(int rc, const char *what, const char *name, const char *path)
{
	switch (rc) {
	case 0:
		return 0;
	case -EEXIST:
		fprintf(stderr, "smb3ctl: user '%s' already exists in %s\n", name, path);
		break;
	case -ENOENT:
		if (access(path, F_OK) != 0)
			fprintf(stderr, "smb3ctl: %s: no such file\n", path);
		else
			fprintf(stderr, "smb3ctl: no such user '%s' in %s\n", name, path);
		break;
	case -EINVAL:
		fprintf(stderr, "smb3ctl: %s '%s': invalid name or malformed %s\n", what, name, path);
		break;
	default:
		fprintf(stderr, "smb3ctl: %s '%s': %s: %s\n", what, name, path, strerror(-rc));
		break;
	}
	return 1;
}

static int cmd_list(const char *path)
{
	struct passdb *db;
	int bad = 0;
	int rc = passdb_load(path, &db, &bad);
	if (rc == -ENOENT) {
		fprintf(stderr, "smb3ctl: %s: no such file\n", path);
		return 1;
	}
	if (rc) {
		if (bad)
			fprintf(stderr, "smb3ctl: %s:%d: malformed line\n", path, bad);
		else
			fprintf(stderr, "smb3ctl: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	for (size_t i = 0; i < db->n_users; i++) {
		const struct passdb_entry *e = &db->users[i];
		printf("%s:%u%s%s\n", e->name, e->uid, e->disabled ? " disabled" : "",
		       !e->has_nt_hash ? " no-password" : "");
	}
	passdb_free(db);
	return 0;
}

struct user_args {
	const char *sub, *name, *uid_arg;
	bool from_stdin;
};

/* SUBCOMMAND [NAME] [-s] [--uid N] in any order.  -1 to go on, else the
 * exit status (help printed, or an error). */
static int parse_user_args(int argc, char **argv, struct user_args *a)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0) {
			a->from_stdin = true;
		} else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc) {
			a->uid_arg = argv[++i];
		} else if (strncmp(argv[i], "--uid=", 6) == 0) {
			a->uid_arg = argv[i] + 6;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "smb3ctl: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (!a->sub) {
			a->sub = argv[i];
		} else if (!a->name) {
			a->name = argv[i];
		} else {
			fprintf(stderr, "smb3ctl: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!a->sub) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The uid of a user to add: --uid, else the unix user's.  -1 to go on,
 * else the exit status. */
static int add_uid(const struct user_args *a, uint32_t *uid)
{
	if (a->uid_arg) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(a->uid_arg, &end, 10);
		if (!*a->uid_arg || *end || errno || v > UINT32_MAX) {
			fprintf(stderr, "smb3ctl: invalid uid '%s'\n", a->uid_arg);
			return 2;
		}
		*uid = (uint32_t)v;
		return -1;
	}
	struct passwd *pw = getpwnam(a->name);
	if (!pw) {
		fprintf(stderr, "smb3ctl: no unix user '%s'; give its uid with --uid N\n", a->name);
		return 1;
	}
	*uid = pw->pw_uid;
	return -1;
}

/* add and passwd: the password from the terminal or stdin (-s). */
static int cmd_password(const struct user_args *a, const char *passdb_path)
{
	uint32_t uid = 0;
	bool add = strcmp(a->sub, "add") == 0;
	int rc = add ? add_uid(a, &uid) : -1;
	if (rc >= 0)
		return rc;
	char *password = get_password(a->from_stdin);
	if (!password)
		return 1;
	rc = add ? passdb_add(passdb_path, a->name, uid, password)
		 : passdb_set_password(passdb_path, a->name, password);
	memset(password, 0, strlen(password));
	free(password);
	if (rc == 0)
		printf("%s user %s.\n", add ? "Added" : "Changed password of", a->name);
	return report(rc, a->sub, a->name, passdb_path);
}

int ctl_user_main(int argc, char **argv, const char *passdb_path)
{
	struct user_args a = { 0 };
	int rc = parse_user_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	const char *sub = a.sub, *name = a.name;
	crypto_init();
	if (strcmp(sub, "list") == 0) {
		if (name) {
			fprintf(stderr, "smb3ctl: unexpected argument '%s'\n", name);
			return 2;
		}
		return cmd_list(passdb_path);
	}
	if (!name || (strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "passwd") && strcmp(sub, "enable") &&
		      strcmp(sub, "disable"))) {
		usage(stderr);
		return 2;
	}
	if (strcmp(sub, "del") == 0)
		return report(passdb_del(passdb_path, name), "del", name, passdb_path);
	if (!strcmp(sub, "enable") || !strcmp(sub, "disable")) {
		rc = passdb_set_disabled(passdb_path, name, !strcmp(sub, "disable"));
		if (rc == 0)
			printf("%s user %s.\n", strcmp(sub, "enable") ? "Disabled" : "Enabled", name);
		return report(rc, sub, name, passdb_path);
	}
	return cmd_password(&a, passdb_path);
}
