/* smb.conf parsing: lines -> options -> an immutable struct conf.
 *
 * inih splits "name = value" lines, but smb.conf differs from plain INI in
 * ways inih cannot be told about, so every logical line reaches inih through
 * our own reader (conf_reader below), which first:
 *   - strips leading whitespace: smb.conf indents options, and inih's
 *     multi-line mode would take an indented line for a continuation of the
 *     previous value;
 *   - joins lines ending in a backslash (Samba's continuation);
 *   - handles [section] lines itself, so empty sections exist and every
 *     section has a line number (inih's handler is not told line numbers);
 *   - passes lines inih would mangle (longer than its line buffer, a ':' in
 *     the name such as "idmap config * : backend", or a ';' in the value,
 *     which inih would take for an inline comment) as "name = \x01", the
 *     handler then reads the raw name and value kept by the reader.
 * The option semantics (names, values, defaults) follow Samba's smb.conf(5)
 * where Samba has the option. */
#include "conf/conf_internal.h"
#include "util/log.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_MAX_INCLUDE_DEPTH 16
#define CONF_MAX_SHARE_NAME 80
#define RAW_MARK "\x01"

/* ---- small helpers ---- */

void *conf_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		abort();
	return p;
}

char *conf_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		abort();
	return d;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		abort();
	return p;
}

static void str_upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Samba ignores case, spaces and underscores in option names and in some
 * enum values ("Bad User" == "bad_user"). */
void conf_normalize(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (; *in && o + 1 < outsz; in++) {
		if (*in == ' ' || *in == '\t' || *in == '_')
			continue;
		out[o++] = (char)tolower((unsigned char)*in);
	}
	out[o] = '\0';
}

/* ---- parse state ---- */

struct conf_reader {
	const char *name;      /* file name for messages */
	const char *text, *pos;
	int phys_line;         /* physical lines consumed so far */
	int line;              /* first physical line of the current logical line */
	char *buf;             /* the current logical line */
	size_t buf_cap;
	char *raw_name, *raw_value; /* set when the line went to inih as RAW_MARK */
};

enum section_kind { SEC_GLOBAL, SEC_SHARE, SEC_HOMES, SEC_IGNORED };

struct pstate {
	struct conf *c;
	FILE *err, *warn;
	int n_err;
	struct conf_reader *rd;
	int depth;
	enum section_kind sec;
	size_t cur_share;
	struct conf_share tmpl;      /* share options given in [global] */
	int *share_line;             /* line of each share's first header */
	const char **share_file;     /* file of that header (borrowed from names) */
	char **file_names;           /* every file name used, freed at the end */
	size_t n_file_names;
	bool ipc_comment_set;
	int min_line, max_line;
	const char *min_file, *max_file;
	char hostname[256];          /* for %h */
};

void conf_error(struct pstate *st, const char *fmt, ...)
{
	va_list ap;
	st->n_err++;
	if (!st->err)
		return;
	fprintf(st->err, "%s:%d: ", st->rd->name, st->rd->line);
	va_start(ap, fmt);
	vfprintf(st->err, fmt, ap);
	va_end(ap);
	fputc('\n', st->err);
}

void conf_warning(struct pstate *st, const char *fmt, ...)
{
	va_list ap;
	if (!st->warn)
		return;
	fprintf(st->warn, "%s:%d: warning: ", st->rd->name, st->rd->line);
	va_start(ap, fmt);
	vfprintf(st->warn, fmt, ap);
	va_end(ap);
	fputc('\n', st->warn);
}

/* ---- shares ---- */

void conf_list_clear(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void list_copy(struct conf_list *dst, const struct conf_list *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (!src->n)
		return;
	dst->v = conf_xcalloc(src->n, sizeof(char *));
	for (size_t i = 0; i < src->n; i++)
		dst->v[i] = conf_xstrdup(src->v[i]);
	dst->n = src->n;
}

/* Every list option of a share, for copying and freeing. */
static struct conf_list *share_lists(struct conf_share *s, size_t i)
{
	struct conf_list *all[] = { &s->invalid_users, &s->read_list, &s->write_list,
	                            &s->hosts_allow, &s->hosts_deny, &s->veto_files, &s->hide_files,
	                            &s->admin_users };
	return i < sizeof(all) / sizeof(all[0]) ? all[i] : NULL;
}

void conf_share_clear(struct conf_share *s)
{
	free(s->name);
	free(s->path);
	free(s->comment);
	for (size_t i = 0; i < s->n_valid_users; i++)
		free(s->valid_users[i]);
	free(s->valid_users);
	for (size_t i = 0; share_lists(s, i); i++)
		conf_list_clear(share_lists(s, i));
	memset(s, 0, sizeof(*s));
}

/* Everything but the name and the path (a [global] template has neither). */
static void share_copy_settings(struct conf_share *dst, const struct conf_share *src)
{
	char *name = dst->name, *path = dst->path;
	*dst = *src; /* the scalars; every pointer is replaced below */
	dst->name = name;
	dst->path = path;
	dst->comment = src->comment ? conf_xstrdup(src->comment) : NULL;
	dst->valid_users = NULL;
	if (src->valid_users) {
		dst->valid_users = conf_xcalloc(src->n_valid_users, sizeof(char *));
		for (size_t i = 0; i < src->n_valid_users; i++)
			dst->valid_users[i] = conf_xstrdup(src->valid_users[i]);
	}
	for (size_t i = 0; share_lists(dst, i); i++)
		list_copy(share_lists(dst, i), share_lists((struct conf_share *)src, i));
}

struct conf_share *conf_share_dup(const struct conf_share *s)
{
	struct conf_share *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	share_copy_settings(d, s);
	d->name = conf_xstrdup(s->name);
	d->path = s->path ? conf_xstrdup(s->path) : NULL;
	return d;
}

void conf_share_free(struct conf_share *s)
{
	if (!s)
		return;
	conf_share_clear(s);
	free(s);
}

static void share_defaults(struct conf_share *s)
{
	s->available = true;
	s->read_only = true;
	s->create_mask = 0744;
	s->directory_mask = 0755;
	s->hide_dot_files = true;
	s->durable_handles = true;
	s->map_archive = true;
	s->oplocks = true;
	s->level2_oplocks = true;
	s->force_gid = -1;
	s->force_uid = -1;
	s->browseable = true;
	s->smb_encrypt = -1;
	s->case_insensitive = true;
}

static size_t share_add(struct pstate *st, const char *name)
{
	struct conf *c = st->c;
	c->shares = xrealloc(c->shares, (c->n_shares + 1) * sizeof(*c->shares));
	st->share_line = xrealloc(st->share_line, (c->n_shares + 1) * sizeof(int));
	st->share_file = xrealloc(st->share_file, (c->n_shares + 1) * sizeof(char *));
	struct conf_share *s = &c->shares[c->n_shares];
	memset(s, 0, sizeof(*s));
	share_copy_settings(s, &st->tmpl);
	s->name = conf_xstrdup(name);
	st->share_line[c->n_shares] = st->rd ? st->rd->line : 0;
	st->share_file[c->n_shares] = st->rd ? st->rd->name : NULL;
	return c->n_shares++;
}

static void section_start(struct pstate *st, const char *name)
{
	if (!strcasecmp(name, "global")) {
		st->sec = SEC_GLOBAL;
		return;
	}
	if (!strcasecmp(name, "homes")) {
		/* a template for each user's home share (Samba's [homes]) */
		if (!st->c->homes) {
			st->c->homes = conf_xcalloc(1, sizeof(*st->c->homes));
			share_copy_settings(st->c->homes, &st->tmpl);
			st->c->homes->name = conf_xstrdup("homes");
		}
		st->sec = SEC_HOMES;
		return;
	}
	if (!strcasecmp(name, "printers") || !strcasecmp(name, "print$")) {
		conf_warning(st, "section [%s] is not supported, ignored", name);
		st->sec = SEC_IGNORED;
		return;
	}
	if (strlen(name) > CONF_MAX_SHARE_NAME) {
		conf_error(st, "share name '%.20s...' is longer than %d characters", name, CONF_MAX_SHARE_NAME);
		st->sec = SEC_IGNORED;
		return;
	}
	st->sec = SEC_SHARE;
	/* Samba merges a section given twice. */
	for (size_t i = 0; i < st->c->n_shares; i++) {
		if (!strcasecmp(st->c->shares[i].name, name)) {
			st->cur_share = i;
			return;
		}
	}
	st->cur_share = share_add(st, name);
}

/* ---- the reader fed to inih ---- */

static void buf_append(struct conf_reader *rd, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > rd->buf_cap) {
		rd->buf_cap = (*len + n + 1) * 2;
		rd->buf = xrealloc(rd->buf, rd->buf_cap);
	}
	memcpy(rd->buf + *len, s, n);
	*len += n;
	rd->buf[*len] = '\0';
}

/* Next physical line, without its end of line; false at end of text. */
static bool next_phys(struct conf_reader *rd, const char **line, size_t *len)
{
	if (!*rd->pos)
		return false;
	const char *nl = strchr(rd->pos, '\n');
	size_t n = nl ? (size_t)(nl - rd->pos) : strlen(rd->pos);
	*line = rd->pos;
	rd->pos += n + (nl ? 1 : 0);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*len = n;
	rd->phys_line++;
	return true;
}

/* Read one logical line into rd->buf: leading blanks gone, continuation lines
 * joined.  Samba drops the backslash and turns the indentation of the next
 * line into a single space ("ab\" + "   cd" -> "ab cd", "x\" + "y" -> "xy"). */
static bool next_logical(struct conf_reader *rd)
{
	const char *l;
	size_t n, len = 0;
	if (!next_phys(rd, &l, &n))
		return false;
	rd->line = rd->phys_line;
	while (n > 0 && isspace((unsigned char)*l))
		l++, n--;
	buf_append(rd, &len, "", 0);
	for (;;) {
		while (n > 0 && isspace((unsigned char)l[n - 1]))
			n--;
		bool cont = n > 0 && l[n - 1] == '\\';
		buf_append(rd, &len, l, cont ? n - 1 : n);
		if (!cont || !next_phys(rd, &l, &n))
			break;
		bool indented = n > 0 && isspace((unsigned char)*l);
		while (n > 0 && isspace((unsigned char)*l))
			l++, n--;
		if (indented && n > 0)
			buf_append(rd, &len, " ", 1);
	}
	return true;
}

static char *conf_reader(char *str, int num, void *stream)
{
	struct pstate *st = stream;
	struct conf_reader *rd = st->rd;

	free(rd->raw_name);
	free(rd->raw_value);
	rd->raw_name = rd->raw_value = NULL;
	if (num < 8)
		return NULL;
	while (next_logical(rd)) {
		char *line = rd->buf;
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');
			if (!end) {
				conf_error(st, "syntax error: missing ']' in section header");
				st->sec = SEC_IGNORED;
				continue;
			}
			*end = '\0';
			char *name = trim(line + 1);
			if (!*name) {
				conf_error(st, "syntax error: empty section name");
				st->sec = SEC_IGNORED;
				continue;
			}
			section_start(st, name);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq) {
			conf_error(st, "syntax error: expected 'name = value'");
			continue;
		}
		*eq = '\0';
		char *name = trim(line), *value = trim(eq + 1);
		if (!*name) {
			conf_error(st, "syntax error: missing option name");
			continue;
		}
		size_t need = strlen(name) + strlen(value) + 4;
		if (need < (size_t)num && !strchr(name, ':') && !strchr(value, ';') &&
		    !strchr(value, RAW_MARK[0])) {
			size_t nl = strlen(name), vl = strlen(value);
			memcpy(str, name, nl);
			memcpy(str + nl, " = ", 3);
			memcpy(str + nl + 3, value, vl + 1);
		} else {
			rd->raw_name = conf_xstrdup(name);
			rd->raw_value = conf_xstrdup(value);
			strcpy(str, "x = " RAW_MARK);
		}
		return str;
	}
	return NULL;
}

static int conf_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct pstate *st = user;
	(void)section; /* sections are tracked by conf_reader */
	if (st->rd->raw_name && !strcmp(value, RAW_MARK)) {
		name = st->rd->raw_name;
		value = st->rd->raw_value;
	}
	conf_set_option(st, name, value);
	return 1;
}

char *conf_read_file(const char *path, int *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		*err = errno;
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *text = xrealloc(NULL, cap);
	errno = 0;
	for (;;) {
		size_t n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (cap - len - 1 == 0) {
			cap *= 2;
			text = xrealloc(text, cap);
		}
	}
	int bad = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	if (bad) {
		free(text);
		*err = bad;
		return NULL;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) { /* a NUL byte ends the text early: say so */
		*err = EINVAL;
		free(text);
		return NULL;
	}
	return text;
}

static const char *keep_name(struct pstate *st, const char *name)
{
	st->file_names = xrealloc(st->file_names, (st->n_file_names + 1) * sizeof(char *));
	st->file_names[st->n_file_names] = conf_xstrdup(name);
	return st->file_names[st->n_file_names++];
}

static void parse_text(struct pstate *st, const char *text, const char *name)
{
	struct conf_reader rd = { .name = keep_name(st, name), .text = text, .pos = text };
	struct conf_reader *outer = st->rd;
	/* a UTF-8 byte order mark is allowed at the start */
	if (!strncmp(rd.pos, "\xEF\xBB\xBF", 3))
		rd.pos += 3;
	st->rd = &rd;
	st->depth++;
	ini_parse_stream(conf_reader, st, conf_ini_handler, st);
	st->depth--;
	st->rd = outer;
	free(rd.buf);
	free(rd.raw_name);
	free(rd.raw_value);
}

/* "include = FILE": relative names are taken from the including file's
 * directory.  A missing file is only a warning (Samba's behaviour). */
void conf_include(struct pstate *st, const char *file)
{
	if (st->depth >= CONF_MAX_INCLUDE_DEPTH) {
		conf_error(st, "include nested too deeply (%s)", file);
		return;
	}
	char *path;
	const char *slash = strrchr(st->rd->name, '/');
	if (file[0] != '/' && slash) {
		size_t dl = (size_t)(slash - st->rd->name) + 1;
		path = xrealloc(NULL, dl + strlen(file) + 1);
		memcpy(path, st->rd->name, dl);
		strcpy(path + dl, file);
	} else {
		path = conf_xstrdup(file);
	}
	int e = 0;
	char *text = conf_read_file(path, &e);
	if (!text) {
		conf_warning(st, "cannot read include file '%s': %s", path, strerror(e));
		free(path);
		return;
	}
	parse_text(st, text, path);
	free(text);
	free(path);
}

/* ---- defaults and the final checks ---- */

static void set_defaults(struct conf *c, struct pstate *st)
{
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		strcpy(host, "SMB3D");
	snprintf(st->hostname, sizeof(st->hostname), "%s", host);
	host[strcspn(host, ".")] = '\0';
	host[15] = '\0';
	str_upper(host);
	c->netbios_name = conf_xstrdup(host);
	c->workgroup = conf_xstrdup("WORKGROUP");
	c->server_string = conf_xstrdup("smb3d");
	c->ports[0] = 445;
	c->n_ports = 1;
	c->min_protocol = 0x0202;
	c->max_protocol = 0x0311;
	c->server_signing = CONF_AUTO;
	c->smb_encrypt = CONF_OFF;
	c->multi_channel = true;
	c->smb2_leases = true;
	c->dir_leases = true;
	c->use_sendfile = false; /* measured: the copy path with pooled buffers is faster (docs/BENCHMARKS.md) */
	c->ring_entries = 1024;
	c->fixed_buffers = true;
	c->buffer_pool_mb = 64;
	c->passdb_path = conf_xstrdup(CONF_DEFAULT_PASSDB);
	c->map_to_guest = MAP_GUEST_NEVER;
	c->guest_account = conf_xstrdup("nobody");
	c->log_level = 1;
	for (int i = 0; i < LOG_CLASS_N; i++)
		c->log_class_level[i] = -1;
	c->max_log_size = 5000;
	c->io_backend = IO_BACKEND_URING;
	c->workers = 0;
	c->max_credits = 8192;
	c->max_io_size = 8u << 20;
	c->negotiate_timeout = 20;
	c->pdu_timeout = 60;
	c->oplock_break_timeout = 35; /* MS-SMB2 3.3.2.1: the Oplock Break Acknowledgment Timer */
	c->durable_timeout = 300;     /* Windows' and Samba's cap on the DH2Q Timeout */
	c->replay_outcome_timeout = 60; /* a client's replay comes once it noticed the dead channel */
	c->max_unauth_conns = 1024;
	c->max_open_files_session = 16384;
	c->max_open_files_user = 65536;
	c->max_tree_connects = 1024;
	c->max_sessions_conn = 1024;
	c->null_session = true;
	c->control_socket = conf_xstrdup("/run/smb3d/control.sock");
	c->case_insensitive_default = true;
}

static void finish(struct pstate *st)
{
	struct conf *c = st->c;
	struct conf_reader pseudo = { .name = c->path };

	for (size_t i = 1; i < c->n_shares; i++) {
		struct conf_share *s = &c->shares[i];
		if (!s->path) {
			pseudo.name = st->share_file[i];
			pseudo.line = st->share_line[i];
			st->rd = &pseudo;
			conf_error(st, "share [%s] has no path", s->name);
		}
	}
	if (c->min_protocol > c->max_protocol) {
		bool max_later = st->max_line && (!st->min_line || st->max_line >= st->min_line);
		pseudo.name = max_later ? st->max_file : st->min_file;
		pseudo.line = max_later ? st->max_line : st->min_line;
		st->rd = &pseudo;
		conf_error(st, "server min protocol %s is above server max protocol %s",
		           conf_protocol_name(c->min_protocol), conf_protocol_name(c->max_protocol));
	}
	st->rd = NULL;
	/* % substitutions known now: %h %L %v everywhere, %S in a share's comment */
	struct conf_subst sub = { .hostname = st->hostname, .netbios_name = c->netbios_name };
	char *ss = conf_subst(c->server_string, &sub);
	free(c->server_string);
	c->server_string = ss;
	for (size_t i = 1; i < c->n_shares; i++) {
		struct conf_share *s = &c->shares[i];
		sub.share = s->name;
		if (conf_has_subst(s->comment)) {
			char *cm = conf_subst(s->comment, &sub);
			free(s->comment);
			s->comment = cm;
		}
	}
	struct conf_share *ipc = &c->shares[0];
	if (!st->ipc_comment_set) {
		free(ipc->comment);
		size_t n = strlen(c->server_string) + 32;
		ipc->comment = xrealloc(NULL, n);
		snprintf(ipc->comment, n, "IPC Service (%s)", c->server_string);
	}
	ipc->ipc = true;
	free(ipc->path);
	ipc->path = NULL;
}

bool conf_share_is_ipc_name(const char *name)
{
	return !strcasecmp(name, "IPC$");
}

/* Share index 0 is IPC$; a [IPC$] section in the file lands on it. */
static void add_ipc(struct pstate *st)
{
	size_t i = share_add(st, "IPC$");
	struct conf_share *s = &st->c->shares[i];
	s->ipc = true;
	s->browseable = false;
	s->read_only = true;
	s->guest_ok = true;
}

/* accessors for conf_options.c */
struct conf *conf_pstate_conf(struct pstate *st) { return st->c; }
struct conf_share *conf_pstate_share(struct pstate *st)
{
	switch (st->sec) {
	case SEC_GLOBAL: return &st->tmpl;
	case SEC_SHARE: return &st->c->shares[st->cur_share];
	case SEC_HOMES: return st->c->homes;
	default: return NULL;
	}
}
bool conf_pstate_in_global(struct pstate *st) { return st->sec == SEC_GLOBAL; }
bool conf_pstate_ignored(struct pstate *st) { return st->sec == SEC_IGNORED; }
const char *conf_pstate_share_name(struct pstate *st)
{
	return st->sec == SEC_SHARE ? st->c->shares[st->cur_share].name : st->sec == SEC_HOMES ? "homes" : "global";
}
void conf_pstate_note_protocol(struct pstate *st, bool is_max)
{
	if (is_max) {
		st->max_line = st->rd->line;
		st->max_file = st->rd->name;
	} else {
		st->min_line = st->rd->line;
		st->min_file = st->rd->name;
	}
}
void conf_pstate_note_comment(struct pstate *st)
{
	if (st->sec == SEC_SHARE && st->cur_share == 0)
		st->ipc_comment_set = true;
}
void conf_pstate_global_case(struct pstate *st, bool insensitive)
{
	st->c->case_insensitive_default = insensitive;
}

static struct conf *load(const char *text, const char *name, FILE *err, FILE *warn)
{
	struct pstate st = { .err = err, .warn = warn };
	struct conf *c = conf_xcalloc(1, sizeof(*c));
	st.c = c;
	c->path = conf_xstrdup(name);
	c->refcount = 1;
	set_defaults(c, &st);
	share_defaults(&st.tmpl);
	add_ipc(&st);
	st.sec = SEC_GLOBAL;

	parse_text(&st, text, name);
	finish(&st);

	for (size_t i = 0; i < st.n_file_names; i++)
		free(st.file_names[i]);
	free(st.file_names);
	free(st.share_line);
	free(st.share_file);
	conf_share_clear(&st.tmpl);
	if (st.n_err) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *conf_load_string(const char *text, const char *name, FILE *err, FILE *warn)
{
	return load(text ? text : "", name ? name : "(string)", err, warn);
}

struct conf *conf_load(const char *path, FILE *err, FILE *warn)
{
	int e = 0;
	char *text = conf_read_file(path, &e);
	if (!text) {
		if (err)
			fprintf(err, "%s: cannot read: %s\n", path,
			        e == EINVAL ? "file contains a NUL byte" : strerror(e));
		return NULL;
	}
	struct conf *c = load(text, path, err, warn);
	free(text);
	return c;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->netbios_name);
	free(c->workgroup);
	free(c->server_string);
	for (size_t i = 0; i < c->n_ifaces; i++)
		free(c->ifaces[i].name);
	free(c->ifaces);
	for (size_t i = 0; i < c->n_hosts_allow; i++)
		free(c->hosts_allow[i]);
	free(c->hosts_allow);
	for (size_t i = 0; i < c->n_hosts_deny; i++)
		free(c->hosts_deny[i]);
	free(c->hosts_deny);
	free(c->passdb_path);
	free(c->guest_account);
	free(c->control_socket);
	free(c->pid_dir);
	free(c->log_file);
	conf_share_free(c->homes);
	for (size_t i = 0; i < c->n_shares; i++)
		conf_share_clear(&c->shares[i]);
	free(c->shares);
	free(c);
}

/* ---- lookups ---- */

bool conf_pid_file(const struct conf *c, char *buf, size_t size)
{
	const char *dir = c->pid_dir;
	int dl;
	if (dir) {
		dl = (int)strlen(dir);
	} else if (c->control_socket && strrchr(c->control_socket, '/') &&
	           strrchr(c->control_socket, '/') != c->control_socket) {
		dir = c->control_socket;
		dl = (int)(strrchr(dir, '/') - dir);
	} else {
		dir = "/run/smb3d";
		dl = (int)strlen(dir);
	}
	int n = snprintf(buf, size, "%.*s/smb3d.pid", dl, dir);
	return n > 0 && (size_t)n < size;
}

const struct conf_share *conf_share_find(const struct conf *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_shares; i++)
		if (!strcasecmp(c->shares[i].name, name))
			return &c->shares[i];
	return NULL;
}

/* ---- the current snapshot ---- */

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf *current;

struct conf *conf_current_get(void)
{
	pthread_mutex_lock(&current_lock);
	struct conf *c = current;
	if (c)
		__atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&current_lock);
	return c;
}

void conf_current_put(struct conf *c)
{
	if (!c)
		return;
	/* acq_rel: the freeing thread must see every other user's last reads done */
	int left = __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL);
	BUG_ON(left < 0);
	if (left == 0)
		conf_free(c);
}

void conf_current_set(struct conf *c)
{
	pthread_mutex_lock(&current_lock);
	struct conf *old = current;
	current = c;
	pthread_mutex_unlock(&current_lock);
	conf_current_put(old);
}

/* xstrndup is used by conf_options.c through conf_xstrndup */
char *conf_xstrndup(const char *s, size_t n)
{
	return xstrndup(s, n);
}

void *conf_xrealloc(void *p, size_t size)
{
	return xrealloc(p, size);
}
