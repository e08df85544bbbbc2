/* smb3ctl status | reload | kill-client | kill-session | close-share: one
 * line to the server's control socket, print
 * the answer.  The socket is the one the configuration names -- never
 * another: a configuration with errors is an error (exit 1), and the
 * default socket is used only when no -c was given and the default
 * configuration file does not exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ctl.h"

#define CTL_DEFAULT_SOCKET "/run/smb3d/control.sock"

/* The control socket to use, or NULL (message printed). */
static char *socket_path(const char *config_path, bool explicit_config)
{
	if (!explicit_config && access(config_path, F_OK) < 0 && errno == ENOENT)
		return strdup(CTL_DEFAULT_SOCKET);
	struct conf *c = conf_load(config_path, stderr, NULL);
	if (!c) {
		fprintf(stderr, "smb3ctl: %s is not valid; not contacting any server\n", config_path);
		return NULL;
	}
	char *p = strdup(c->control_socket);
	conf_free(c);
	return p;
}

/* argv[0] is the command ("status" or "reload"). */
int ctl_control_main(int argc, char **argv, const char *config_path, bool explicit_config)
{
	const char *cmd = argv[0];
	char request[512];
	bool one_arg = !strcmp(cmd, "kill-client") || !strcmp(cmd, "kill-session") || !strcmp(cmd, "close-share");
	if (argc == 2 && !strcmp(cmd, "status") && !strcmp(argv[1], "--json")) {
		snprintf(request, sizeof(request), "status json");
	} else if (one_arg && argc == 2 && argv[1][0] && strlen(argv[1]) < 256 && !strpbrk(argv[1], "\r\n")) {
		snprintf(request, sizeof(request), "%s %s", cmd, argv[1]);
	} else if (one_arg) {
		fprintf(stderr, "smb3ctl %s: needs one argument (%s)\n", cmd,
			!strcmp(cmd, "kill-client") ? "an address" : !strcmp(cmd, "kill-session") ? "a session id" : "a share");
		return 2;
	} else if (argc != 1) {
		fprintf(stderr, "smb3ctl %s: unexpected argument '%s'\n", cmd, argv[1]);
		return 2;
	} else {
		snprintf(request, sizeof(request), "%s", cmd);
	}
	char *path = socket_path(config_path, explicit_config);
	if (!path)
		return 1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "smb3ctl %s: cannot reach the server at %s: %s\n", cmd, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return 1;
	}
	free(path);
	dprintf(fd, "%s\n", request);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 1;
	}
	/* The server's first line starts with "error:" when the request failed
	 * (for reload: the server kept its running configuration). */
	char line[4096];
	int rc = 1; /* no answer at all is a failure */
	bool first = true;
	while (fgets(line, sizeof(line), f)) {
		if (first)
			rc = strncmp(line, "error:", 6) ? 0 : 1;
		first = false;
		fputs(line, rc ? stderr : stdout);
	}
	fclose(f);
	return rc;
}
