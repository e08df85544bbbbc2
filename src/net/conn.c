#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "util/bufpool.h"
#include "util/log.h"
#include "util/metrics.h"

/* The staging buffer holds any PDU allowed before authentication, so an
 * unauthenticated peer never gets a buffer of its own.  It starts small
 * (NEGOTIATE and an NTLM SESSION_SETUP fit) and grows to its full size for
 * a PDU that needs it, a peer that fills it, or once authenticated. */
#define RBUF_SIZE (CONN_PREAUTH_MAX_PDU + 4 + 1020)
#define RBUF_INITIAL 4096
/* A PDU larger than this is received into a buffer of its own rather than
 * through the staging buffer (no copy of large WRITE payloads). */
#define BIG_PDU (16 * 1024)
/* Responses queued and not yet sent, in memory (spliced file data is not
 * counted): past the high mark no further PDU is handed up (nor read)
 * until the peer has taken the queue down to the low mark.  With the SMB
 * layer's own bound on requests in flight (conn_ops.busy), a client that
 * sends requests and never reads the answers cannot make the server hold
 * more than that. */
#define SENDQ_HIGH (64u << 20)
#define SENDQ_LOW (32u << 20)

struct send_item {
	struct send_item *next;
	uint8_t frame[4];
	struct iovec iov[CONN_MAX_IOV + 1];
	int n;            /* iovecs left to send, starting at iov + first */
	int first;
	/* optional file data after the iovecs, moved file -> pipe -> socket
	 * with IORING_OP_SPLICE so it never passes through user space */
	int splice_fd;
	uint64_t splice_off;
	size_t splice_left;   /* bytes still to move from the file */
	size_t in_pipe;       /* bytes in the pipe not yet sent */
	send_done_fn done;
	void *arg;
	size_t mem;           /* bytes of iovecs counted in c->sq_bytes */
	bool elicit_ack;      /* CONN_SEND_ELICIT_ACK */
};

/* A frame's length is fixed when it is queued: if the file shrank under a
 * splice, the rest is filled with zeroes so the stream stays framed. */
static const uint8_t zeroes[65536];

static _Atomic uint64_t conn_ids;

/* Every live connection, for `smb3ctl status` (the workers own them; this
 * list only lets the control thread look). */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn **all;
static size_t n_all, cap_all;

static void all_add(struct conn *c)
{
	pthread_mutex_lock(&all_lock);
	if (n_all == cap_all) {
		size_t ncap = cap_all ? cap_all * 2 : 64;
		struct conn **n = realloc(all, ncap * sizeof(*n));
		if (n) {
			all = n;
			cap_all = ncap;
		}
	}
	if (n_all < cap_all)
		all[n_all++] = c;
	pthread_mutex_unlock(&all_lock);
}

static void all_remove(struct conn *c)
{
	pthread_mutex_lock(&all_lock);
	for (size_t i = 0; i < n_all; i++) {
		if (all[i] == c) {
			all[i] = all[--n_all];
			break;
		}
	}
	pthread_mutex_unlock(&all_lock);
}

void conn_foreach(void (*fn)(struct conn *c, void *arg), void *arg)
{
	pthread_mutex_lock(&all_lock);
	for (size_t i = 0; i < n_all; i++)
		fn(all[i], arg);
	pthread_mutex_unlock(&all_lock);
}

static void conn_recv_arm(struct conn *c);
static void conn_send_next(struct conn *c);

const char *conn_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%u", ip, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

void conn_set_authenticated(struct conn *c)
{
	if (c->authenticated)
		return;
	c->authenticated = true;
	if (!c->dead)
		c->w->n_unauth--;
}

/* Too many connections have not authenticated: close the oldest of them on
 * this worker (a legitimate client authenticates within moments, a peer
 * holding connections open does not). */
static void conn_evict_unauth(struct worker *w)
{
	struct conn *old = NULL;
	for (struct conn *c = w->conns; c; c = c->next)
		if (!c->authenticated && !c->dead)
			old = c; /* the list is newest first */
	if (old)
		conn_shutdown(old, "too many unauthenticated connections");
}

void conn_get(struct conn *c)
{
	c->refs++;
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conns--;
	timer_cancel(w, c->deadline_timer);
	all_remove(c);
	if (c->ops->freed)
		c->ops->freed(c);
	close(c->fd);
	if (c->pipe_fds[0] >= 0) {
		close(c->pipe_fds[0]);
		close(c->pipe_fds[1]);
	}
	free(c->rbuf);
	bufpool_drop(c->big); /* unfinished: never pooled */
	free(c);
}

uint64_t conn_bytes_acked(struct conn *c)
{
	int outq = 0;
	if (c->dead || c->force_unacked || ioctl(c->fd, SIOCOUTQ, &outq) < 0 || outq < 0)
		return 0;
	uint64_t sent = c->bytes_sent_to_kernel;
	return (uint64_t)outq > sent ? 0 : sent - (uint64_t)outq;
}

unsigned conn_rto_ms(struct conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < offsetof(struct tcp_info, tcpi_rto) + 4)
		return 0;
	/* tcpi_rto has doubled once for each retransmission timeout since
	 * the peer last acknowledged anything (tcpi_backoff; Linux caps it
	 * at 120 s, far beyond any break's wait).  Undo that: see conn.h. */
	unsigned rto_us = ti.tcpi_rto;
	if (ti.tcpi_backoff)
		rto_us = ti.tcpi_backoff < 32 ? rto_us >> ti.tcpi_backoff : 0;
	return rto_us / 1000;
}

void conn_put(struct conn *c)
{
	BUG_ON(c->refs <= 0);
	if (--c->refs == 0)
		conn_free(c);
}

/* Once a dead connection has no receive and no send in flight, tell the
 * SMB layer and drop the reference the socket held (exactly once). */
static void conn_maybe_release(struct conn *c)
{
	if (!c->dead || c->recv_armed || c->sending || c->closed_called)
		return;
	c->closed_called = true;
	if (c->ops->closed)
		c->ops->closed(c);
	conn_put(c);
}

/* how: SHUT_RDWR (a FIN after what is queued) or SHUT_RD (an abort: the
 * close resets the connection). */
static void close_down(struct conn *c, const char *why, int how)
{
	if (c->dead)
		return;
	char a[64];
	log_debug("connection %llu from %s closing: %s", (unsigned long long)c->id,
		  conn_addr_str(&c->peer, a, sizeof(a)), why);
	c->dead = true;
	timer_cancel(c->w, c->deadline_timer);
	c->deadline_timer = 0;
	if (!c->authenticated)
		c->w->n_unauth--; /* counted while alive and unauthenticated */
	/* Unblock a pending recv: shutdown makes it complete with 0. */
	shutdown(c->fd, how);
	/* Queued sends that are not in flight fail now. */
	struct send_item *it = c->sending ? c->sq_head->next : c->sq_head;
	if (c->sending)
		c->sq_head->next = NULL, c->sq_tail = c->sq_head;
	else
		c->sq_head = c->sq_tail = NULL;
	while (it) {
		struct send_item *next = it->next;
		c->sq_bytes -= it->mem;
		if (it->splice_fd >= 0)
			close(it->splice_fd);
		if (it->done)
			it->done(it->arg, -ECONNRESET);
		free(it);
		it = next;
	}
	conn_maybe_release(c);
}

void conn_shutdown(struct conn *c, const char *why)
{
	close_down(c, why, SHUT_RDWR);
}

void conn_abort(struct conn *c, const char *why)
{
	/* No FIN: one would queue behind data the peer never acknowledges
	 * (a peer whose ACKs are lost: TCP retransmits that data and sends
	 * nothing new, the FIN neither).  Linger 0 makes the close send a
	 * RST, which goes out at once, and drop what the socket holds.  A
	 * send in flight may wait for room in the socket: SHUT_WR fails it
	 * (EPIPE), so the close is not held up. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	if (!c->dead)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close_down(c, why, c->sending ? SHUT_RDWR : SHUT_RD);
}

/* ---- deadlines (negotiate timeout, deadtime, pdu timeout) ---- */

static void deadline_fire(void *arg);

/* Keep one timer armed at or before the earlier deadline.  A later
 * deadline (deadtime moves on every PDU) keeps the armed timer, which
 * re-arms when it fires; only an earlier one re-adds it. */
static void deadline_arm(struct conn *c)
{
	uint64_t want = c->deadline;
	if (c->pdu_deadline && (!want || c->pdu_deadline < want))
		want = c->pdu_deadline;
	if (c->dead || !want)
		return; /* an armed timer finds nothing to do and stops */
	if (c->deadline_timer && c->deadline_timer_at <= want)
		return;
	timer_cancel(c->w, c->deadline_timer);
	c->deadline_timer = timer_add(c->w, want, deadline_fire, c);
	c->deadline_timer_at = want;
	if (!c->deadline_timer)
		log_warn("connection %llu: out of memory arming its deadline", (unsigned long long)c->id);
}

/* The timer holds no reference: conn_shutdown and conn_free cancel it. */
static void deadline_fire(void *arg)
{
	struct conn *c = arg;
	c->deadline_timer = 0;
	conn_get(c);
	uint64_t now = c->w->now_ms;
	if (!c->dead && c->deadline && now >= c->deadline && (!c->ops->expire_ok || c->ops->expire_ok(c)))
		conn_shutdown(c, "timeout");
	else if (!c->dead && c->pdu_deadline && now >= c->pdu_deadline)
		conn_shutdown(c, "PDU not complete within the pdu timeout");
	else
		deadline_arm(c);
	conn_put(c);
}

void conn_set_deadline(struct conn *c, uint64_t at_ms)
{
	c->deadline = at_ms;
	deadline_arm(c);
}

/* ---- receive ---- */

/* Hand no further PDU up: too much queued for sending, or the SMB layer
 * has too much in flight. */
static bool conn_busy(struct conn *c)
{
	if (c->recv_paused)
		return c->sq_bytes > SENDQ_LOW || (c->ops->busy && c->ops->busy(c));
	return c->sq_bytes > SENDQ_HIGH || (c->ops->busy && c->ops->busy(c));
}

/* A PDU has begun and not ended: it must be complete before the PDU
 * deadline ("pdu timeout"), however slowly its bytes trickle in. */
static void pdu_clock(struct conn *c, bool partial)
{
	if (!partial || c->recv_paused) /* paused: the wait is ours, not the peer's */
		c->pdu_deadline = 0;
	else if (!c->pdu_deadline && c->pdu_timeout) {
		c->pdu_deadline = c->w->now_ms + (uint64_t)c->pdu_timeout * 1000;
		deadline_arm(c);
	}
}

/* Called with no receive in flight (nothing points into the buffer). */
static int rbuf_grow(struct conn *c)
{
	if (c->big || c->rbuf_cap >= RBUF_SIZE)
		return 0;
	size_t need = c->rbuf_len >= 4 ? 4 + (((size_t)c->rbuf[1] << 16) | ((size_t)c->rbuf[2] << 8) | c->rbuf[3]) : 0;
	if (!c->authenticated && c->rbuf_len < c->rbuf_cap && need <= c->rbuf_cap)
		return 0;
	uint8_t *n = realloc(c->rbuf, RBUF_SIZE);
	if (!n)
		return -ENOMEM;
	c->rbuf = n;
	c->rbuf_cap = RBUF_SIZE;
	return 0;
}

/* Hand every complete PDU in the staging buffer to the SMB layer. */
static int conn_parse(struct conn *c)
{
	size_t off = 0;
	while (!c->dead && c->rbuf_len - off >= 4) {
		if (conn_busy(c)) {
			/* the rest waits in the staging buffer: conn_resume */
			c->recv_paused = true;
			break;
		}
		const uint8_t *h = c->rbuf + off;
		/* MS-SMB2 2.1: the first byte is zero, then a 24-bit length.  Samba
		 * allows 0x00 only; anything else is not SMB over direct TCP. */
		if (h[0] != 0)
			return -EPROTO;
		size_t len = ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
		if (len == 0) {
			off += 4; /* keep-alive */
			continue;
		}
		/* Before authentication only NEGOTIATE and SESSION_SETUP are
		 * possible: a larger PDU ends the connection at once. */
		if (len > (c->authenticated ? c->max_pdu : CONN_PREAUTH_MAX_PDU))
			return -EMSGSIZE;
		size_t have = c->rbuf_len - off - 4;
		if (have >= len) {
			uint8_t *pdu = bufpool_get(len);
			if (!pdu)
				return -ENOMEM;
			memcpy(pdu, h + 4, len);
			off += 4 + len;
			c->bytes_in += 4 + len;
			c->ops->pdu(c, pdu, len);
			continue;
		}
		if (len > BIG_PDU && c->authenticated) {
			/* Receive the rest straight into the PDU's own buffer,
			 * whose memory becomes resident as the bytes arrive
			 * (the length is only the peer's announcement). */
			c->big = bufpool_get_lazy(len);
			if (!c->big)
				return -ENOMEM;
			memcpy(c->big, h + 4, have);
			c->big_len = len;
			c->big_have = have;
			off = c->rbuf_len;
		}
		break;
	}
	memmove(c->rbuf, c->rbuf + off, c->rbuf_len - off);
	c->rbuf_len -= off;
	pdu_clock(c, c->big || c->rbuf_len);
	return rbuf_grow(c);
}

static void recv_done(struct conn *c, int res);

/* Completion callbacks hold a reference while they run: conn_shutdown may
 * drop the socket's reference (the last one) half way through. */
static void conn_recv_done(struct uring_op *op, int res, unsigned flags)
{
	struct conn *c = (struct conn *)((char *)op - offsetof(struct conn, recv_op));
	conn_get(c);
	recv_done(c, res);
	conn_put(c);
}

static void recv_done(struct conn *c, int res)
{
	c->recv_armed = false;
	if (c->dead || res <= 0) {
		if (!c->dead)
			conn_shutdown(c, res == 0 ? "peer closed" : strerror(-res));
		conn_maybe_release(c);
		return;
	}
	metrics_add(&metrics.net_bytes_in, (unsigned long long)res);
	if (c->big) {
		c->big_have += (size_t)res;
		if (c->big_have == c->big_len) {
			uint8_t *pdu = c->big;
			size_t len = c->big_len;
			c->big = NULL;
			c->bytes_in += 4 + len;
			pdu_clock(c, false);
			c->ops->pdu(c, pdu, len);
		}
	} else {
		c->rbuf_len += (size_t)res;
		int err = conn_parse(c);
		if (err) {
			conn_shutdown(c, err == -EMSGSIZE ? "PDU too large" : err == -ENOMEM ? "out of memory" : "bad framing");
			return;
		}
	}
	if (c->dead) {
		conn_maybe_release(c);
		return;
	}
	if (c->recv_paused || conn_busy(c)) {
		c->recv_paused = true; /* conn_resume reads on */
		return;
	}
	conn_recv_arm(c);
}

/* Paused, and no longer busy: hand up what is staged, then read on. */
static void conn_resume_now(struct conn *c)
{
	if (c->dead || !c->recv_paused || conn_busy(c))
		return;
	c->recv_paused = false;
	if (!c->big) {
		int err = conn_parse(c);
		if (err) {
			conn_shutdown(c, err == -EMSGSIZE ? "PDU too large" : err == -ENOMEM ? "out of memory" : "bad framing");
			return;
		}
	}
	if (!c->dead && !c->recv_paused && !c->recv_armed)
		conn_recv_arm(c);
}

static void conn_resume_cb(void *arg)
{
	struct conn *c = arg;
	c->resume_posted = false;
	conn_resume_now(c);
	conn_put(c);
}

void conn_resume(struct conn *c)
{
	if (!c->recv_paused || c->resume_posted || c->dead)
		return;
	/* from the worker loop, not from inside a send completion or a
	 * request: handing up PDUs runs requests */
	c->resume_posted = true;
	conn_get(c);
	if (worker_post(c->w, conn_resume_cb, c) < 0) {
		c->resume_posted = false;
		conn_put(c);
	}
}

static void conn_recv_arm(struct conn *c)
{
	struct io_uring_sqe *sqe = worker_sqe(c->w, &c->recv_op);
	if (c->big)
		io_uring_prep_recv(sqe, c->fd, c->big + c->big_have, c->big_len - c->big_have, 0);
	else
		io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rbuf_len, c->rbuf_cap - c->rbuf_len, 0);
	c->recv_armed = true;
}

/* ---- send ---- */

static void sendq_release(struct conn *c, struct send_item *it)
{
	c->sq_bytes -= it->mem;
	it->mem = 0;
	/* the peer took the queue down: read requests again */
	if (c->recv_paused && c->sq_bytes <= SENDQ_LOW)
		conn_resume(c);
}

static void send_item_finish(struct conn *c, struct send_item *it, int err)
{
	c->sq_head = it->next;
	if (!c->sq_head)
		c->sq_tail = NULL;
	sendq_release(c, it);
	if (it->splice_fd >= 0)
		close(it->splice_fd);
	if (it->done)
		it->done(it->arg, err);
	free(it);
}

static void send_done(struct conn *c, int res);

static void conn_send_done(struct uring_op *op, int res, unsigned flags)
{
	struct conn *c = (struct conn *)((char *)op - offsetof(struct conn, send_op));
	conn_get(c);
	send_done(c, res);
	conn_put(c);
}

static void send_done(struct conn *c, int res)
{
	struct send_item *it = c->sq_head;
	c->sending = false;
	if (res < 0 && res != -EAGAIN && res != -EINTR) {
		send_item_finish(c, it, res);
		conn_shutdown(c, "send failed");
		conn_maybe_release(c);
		return;
	}
	size_t done = res > 0 ? (size_t)res : 0;
	switch (c->send_phase) {
	case SEND_IOV:
		c->bytes_sent_to_kernel += done;
		metrics_add(&metrics.net_bytes_out, done);
		/* Short send: skip what went out and send the rest before anything
		 * queued after it, so PDUs never interleave on the stream. */
		while (it->n && done >= it->iov[it->first].iov_len) {
			done -= it->iov[it->first].iov_len;
			it->first++;
			it->n--;
		}
		if (it->n) {
			it->iov[it->first].iov_base = (char *)it->iov[it->first].iov_base + done;
			it->iov[it->first].iov_len -= done;
		}
		break;
	case SEND_SPLICE_IN:
		if (done == 0 && res >= 0) {
			/* The file ended early: send zeroes for the rest. */
			size_t z = it->splice_left < sizeof(zeroes) ? it->splice_left : sizeof(zeroes);
			it->iov[0].iov_base = (void *)zeroes;
			it->iov[0].iov_len = z;
			it->first = 0;
			it->n = 1;
			it->splice_left -= z;
		} else {
			it->splice_left -= done;
			it->splice_off += done;
			it->in_pipe += done;
		}
		break;
	case SEND_SPLICE_OUT:
		c->bytes_sent_to_kernel += done;
		metrics_add(&metrics.net_bytes_out, done);
		it->in_pipe -= done;
		break;
	}
	if (!it->n && !it->splice_left && !it->in_pipe)
		send_item_finish(c, it, 0);
	if (c->dead) {
		/* conn_shutdown failed everything queued behind this one; an
		 * unfinished one fails too. */
		while ((it = c->sq_head))
			send_item_finish(c, it, -ECONNRESET);
		conn_maybe_release(c);
		return;
	}
	conn_send_next(c);
}

/* The pipe used for splicing file data (created on first use). */
static int conn_pipe(struct conn *c)
{
	if (c->pipe_fds[0] >= 0)
		return 0;
	if (pipe2(c->pipe_fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(c->pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
	int sz = fcntl(c->pipe_fds[1], F_GETPIPE_SZ);
	c->pipe_size = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

static void conn_send_next(struct conn *c)
{
	struct send_item *it = c->sq_head;
	if (c->sending || !it)
		return;
	struct io_uring_sqe *sqe = worker_sqe(c->w, &c->send_op);
	if (it->n) {
		/* CONN_SEND_ELICIT_ACK: the framing header (iov[0]) alone first;
		 * TCP_NODELAY (net/listener.c) sends it at once */
		int n = it->elicit_ack && it->first == 0 && it->n > 1 ? 1 : it->n;
		memset(&c->send_msg, 0, sizeof(c->send_msg));
		c->send_msg.msg_iov = it->iov + it->first;
		c->send_msg.msg_iovlen = (size_t)n;
		/* MSG_MORE: file data follows at once */
		bool more = n == it->n && (it->splice_left || it->in_pipe);
		io_uring_prep_sendmsg(sqe, c->fd, &c->send_msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		c->send_phase = SEND_IOV;
	} else if (it->in_pipe) {
		io_uring_prep_splice(sqe, c->pipe_fds[0], -1, c->fd, -1, (unsigned)it->in_pipe,
				     SPLICE_F_MOVE | (it->splice_left ? SPLICE_F_MORE : 0));
		c->send_phase = SEND_SPLICE_OUT;
	} else {
		size_t chunk = it->splice_left < c->pipe_size ? it->splice_left : c->pipe_size;
		io_uring_prep_splice(sqe, it->splice_fd, (int64_t)it->splice_off, c->pipe_fds[1], -1,
				     (unsigned)chunk, SPLICE_F_MOVE);
		c->send_phase = SEND_SPLICE_IN;
	}
	c->sending = true;
}

int conn_send(struct conn *c, const struct iovec *iov, int n, unsigned flags, send_done_fn done, void *arg)
{
	return conn_send_file(c, iov, n, -1, 0, 0, flags, done, arg);
}

int conn_send_file(struct conn *c, const struct iovec *iov, int n, int fd, uint64_t off, size_t flen,
		   unsigned flags, send_done_fn done, void *arg)
{
	if (c->dead)
		return -ECONNRESET;
	if (fd >= 0 && flen && conn_pipe(c) < 0)
		return -ENOMEM;
	if (n > CONN_MAX_IOV)
		return -EINVAL;
	struct send_item *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	len += flen;
	if (len > 0xFFFFFF) {
		free(it);
		return -EMSGSIZE;
	}
	it->frame[0] = 0;
	it->frame[1] = (uint8_t)(len >> 16);
	it->frame[2] = (uint8_t)(len >> 8);
	it->frame[3] = (uint8_t)len;
	it->iov[0].iov_base = it->frame;
	it->iov[0].iov_len = 4;
	memcpy(it->iov + 1, iov, sizeof(*iov) * (size_t)n);
	it->n = n + 1;
	it->splice_fd = -1;
	if (fd >= 0 && flen) {
		/* our own descriptor: the open may be closed before the send */
		it->splice_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (it->splice_fd < 0) {
			free(it);
			return -errno;
		}
		it->splice_off = off;
		it->splice_left = flen;
	}
	it->done = done;
	it->arg = arg;
	/* a message longer than the largest TCP segment (64 KiB) is more
	 * than one segment's worth, which Linux ACKs at once anyway */
	it->elicit_ack = (flags & CONN_SEND_ELICIT_ACK) && len < 65536;
	it->mem = len - flen;
	c->sq_bytes += it->mem;
	if (c->sq_tail)
		c->sq_tail->next = it;
	else
		c->sq_head = it;
	c->sq_tail = it;
	conn_send_next(c);
	return 0;
}

struct conn *conn_new(struct worker *w, int fd, const struct conn_ops *ops, size_t max_pdu)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->rbuf = malloc(RBUF_INITIAL);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->rbuf_cap = RBUF_INITIAL;
	c->w = w;
	c->fd = fd;
	c->refs = 1; /* held by the socket until it is closed */
	c->id = ++conn_ids;
	metrics_add(&metrics.connections_total, 1);
	c->ops = ops;
	c->max_pdu = max_pdu;
	c->pipe_fds[0] = c->pipe_fds[1] = -1;
	c->recv_op.cb = conn_recv_done;
	c->send_op.cb = conn_send_done;
	socklen_t sl = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &sl);
	sl = sizeof(c->peer);
	getpeername(fd, (struct sockaddr *)&c->peer, &sl);
	if (w->max_unauth && w->n_unauth >= w->max_unauth)
		conn_evict_unauth(w);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	w->n_unauth++;
	all_add(c);
	conn_recv_arm(c);
	return c;
}

bool conn_worker_idle(struct worker *w)
{
	for (struct conn *c = w->conns; c; c = c->next)
		if (c->refs > 1 || c->sq_head)
			return false;
	return true;
}

bool conn_worker_close_all(struct worker *w)
{
	for (struct conn *c = w->conns, *next; c; c = next) {
		next = c->next;
		conn_shutdown(c, "server stopping");
	}
	return !w->conns;
}
