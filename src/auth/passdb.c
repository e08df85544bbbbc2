/* User database in Samba's smbpasswd format (see passdb.h).  Reading
 * parses every line; changing rewrites the whole file atomically (temp
 * file in the same directory, fsync, rename, fsync of the directory), and
 * keeps lines it does not change byte for byte. */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_PASSDB /* log lines of Samba's "passdb" class */

#include "auth/passdb.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "util/log.h"
#include "util/utf16.h"

#define FLAGS_NORMAL "[U          ]"

int passdb_nt_hash(const char *password, uint8_t out[16])
{
	size_t len = strlen(password);
	long n = utf8_utf16le_size(password, len);
	if (n < 0)
		return (int)n;
	uint8_t *u = malloc(n ? (size_t)n : 1);
	if (!u)
		return -ENOMEM;
	int rc = -EINVAL;
	if (utf8_to_utf16le(password, len, u, (size_t)n) == n)
		rc = crypto_md4(u, (size_t)n, out);
	memset(u, 0, (size_t)n);
	free(u);
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/* 32 hex digits -> 16 bytes; false if not exactly that. */
static bool parse_hash(const char *s, uint8_t out[16])
{
	if (strlen(s) != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Split a line (modified in place) into at most `max` ':'-separated fields. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = 0;
	}
	return n;
}

/* name:uid:LM:NT:[flags]:LCT-...: -- the flags field is optional (old files). */
static int parse_line(char *line, struct passdb_entry *e)
{
	char *f[8];
	size_t n = split(line, f, 8);
	if (n < 4 || f[0][0] == 0)
		return -EINVAL;
	char *endp;
	errno = 0;
	unsigned long uid = strtoul(f[1], &endp, 10);
	if (!isdigit((unsigned char)f[1][0]) || *endp || errno || uid > UINT32_MAX)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->uid = (uint32_t)uid;
	if (parse_hash(f[3], e->nt_hash))
		e->has_nt_hash = true;
	else if (strncmp(f[3], "NO PASSWORD", 11) == 0)
		e->no_password = true;
	else if (strspn(f[3], "X") != strlen(f[3]) && strspn(f[3], "*") != strlen(f[3]))
		return -EINVAL;
	if (n >= 5 && f[4][0] == '[') {
		char *close = strchr(f[4], ']');
		if (!close)
			return -EINVAL;
		for (char *c = f[4] + 1; c < close; c++) {
			if (*c == 'D')
				e->disabled = true;
			else if (*c == 'N')
				e->no_password = true;
		}
	}
	e->name = strdup(f[0]);
	return e->name ? 0 : -ENOMEM;
}

void passdb_free(struct passdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n_users; i++) {
		free(db->users[i].name);
		memset(db->users[i].nt_hash, 0, 16);
	}
	free(db->users);
	free(db);
}

static bool skip_line(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == 0 || *line == '#';
}

int passdb_load(const char *path, struct passdb **out, int *bad_line)
{
	int rc = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	struct passdb *db = calloc(1, sizeof(*db));
	if (!db) {
		rc = -ENOMEM;
		goto out_close;
	}
	size_t alloc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (skip_line(line))
			continue;
		if (db->n_users == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct passdb_entry *nu = realloc(db->users, na * sizeof(*nu));
			if (!nu) {
				rc = -ENOMEM;
				goto out_free_db;
			}
			db->users = nu;
			alloc = na;
		}
		rc = parse_line(line, &db->users[db->n_users]);
		if (rc) {
			if (bad_line)
				*bad_line = lineno;
			goto out_free_db;
		}
		db->n_users++;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto out_free_db;
	}
	log_debug("passdb: %zu users in %s", db->n_users, path);
	*out = db;
	goto out_close;

out_free_db:
	passdb_free(db);
out_close:
	free(line);
	fclose(f);
	return rc;
}

const struct passdb_entry *passdb_find(const struct passdb *db, const char *name)
{
	for (size_t i = 0; db && i < db->n_users; i++)
		if (strcasecmp(db->users[i].name, name) == 0)
			return &db->users[i];
	log_debug("passdb: no user '%s'", name);
	return NULL;
}

/* ---------------------------------------------------------------- changes */

/* Whole file as text; a missing file reads as empty when allowed. */
static int read_all(const char *path, bool may_be_missing, char **text)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && may_be_missing) {
			*text = strdup("");
			return *text ? 0 : -ENOMEM;
		}
		return -errno;
	}
	char *buf = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&buf, &size);
	int rc = m ? 0 : -ENOMEM;
	char chunk[4096];
	size_t n;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fwrite(chunk, 1, n, m) != n)
			rc = -ENOMEM;
	if (!rc && ferror(f))
		rc = -EIO;
	if (m && fclose(m))
		rc = -ENOMEM;
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Replace `path` with `data`: temp file in the same directory, mode 0600,
 * fsync, rename over, fsync the directory so the rename is durable. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	int rc = 0; /* read below when fchmod fails before write_all set it */
	char *pcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
	if (!pcopy || !bcopy) {
		rc = -ENOMEM;
		goto out_free;
	}
	const char *dir = dirname(pcopy);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, basename(bcopy)) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
		goto out_free;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (fchmod(fd, 0600) || (rc = write_all(fd, data, len)) || fsync(fd)) {
		rc = rc ? rc : -errno;
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		rc = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = -errno;
		goto out_unlink;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out_free;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	free(bcopy);
	free(pcopy);
	return rc;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || name[0] == '#' || name[0] == ' ')
		return false;
	for (const char *c = name; *c; c++)
		if (*c == ':' || (unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* Does this line belong to `name`? (name before the first ':') */
static bool line_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return !skip_line(line) && len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* One new-format line for an account. */
static int format_line(FILE *m, const char *name, uint32_t uid, const char *password, const char *flags)
{
	uint8_t h[16];
	int rc = passdb_nt_hash(password, h);
	if (rc)
		return rc;
	fprintf(m, "%s:%u:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:", name, uid);
	for (int i = 0; i < 16; i++)
		fprintf(m, "%02X", h[i]);
	fprintf(m, ":%s:LCT-%08lX:\n", flags, (unsigned long)time(NULL));
	memset(h, 0, sizeof(h));
	return 0;
}

enum edit_op { EDIT_ADD, EDIT_PASSWD, EDIT_DEL, EDIT_ENABLE, EDIT_DISABLE };

/* The account's line with the 'D' flag set or cleared, the rest as it was
 * (an old line without flags gets them).  -ENOMEM, -EINVAL. */
static int reflag_line(FILE *m, const char *line, size_t len, bool disable)
{
	char *copy = strndup(line, len), *f[8];
	if (!copy)
		return -ENOMEM;
	size_t n = split(copy, f, 8);
	if (n < 4) {
		free(copy);
		return -EINVAL;
	}
	char flags[16] = "[", *o = flags + 1;
	const char *old = n >= 5 && f[4][0] == '[' ? f[4] + 1 : "U]";
	for (const char *c = old; *c && *c != ']' && o < flags + 12; c++)
		if (*c != 'D' && *c != ' ')
			*o++ = *c;
	if (disable && o < flags + 12)
		*o++ = 'D';
	while (o < flags + 12)
		*o++ = ' ';
	*o++ = ']';
	*o = 0;
	fprintf(m, "%s:%s:%s:%s:%s", f[0], f[1], f[2], f[3], flags);
	for (size_t i = n >= 5 && f[4][0] == '[' ? 5 : 4; i < n; i++)
		fprintf(m, ":%s", f[i]);
	if (n < 5 || f[4][0] != '[') /* an old line: LCT and the last ':' */
		fprintf(m, ":LCT-%08lX:", (unsigned long)time(NULL));
	fputc('\n', m);
	free(copy);
	return 0;
}

/* Copy the file line by line, changing the one of `name`. */
static int edit(const char *path, enum edit_op op, const char *name, uint32_t uid, const char *password)
{
	if (!valid_name(name))
		return -EINVAL;
	char *text, *out = NULL;
	size_t out_len = 0;
	int rc = read_all(path, op == EDIT_ADD, &text);
	if (rc)
		return rc;
	FILE *m = open_memstream(&out, &out_len);
	if (!m) {
		rc = -ENOMEM;
		goto out_text;
	}
	bool found = false;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *next = nl ? nl + 1 : line + len;
		if (!found && line_is(line, len, name)) {
			found = true;
			if (op == EDIT_PASSWD) {
				/* keep name, uid and flags; new hash and time */
				char *copy = strndup(line, len), *f[8];
				if (!copy) {
					rc = -ENOMEM;
					break;
				}
				size_t n = split(copy, f, 8);
				const char *flags = n >= 5 && f[4][0] == '[' ? f[4] : FLAGS_NORMAL;
				rc = format_line(m, f[0], (uint32_t)strtoul(f[1], NULL, 10), password, flags);
				free(copy);
				if (rc)
					break;
			} else if (op == EDIT_ENABLE || op == EDIT_DISABLE) {
				if ((rc = reflag_line(m, line, len, op == EDIT_DISABLE)))
					break;
			}
			if (op != EDIT_ADD) {
				line = next;
				continue;
			}
		}
		fwrite(line, 1, len, m);
		fputc('\n', m);
		line = next;
	}
	if (!rc && op == EDIT_ADD && !found)
		rc = format_line(m, name, uid, password, FLAGS_NORMAL);
	if (fclose(m) && !rc)
		rc = -ENOMEM;
	if (!rc && op == EDIT_ADD && found)
		rc = -EEXIST;
	if (!rc && op != EDIT_ADD && !found)
		rc = -ENOENT;
	if (!rc)
		rc = write_atomic(path, out, out_len);
	if (out)
		memset(out, 0, out_len);
	free(out);
out_text:
	free(text);
	return rc;
}

int passdb_add(const char *path, const char *name, uint32_t uid, const char *password)
{
	return edit(path, EDIT_ADD, name, uid, password);
}

int passdb_set_password(const char *path, const char *name, const char *password)
{
	return edit(path, EDIT_PASSWD, name, 0, password);
}

int passdb_del(const char *path, const char *name)
{
	return edit(path, EDIT_DEL, name, 0, NULL);
}

int passdb_set_disabled(const char *path, const char *name, bool disabled)
{
	return edit(path, disabled ? EDIT_DISABLE : EDIT_ENABLE, name, 0, NULL);
}
