/* Control socket: `smb3ctl status` and `smb3ctl reload`.  A plain blocking
 * thread: admin traffic is rare and must not share the data-path rings. */
#include "admin/control.h"
#include "admin/kill.h"
#include "admin/status.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "net/conn.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "loop/timer.h"
#include "state/open.h"
#include "util/log.h"

static int ctl_fd = -1;
static pthread_t ctl_thread;
static int (*ctl_reload)(FILE *reply);
static char ctl_path[108];
static dev_t ctl_dev;
static ino_t ctl_ino;

static void serve(int fd)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	char line[512] = { 0 };
	FILE *f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return;
	}
	/* Root only: the socket file is 0600 too, this is belt and braces. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || (cr.uid != 0 && cr.uid != geteuid())) {
		fprintf(f, "error: permission denied\n");
		fclose(f);
		return;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	line[strcspn(line, "\r\n")] = 0;
	if (strcmp(line, "status") == 0) {
		/* Formatted in memory, sent after: the table and session locks
		 * are never held while a slow reader keeps the socket full. */
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			status_write_text(m);
			fclose(m);
			fwrite(text, 1, len, f);
		}
		free(text);
	} else if (strcmp(line, "status json") == 0) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			status_write_json(m);
			fclose(m);
			fwrite(text, 1, len, f);
		}
		free(text);
	} else if (!strncmp(line, "kill-client ", 12) || !strncmp(line, "kill-session ", 13) ||
		   !strncmp(line, "close-share ", 12)) {
		char *sp = strchr(line, ' ');
		*sp = '\0';
		admin_kill(line, sp + 1, f);
	} else if (strcmp(line, "reload") == 0) {
		/* The answer says whether the server took the file: the first
		 * line starts with "error:" when it did not. */
		if (ctl_reload && ctl_reload(f) == 0)
			fprintf(f, "reload: the new configuration is in effect\n");
	} else {
		fprintf(f, "error: unknown request '%s'\n", line);
	}
	fclose(f);
}

static void *ctl_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* socket shut down */
		}
		serve(fd);
	}
	return NULL;
}

int control_start(const char *path, int (*reload)(FILE *reply))
{
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(ctl_path, sizeof(ctl_path), "%s", path);
	/* Create the directory (e.g. /run/smb3d) when missing. */
	char dir[108];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A server that answers there is alive: never unlink its socket. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* stale: nobody listens */
	mode_t old = umask(077);
	int ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, 16) < 0 || stat(path, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ctl_dev = st.st_dev;
	ctl_ino = st.st_ino;
	ctl_fd = fd;
	ctl_reload = reload;
	if (pthread_create(&ctl_thread, NULL, ctl_main, NULL) != 0) {
		close(fd);
		ctl_fd = -1;
		return -EAGAIN;
	}
	return 0;
}

void control_stop(void)
{
	if (ctl_fd < 0)
		return;
	shutdown(ctl_fd, SHUT_RDWR);
	pthread_join(ctl_thread, NULL);
	close(ctl_fd);
	ctl_fd = -1;
	/* Only the socket we created: a file put there since is not ours. */
	struct stat st;
	if (stat(ctl_path, &st) == 0 && st.st_dev == ctl_dev && st.st_ino == ctl_ino)
		unlink(ctl_path);
}
