/* Start-up and shutdown: listening sockets (bound before any worker starts,
 * so an unusable port is a clean error), workers, signals (SIGHUP reloads
 * the configuration and the user database). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "net/listener.h"
#include "net/worker.h"
#include "proto/control.h"
#include "proto/metrics_http.h"
#include "vfs/vfs.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "state/open.h"
#include "util/bufpool.h"
#include "util/log.h"

#define MAX_ADDRS 64

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

static void add_addr(struct addr *a, int *n, int family, const void *ip, uint16_t port)
{
	if (*n >= MAX_ADDRS)
		return;
	memset(&a[*n], 0, sizeof(a[*n]));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a[*n].ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, ip, 4);
		a[*n].len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a[*n].ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, ip, 16);
		a[*n].len = sizeof(*s);
	}
	(*n)++;
}

/* "bind interfaces only": every address of every "interfaces" entry (an
 * interface name, an address, or address/prefix); otherwise the wildcards. */
static int listen_addrs(const struct conf *cf, uint16_t port, struct addr *a)
{
	int n = 0;
	if (!cf->bind_interfaces_only || !cf->n_ifaces) {
		struct in_addr any4 = { htonl(INADDR_ANY) };
		add_addr(a, &n, AF_INET, &any4, port);
		add_addr(a, &n, AF_INET6, &in6addr_any, port);
		return n;
	}
	struct ifaddrs *ifa = NULL;
	getifaddrs(&ifa);
	for (size_t i = 0; i < cf->n_ifaces; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s", cf->ifaces[i].name);
		char *slash = strchr(name, '/');
		if (slash)
			*slash = 0;
		struct in_addr a4;
		struct in6_addr a6;
		if (inet_pton(AF_INET, name, &a4) == 1) {
			add_addr(a, &n, AF_INET, &a4, port);
			continue;
		}
		if (inet_pton(AF_INET6, name, &a6) == 1) {
			add_addr(a, &n, AF_INET6, &a6, port);
			continue;
		}
		for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
			if (!p->ifa_addr || strcmp(p->ifa_name, name) != 0)
				continue;
			if (p->ifa_addr->sa_family == AF_INET)
				add_addr(a, &n, AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, port);
			else if (p->ifa_addr->sa_family == AF_INET6 &&
				 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr))
				add_addr(a, &n, AF_INET6, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, port);
		}
	}
	freeifaddrs(ifa);
	return n;
}

static void apply_open_limits(const struct conf *cf);

static void reload(const char *path)
{
	struct conf *nc = conf_load(path, stderr, stderr);
	if (!nc) {
		log_err("reload: %s has errors; keeping the running configuration", path);
		return;
	}
	log_set_level(nc->log_level);
	apply_open_limits(nc);
	if (srv_passdb_load(nc->passdb_path) < 0)
		log_err("reload: cannot read %s; keeping the old user database", nc->passdb_path);
	conf_current_set(nc);
	log_notice("configuration reloaded from %s", path);
}

/* Descriptors kept out of the opens' reach: accepts, tree connect roots,
 * pipes, rings and the requests in flight (a CREATE holds a parent
 * directory for a moment) of every client. */
static unsigned fd_reserve(rlim_t nofile)
{
	rlim_t r = nofile / 16;
	if (r < 512)
		r = 512;
	if (r > 4096)
		r = 4096;
	return (unsigned)r;
}

/* RLIMIT_NOFILE: the soft limit is raised to the hard one at start (every
 * open holds a descriptor, one process serves every client). */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = was;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_cur;
}

/* "max open files" and its per-session / per-user bounds (start and
 * reload).  The server-wide bound never exceeds the descriptor limit less
 * the reserve; its last part is kept for users holding few opens. */
static void apply_open_limits(const struct conf *cf)
{
	static rlim_t nofile;
	if (!nofile)
		nofile = raise_nofile();
	unsigned reserve = fd_reserve(nofile);
	unsigned cap = nofile > reserve * 2 ? (unsigned)(nofile - reserve) : (unsigned)(nofile / 2);
	unsigned total = cf->max_open_files > 0 ? (unsigned)cf->max_open_files : cap;
	if (total > cap) {
		log_warn("max open files = %u is more than the descriptor limit allows: using %u", total, cap);
		total = cap;
	}
	struct open_limits l = {
		.total = total,
		.per_session = (unsigned)cf->max_open_files_session,
		.per_user = (unsigned)cf->max_open_files_user,
		.newcomer_reserve = total / 16 < 256 ? total / 16 : 256,
	};
	open_limits_set(&l);
	log_info("open files: %u in the server (descriptor limit %llu), %u per session, %u per user",
		 l.total, (unsigned long long)nofile, l.per_session, l.per_user);
}

static void reload_request(void)
{
	kill(getpid(), SIGHUP); /* the main thread reloads */
}

int server_run(struct conf *cf, const char *conf_path)
{
	int rc = 1;
	log_set_level(cf->log_level);
	if (crypto_init() < 0) {
		fprintf(stderr, "smb3d: cannot initialise OpenSSL (default and legacy providers)\n");
		conf_free(cf);
		return 1;
	}
	srv_init();
	vfs_init(cf->io_backend == IO_BACKEND_THREADS ? VFS_THREADS : VFS_URING, 0);
	if (srv_passdb_load(cf->passdb_path) < 0) {
		fprintf(stderr, "smb3d: cannot read user database %s\n", cf->passdb_path);
		conf_free(cf);
		return 1;
	}
	bufpool_limit = (size_t)cf->buffer_pool_mb << 20;
	/* pinned (registered) buffer bytes per ring: twice the pool, at least 32 MiB */
	bufpool_pin_limit = 2 * bufpool_limit > (32u << 20) ? 2 * bufpool_limit : 32u << 20;
	int n_workers = cf->workers > 0 ? cf->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n_workers < 1)
		n_workers = 1;
	size_t max_pdu = (size_t)cf->max_io_size + 64 * 1024;
	atomic_store(&srv.n_workers, n_workers);
	apply_open_limits(cf);
	conf_current_set(cf);

	/* Block the signals in every thread; the main thread waits for them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct worker *workers = calloc((size_t)n_workers, sizeof(*workers));
	int started = 0, inited = 0;
	if (!workers)
		goto out;
	for (; inited < n_workers; inited++) {
		int ret = worker_init(&workers[inited], inited, (unsigned)cf->ring_entries, cf->sqpoll);
		if (ret < 0) {
			fprintf(stderr, "smb3d: cannot create an io_uring: %s\n", strerror(-ret));
			goto out;
		}
		/* fixed buffers serve the io_uring engine's file reads and writes */
		workers[inited].fixed_buffers = cf->fixed_buffers && cf->io_backend == IO_BACKEND_URING;
	}
	int n_listen = 0;
	for (size_t p = 0; p < cf->n_ports; p++) {
		struct addr addrs[MAX_ADDRS];
		int n = listen_addrs(cf, cf->ports[p], addrs);
		for (int i = 0; i < n; i++) {
			for (int w = 0; w < n_workers; w++) {
				int fd = listener_socket(&addrs[i].ss, addrs[i].len);
				if (fd < 0) {
					char a[80];
					/* An IPv6 wildcard on a host without IPv6 is not an error. */
					if (addrs[i].ss.ss_family == AF_INET6 && (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL))
						break;
					fprintf(stderr, "smb3d: cannot listen on %s: %s\n",
						conn_addr_str(&addrs[i].ss, a, sizeof(a)), strerror(-fd));
					goto out;
				}
				listener_add(&workers[w], fd, &smb_conn_ops, max_pdu);
				n_listen++;
			}
		}
	}
	if (!n_listen) {
		fprintf(stderr, "smb3d: no address to listen on (check interfaces / bind interfaces only)\n");
		goto out;
	}
	for (; started < n_workers; started++) {
		if (worker_start(&workers[started]) < 0) {
			fprintf(stderr, "smb3d: cannot start worker threads\n");
			goto out;
		}
	}
	int cret = control_start(cf->control_socket, reload_request);
	if (cret < 0)
		log_warn("control socket %s: %s (smb3ctl status will not work)", cf->control_socket, strerror(-cret));
	int mret = metrics_http_start("127.0.0.1", cf->metrics_port);
	if (mret < 0) {
		fprintf(stderr, "smb3d: cannot serve metrics on 127.0.0.1:%d: %s\n", cf->metrics_port, strerror(-mret));
		goto out;
	}
	log_notice("smb3d %s ready: %d workers, port %u%s", SMB3D_VERSION, n_workers, cf->ports[0],
		   cf->io_backend == IO_BACKEND_THREADS ? ", io backend threads" : "");
	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(conf_path);
			continue;
		}
		log_notice("signal %d: stopping", sig);
		break;
	}
	rc = 0;
	control_stop();
	metrics_http_stop();
out:
	for (int i = 0; i < started; i++)
		worker_stop(&workers[i]);
	for (int i = 0; i < started; i++)
		worker_join(&workers[i]);
	for (int i = 0; i < inited; i++)
		worker_fini(&workers[i]);
	free(workers);
	conf_current_set(NULL);
	srv_passdb_fini();
	vfs_fini();
	return rc;
}
