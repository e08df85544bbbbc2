/* Start-up and shutdown: listening sockets (bound before any worker starts,
 * so an unusable port is a clean error), workers, signals (SIGHUP reloads
 * the configuration and the user database). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "crypto/crypto.h"
#include "net/listener.h"
#include "loop/worker.h"
#include "admin/control.h"
#include "admin/metrics_http.h"
#include "vfs/vfs.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "state/open.h"
#include "util/bufpool.h"
#include "util/log.h"
#include "util/sdnotify.h"
#include "util/pidfile.h"

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

/* Configuration warnings already printed: a reload repeats none of them. */
static char **warned;
static size_t n_warned;

static bool warned_before(const char *line)
{
	for (size_t i = 0; i < n_warned; i++)
		if (!strcmp(warned[i], line))
			return true;
	if (n_warned < 4096) {
		char **v = realloc(warned, (n_warned + 1) * sizeof(*v));
		char *d = strdup(line);
		if (v && d) {
			warned = v;
			warned[n_warned++] = d;
			return false;
		}
		if (v)
			warned = v;
		free(d);
	}
	return false;
}

/* Log each line of `text` at `level` (and copy it to `copy`); with
 * `dedup`, only lines not logged before. */
static void print_lines(const char *text, int level, FILE *copy, bool dedup)
{
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);
		if (line && (!dedup || !warned_before(line))) {
			log_msg(level, "%s", line);
			if (copy)
				fprintf(copy, "%s\n", line);
		}
		free(line);
		p += n + (p[n] == '\n');
	}
}

struct conf *server_conf_load(const char *path, FILE *reply)
{
	char *err = NULL, *warn = NULL;
	size_t el = 0, wl = 0;
	FILE *ef = open_memstream(&err, &el), *wf = open_memstream(&warn, &wl);
	struct conf *c = ef && wf ? conf_load(path, ef, wf) : conf_load(path, stderr, stderr);
	if (ef)
		fclose(ef);
	if (wf)
		fclose(wf);
	if (!c && reply)
		fprintf(reply, "error: %s has errors; the running configuration is kept\n", path);
	print_lines(err, LOG_ERR, reply, false);
	print_lines(warn, LOG_WARN, reply, true);
	free(err);
	free(warn);
	return c;
}

/* SIGHUP (main thread) and smb3ctl reload (control thread) take turns. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *reload_path;

/* 0 when the new configuration (and user database) is in effect. */
static int reload(FILE *reply)
{
	int rc = -1;
	pthread_mutex_lock(&reload_lock);
	sd_notify_reloading();
	const char *path = reload_path;
	struct conf *nc = server_conf_load(path, reply);
	if (!nc) {
		log_err("reload: %s has errors; keeping the running configuration", path);
		goto out;
	}
	if (srv_passdb_load(nc->passdb_path) < 0) {
		log_err("reload: cannot read user database %s; keeping the running configuration", nc->passdb_path);
		if (reply)
			fprintf(reply, "error: cannot read user database %s; the running configuration is kept\n",
			        nc->passdb_path);
		conf_free(nc);
		goto out;
	}
	log_set_levels(nc->log_level, nc->log_class_level);
	int lr = log_open_file(nc->log_file, (long long)nc->max_log_size * 1024);
	if (lr < 0)
		log_err("reload: cannot open log file %s: %s; logging where it did", nc->log_file, strerror(-lr));
	apply_open_limits(nc);
	conf_current_set(nc);
	log_notice("configuration reloaded from %s", path);
	rc = 0;
out:
	/* systemd: serving again, with the reload's outcome in the status */
	sd_notifyf("READY=1\nSTATUS=%s", rc ? "reload rejected: the running configuration is kept"
					     : "serving; configuration reloaded");
	pthread_mutex_unlock(&reload_lock);
	return rc;
}

/* One server per pid directory: the pid file is locked for our lifetime. */
static bool take_pid_file(const struct conf *cf, char *path, size_t size, int *pid_fd)
{
	*pid_fd = -1;
	if (!conf_pid_file(cf, path, size)) {
		log_fatal("pid directory name too long");
		return false;
	}
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	mkdir(dir, 0755);
	long holder = 0;
	int fd = pidfile_take(path, &holder);
	if (fd == -EWOULDBLOCK) {
		log_fatal("another smb3d (pid %ld) is running with pid file %s", holder, path);
		return false;
	}
	if (fd < 0) {
		/* Without the file the port check still refuses a second server;
		 * an explicit "pid directory" must work. */
		if (cf->pid_dir) {
			log_fatal("cannot create pid file %s: %s", path, strerror(-fd));
			return false;
		}
		log_warn("cannot create pid file %s: %s", path, strerror(-fd));
	}
	*pid_fd = fd;
	return true;
}

/* Bind the listening sockets of every port and address for every worker,
 * after checking that no other process (another smb3d included) listens
 * there.  false (message printed) on failure. */
static bool listen_all(const struct conf *cf, struct worker *workers, int n_workers, size_t max_pdu)
{
	int n_listen = 0;
	char a[80];
	for (size_t p = 0; p < cf->n_ports; p++) {
		struct addr addrs[MAX_ADDRS];
		int n = listen_addrs(cf, cf->ports[p], addrs);
		for (int i = 0; i < n; i++) {
			int fd = listener_probe(&addrs[i].ss, addrs[i].len);
			/* An IPv6 wildcard on a host without IPv6 is not an error. */
			if (addrs[i].ss.ss_family == AF_INET6 && (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL))
				continue;
			if (fd == -EADDRINUSE) {
				log_fatal("cannot listen on %s: another process (smbd or another smb3d) "
				        "listens there", conn_addr_str(&addrs[i].ss, a, sizeof(a)));
				return false;
			}
			for (int w = 0; w < n_workers; w++) {
				fd = listener_socket(&addrs[i].ss, addrs[i].len);
				if (fd < 0) {
					log_fatal("cannot listen on %s: %s",
						conn_addr_str(&addrs[i].ss, a, sizeof(a)), strerror(-fd));
					return false;
				}
				listener_add(&workers[w], fd, &smb_conn_ops, max_pdu);
				n_listen++;
			}
		}
	}
	if (!n_listen) {
		log_fatal("no address to listen on (check interfaces / bind interfaces only)");
		return false;
	}
	return true;
}

/* What server_run() holds while the server runs, for its teardown. */
struct running {
	struct worker *workers;
	int n_workers;
	int inited;  /* workers[0..inited) have a ring */
	int started; /* workers[0..started) have a thread */
	int pid_fd;
	char pid_path[4200];
};

/* Everything before the workers: pid file, log file, OpenSSL, the calls
 * lower layers make upwards, the vfs engine, the user database.  false
 * (message logged, cf freed, pid file released) on failure. */
static bool server_setup(struct conf *cf, struct running *r)
{
	log_set_levels(cf->log_level, cf->log_class_level);
	/* New files get exactly the modes the share's options compute
	 * (create mask & co.), whatever umask smb3d was started with (Samba
	 * does the same). */
	umask(0);
	if (!take_pid_file(cf, r->pid_path, sizeof(r->pid_path), &r->pid_fd)) {
		conf_free(cf);
		return false;
	}
	int lr = log_open_file(cf->log_file, (long long)cf->max_log_size * 1024);
	if (lr < 0) {
		log_fatal("cannot open log file %s: %s", cf->log_file, strerror(-lr));
		goto fail;
	}
	if (crypto_init() < 0) {
		log_fatal("cannot initialise OpenSSL (default and legacy providers)");
		goto fail;
	}
	srv_init();
	/* the calls lower layers make upwards (docs/ARCHITECTURE.md "Layers") */
	net_init();
	cmd_init();
	vfs_init(cf->io_backend == IO_BACKEND_THREADS ? VFS_THREADS : VFS_URING, 0);
	if (srv_passdb_load(cf->passdb_path) < 0) {
		log_fatal("cannot read user database %s", cf->passdb_path);
		goto fail;
	}
	return true;
fail:
	conf_free(cf);
	pidfile_release(r->pid_fd, r->pid_path);
	return false;
}

/* The buffer pool's bounds, the number of workers and the descriptor
 * limits; returns the number of workers. */
static int apply_limits(const struct conf *cf)
{
	bufpool_limit = (size_t)cf->buffer_pool_mb << 20;
	/* pinned (registered) buffer bytes per ring: twice the pool, at least 32 MiB */
	bufpool_pin_limit = 2 * bufpool_limit > (32u << 20) ? 2 * bufpool_limit : 32u << 20;
	int n_workers = cf->workers > 0 ? cf->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n_workers < 1)
		n_workers = 1;
	atomic_store(&srv.n_workers, n_workers);
	apply_open_limits(cf);
	return n_workers;
}

/* Block the signals in every thread; the main thread waits for them. */
static void block_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* One ring per worker; no thread yet. */
static bool workers_create(const struct conf *cf, struct running *r)
{
	r->workers = calloc((size_t)r->n_workers, sizeof(*r->workers));
	if (!r->workers)
		return false;
	for (; r->inited < r->n_workers; r->inited++) {
		struct worker *w = &r->workers[r->inited];
		int ret = worker_init(w, r->inited, (unsigned)cf->ring_entries, cf->sqpoll);
		if (ret < 0) {
			log_fatal("cannot create an io_uring: %s", strerror(-ret));
			return false;
		}
		/* fixed buffers serve the io_uring engine's file reads and writes */
		w->fixed_buffers = cf->fixed_buffers && cf->io_backend == IO_BACKEND_URING;
	}
	return true;
}

/* The control socket, then the worker threads.  cf may be freed by a
 * reload as soon as the control thread runs: it is not read after that. */
static bool threads_start(const struct conf *cf, struct running *r)
{
	/* Before the workers start: a running server's socket is never taken. */
	int cret = control_start(cf->control_socket, reload);
	if (cret == -EADDRINUSE) {
		log_fatal("control socket %s belongs to a running server", cf->control_socket);
		return false;
	}
	if (cret < 0)
		log_warn("control socket %s: %s (smb3ctl status will not work)", cf->control_socket, strerror(-cret));
	for (; r->started < r->n_workers; r->started++) {
		if (worker_start(&r->workers[r->started]) < 0) {
			log_fatal("cannot start worker threads");
			return false;
		}
	}
	return true;
}

static bool metrics_start(int port)
{
	int mret = metrics_http_start("127.0.0.1", port);
	if (mret < 0)
		log_fatal("cannot serve metrics on 127.0.0.1:%d: %s", port, strerror(-mret));
	return mret >= 0;
}

/* SIGHUP reloads; SIGTERM or SIGINT returns. */
static void wait_for_stop(const sigset_t *sigs)
{
	for (;;) {
		int sig = 0;
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(NULL);
			continue;
		}
		log_notice("signal %d: stopping", sig);
		return;
	}
}

/* Undoes what server_run() did, whatever it got to. */
static void server_teardown(struct running *r)
{
	control_stop();
	for (int i = 0; i < r->started; i++)
		worker_stop(&r->workers[i]);
	for (int i = 0; i < r->started; i++)
		worker_join(&r->workers[i]);
	/* The pool stops before the workers' mailboxes close: a pool thread
	 * finishing a job still posts its completion there (ThreadSanitizer
	 * saw the eventfd closed under it). */
	vfs_fini();
	for (int i = 0; i < r->inited; i++)
		worker_fini(&r->workers[i]);
	free(r->workers);
	conf_current_set(NULL);
	srv_passdb_fini();
	pidfile_release(r->pid_fd, r->pid_path);
}

int server_run(struct conf *cf, const char *conf_path)
{
	struct running r = { .pid_fd = -1 };
	reload_path = conf_path;
	if (!server_setup(cf, &r))
		return 1;
	r.n_workers = apply_limits(cf);
	size_t max_pdu = (size_t)cf->max_io_size + 64 * 1024;
	/* What start-up still needs once the control thread runs: a reload may
	 * replace and free this snapshot from then on. */
	unsigned port0 = cf->ports[0];
	int metrics_port = cf->metrics_port;
	bool threads_engine = cf->io_backend == IO_BACKEND_THREADS;
	conf_current_set(cf);
	sigset_t sigs;
	block_signals(&sigs);
	int rc = 1;
	if (workers_create(cf, &r) && listen_all(cf, r.workers, r.n_workers, max_pdu) &&
	    threads_start(cf, &r) && metrics_start(metrics_port)) {
		log_notice("smb3d %s ready: %d workers, port %u%s", SMB3D_VERSION, r.n_workers, port0,
			   threads_engine ? ", io backend threads" : "");
		sd_notifyf("READY=1\nSTATUS=serving on port %u\nMAINPID=%d", port0, (int)getpid());
		wait_for_stop(&sigs);
		sd_notifyf("STOPPING=1\nSTATUS=stopping");
		rc = 0;
		metrics_http_stop();
	}
	server_teardown(&r);
	return rc;
}
