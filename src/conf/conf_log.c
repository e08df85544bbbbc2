/* The logging options: Samba's "log level" with its debug classes, and
 * "log file" (split out of conf_options.c, which holds the option table). */
#include "conf/conf_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* Samba's debug classes ("log level = 1 auth:3 smb2:5").  The ones with
 * a class of smb3d's own set that class's level; "all" sets every class
 * without a level of its own; the others are Samba's and name nothing
 * smb3d logs, so they are accepted and change nothing (docs/CONFIG.md).
 * A name that is not Samba's is an error, not a silent no-op. */
static const struct { const char *name; int cls; } log_classes[] = {
	{ "all", LOG_CLASS_ALL }, { "auth", LOG_CLASS_AUTH }, { "passdb", LOG_CLASS_PASSDB },
	{ "smb2", LOG_CLASS_SMB2 }, { "vfs", LOG_CLASS_VFS }, { "locking", LOG_CLASS_LOCKING },
	{ "tdb", -1 }, { "printdrivers", -1 }, { "lanman", -1 }, { "smb", -1 }, { "rpc_parse", -1 },
	{ "rpc_srv", -1 }, { "rpc_cli", -1 }, { "sam", -1 }, { "winbind", -1 }, { "idmap", -1 },
	{ "quota", -1 }, { "acls", -1 }, { "msdfs", -1 }, { "dmapi", -1 }, { "registry", -1 },
	{ "scavenger", -1 }, { "dns", -1 }, { "ldb", -1 }, { "tevent", -1 }, { "auth_audit", -1 },
	{ "auth_json_audit", -1 }, { "kerberos", -1 }, { "drs_repl", -1 }, { "smb2_credits", -1 },
	{ "dsdb_audit", -1 }, { "dsdb_json_audit", -1 }, { "dsdb_password_audit", -1 },
	{ "dsdb_password_json_audit", -1 }, { "dsdb_transaction_audit", -1 },
	{ "dsdb_transaction_json_audit", -1 }, { "dsdb_group_audit", -1 }, { "dsdb_group_json_audit", -1 },
};

const char *conf_log_class_name(int cls)
{
	for (size_t i = 0; i < sizeof(log_classes) / sizeof(log_classes[0]); i++)
		if (log_classes[i].cls == cls)
			return log_classes[i].name;
	return "?";
}

/* One "class:N" (or a bare "N", the level of all).  false (error
 * reported) when it is not one. */
static bool log_level_item(struct pstate *st, const char *name, const char *item, int *all, int *cls)
{
	const char *colon = strchr(item, ':');
	const char *num = colon ? colon + 1 : item;
	long long x;
	if (strchr(num, '@')) {
		conf_error(st, "'%s' in '%s': a log file per debug class is not supported", item, name);
		return false;
	}
	if (!conf_parse_ll(num, 0, 10, &x)) {
		conf_error(st, "bad value '%s' for '%s' (a level 0-10, or class:level)", item, name);
		return false;
	}
	if (!colon) {
		*all = (int)x;
		return true;
	}
	for (size_t i = 0; i < sizeof(log_classes) / sizeof(log_classes[0]); i++) {
		if (strlen(log_classes[i].name) != (size_t)(colon - item) ||
		    strncasecmp(log_classes[i].name, item, (size_t)(colon - item)) != 0)
			continue;
		if (log_classes[i].cls == LOG_CLASS_ALL)
			*all = (int)x;
		else if (log_classes[i].cls > 0)
			cls[log_classes[i].cls] = (int)x;
		return true;
	}
	conf_error(st, "'%s' in '%s': '%.*s' is not a Samba debug class", item, name, (int)(colon - item), item);
	return false;
}

/* Samba's "log level": "N class:N ...", separated by spaces, commas or
 * semicolons. */
void conf_set_log_level(struct pstate *st, const char *name, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	int all = 1, cls[LOG_CLASS_N];
	char item[64];
	for (int i = 0; i < LOG_CLASS_N; i++)
		cls[i] = -1;
	bool any = false;
	for (const char *p = v; *p;) {
		p += strspn(p, " \t,;");
		size_t n = strcspn(p, " \t,;");
		if (!n)
			break;
		if (n >= sizeof(item)) {
			conf_error(st, "bad value '%s' for '%s'", v, name);
			return;
		}
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (!log_level_item(st, name, item, &all, cls))
			return;
		any = true;
		p += n;
	}
	if (!any) {
		conf_error(st, "bad value '%s' for '%s' (0-10)", v, name);
		return;
	}
	c->log_level = all;
	memcpy(c->log_class_level, cls, sizeof(cls));
}

/* "log file": absolute; Samba's per-client "%m" has one meaning here (one
 * process, one log): "smb3d".  "" = stderr. */
void conf_set_log_file(struct pstate *st, const char *name, const char *v)
{
	struct conf *c = conf_pstate_conf(st);
	free(c->log_file);
	c->log_file = NULL;
	if (!*v)
		return;
	if (v[0] != '/') {
		conf_error(st, "'%s' path '%s' is not absolute", name, v);
		return;
	}
	size_t cap = strlen(v) * 5 + 1, n = 0;
	char *out = conf_xcalloc(cap, 1);
	for (const char *p = v; *p; p++) {
		if (p[0] == '%' && (p[1] == 'm' || p[1] == 'M')) {
			memcpy(out + n, "smb3d", 5);
			n += 5;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			out[n++] = '%';
			p++;
		} else {
			out[n++] = *p;
		}
	}
	c->log_file = out;
}
