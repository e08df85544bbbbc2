/* smb3ctl: the administration tool of smb3d.
 *   smb3ctl [-c FILE] config check [FILE]
 *   smb3ctl [-c FILE] user add|del|passwd|list ...
 *   smb3ctl status [--json] | reload | kill-client ADDR | kill-session ID | close-share NAME
 * Exit codes: 0 success, 1 failure, 2 usage error or not implemented. */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "conf/conf.h"
#include "ctl.h"

#define CTL_DEFAULT_CONFIG "/etc/smb3d/smb.conf"
#define CTL_DEFAULT_PASSDB "/etc/smb3d/smbpasswd"

static void usage(FILE *out)
{
	fputs("usage: smb3ctl [-c FILE] COMMAND [ARGS]\n"
	      "\n"
	      "options:\n"
	      "  -c, --config FILE     configuration file (default " CTL_DEFAULT_CONFIG ")\n"
	      "  -h, --help            this help\n"
	      "  -V, --version         print the version\n"
	      "\n"
	      "commands:\n"
	      "  config check [FILE]   check the configuration and print the effective settings\n"
	      "  user add NAME [--uid N] [-s]  add a user (password asked, or read twice from stdin with -s)\n"
	      "  user del NAME         delete a user\n"
	      "  user passwd NAME [-s] change a user's password\n"
	      "  user list             list the users\n"
	      "  user enable NAME      allow the user's logons again\n"
	      "  user disable NAME     refuse the user's logons (the D flag; no reload needed)\n"
	      "  status [--json]       show the running server's sessions, trees, open files and locks\n"
	      "  kill-client ADDRESS   end the connections from this IP (or IP:PORT)\n"
	      "  kill-session ID       end the connections of this session (an id smb3ctl status shows)\n"
	      "  close-share NAME      end the connections that use this share\n"
	      "  reload                make the running server reload its configuration and users (exit 0 if accepted)\n",
	      out);
}

/* The passdb file named by the configuration; its default when the
 * default configuration file does not exist.  NULL (errors printed) if the
 * configuration is invalid, or a file given with -c cannot be read. */
static struct conf *load_for_passdb(const char *config_path, bool explicit_config, const char **passdb)
{
	FILE *f = fopen(config_path, "re");
	if (!f && errno == ENOENT && !explicit_config) {
		*passdb = CTL_DEFAULT_PASSDB;
		return NULL;
	}
	if (f)
		fclose(f);
	struct conf *c = conf_load(config_path, stderr, NULL);
	*passdb = c ? c->passdb_path : NULL;
	return c;
}

int main(int argc, char **argv)
{
	const char *config_path = CTL_DEFAULT_CONFIG;
	bool explicit_config = false;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("smb3ctl %s\n", SMB3D_VERSION);
			return 0;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (++i >= argc) {
				fprintf(stderr, "smb3ctl: %s needs a file name\n", a);
				return 2;
			}
			config_path = argv[i];
			explicit_config = true;
		} else if (!strncmp(a, "--config=", 9)) {
			config_path = a + 9;
			explicit_config = true;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "smb3ctl: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}

	const char *cmd = argv[i];
	if (!strcmp(cmd, "config"))
		return ctl_config_main(argc - i, argv + i, config_path);
	if (!strcmp(cmd, "user")) {
		const char *passdb;
		struct conf *c = load_for_passdb(config_path, explicit_config, &passdb);
		if (!passdb)
			return 1;
		/* argv[0] of the sub-command is "user", argv[1] its verb */
		int rc = ctl_user_main(argc - i, argv + i, passdb);
		conf_free(c);
		return rc;
	}
	if (!strcmp(cmd, "status") || !strcmp(cmd, "reload") || !strcmp(cmd, "kill-client") ||
	    !strcmp(cmd, "kill-session") || !strcmp(cmd, "close-share"))
		return ctl_control_main(argc - i, argv + i, config_path, explicit_config);
	if (!strcmp(cmd, "help")) {
		if (i + 1 < argc) {
			fprintf(stderr, "smb3ctl help: unexpected argument '%s'\n", argv[i + 1]);
			return 2;
		}
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "smb3ctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
