/* Control socket: `smb3ctl status` and `smb3ctl reload`.  A plain blocking
 * thread: admin traffic is rare and must not share the data-path rings. */
#include "admin/control.h"

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

static const char *dialect_str(uint16_t d)
{
	switch (d) {
	case 0x0202: return "2.0.2";
	case 0x0210: return "2.1";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0311: return "3.1.1";
	default: return "-";
	}
}

static const char *sign_str(int a)
{
	return a == CRYPTO_SIGN_AES_GMAC ? "AES-128-GMAC" : a == CRYPTO_SIGN_AES_CMAC ? "AES-128-CMAC" : "HMAC-SHA256";
}

static const char *cipher_str(int c)
{
	switch (c) {
	case CRYPTO_AES_128_CCM: return "AES-128-CCM";
	case CRYPTO_AES_128_GCM: return "AES-128-GCM";
	case CRYPTO_AES_256_CCM: return "AES-256-CCM";
	case CRYPTO_AES_256_GCM: return "AES-256-GCM";
	default: return "none";
	}
}

static void guid_str(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

static void print_conn(struct conn *c, void *arg)
{
	FILE *f = arg;
	struct smb_conn *sc = c->proto;
	char l[64], p[64], g[37] = "-";
	if (sc && sc->negotiated && sc->dialect >= 0x0210)
		guid_str(sc->client_guid, g);
	fprintf(f, "  channel %llu  %s <- %s  worker %d  client %s  dialect %s  in %llu B  out %llu B%s\n",
		(unsigned long long)c->id, conn_addr_str(&c->local, l, sizeof(l)), conn_addr_str(&c->peer, p, sizeof(p)),
		c->w->id, g, sc ? dialect_str(sc->dialect) : "-", (unsigned long long)c->bytes_in,
		(unsigned long long)c->bytes_sent_to_kernel, c->dead ? "  (closing)" : "");
}

static void print_client(struct smb_client *cl, void *arg)
{
	FILE *f = arg;
	char g[37];
	guid_str(cl->guid, g);
	pthread_mutex_lock(&cl->lock);
	fprintf(f, "  client %s  dialect %s  channels %u:", g, dialect_str(cl->dialect), cl->n_channels);
	for (unsigned i = 0; i < cl->n_channels; i++)
		fprintf(f, " %llu", (unsigned long long)cl->channels[i]->id);
	fprintf(f, "\n");
	pthread_mutex_unlock(&cl->lock);
}

static void print_session(struct session *s, void *arg)
{
	FILE *f = arg;
	pthread_mutex_lock(&s->lock);
	fprintf(f, "  session 0x%016llx  user %s%s  dialect %s  signing %s%s  encryption %s  channels %u:",
		(unsigned long long)s->id, s->user ? s->user : "-",
		s->guest ? " (guest)" : s->anonymous ? " (anonymous)" : "", dialect_str(s->dialect),
		sign_str(s->signing_alg), s->signing_required ? " (required)" : "",
		s->encrypt_data ? cipher_str(s->cipher) : "off", s->n_channels);
	for (unsigned i = 0; i < s->n_channels; i++)
		fprintf(f, " %llu%s", (unsigned long long)s->channels[i]->conn->id, s->channels[i]->binding ? "(binding)" : "");
	fprintf(f, "\n");
	size_t pos = 0;
	void *v;
	while (idtable_next(&s->trees, &pos, NULL, &v)) {
		const struct tree *t = v;
		if (t->disconnected)
			continue;
		fprintf(f, "    tree %u  share [%s]  path %s%s%s\n", t->id, t->share ? t->share->name : "-",
			t->share && t->share->path ? t->share->path : "-", t->read_only ? "  (read-only)" : "",
			t->encrypt ? "  (encrypted)" : "");
	}
	pthread_mutex_unlock(&s->lock);
}

/* One attached open.  Its session and tree change under its file's lock
 * (a detach), so what is printed of them is copied under it. */
static void print_open(FILE *f, struct open *o)
{
	char share[128] = "-";
	unsigned long long sid = 0;
	bool detached;
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
	detached = o->detached;
	if (o->session)
		sid = o->session->id;
	if (o->tree && o->tree->share)
		snprintf(share, sizeof(share), "%s", o->tree->share->name);
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
	if (detached)
		return; /* listed with the detached ones */
	fprintf(f, "  file 0x%llx  session 0x%016llx  share [%s]  %s%s\n", (unsigned long long)o->volatile_id, sid,
		share, o->path ? o->path : "", o->pipe ? " (pipe)" : o->is_dir ? "/" : "");
}

/* Durable opens waiting for their client (cmd/durable.h), with the time
 * left before the scavenger closes them. */
static void print_detached(FILE *f)
{
	unsigned n = 0;
	struct open **v = open_list_detached(&n);
	fprintf(f, "detached durable opens: %u\n", n);
	uint64_t now = timer_now_ms();
	for (unsigned i = 0; i < n; i++) {
		struct open *o = v[i];
		pthread_mutex_lock(&o->file->lock);
		uint64_t deadline = o->detach_deadline_ms;
		pthread_mutex_unlock(&o->file->lock);
		uint64_t left = deadline > now ? deadline - now : 0;
		fprintf(f, "  file 0x%llx  v%u  user %s  share [%s]  %s  %llu.%03llu s left\n",
			(unsigned long long)o->persistent_id, o->durable, o->owner ? o->owner : "-",
			o->share ? o->share : "-", o->path, (unsigned long long)(left / 1000),
			(unsigned long long)(left % 1000));
		open_put(o);
	}
	free(v);
}

static void write_status(FILE *f)
{
	fprintf(f, "smb3d %s  connections %d  sessions %u  open files %u\n", SMB3D_VERSION,
		atomic_load(&srv.n_conns), session_count(), open_count());
	fprintf(f, "clients:\n");
	client_foreach(print_client, f);
	fprintf(f, "channels:\n");
	conn_foreach(print_conn, f);
	fprintf(f, "sessions:\n");
	session_foreach(print_session, f);
	fprintf(f, "open files:\n");
	unsigned n = 0;
	struct open **v = open_list(NULL, NULL, &n);
	for (unsigned i = 0; i < n; i++) {
		print_open(f, v[i]);
		open_put(v[i]);
	}
	free(v);
	print_detached(f);
}

static void serve(int fd)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	char line[64] = { 0 };
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
			write_status(m);
			fclose(m);
			fwrite(text, 1, len, f);
		}
		free(text);
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
