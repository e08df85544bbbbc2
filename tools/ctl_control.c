/* smb3ctl status | reload: one line to the server's control socket, print
 * the answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ctl.h"

int ctl_control_main(const char *cmd, const char *config_path)
{
	struct conf *c = conf_load(config_path, stderr, NULL);
	const char *path = c ? c->control_socket : "/run/smb3d/control.sock";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "smb3ctl %s: cannot reach the server at %s: %s\n", cmd, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		conf_free(c);
		return 1;
	}
	conf_free(c);
	dprintf(fd, "%s\n", cmd);
	char buf[4096];
	ssize_t n;
	int rc = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!strncmp(buf, "error:", 6))
			rc = 1;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	return rc;
}
