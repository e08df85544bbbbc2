/* conf_dump: the effective settings in smb.conf syntax, laid out like
 * `testparm -s` ("# Global parameters", [global], then each share, one tab
 * before each option).  Every setting is written, defaults included, so the
 * output parses back to the same snapshot. */
#include "conf/conf_internal.h"

#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *conf_protocol_name(uint16_t dialect)
{
	switch (dialect) {
	case 0x0202: return "SMB2_02";
	case 0x0210: return "SMB2_10";
	case 0x0300: return "SMB3_00";
	case 0x0302: return "SMB3_02";
	case 0x0311: return "SMB3_11";
	default: return "unknown";
	}
}

static const char *yes_no(bool b)
{
	return b ? "Yes" : "No";
}

static const char *encrypt_name(int e)
{
	switch (e) {
	case CONF_DESIRED: return "desired";
	case CONF_REQUIRED: return "required";
	default: return "off";
	}
}

static const char *signing_name(int s)
{
	switch (s) {
	case CONF_OFF: return "disabled";
	case CONF_MANDATORY: return "mandatory";
	default: return "auto";
	}
}

static const char *map_to_guest_name(int m)
{
	switch (m) {
	case MAP_GUEST_BAD_USER: return "Bad User";
	case MAP_GUEST_BAD_PASSWORD: return "Bad Password";
	default: return "Never";
	}
}

static void dump_iface(const struct conf_iface *i, FILE *out)
{
	if (!i->if_index && !i->speed && !i->rss && !i->rdma) {
		fputs(i->name, out);
		return;
	}
	const char *sep = ";";
	fprintf(out, "\"%s", i->name);
	if (i->if_index) {
		fprintf(out, "%sif_index=%" PRIu32, sep, i->if_index);
		sep = ",";
	}
	if (i->speed) {
		fprintf(out, "%sspeed=%" PRIu64, sep, i->speed);
		sep = ",";
	}
	if (i->rss) {
		fprintf(out, "%scapability=RSS", sep);
		sep = ",";
	}
	if (i->rdma)
		fprintf(out, "%scapability=RDMA", sep);
	fputc('"', out);
}

static void dump_list(const char *name, const struct conf_list *l, FILE *out)
{
	if (!l->n)
		return;
	fprintf(out, "\t%s =", name);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, strpbrk(l->v[i], " \t,") ? " \"%s\"" : " %s", l->v[i]);
	fputc('\n', out);
}

static void dump_patterns(const char *name, const struct conf_list *l, FILE *out)
{
	if (!l->n)
		return;
	fprintf(out, "\t%s = /", name);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s/", l->v[i]);
	fputc('\n', out);
}

static void dump_share(const struct conf *c, const struct conf_share *s, FILE *out)
{
	fprintf(out, "\n[%s]\n", s->name);
	if (s->comment)
		fprintf(out, "\tcomment = %s\n", s->comment);
	if (s->path)
		fprintf(out, "\tpath = %s\n", s->path);
	fprintf(out, "\tread only = %s\n", yes_no(s->read_only));
	fprintf(out, "\tguest ok = %s\n", yes_no(s->guest_ok));
	fprintf(out, "\tbrowseable = %s\n", yes_no(s->browseable));
	fprintf(out, "\tcase sensitive = %s\n", yes_no(!s->case_insensitive));
	fprintf(out, "\tstrict allocate = %s\n", yes_no(s->strict_allocate));
	fprintf(out, "\tdurable handles = %s\n", yes_no(s->durable_handles));
	fprintf(out, "\toplocks = %s\n", yes_no(s->oplocks));
	fprintf(out, "\tlevel2 oplocks = %s\n", yes_no(s->level2_oplocks));
	if (s->smb_encrypt >= 0)
		fprintf(out, "\tsmb encrypt = %s\n", encrypt_name(s->smb_encrypt));
	if (s->valid_users) {
		fputs("\tvalid users =", out);
		for (size_t i = 0; i < s->n_valid_users; i++) {
			const char *u = s->valid_users[i];
			fprintf(out, strpbrk(u, " \t,") ? " \"%s\"" : " %s", u);
		}
		fputc('\n', out);
	}
	dump_list("invalid users", &s->invalid_users, out);
	dump_list("read list", &s->read_list, out);
	dump_list("write list", &s->write_list, out);
	dump_list("admin users", &s->admin_users, out);
	dump_list("hosts allow", &s->hosts_allow, out);
	dump_list("hosts deny", &s->hosts_deny, out);
	if (!s->available)
		fputs("\tavailable = No\n", out);
	if (s->max_connections)
		fprintf(out, "\tmax connections = %d\n", s->max_connections);
	fprintf(out, "\tcreate mask = %04o\n", s->create_mask);
	fprintf(out, "\tdirectory mask = %04o\n", s->directory_mask);
	fprintf(out, "\tforce create mode = %04o\n", s->force_create_mode);
	fprintf(out, "\tforce directory mode = %04o\n", s->force_directory_mode);
	fprintf(out, "\tinherit permissions = %s\n", yes_no(s->inherit_permissions));
	fprintf(out, "\tinherit acls = %s\n", yes_no(s->inherit_acls));
	static const char *const owners[] = { "No", "windows and unix", "unix only" };
	fprintf(out, "\tinherit owner = %s\n", owners[s->inherit_owner]);
	fprintf(out, "\tmap archive = %s\n", yes_no(s->map_archive));
	if (s->force_gid >= 0) {
		struct group *g = getgrgid((gid_t)s->force_gid);
		if (g)
			fprintf(out, "\tforce group = %s%s\n", s->force_group_members_only ? "+" : "", g->gr_name);
	}
	if (s->force_uid >= 0) {
		struct passwd *pw = getpwuid((uid_t)s->force_uid);
		if (pw)
			fprintf(out, "\tforce user = %s\n", pw->pw_name);
	}
	if (s->streams_xattr || s->acl_xattr)
		fprintf(out, "\tvfs objects =%s%s\n", s->acl_xattr ? " acl_xattr" : "",
		        s->streams_xattr ? " streams_xattr" : "");
	fprintf(out, "\thide dot files = %s\n", yes_no(s->hide_dot_files));
	dump_patterns("veto files", &s->veto_files, out);
	fprintf(out, "\tdelete veto files = %s\n", yes_no(s->delete_veto_files));
	fprintf(out, "\thide unreadable = %s\n", yes_no(s->hide_unreadable));
	dump_patterns("hide files", &s->hide_files, out);
}

/* "\tNAME = w1 w2 ..." for a list that is not empty. */
static void dump_words(const char *name, char *const *v, size_t n, FILE *out)
{
	if (!n)
		return;
	fprintf(out, "\t%s =", name);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s", v[i]);
	fprintf(out, "\n");
}

/* Names, ports, interfaces, protocols, signing and encryption, users. */
static void dump_global_network(const struct conf *c, FILE *out)
{
	fputs("# Global parameters\n[global]\n", out);
	fprintf(out, "\tnetbios name = %s\n", c->netbios_name);
	fprintf(out, "\tworkgroup = %s\n", c->workgroup);
	fprintf(out, "\tserver string = %s\n", c->server_string);
	fputs("\tsmb ports =", out);
	for (size_t i = 0; i < c->n_ports; i++)
		fprintf(out, " %u", c->ports[i]);
	fputc('\n', out);
	if (c->n_ifaces) {
		fputs("\tinterfaces =", out);
		for (size_t i = 0; i < c->n_ifaces; i++) {
			fputc(' ', out);
			dump_iface(&c->ifaces[i], out);
		}
		fputc('\n', out);
	}
	fprintf(out, "\tbind interfaces only = %s\n", yes_no(c->bind_interfaces_only));
	fprintf(out, "\tserver min protocol = %s\n", conf_protocol_name(c->min_protocol));
	fprintf(out, "\tserver max protocol = %s\n", conf_protocol_name(c->max_protocol));
	fprintf(out, "\tserver signing = %s\n", signing_name(c->server_signing));
	fprintf(out, "\tsmb encrypt = %s\n", encrypt_name(c->smb_encrypt));
	fprintf(out, "\tserver multi channel support = %s\n", yes_no(c->multi_channel));
	fprintf(out, "\tsmb2 leases = %s\n", yes_no(c->smb2_leases));
	fprintf(out, "\tsmb3 directory leases = %s\n", yes_no(c->dir_leases));
	fprintf(out, "\tpassdb backend = smbpasswd:%s\n", c->passdb_path);
	fprintf(out, "\tmap to guest = %s\n", map_to_guest_name(c->map_to_guest));
	fprintf(out, "\tguest account = %s\n", c->guest_account);
}

/* Logging, the io engine and every limit. */
static void dump_global_limits(const struct conf *c, FILE *out)
{
	fprintf(out, "\tlog level = %d", c->log_level);
	for (int i = 1; i < LOG_CLASS_N; i++)
		if (c->log_class_level[i] >= 0)
			fprintf(out, " %s:%d", conf_log_class_name(i), c->log_class_level[i]);
	fputc('\n', out);
	if (c->log_file)
		fprintf(out, "\tlog file = %s\n", c->log_file);
	fprintf(out, "\tmax log size = %d\n", c->max_log_size);
	fprintf(out, "\tio backend = %s\n", c->io_backend == IO_BACKEND_THREADS ? "threads" : "io_uring");
	fprintf(out, "\tworker threads = %d\n", c->workers);
	fprintf(out, "\tsmb2 max credits = %" PRIu32 "\n", c->max_credits);
	fprintf(out, "\tsmb2 max read = %" PRIu32 "\n", c->max_io_size);
	fprintf(out, "\tsmb2 max write = %" PRIu32 "\n", c->max_io_size);
	fprintf(out, "\tsmb2 max trans = %" PRIu32 "\n", c->max_io_size);
	fprintf(out, "\tmax connections = %d\n", c->max_connections);
	fprintf(out, "\tdeadtime = %d\n", c->deadtime);
	fprintf(out, "\tnegotiate timeout = %d\n", c->negotiate_timeout);
	fprintf(out, "\tpdu timeout = %d\n", c->pdu_timeout);
	fprintf(out, "\tsmb3d:oplock break timeout = %d\n", c->oplock_break_timeout);
	fprintf(out, "\tsmb2 disable lock sequence checking = %s\n", yes_no(c->disable_lock_sequence_checking));
	fprintf(out, "\tsmb3d:durable handle timeout = %d\n", c->durable_timeout);
	fprintf(out, "\tsmb3d:replay outcome timeout = %d\n", c->replay_outcome_timeout);
	fprintf(out, "\tsmb2 disable oplock break retry = %s\n", yes_no(c->disable_oplock_break_retry));
	fprintf(out, "\tsmbd:FSCTL_SMBTORTURE = %s\n", yes_no(c->fsctl_smbtorture));
	fprintf(out, "\tmax unauthenticated connections = %d\n", c->max_unauth_conns);
	fprintf(out, "\tmax open files = %d\n", c->max_open_files);
	fprintf(out, "\tmax open files per session = %d\n", c->max_open_files_session);
	fprintf(out, "\tmax open files per user = %d\n", c->max_open_files_user);
	fprintf(out, "\tmax tree connects per session = %d\n", c->max_tree_connects);
	fprintf(out, "\tmax sessions per connection = %d\n", c->max_sessions_conn);
	fprintf(out, "\trestrict anonymous = %d\n", c->null_session ? 0 : 2);
}

/* The control socket, pid file, metrics, hosts, io tuning. */
static void dump_global_admin(const struct conf *c, FILE *out)
{
	fprintf(out, "\tcontrol socket = %s\n", c->control_socket);
	char pidf[4200];
	if (conf_pid_file(c, pidf, sizeof(pidf)))
		fprintf(out, "\tpid directory = %.*s\n", (int)(strrchr(pidf, '/') - pidf), pidf);
	fprintf(out, "\tmetrics port = %d\n", c->metrics_port);
	dump_words("hosts allow", c->hosts_allow, c->n_hosts_allow, out);
	dump_words("hosts deny", c->hosts_deny, c->n_hosts_deny, out);
	fprintf(out, "\tuse sendfile = %s\n", c->use_sendfile ? "Yes" : "No");
	fprintf(out, "\tio_uring ring size = %d\n", c->ring_entries);
	fprintf(out, "\tio_uring sqpoll = %s\n", c->sqpoll ? "Yes" : "No");
	fprintf(out, "\tio_uring registered buffers = %s\n", c->fixed_buffers ? "Yes" : "No");
	fprintf(out, "\tbuffer pool size = %d\n", c->buffer_pool_mb);
	/* A [global] "case sensitive" is also the default of the shares below;
	 * each share states its own value, so this one only keeps the global. */
	fprintf(out, "\tcase sensitive = %s\n", yes_no(!c->case_insensitive_default));
}

static void dump_shares(const struct conf *c, FILE *out)
{
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct conf_share *s = &c->shares[i];
		if (s->ipc) {
			/* IPC$ is implicit; write it only if the file changed its comment */
			char want[300];
			snprintf(want, sizeof(want), "IPC Service (%s)", c->server_string);
			if (s->comment && strcmp(s->comment, want))
				fprintf(out, "\n[%s]\n\tcomment = %s\n", s->name, s->comment);
			continue;
		}
		dump_share(c, s, out);
	}
	if (c->homes)
		dump_share(c, c->homes, out);
}

void conf_dump(const struct conf *c, FILE *out)
{
	dump_global_network(c, out);
	dump_global_limits(c, out);
	dump_global_admin(c, out);
	dump_shares(c, out);
}
