/* Shared between the files of src/conf/ only. */
#ifndef SMB3D_CONF_INTERNAL_H
#define SMB3D_CONF_INTERNAL_H

#include "conf/conf.h"

#define CONF_DEFAULT_PASSDB "/etc/smb3d/smbpasswd"

struct pstate; /* parse state, conf.c */

void *conf_xcalloc(size_t n, size_t size);
/* A decimal in [min, max], the whole string (conf_options.c). */
bool conf_parse_ll(const char *v, long long min, long long max, long long *out);
/* "log level" and "log file" (conf_log.c); name: the option as written. */
void conf_set_log_level(struct pstate *st, const char *name, const char *v);
void conf_set_log_file(struct pstate *st, const char *name, const char *v);
void *conf_xrealloc(void *p, size_t size);
char *conf_xstrdup(const char *s);
char *conf_xstrndup(const char *s, size_t n);
void conf_normalize(const char *in, char *out, size_t outsz);
char *conf_read_file(const char *path, int *err);
void conf_share_clear(struct conf_share *s);
void conf_list_clear(struct conf_list *l);

/* conf_samba.c: an option not in smb3d's table -- an error when it is a
 * Samba option that would restrict access, else a warning. */
void conf_samba_option(struct pstate *st, const char *name, const char *value);

/* Messages naming the file and line being parsed. */
void conf_error(struct pstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conf_warning(struct pstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What conf_options.c needs from the parse state. */
struct conf *conf_pstate_conf(struct pstate *st);
bool conf_host_pattern_ok(const char *p);
struct conf_share *conf_pstate_share(struct pstate *st); /* [global]: the share defaults */
bool conf_pstate_in_global(struct pstate *st);
bool conf_pstate_ignored(struct pstate *st);
const char *conf_pstate_share_name(struct pstate *st);
void conf_pstate_note_protocol(struct pstate *st, bool is_max);
void conf_pstate_note_comment(struct pstate *st);
void conf_pstate_global_case(struct pstate *st, bool insensitive);
void conf_include(struct pstate *st, const char *file);

/* conf_options.c: apply one "name = value" in the current section. */
void conf_set_option(struct pstate *st, const char *name, const char *value);

/* conf_dump.c */
const char *conf_protocol_name(uint16_t dialect);

#endif
