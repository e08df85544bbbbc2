#include "net/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop/timer.h"
#include "util/log.h"

struct listener {
	struct uring_op op;
	struct worker *w;
	int fd;
	bool armed;
	timer_id retry;            /* re-arm after running out of descriptors */
	uint64_t warned_ms;        /* last "out of descriptors" warning */
	unsigned failed;           /* accepts failed since that warning */
	const struct conn_ops *ops;
	size_t max_pdu;
	struct listener *next;
};

int listener_socket(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1024) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int listener_probe(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* TIME_WAIT leftovers are fine */
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	int ret = bind(fd, (const struct sockaddr *)ss, len) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static void listener_arm(struct listener *l);

/* A peer that vanishes (a cut link, a crashed client) must be noticed so
 * its channel is dropped and the session's other channels take over:
 * keepalives find a silent peer in about a minute, TCP_USER_TIMEOUT one
 * that stops acknowledging data. */
static void tune_socket(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;
	unsigned user_timeout_ms = 60000;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

#define ACCEPT_RETRY_MS 100
#define ACCEPT_WARN_MS 10000

static void listener_retry(void *arg)
{
	struct listener *l = arg;
	l->retry = 0;
	if (!l->w->stopping && l->fd >= 0 && !l->armed)
		listener_arm(l);
}

/* One warning per ten seconds, with the count, however fast accepts fail. */
static void accept_failed(struct listener *l, int res)
{
	uint64_t now = timer_now_ms();
	l->failed++;
	if (l->warned_ms && now - l->warned_ms < ACCEPT_WARN_MS)
		return;
	log_warn("accept: %s (%u failed accepts%s)", strerror(-res), l->failed,
		 res == -EMFILE ? "; see max open files and max connections" : "");
	l->warned_ms = now;
	l->failed = 0;
}

static void listener_accepted(struct uring_op *op, int res, unsigned flags)
{
	struct listener *l = (struct listener *)op;
	struct worker *w = l->w;
	if (res >= 0) {
		int fd = res;
		if (w->stopping) {
			close(fd);
		} else {
			tune_socket(fd);
			struct conn *c = conn_new(w, fd, l->ops, l->max_pdu);
			if (!c)
				close(fd);
			else if (l->ops->accepted && l->ops->accepted(c) < 0)
				conn_shutdown(c, "refused");
		}
	} else if (res != -ECANCELED && res != -EBADF && res != -EINVAL) {
		accept_failed(l, res);
	}
	if (!(flags & IORING_CQE_F_MORE)) {
		l->armed = false;
		/* The kernel ended the multishot (error, or no more resources):
		 * re-arm unless we are stopping.  Out of descriptors or memory,
		 * the next accept would fail at once: the connection waits in the
		 * backlog while the loop tries again a little later (re-arming at
		 * once spun a core and logged two million lines in six seconds). */
		if (w->stopping || l->fd < 0 || res == -ECANCELED)
			return;
		if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
			if (!l->retry)
				l->retry = timer_add(w, w->now_ms + ACCEPT_RETRY_MS, listener_retry, l);
			if (l->retry)
				return;
		}
		listener_arm(l);
	}
}

static void listener_arm(struct listener *l)
{
	struct io_uring_sqe *sqe = worker_sqe(l->w, &l->op);
	io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
	l->armed = true;
}

int listener_add(struct worker *w, int fd, const struct conn_ops *ops, size_t max_pdu)
{
	struct listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->op.cb = listener_accepted;
	l->w = w;
	l->fd = fd;
	l->ops = ops;
	l->max_pdu = max_pdu;
	l->next = w->listeners;
	w->listeners = l;
	return 0;
}

void listener_worker_start(struct worker *w)
{
	for (struct listener *l = w->listeners; l; l = l->next)
		listener_arm(l);
}

void listener_worker_free(struct worker *w)
{
	while (w->listeners) {
		struct listener *l = w->listeners;
		w->listeners = l->next;
		if (l->fd >= 0)
			close(l->fd);
		free(l);
	}
}

void listener_worker_stop(struct worker *w)
{
	for (struct listener *l = w->listeners; l; l = l->next) {
		timer_cancel(w, l->retry);
		l->retry = 0;
		if (l->fd >= 0) {
			/* shutdown() makes the pending multishot accept complete. */
			shutdown(l->fd, SHUT_RDWR);
			close(l->fd);
			l->fd = -1;
		}
	}
}

void net_init(void)
{
	static const struct worker_sockets ops = {
		.start = listener_worker_start,
		.stop = listener_worker_stop,
		.idle = conn_worker_idle,
		.close_all = conn_worker_close_all,
		.fini = listener_worker_free,
	};
	worker_set_sockets(&ops);
}
