/* An smb3d inside the fuzz process and a fake client connection to it; see
 * fakeconn.h for why the seam is conn_new() on a loopback socket. */
#include "fakeconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/passdb.h"
#include "cmd/cmd.h"
#include "conf/conf.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "net/listener.h"
#include "loop/worker.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "util/log.h"
#include "vfs/vfs.h"

/* No single file may grow past this: an allocation or a write far out
 * fails with EFBIG instead of filling the disk (the share is emptied after
 * every input, so this bounds what one input can take). */
#define FILE_SIZE_LIMIT (8u << 20)

static bool inited;
static char dir[64];
static char share[128];
static struct worker w;
static int lfd = -1;                 /* loopback listener the fake client connects to */
static struct sockaddr_in laddr;
static size_t max_pdu;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag;
	if (f->level > 0)
		remove(p);
	return 0;
}

/* Remove everything below `path` (not `path` itself). */
static void empty_dir(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void fake_server_fini(void)
{
	if (!inited)
		return;
	worker_stop(&w);
	worker_join(&w);
	worker_fini(&w);
	conf_current_set(NULL);
	srv_passdb_fini();
	vfs_fini();
	if (lfd >= 0)
		close(lfd);
	empty_dir(dir);
	rmdir(dir);
}

static void die(const char *what)
{
	fprintf(stderr, "fakeconn: %s: %s\n", what, strerror(errno));
	abort();
}

/* As root the server runs file operations as the logged-on user: make it
 * nobody, so even a path that escaped the share could only touch what
 * everybody may. */
static uint32_t test_uid(void)
{
	return getuid() == 0 ? 65534 : getuid();
}

static void write_conf(void)
{
	const char *lvl = getenv("FUZZ_LOG_LEVEL");
	char text[2048];
	snprintf(text, sizeof(text),
		 "[global]\n"
		 "\tpassdb backend = smbpasswd:%s/smbpasswd\n"
		 "\tlog level = %s\n"
		 "\tserver min protocol = SMB2_02\n"
		 "\tserver multi channel support = yes\n"
		 "\tworker threads = 1\n"
		 "\tcontrol socket = %s/ctl.sock\n"
		 /* Samba's test FSCTLs (cmd/ioctl_torture.c): off in a real
		  * server, on here so that the fuzzer reaches them too */
		 "\tsmbd:FSCTL_SMBTORTURE = yes\n"
		 "[share]\n\tpath = %s\n\tread only = no\n"
		 "[sealed]\n\tpath = %s\n\tread only = no\n\tsmb encrypt = required\n",
		 dir, lvl ? lvl : "0", dir, share, share);
	struct conf *cf = conf_load_string(text, "fuzz.conf", stderr, stderr);
	if (!cf) {
		fprintf(stderr, "fakeconn: configuration rejected\n");
		abort();
	}
	log_set_levels(cf->log_level, cf->log_class_level);
	max_pdu = (size_t)cf->max_io_size + 64 * 1024;
	conf_current_set(cf);
}

static void make_dirs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/smb3d-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp");
	chmod(dir, 0755);
	snprintf(share, sizeof(share), "%s/share", dir);
	if (mkdir(share, 0777) < 0 || chmod(share, 0777) < 0)
		die("mkdir share");
	if (getuid() == 0)
		chown(share, test_uid(), (gid_t)-1);
	char db[160];
	snprintf(db, sizeof(db), "%s/smbpasswd", dir);
	if (passdb_add(db, FAKE_USER, test_uid(), FAKE_PASS) < 0)
		die("passdb_add");
	if (srv_passdb_load(db) < 0)
		die("srv_passdb_load");
}

static void make_listener(void)
{
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&laddr, 0, sizeof(laddr));
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(laddr);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&laddr, &sl) < 0)
		die("loopback listener");
}

void fake_server_init(void)
{
	if (inited)
		return;
	struct rlimit rl = { FILE_SIZE_LIMIT, FILE_SIZE_LIMIT };
	setrlimit(RLIMIT_FSIZE, &rl);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (crypto_init() < 0) {
		fprintf(stderr, "fakeconn: crypto_init failed\n");
		abort();
	}
	srv_init();
	net_init();
	cmd_init();
	vfs_init(getenv("FUZZ_THREADS") ? VFS_THREADS : VFS_URING, 4);
	make_dirs();
	write_conf();
	make_listener();
	if (worker_init(&w, 0, 256, false) < 0 || worker_start(&w) < 0)
		die("worker");
	inited = true;
	atexit(fake_server_fini);
}

const char *fake_share_path(void)
{
	return share;
}

/* ---- talking to the worker thread ---- */

#define MAX_CONNS 4

struct job {
	sem_t done;
	int fd;               /* attach: the server side socket */
	uint64_t id;          /* attach: the connection's id */
	/* probe results */
	unsigned n;           /* connections */
	struct { uint64_t id, bytes_in; bool dead; } c[MAX_CONNS];
	bool sending;
	unsigned running, parked;
};

/* The client socket of each connection and the server's id for it. */
static struct { int fd; uint64_t id; } chans[MAX_CONNS];

static void run_on_worker(void (*fn)(void *), struct job *j)
{
	sem_init(&j->done, 0, 0);
	if (worker_post(&w, fn, j) < 0)
		die("worker_post");
	while (sem_wait(&j->done) < 0 && errno == EINTR)
		;
	sem_destroy(&j->done);
}

/* On the worker: what the listener does for an accepted socket. */
static void attach_fn(void *arg)
{
	struct job *j = arg;
	struct conn *c = conn_new(&w, j->fd, &smb_conn_ops, max_pdu);
	j->id = c ? c->id : 0;
	if (c && smb_conn_ops.accepted(c) < 0)
		conn_shutdown(c, "refused");
	sem_post(&j->done);
}

/* On the worker: the state of its connections (a test has one or two,
 * the channels of one session). */
static void probe_fn(void *arg)
{
	struct job *j = arg;
	for (struct conn *c = w.conns; c; c = c->next) {
		struct smb_conn *sc = c->proto;
		if (j->n < MAX_CONNS) {
			j->c[j->n].id = c->id;
			j->c[j->n].bytes_in = c->bytes_in;
			j->c[j->n].dead = c->dead;
		}
		j->n++;
		j->sending = j->sending || (c->sq_head != NULL && !c->dead);
		j->running += sc ? sc->running : 0;
		for (struct smb2_req *r = sc ? sc->async_list : NULL; r; r = r->async_next)
			j->parked++;
	}
	sem_post(&j->done);
}

int fake_connect(void)
{
	fake_server_init();
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0)
		die("socket");
	/* libFuzzer's timers send signals: an interrupted connect goes on in
	 * the background, so wait for it rather than retrying. */
	if (connect(cfd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0) {
		int err = errno;
		socklen_t el = sizeof(err);
		struct pollfd pf = { cfd, POLLOUT, 0 };
		if (err != EINTR && err != EINPROGRESS)
			die("connect");
		while (poll(&pf, 1, -1) < 0 && errno == EINTR)
			;
		if (getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			errno = err;
			die("connect");
		}
	}
	int one = 1;
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct job j = { .fd = -1 };
	while ((j.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (j.fd < 0)
		die("accept");
	setsockopt(j.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	run_on_worker(attach_fn, &j);
	if (!j.id) {
		close(j.fd);
		close(cfd);
		return -1;
	}
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (!chans[i].id) {
			chans[i].fd = cfd;
			chans[i].id = j.id;
			break;
		}
	return cfd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Has the connection of client socket `fd` consumed `sent` bytes (or gone)? */
static bool consumed(const struct job *j, int fd, uint64_t sent)
{
	uint64_t id = 0;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (chans[i].id && chans[i].fd == fd)
			id = chans[i].id;
	for (unsigned i = 0; i < j->n && i < MAX_CONNS; i++)
		if (j->c[i].id == id)
			return j->c[i].dead || j->c[i].bytes_in >= sent;
	return true;
}

bool fake_quiet(const int *fds, const uint64_t *sent, unsigned n, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;
	for (unsigned spin = 0;; spin++) {
		struct job j = { 0 };
		run_on_worker(probe_fn, &j);
		bool all = j.running <= j.parked && !j.sending;
		for (unsigned i = 0; i < n && all; i++)
			all = consumed(&j, fds[i], sent[i]);
		if (all)
			return true;
		if (now_ms() >= end)
			return false;
		if (spin > 20)
			usleep(100);
	}
}

void fake_wait_gone(int fd, unsigned max_ms)
{
	uint64_t id = 0, end = now_ms() + max_ms;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (chans[i].id && chans[i].fd == fd)
			id = chans[i].id;
	while (id && now_ms() < end) {
		struct job j = { 0 };
		bool live = false;
		run_on_worker(probe_fn, &j);
		for (unsigned i = 0; i < j.n && i < MAX_CONNS; i++)
			live = live || (j.c[i].id == id && !j.c[i].dead);
		if (!live)
			return;
		usleep(200);
	}
}

void fake_close(int fd, unsigned max_ms)
{
	close(fd);
	memset(chans, 0, sizeof(chans));
	uint64_t end = now_ms() + max_ms;
	for (;;) {
		struct job j = { 0 };
		run_on_worker(probe_fn, &j);
		if (!j.n)
			break;
		if (now_ms() >= end) {
			fprintf(stderr, "fakeconn: the server has not released a closed connection after %u ms "
					"(running %u, parked %u, sending %d): a hang\n",
				max_ms, j.running, j.parked, j.sending);
			abort();
		}
		usleep(200);
	}
	empty_dir(share);
}
