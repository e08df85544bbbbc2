/* The option table: every smb.conf option smb3d knows, how its value is
 * parsed and where it is stored.  Names follow Samba's smb.conf(5); lookups
 * ignore case, spaces and underscores as Samba does. */
#include "conf/conf_internal.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_scope {
	GLOBAL,  /* [global] only; a warning in a share section */
	SHARE,   /* a share option; in [global] it sets the default of every share */
};

enum opt_kind {
	K_BOOL,       /* bool at off */
	K_BOOL_NOT,   /* bool at off, inverted ("writable" vs "read only") */
	K_STR,        /* char * at off */
	K_STR_UPPER,  /* char * at off, upper-cased */
	K_INT,        /* int at off, in [min, max] */
	K_U32,        /* uint32_t at off, in [min, max] */
	K_LIST,       /* struct conf_list at off (split_list) */
	K_OCTAL,      /* unsigned at off, octal, in [min, max] */
	K_FN,         /* fn */
};

struct opt {
	const char *name;     /* Samba's name, for messages */
	enum opt_scope scope;
	enum opt_kind kind;
	size_t off;           /* in struct conf (GLOBAL) or struct conf_share (SHARE) */
	long long min, max;
	void (*fn)(struct pstate *st, const struct opt *o, const char *value);
};

/* ---- value parsers ---- */

/* 1 / 0, or -1 (not a boolean). */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

bool conf_parse_ll(const char *v, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	if (!*v || isspace((unsigned char)*v))
		return false;
	long long x = strtoll(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*out = x;
	return true;
}

struct enum_val {
	const char *name; /* normalized form */
	int value;
};

static bool parse_enum(const struct enum_val *t, const char *v, int *out)
{
	char n[64];
	conf_normalize(v, n, sizeof(n));
	for (; t->name; t++) {
		if (!strcmp(t->name, n)) {
			*out = t->value;
			return true;
		}
	}
	return false;
}

static void bad_value(struct pstate *st, const struct opt *o, const char *v)
{
	conf_error(st, "unknown value '%s' for '%s'", v, o->name);
}

/* Split a list on blanks and commas outside double quotes; quotes removed.
 * Returns the number of items (items freed by the caller). */
static size_t split_list(const char *v, char ***out)
{
	char **items = NULL;
	size_t n = 0;
	const char *p = v;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		char *item = conf_xcalloc(strlen(p) + 1, 1);
		size_t len = 0;
		bool quoted = false;
		for (; *p; p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && (*p == ' ' || *p == '\t' || *p == ','))
				break;
			item[len++] = *p;
		}
		items = conf_xrealloc(items, (n + 1) * sizeof(char *));
		items[n++] = item;
	}
	*out = items;
	return n;
}

static void free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* ---- special options ---- */

static void set_ports(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	char **items;
	size_t n = split_list(v, &items);
	uint16_t ports[8];
	bool ok = true;
	if (n == 0 || n > 8) {
		conf_error(st, "'%s' needs 1 to 8 ports", o->name);
		ok = false;
	}
	for (size_t i = 0; ok && i < n; i++) {
		long long x;
		if (!conf_parse_ll(items[i], 1, 65535, &x)) {
			conf_error(st, "port '%s' out of range 1-65535 in '%s'", items[i], o->name);
			ok = false;
		} else {
			ports[i] = (uint16_t)x;
		}
	}
	free_list(items, n);
	if (ok) {
		memcpy(c->ports, ports, n * sizeof(ports[0]));
		c->n_ports = n;
	}
}

/* One "interfaces" entry: NAME or "NAME;opt=val,opt=val" (Samba syntax:
 * if_index=N, speed=BITS_PER_SECOND, capability=RSS|RDMA). */
static bool parse_iface(struct pstate *st, const char *item, struct conf_iface *ifc)
{
	memset(ifc, 0, sizeof(*ifc));
	const char *semi = strchr(item, ';');
	size_t nl = semi ? (size_t)(semi - item) : strlen(item);
	if (nl == 0 || memchr(item, '=', nl)) {
		conf_error(st, "bad interface '%s' (an entry with options must be quoted: "
		           "\"eth0;speed=1000000000\")", item);
		return false;
	}
	ifc->name = conf_xstrndup(item, nl);
	if (!semi)
		return true;
	char *opts = conf_xstrdup(semi + 1), *save = NULL;
	bool ok = true;
	for (char *kv = strtok_r(opts, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		long long x;
		if (!eq) {
			conf_error(st, "bad interface option '%s' for '%s'", kv, ifc->name);
			ok = false;
			continue;
		}
		*eq = '\0';
		char *key = kv, *val = eq + 1;
		if (!strcasecmp(key, "if_index")) {
			if (conf_parse_ll(val, 1, UINT32_MAX, &x))
				ifc->if_index = (uint32_t)x;
			else {
				conf_error(st, "bad if_index '%s' for interface '%s'", val, ifc->name);
				ok = false;
			}
		} else if (!strcasecmp(key, "speed")) {
			if (conf_parse_ll(val, 1, LLONG_MAX, &x))
				ifc->speed = (uint64_t)x;
			else {
				conf_error(st, "bad speed '%s' for interface '%s'", val, ifc->name);
				ok = false;
			}
		} else if (!strcasecmp(key, "capability")) {
			if (!strcasecmp(val, "RSS"))
				ifc->rss = true;
			else if (!strcasecmp(val, "RDMA"))
				ifc->rdma = true;
			else {
				conf_error(st, "unknown capability '%s' for interface '%s'", val, ifc->name);
				ok = false;
			}
		} else {
			conf_error(st, "unknown interface option '%s' for '%s'", key, ifc->name);
			ok = false;
		}
	}
	free(opts);
	if (!ok) {
		free(ifc->name);
		ifc->name = NULL;
	}
	return ok;
}

static void set_interfaces(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	char **items;
	size_t n = split_list(v, &items);
	struct conf_iface *ifs = conf_xcalloc(n, sizeof(*ifs));
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		ok &= parse_iface(st, items[i], &ifs[i]);
	free_list(items, n);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(ifs[i].name);
		free(ifs);
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		free(c->ifaces[i].name);
	free(c->ifaces);
	c->ifaces = ifs;
	c->n_ifaces = n;
}

static void set_protocol(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	bool is_max = o->min == 1;
	static const struct enum_val t[] = {
		{ "smb202", 0x0202 }, { "smb210", 0x0210 }, { "smb300", 0x0300 },
		{ "smb302", 0x0302 }, { "smb311", 0x0311 }, { NULL, 0 },
	};
	int d;
	char n[64];
	conf_normalize(v, n, sizeof(n));
	if (!strcmp(n, "smb2"))
		d = is_max ? 0x0311 : 0x0202;
	else if (!strcmp(n, "smb3"))
		d = is_max ? 0x0311 : 0x0300;
	else if (!strcmp(n, "default"))
		d = is_max ? 0x0311 : 0x0202;
	else if (!parse_enum(t, v, &d)) {
		if (!strcmp(n, "nt1") || !strcmp(n, "core") || !strncmp(n, "lanman", 6) ||
		    !strcmp(n, "coreplus"))
			conf_error(st, "'%s': SMB1 (%s) is not supported", o->name, v);
		else
			bad_value(st, o, v);
		return;
	}
	if (is_max)
		c->max_protocol = (uint16_t)d;
	else
		c->min_protocol = (uint16_t)d;
	conf_pstate_note_protocol(st, is_max);
}

static void set_signing(struct pstate *st, const struct opt *o, const char *v)
{
	static const struct enum_val t[] = {
		{ "auto", CONF_AUTO }, { "default", CONF_AUTO }, { "ifrequired", CONF_AUTO },
		{ "mandatory", CONF_MANDATORY }, { "required", CONF_MANDATORY },
		{ "disabled", CONF_OFF }, { "off", CONF_OFF }, { NULL, 0 },
	};
	int x;
	if (!parse_enum(t, v, &x))
		bad_value(st, o, v);
	else
		conf_pstate_conf(st)->server_signing = x;
}

static void set_encrypt(struct pstate *st, const struct opt *o, const char *v)
{
	static const struct enum_val t[] = {
		{ "off", CONF_OFF }, { "disabled", CONF_OFF }, { "no", CONF_OFF }, { "false", CONF_OFF },
		{ "auto", CONF_OFF }, { "default", CONF_OFF },
		{ "desired", CONF_DESIRED }, { "ifrequired", CONF_DESIRED }, { "enabled", CONF_DESIRED },
		{ "yes", CONF_DESIRED }, { "true", CONF_DESIRED }, { "on", CONF_DESIRED },
		{ "required", CONF_REQUIRED }, { "mandatory", CONF_REQUIRED }, { "forced", CONF_REQUIRED },
		{ NULL, 0 },
	};
	int x;
	if (!parse_enum(t, v, &x)) {
		bad_value(st, o, v);
		return;
	}
	if (conf_pstate_in_global(st))
		conf_pstate_conf(st)->smb_encrypt = x;
	else
		conf_pstate_share(st)->smb_encrypt = x;
}

static void set_passdb(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	const char *colon = strchr(v, ':');
	size_t bl = colon ? (size_t)(colon - v) : strlen(v);
	if (bl != 9 || strncasecmp(v, "smbpasswd", 9)) {
		conf_error(st, "passdb backend '%.*s' is not supported (only smbpasswd:PATH)", (int)bl, v);
		return;
	}
	const char *path = colon ? colon + 1 : "";
	if (!*path)
		path = CONF_DEFAULT_PASSDB;
	if (path[0] != '/') {
		conf_error(st, "passdb path '%s' is not absolute", path);
		return;
	}
	free(c->passdb_path);
	c->passdb_path = conf_xstrdup(path);
}

static void set_map_to_guest(struct pstate *st, const struct opt *o, const char *v)
{
	static const struct enum_val t[] = {
		{ "never", MAP_GUEST_NEVER }, { "baduser", MAP_GUEST_BAD_USER },
		{ "badpassword", MAP_GUEST_BAD_PASSWORD }, { NULL, 0 },
	};
	int x;
	if (!parse_enum(t, v, &x))
		bad_value(st, o, v);
	else
		conf_pstate_conf(st)->map_to_guest = x;
}

static void set_io_backend(struct pstate *st, const struct opt *o, const char *v)
{
	static const struct enum_val t[] = {
		{ "iouring", IO_BACKEND_URING }, { "uring", IO_BACKEND_URING },
		{ "threads", IO_BACKEND_THREADS }, { NULL, 0 },
	};
	int x;
	if (!parse_enum(t, v, &x))
		bad_value(st, o, v);
	else
		conf_pstate_conf(st)->io_backend = x;
}

static void set_log_level(struct pstate *st, const struct opt *o, const char *v)
{
	conf_set_log_level(st, o->name, v); /* conf_log.c */
}

static void set_log_file(struct pstate *st, const struct opt *o, const char *v)
{
	conf_set_log_file(st, o->name, v);
}

static void set_max_io(struct pstate *st, const struct opt *o, const char *v)
{
	long long x;
	if (!conf_parse_ll(v, 65536, 16 << 20, &x)) {
		conf_error(st, "bad value '%s' for '%s' (65536-16777216)", v, o->name);
		return;
	}
	conf_pstate_conf(st)->max_io_size = (uint32_t)x;
}

static void set_restrict_anon(struct pstate *st, const struct opt *o, const char *v)
{
	long long x;
	if (!conf_parse_ll(v, 0, 2, &x)) {
		conf_error(st, "bad value '%s' for '%s' (0, 1 or 2)", v, o->name);
		return;
	}
	conf_pstate_conf(st)->null_session = x == 0;
}

static void set_path(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	if (conf_pstate_in_global(st)) {
		conf_warning(st, "'%s' in [global] ignored", o->name);
		return;
	}
	/* "%H" (the user's home directory) is absolute once substituted */
	if (v[0] != '/' && strncmp(v, "%H", 2) != 0) {
		conf_error(st, "path '%s' of share [%s] is not absolute", v, conf_pstate_share_name(st));
		return;
	}
	free(s->path);
	size_t n = strlen(v);
	while (n > 1 && v[n - 1] == '/')
		n--;
	s->path = conf_xstrndup(v, n);
}

static void set_comment(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	free(s->comment);
	s->comment = conf_xstrdup(v);
	conf_pstate_note_comment(st);
}

static void set_valid_users(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	for (size_t i = 0; i < s->n_valid_users; i++)
		free(s->valid_users[i]);
	free(s->valid_users);
	s->valid_users = NULL;
	s->n_valid_users = 0;
	char **items;
	size_t n = split_list(v, &items);
	if (n == 0) { /* "valid users =" : everyone, as Samba */
		free(items);
		return;
	}
	s->valid_users = items;
	s->n_valid_users = n;
}

static void set_host_list(struct pstate *st, const struct opt *o, const char *v, char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = split_list(v, list);
	for (size_t i = 0; i < *n; i++)
		if (!conf_host_pattern_ok((*list)[i]))
			conf_error(st, "'%s': bad address pattern '%s' (addresses, CIDR blocks, a.b.c. prefixes, "
			           "ALL, localhost and EXCEPT are supported; host names and @netgroups are not)",
			           o->name, (*list)[i]);
}

/* In [global] the lists are checked when a client connects; in a share
 * section, at each tree connect to that share (Samba checks both). */
static void set_hosts_allow(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	if (conf_pstate_in_global(st)) {
		set_host_list(st, o, v, &c->hosts_allow, &c->n_hosts_allow);
		return;
	}
	struct conf_list *l = &conf_pstate_share(st)->hosts_allow;
	set_host_list(st, o, v, &l->v, &l->n);
}

static void set_hosts_deny(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	if (conf_pstate_in_global(st)) {
		set_host_list(st, o, v, &c->hosts_deny, &c->n_hosts_deny);
		return;
	}
	struct conf_list *l = &conf_pstate_share(st)->hosts_deny;
	set_host_list(st, o, v, &l->v, &l->n);
}

/* "max connections": in [global] smb3d's limit on client connections; in a
 * share section Samba's meaning, tree connects to that share. */
static void set_max_connections(struct pstate *st, const struct opt *o, const char *v)
{
	long long x;
	if (!conf_parse_ll(v, 0, 1000000, &x)) {
		conf_error(st, "bad value '%s' for '%s' (0-1000000)", v, o->name);
		return;
	}
	if (!conf_pstate_in_global(st)) {
		conf_pstate_share(st)->max_connections = (int)x;
		return;
	}
	conf_pstate_conf(st)->max_connections = (int)x;
}

/* Samba's "smb passwd file" names the smbpasswd file too. */
static void set_smb_passwd_file(struct pstate *st, const struct opt *o, const char *v)
{
	if (v[0] != '/') {
		conf_error(st, "'%s' path '%s' is not absolute", o->name, v);
		return;
	}
	struct conf *c = conf_pstate_conf(st);
	free(c->passdb_path);
	c->passdb_path = conf_xstrdup(v);
}

/* "case sensitive = auto" (Samba's default) acts as "no" here. */
static void set_case_sensitive(struct pstate *st, const struct opt *o, const char *v)
{
	int b = parse_bool(v);
	if (b < 0 && (!strcasecmp(v, "auto") || !strcasecmp(v, "default")))
		b = 0;
	if (b < 0) {
		conf_error(st, "bad boolean '%s' for '%s'", v, o->name);
		return;
	}
	conf_pstate_share(st)->case_insensitive = !b;
	if (conf_pstate_in_global(st))
		conf_pstate_global_case(st, !b);
}

static void set_pid_dir(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	size_t n = strlen(v);
	while (n > 1 && v[n - 1] == '/')
		n--;
	if (v[0] != '/' || n > 4000) {
		conf_error(st, "'%s' must be an absolute directory", o->name);
		return;
	}
	free(c->pid_dir);
	c->pid_dir = conf_xstrndup(v, n);
}

/* "veto files" / "hide files": "/pattern/pattern/", names may hold blanks. */
static void set_name_patterns(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_list *l = (struct conf_list *)((char *)conf_pstate_share(st) + o->off);
	conf_list_clear(l);
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, "/");
		if (n) {
			l->v = conf_xrealloc(l->v, (l->n + 1) * sizeof(char *));
			l->v[l->n++] = conf_xstrndup(p, n);
		}
		p += n + (p[n] == '/');
	}
}


/* "force group = staff" or "+staff" (members only); the group must exist
 * (looked up when the file is read: a group made later needs a reload). */
static void set_force_group(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	s->force_gid = -1;
	s->force_group_members_only = false;
	if (!*v)
		return;
	const char *name = v;
	if (*name == '+') {
		s->force_group_members_only = true;
		name++;
	}
	char buf[16384];
	struct group gr, *g = NULL;
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &g) != 0 || !g) {
		conf_error(st, "'%s': no unix group '%s'", o->name, name);
		return;
	}
	s->force_gid = (long)g->gr_gid;
}

/* "force user = name": the account must exist (looked up when the file is
 * read, like "force group"); its groups are looked up at each tree connect. */
static void set_force_user(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	s->force_uid = -1;
	if (!*v)
		return;
	char buf[16384];
	struct passwd pw, *p = NULL;
	if (strchr(v, '%')) {
		conf_error(st, "'%s = %s': substitutions are not supported in this option", o->name, v);
		return;
	}
	if (getpwnam_r(v, &pw, buf, sizeof(buf), &p) != 0 || !p) {
		conf_error(st, "'%s': no unix user '%s'", o->name, v);
		return;
	}
	s->force_uid = (long)p->pw_uid;
}

/* "inherit owner": no, "windows and unix" (yes), "unix only". */
static void set_inherit_owner(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	char n[64];
	conf_normalize(v, n, sizeof(n));
	if (!strcmp(n, "no") || !strcmp(n, "false") || !strcmp(n, "0") || !strcmp(n, "off"))
		s->inherit_owner = INHERIT_OWNER_NO;
	else if (!strcmp(n, "yes") || !strcmp(n, "true") || !strcmp(n, "1") || !strcmp(n, "on") ||
		 !strcmp(n, "windowsandunix"))
		s->inherit_owner = INHERIT_OWNER_WINDOWS_AND_UNIX;
	else if (!strcmp(n, "unixonly"))
		s->inherit_owner = INHERIT_OWNER_UNIX_ONLY;
	else
		conf_error(st, "unknown value '%s' for '%s' (no, windows and unix, unix only)", v, o->name);
}

/* "vfs objects": Samba modules.  smb3d implements the on-disk formats of
 * some; a module it does not implement changes what clients see (names,
 * metadata, audit, recycle bin) and is refused, naming it. */
static void set_vfs_objects(struct pstate *st, const struct opt *o, const char *v)
{
	struct conf_share *s = conf_pstate_share(st);
	char **items;
	size_t n = split_list(v, &items);
	s->streams_xattr = s->acl_xattr = false;
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(items[i], "streams_xattr"))
			s->streams_xattr = true;
		else if (!strcasecmp(items[i], "acl_xattr"))
			s->acl_xattr = true;
		else if (strcasecmp(items[i], "io_uring"))
			conf_error(st, "'%s': module '%s' is not supported (smb3d implements acl_xattr, "
			           "streams_xattr and io_uring; see CONFIG.md)", o->name, items[i]);
	}
	free_list(items, n);
}

static void set_include(struct pstate *st, const struct opt *o, const char *v)
{
	conf_include(st, v);
}

/* ---- the table ---- */

#define G(f) offsetof(struct conf, f)
#define S(f) offsetof(struct conf_share, f)

static const struct opt options[] = {
	{ "netbios name", GLOBAL, K_STR_UPPER, G(netbios_name), 1, 15, NULL },
	{ "workgroup", GLOBAL, K_STR_UPPER, G(workgroup), 1, 15, NULL },
	{ "server string", GLOBAL, K_STR, G(server_string), 0, 256, NULL },
	{ "smb ports", GLOBAL, K_FN, 0, 0, 0, set_ports },
	{ "interfaces", GLOBAL, K_FN, 0, 0, 0, set_interfaces },
	{ "bind interfaces only", GLOBAL, K_BOOL, G(bind_interfaces_only), 0, 0, NULL },
	{ "obey pam restrictions", GLOBAL, K_BOOL, G(obey_pam_restrictions), 0, 0, NULL },
	{ "server min protocol", GLOBAL, K_FN, 0, 0, 0, set_protocol },
	{ "min protocol", GLOBAL, K_FN, 0, 0, 0, set_protocol },
	{ "server max protocol", GLOBAL, K_FN, 0, 1, 0, set_protocol },
	{ "max protocol", GLOBAL, K_FN, 0, 1, 0, set_protocol },
	{ "protocol", GLOBAL, K_FN, 0, 1, 0, set_protocol },
	{ "server signing", GLOBAL, K_FN, 0, 0, 0, set_signing },
	{ "smb encrypt", SHARE, K_FN, 0, 0, 0, set_encrypt },
	{ "server smb encrypt", SHARE, K_FN, 0, 0, 0, set_encrypt },
	{ "server multi channel support", GLOBAL, K_BOOL, G(multi_channel), 0, 0, NULL },
	{ "smb2 leases", GLOBAL, K_BOOL, G(smb2_leases), 0, 0, NULL },
	{ "smb3 directory leases", GLOBAL, K_BOOL, G(dir_leases), 0, 0, NULL },
	{ "passdb backend", GLOBAL, K_FN, 0, 0, 0, set_passdb },
	{ "map to guest", GLOBAL, K_FN, 0, 0, 0, set_map_to_guest },
	{ "guest account", GLOBAL, K_STR, G(guest_account), 1, 256, NULL },
	{ "log level", GLOBAL, K_FN, 0, 0, 0, set_log_level },
	{ "debug level", GLOBAL, K_FN, 0, 0, 0, set_log_level },
	{ "log file", GLOBAL, K_FN, 0, 0, 0, set_log_file },
	{ "max log size", GLOBAL, K_INT, G(max_log_size), 0, 100000000, NULL },
	{ "io backend", GLOBAL, K_FN, 0, 0, 0, set_io_backend },
	{ "worker threads", GLOBAL, K_INT, G(workers), 0, 1024, NULL },
	{ "smb2 max credits", GLOBAL, K_U32, G(max_credits), 1, 65535, NULL },
	{ "smb2 max read", GLOBAL, K_FN, 0, 0, 0, set_max_io },
	{ "smb2 max write", GLOBAL, K_FN, 0, 0, 0, set_max_io },
	{ "smb2 max trans", GLOBAL, K_FN, 0, 0, 0, set_max_io },
	{ "max connections", SHARE, K_FN, 0, 0, 0, set_max_connections },
	{ "max smbd processes", GLOBAL, K_INT, G(max_connections), 0, 1000000, NULL },
	{ "smb passwd file", GLOBAL, K_FN, 0, 0, 0, set_smb_passwd_file },
	{ "deadtime", GLOBAL, K_INT, G(deadtime), 0, 1000000, NULL },
	{ "negotiate timeout", GLOBAL, K_INT, G(negotiate_timeout), 1, 3600, NULL },
	{ "pdu timeout", GLOBAL, K_INT, G(pdu_timeout), 0, 3600, NULL },
	/* smb3d's own prefix: Samba's "oplock break wait time" means something else */
	{ "smb3d:oplock break timeout", GLOBAL, K_INT, G(oplock_break_timeout), 1, 3600, NULL },
	{ "smb2 disable lock sequence checking", GLOBAL, K_BOOL, G(disable_lock_sequence_checking), 0, 0, NULL },
	/* Samba has no such option (its cap is fixed at 300 s) */
	{ "smb3d:durable handle timeout", GLOBAL, K_INT, G(durable_timeout), 1, 86400, NULL },
	/* Samba keeps no such outcomes */
	{ "smb3d:replay outcome timeout", GLOBAL, K_INT, G(replay_outcome_timeout), 1, 3600, NULL },
	{ "smb2 disable oplock break retry", GLOBAL, K_BOOL, G(disable_oplock_break_retry), 0, 0, NULL },
	/* Samba's parametric name, so smbtorture's hint about it applies */
	{ "smbd:FSCTL_SMBTORTURE", GLOBAL, K_BOOL, G(fsctl_smbtorture), 0, 0, NULL },
	{ "max unauthenticated connections", GLOBAL, K_INT, G(max_unauth_conns), 0, 1000000, NULL },
	{ "max open files", GLOBAL, K_INT, G(max_open_files), 0, 100000000, NULL },
	{ "max open files per session", GLOBAL, K_INT, G(max_open_files_session), 1, 100000000, NULL },
	{ "max open files per user", GLOBAL, K_INT, G(max_open_files_user), 1, 100000000, NULL },
	{ "max tree connects per session", GLOBAL, K_INT, G(max_tree_connects), 1, 65534, NULL },
	{ "max sessions per connection", GLOBAL, K_INT, G(max_sessions_conn), 1, 65534, NULL },
	{ "restrict anonymous", GLOBAL, K_FN, 0, 0, 0, set_restrict_anon },
	{ "control socket", GLOBAL, K_STR, G(control_socket), 1, 107, NULL },
	{ "pid directory", GLOBAL, K_FN, 0, 0, 0, set_pid_dir },
	{ "metrics port", GLOBAL, K_INT, G(metrics_port), 0, 65535, NULL },
	{ "use sendfile", GLOBAL, K_BOOL, G(use_sendfile), 0, 0, NULL },
	{ "hosts allow", SHARE, K_FN, 0, 0, 0, set_hosts_allow },
	{ "allow hosts", SHARE, K_FN, 0, 0, 0, set_hosts_allow },
	{ "hosts deny", SHARE, K_FN, 0, 0, 0, set_hosts_deny },
	{ "deny hosts", SHARE, K_FN, 0, 0, 0, set_hosts_deny },
	{ "io_uring ring size", GLOBAL, K_INT, G(ring_entries), 64, 32768, NULL },
	{ "io_uring sqpoll", GLOBAL, K_BOOL, G(sqpoll), 0, 0, NULL },
	{ "io_uring registered buffers", GLOBAL, K_BOOL, G(fixed_buffers), 0, 0, NULL },
	{ "buffer pool size", GLOBAL, K_INT, G(buffer_pool_mb), 0, 4096, NULL },
	{ "include", GLOBAL, K_FN, 0, 0, 0, set_include },
	{ "path", SHARE, K_FN, 0, 0, 0, set_path },
	{ "directory", SHARE, K_FN, 0, 0, 0, set_path },
	{ "comment", SHARE, K_FN, 0, 0, 0, set_comment },
	{ "read only", SHARE, K_BOOL, S(read_only), 0, 0, NULL },
	{ "writable", SHARE, K_BOOL_NOT, S(read_only), 0, 0, NULL },
	{ "writeable", SHARE, K_BOOL_NOT, S(read_only), 0, 0, NULL },
	{ "write ok", SHARE, K_BOOL_NOT, S(read_only), 0, 0, NULL },
	{ "guest ok", SHARE, K_BOOL, S(guest_ok), 0, 0, NULL },
	{ "public", SHARE, K_BOOL, S(guest_ok), 0, 0, NULL },
	{ "browseable", SHARE, K_BOOL, S(browseable), 0, 0, NULL },
	{ "browsable", SHARE, K_BOOL, S(browseable), 0, 0, NULL },
	{ "valid users", SHARE, K_FN, 0, 0, 0, set_valid_users },
	{ "case sensitive", SHARE, K_FN, 0, 0, 0, set_case_sensitive },
	{ "strict allocate", SHARE, K_BOOL, S(strict_allocate), 0, 0, NULL },
	{ "durable handles", SHARE, K_BOOL, S(durable_handles), 0, 0, NULL },
	{ "oplocks", SHARE, K_BOOL, S(oplocks), 0, 0, NULL },
	{ "level2 oplocks", SHARE, K_BOOL, S(level2_oplocks), 0, 0, NULL },
	{ "available", SHARE, K_BOOL, S(available), 0, 0, NULL },
	{ "invalid users", SHARE, K_LIST, S(invalid_users), 0, 0, NULL },
	{ "admin users", SHARE, K_LIST, S(admin_users), 0, 0, NULL },
	{ "read list", SHARE, K_LIST, S(read_list), 0, 0, NULL },
	{ "write list", SHARE, K_LIST, S(write_list), 0, 0, NULL },
	{ "create mask", SHARE, K_OCTAL, S(create_mask), 0, 07777, NULL },
	{ "create mode", SHARE, K_OCTAL, S(create_mask), 0, 07777, NULL },
	{ "directory mask", SHARE, K_OCTAL, S(directory_mask), 0, 07777, NULL },
	{ "directory mode", SHARE, K_OCTAL, S(directory_mask), 0, 07777, NULL },
	{ "force create mode", SHARE, K_OCTAL, S(force_create_mode), 0, 07777, NULL },
	{ "force directory mode", SHARE, K_OCTAL, S(force_directory_mode), 0, 07777, NULL },
	{ "inherit permissions", SHARE, K_BOOL, S(inherit_permissions), 0, 0, NULL },
	{ "inherit acls", SHARE, K_BOOL, S(inherit_acls), 0, 0, NULL },
	{ "inherit owner", SHARE, K_FN, 0, 0, 0, set_inherit_owner },
	{ "veto files", SHARE, K_FN, S(veto_files), 0, 0, set_name_patterns },
	{ "hide files", SHARE, K_FN, S(hide_files), 0, 0, set_name_patterns },
	{ "hide dot files", SHARE, K_BOOL, S(hide_dot_files), 0, 0, NULL },
	{ "delete veto files", SHARE, K_BOOL, S(delete_veto_files), 0, 0, NULL },
	{ "hide unreadable", SHARE, K_BOOL, S(hide_unreadable), 0, 0, NULL },
	{ "map archive", SHARE, K_BOOL, S(map_archive), 0, 0, NULL },
	{ "force group", SHARE, K_FN, 0, 0, 0, set_force_group },
	{ "force user", SHARE, K_FN, 0, 0, 0, set_force_user },
	{ "vfs objects", SHARE, K_FN, 0, 0, 0, set_vfs_objects },
	{ "vfs object", SHARE, K_FN, 0, 0, 0, set_vfs_objects },
	{ "group", SHARE, K_FN, 0, 0, 0, set_force_group },
};

static const struct opt *find_option(const char *name)
{
	char want[128], have[128];
	conf_normalize(name, want, sizeof(want));
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		conf_normalize(options[i].name, have, sizeof(have));
		if (!strcmp(want, have))
			return &options[i];
	}
	return NULL;
}

void conf_set_option(struct pstate *st, const char *name, const char *value)
{
	if (conf_pstate_ignored(st))
		return;
	const struct opt *o = find_option(name);
	if (!o) {
		conf_samba_option(st, name, value);
		return;
	}
	bool global = conf_pstate_in_global(st);
	if (o->scope == GLOBAL && !global && o->fn != set_include) {
		conf_warning(st, "global option '%s' in share [%s] ignored", o->name, conf_pstate_share_name(st));
		return;
	}
	char *base = o->scope == GLOBAL ? (char *)conf_pstate_conf(st) : (char *)conf_pstate_share(st);
	long long x;
	int b;
	switch (o->kind) {
	case K_BOOL:
	case K_BOOL_NOT:
		b = parse_bool(value);
		if (b < 0) {
			conf_error(st, "bad boolean '%s' for '%s'", value, name);
			return;
		}
		*(bool *)(base + o->off) = o->kind == K_BOOL_NOT ? !b : b;
		return;
	case K_STR:
	case K_STR_UPPER: {
		size_t n = strlen(value);
		if ((long long)n < o->min || (long long)n > o->max) {
			conf_error(st, "'%s' must be %lld to %lld characters long", o->name, o->min, o->max);
			return;
		}
		char **p = (char **)(base + o->off);
		free(*p);
		*p = conf_xstrdup(value);
		if (o->kind == K_STR_UPPER)
			for (char *q = *p; *q; q++)
				*q = (char)toupper((unsigned char)*q);
		return;
	}
	case K_INT:
	case K_U32:
		if (!conf_parse_ll(value, o->min, o->max, &x)) {
			conf_error(st, "bad value '%s' for '%s' (%lld-%lld)", value, o->name, o->min, o->max);
			return;
		}
		if (o->kind == K_INT)
			*(int *)(base + o->off) = (int)x;
		else
			*(uint32_t *)(base + o->off) = (uint32_t)x;
		return;
	case K_OCTAL: {
		char *end;
		errno = 0;
		long m = strtol(value, &end, 8);
		if (!*value || *end || errno || m < o->min || m > o->max) {
			conf_error(st, "bad octal mode '%s' for '%s' (0-7777)", value, o->name);
			return;
		}
		*(unsigned *)(base + o->off) = (unsigned)m;
		return;
	}
	case K_LIST: {
		struct conf_list *l = (struct conf_list *)(base + o->off);
		conf_list_clear(l);
		l->n = split_list(value, &l->v);
		return;
	}
	case K_FN:
		o->fn(st, o, value);
		return;
	}
}

/* ---- valid users ---- */

/* Is `user` (a Unix account) a member of `group` (primary or listed)? */
static bool user_in_group(const char *user, const char *group)
{
	char buf[16384];
	struct group gr, *g = NULL;
	struct passwd pw, *p = NULL;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &g) != 0 || !g)
		return false;
	for (char **m = g->gr_mem; m && *m; m++)
		if (!strcasecmp(*m, user))
			return true;
	gid_t gid = g->gr_gid;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &p) != 0 || !p)
		return false;
	return p->pw_gid == gid;
}

/* Entries are user names, or groups as "@g", "+g" or "&g" (Samba). */
static bool entries_have_user(char *const *v, size_t n, const char *user)
{
	if (!user)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *e = v[i];
		if (e[0] == '@' || e[0] == '+' || e[0] == '&') {
			const char *g = e + 1;
			while (*g == '@' || *g == '+' || *g == '&')
				g++;
			if (*g && user_in_group(user, g))
				return true;
		} else if (!strcasecmp(e, user)) {
			return true;
		}
	}
	return false;
}

bool conf_list_has_user(const struct conf_list *l, const char *user)
{
	return l && entries_have_user(l->v, l->n, user);
}

bool conf_share_user_ok(const struct conf_share *s, const char *user)
{
	if (!s || !s->valid_users)
		return true;
	return entries_have_user(s->valid_users, s->n_valid_users, user);
}

/* Samba's order (smbd/share_access.c): invalid users first, then valid
 * users; read list, then write list for the read-only decision. */
bool conf_share_access(const struct conf_share *s, const char *user, bool *read_only, const char **why)
{
	*read_only = s->read_only;
	if (!user) {
		*why = "no user";
		return false;
	}
	if (conf_list_has_user(&s->invalid_users, user)) {
		*why = "invalid users";
		return false;
	}
	if (!conf_share_user_ok(s, user)) {
		*why = "valid users";
		return false;
	}
	if (conf_list_has_user(&s->read_list, user))
		*read_only = true;
	if (conf_list_has_user(&s->write_list, user))
		*read_only = false;
	*why = NULL;
	return true;
}
