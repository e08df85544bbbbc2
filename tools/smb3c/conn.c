/* smb3c channels: TCP, NBSS framing, credits and MessageIds, signing and
 * sealing of requests, verification and decryption of responses, and the
 * poll() loop that drives every channel of a session. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "crypto/crypto.h"
#include "smb3c.h"

int smb3c_verbose;
int smb3c_dead_secs = 15;

static void tune_socket(int fd)
{
	int one = 1, sz = 4 << 20;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* A channel whose link is gone is declared dead after about
	 * smb3c_dead_secs (unacknowledged data, or unanswered keepalives when
	 * idle), and its requests go to the other channels. */
	if (smb3c_dead_secs > 0) {
		unsigned ut = (unsigned)smb3c_dead_secs * 1000u;
		int idle = smb3c_dead_secs / 3 > 0 ? smb3c_dead_secs / 3 : 1, intvl = idle, cnt = 3;
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
}

int chan_connect(struct chan *ch, const struct sockaddr *sa, socklen_t salen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	tune_socket(fd);
	if (connect(fd, sa, salen) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ch->fd = fd;
	ch->next_mid = 0;
	ch->credits = 1; /* MS-SMB2 3.2.4.1.1: one credit before NEGOTIATE */
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(ch->peer, sizeof(ch->peer), "%s:%d", host, port);
	return 0;
}

int chan_connect_host(struct chan *ch, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
		return -EHOSTUNREACH;
	rc = -ECONNREFUSED;
	for (p = ai; p; p = p->ai_next) {
		rc = chan_connect(ch, p->ai_addr, p->ai_addrlen);
		if (rc == 0)
			break;
	}
	freeaddrinfo(ai);
	return rc;
}

void req_release(struct req *r)
{
	free(r->rsp);
	r->rsp = NULL;
	r->msg = NULL;
}

void chan_close(struct chan *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
	while (ch->oq_head) {
		struct outq *q = ch->oq_head;
		ch->oq_head = q->next;
		msg_free(&q->m);
		free(q);
	}
	free(ch->rbuf);
	ch->rbuf = NULL;
	free(ch->neg_token);
	ch->neg_token = NULL;
}

int msg_new(struct msg *m, struct session *s, uint16_t cmd, size_t body, uint32_t tree_id)
{
	m->cap = SMB2_HDR_SIZE + body;
	m->buf = malloc(MSG_HEADROOM + m->cap);
	if (!m->buf)
		return -ENOMEM;
	m->len = SMB2_HDR_SIZE + body;
	memset(m->buf, 0, MSG_HEADROOM + SMB2_HDR_SIZE);
	struct smb2_hdr h = {
		.command = cmd,
		.process_id = 0xFEFF,
		.tree_id = tree_id,
		.session_id = s ? s->id : 0,
	};
	struct wr w = wr_init(msg_smb(m), SMB2_HDR_SIZE);
	smb2_hdr_encode(&w, &h);
	return 0;
}

void msg_free(struct msg *m)
{
	free(m->buf);
	m->buf = NULL;
}

void preauth_update(uint8_t hash[64], const uint8_t *msg, size_t len)
{
	struct iovec iov = { (void *)msg, len };
	crypto_preauth_update(hash, &iov, 1);
}

const char *nt_errstr(uint32_t st)
{
	return nt_status_name(st);
}

bool chan_has_credits(struct chan *ch, unsigned charge)
{
	return ch->credits >= (charge ? charge : 1);
}

static const uint8_t *chan_key(struct chan *ch)
{
	return ch->have_sign_key ? ch->sign_key : ch->s->sign_key;
}

/* Seal the message in place behind a TRANSFORM header (MS-SMB2 3.2.4.1.8). */
static int seal(struct session *s, struct msg *m)
{
	uint8_t *tf = m->buf + 4;
	struct smb2_tf_hdr t = { .orig_size = (uint32_t)m->len, .flags = 1, .session_id = s->id };
	/* Nonces never repeat for a key: a counter (all channels share the
	 * session and this single thread) plus a random salt. */
	uint64_t ctr = ++s->nonce_ctr;
	put_le64(t.nonce, ctr);
	size_t nl = crypto_cipher_noncelen(s->cipher);
	memcpy(t.nonce + 8, s->nonce_salt, nl - 8);
	struct wr w = wr_init(tf, SMB2_TF_HDR_SIZE);
	smb2_tf_hdr_encode(&w, &t);
	struct iovec iov = { msg_smb(m), m->len };
	uint8_t tag[16];
	int rc = crypto_encrypt(s->cipher, s->enc_key, t.nonce, tf + 20, &iov, 1, tag);
	if (rc)
		return rc;
	memcpy(tf + 4, tag, 16);
	m->wire_off = 0;
	m->wire_len = 4 + SMB2_TF_HDR_SIZE + m->len;
	return 0;
}

static void queue_out(struct chan *ch, struct outq *q)
{
	q->next = NULL;
	if (ch->oq_tail)
		ch->oq_tail->next = q;
	else
		ch->oq_head = q;
	ch->oq_tail = q;
}

static int flush_out(struct chan *ch)
{
	while (ch->oq_head) {
		struct iovec iov[16];
		int n = 0;
		for (struct outq *q = ch->oq_head; q && n < 16; q = q->next, n++) {
			size_t off = n ? 0 : q->sent;
			iov[n].iov_base = q->m.buf + q->m.wire_off + off;
			iov[n].iov_len = q->m.wire_len - off;
		}
		ssize_t k = writev(ch->fd, iov, n);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		while (k > 0 && ch->oq_head) {
			struct outq *q = ch->oq_head;
			size_t left = q->m.wire_len - q->sent;
			if ((size_t)k >= left) {
				k -= (ssize_t)left;
				ch->oq_head = q->next;
				if (!ch->oq_head)
					ch->oq_tail = NULL;
				msg_free(&q->m);
				free(q);
			} else {
				q->sent += (size_t)k;
				k = 0;
			}
		}
	}
	return 0;
}

int chan_submit(struct chan *ch, struct msg *m, struct req *r, bool sign)
{
	struct session *s = ch->s;
	uint8_t *h = msg_smb(m);
	uint16_t cmd = get_le16(h + 12);
	uint16_t charge = get_le16(h + 6);
	unsigned need = charge ? charge : 1;

	if (ch->dead)
		return -EPIPE;
	if (ch->credits < need)
		return -EAGAIN;
	r->mid = ch->next_mid;
	r->command = cmd;
	r->charge = (uint16_t)need;
	r->done = false;
	r->rsp = NULL;
	ch->next_mid += need;
	ch->credits -= need;
	put_le64(h + 24, r->mid);
	/* Ask for enough credits to keep the window open (MS-SMB2 3.2.4.1.2). */
	uint16_t want = (uint16_t)need;
	if (ch->credits < 2048)
		want = (uint16_t)(need + 256);
	put_le16(h + 14, want);

	bool do_seal = s->encrypt && s->valid && cmd != SMB2_NEGOTIATE && cmd != SMB2_SESSION_SETUP;
	if (do_seal) {
		int rc = seal(s, m);
		if (rc)
			return rc;
	} else {
		if (sign && cmd != SMB2_NEGOTIATE) {
			put_le32(h + 16, get_le32(h + 16) | SMB2_FLAGS_SIGNED);
			memset(h + 48, 0, 16);
			struct iovec iov = { h, m->len };
			/* A binding request is signed with the session's key
			 * (MS-SMB2 3.2.4.1.1); afterwards the channel's own. */
			const uint8_t *key = ch->binding ? s->sign_key : chan_key(ch);
			uint8_t sig[16];
			int rc = crypto_sign(s->sign_alg, key, &iov, 1, sig);
			if (rc)
				return rc;
			memcpy(h + 48, sig, 16);
		}
		m->wire_off = SMB2_TF_HDR_SIZE;
		m->wire_len = 4 + m->len;
	}
	if (r->preauth)
		preauth_update(r->preauth, h, m->len);
	if (r->preauth2)
		preauth_update(r->preauth2, h, m->len);
	size_t plen = m->wire_len - 4;
	uint8_t *nb = m->buf + m->wire_off;
	nb[0] = 0;
	nb[1] = (uint8_t)(plen >> 16);
	nb[2] = (uint8_t)(plen >> 8);
	nb[3] = (uint8_t)plen;

	struct outq *q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->m = *m;
	q->sent = 0;
	m->buf = NULL;
	queue_out(ch, q);
	r->next = ch->pending;
	ch->pending = r;
	ch->inflight++;
	int rc = flush_out(ch);
	if (rc) {
		ch->dead = true;
		return rc;
	}
	return 0;
}

static struct req *take_pending(struct chan *ch, uint64_t mid, bool remove)
{
	for (struct req **pp = &ch->pending; *pp; pp = &(*pp)->next) {
		if ((*pp)->mid == mid) {
			struct req *r = *pp;
			if (remove) {
				*pp = r->next;
				ch->inflight--;
			}
			return r;
		}
	}
	return NULL;
}

/* One complete NBSS payload received; takes ownership of buf. */
bool msg_signature_ok(int alg, const uint8_t key[16], uint8_t *msg, size_t len)
{
	uint8_t want[16], sig[16];
	memcpy(want, msg + 48, 16);
	memset(msg + 48, 0, 16);
	struct iovec iov = { msg, len };
	crypto_sign(alg, key, &iov, 1, sig);
	memcpy(msg + 48, want, 16);
	return crypto_memeq(sig, want, 16);
}

/* The SMB2 message inside a transform message buf (len bytes), decrypted
 * in place: *msg, *mlen.  -EBADMSG when it does not decrypt. */
static int unseal(struct chan *ch, uint8_t *buf, size_t len, const uint8_t **msg, size_t *mlen)
{
	struct session *s = ch->s;
	struct rd rd = rd_init(buf, len);
	struct smb2_tf_hdr t;
	if (smb2_tf_hdr_decode(&rd, &t) || t.session_id != s->id || !s->cipher ||
	    t.orig_size > len - SMB2_TF_HDR_SIZE || t.orig_size < SMB2_HDR_SIZE) {
		fprintf(stderr, "smb3c: bad transform header on channel %d\n", ch->index);
		return -EBADMSG;
	}
	struct iovec iov = { buf + SMB2_TF_HDR_SIZE, t.orig_size };
	if (crypto_decrypt(s->cipher, s->dec_key, t.nonce, buf + 20, &iov, 1, t.signature)) {
		fprintf(stderr, "smb3c: decryption failed on channel %d\n", ch->index);
		return -EBADMSG;
	}
	*msg = buf + SMB2_TF_HDR_SIZE;
	*mlen = t.orig_size;
	return 0;
}

/* MS-SMB2 3.2.5.1.3: a response on a signing session must be signed with
 * the channel's key; SESSION_SETUP responses are checked by session.c
 * once the keys are known.  Returns the status the caller sees. */
static uint32_t check_signature(struct chan *ch, const struct smb2_hdr *h, const uint8_t *msg, size_t mlen)
{
	struct session *s = ch->s;
	if (h->command == SMB2_SESSION_SETUP || h->command == SMB2_NEGOTIATE || !s->valid)
		return h->status;
	if (h->flags & SMB2_FLAGS_SIGNED) {
		if (msg_signature_ok(s->sign_alg, chan_key(ch), (uint8_t *)msg, mlen))
			return h->status;
		fprintf(stderr, "smb3c: bad signature on %s response (channel %d)\n",
			smb2_command_name(h->command), ch->index);
		return STATUS_ACCESS_DENIED;
	}
	if (s->signing || s->encrypt) {
		fprintf(stderr, "smb3c: unsigned %s response on a signed session (channel %d)\n",
			smb2_command_name(h->command), ch->index);
		return STATUS_ACCESS_DENIED;
	}
	return h->status;
}

static int handle_pdu(struct chan *ch, uint8_t *buf, size_t len)
{
	const uint8_t *msg = buf;
	size_t mlen = len;
	bool sealed = len >= 4 && get_le32(buf) == SMB2_TF_PROTOCOL_ID;
	if (sealed && unseal(ch, buf, len, &msg, &mlen)) {
		free(buf);
		return -EBADMSG;
	}
	struct rd rd = rd_init(msg, mlen);
	struct smb2_hdr h;
	if (smb2_hdr_decode(&rd, &h) || !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR)) {
		fprintf(stderr, "smb3c: malformed response on channel %d\n", ch->index);
		free(buf);
		return -EBADMSG;
	}
	ch->credits += h.credits;
	if (h.message_id == UINT64_MAX) { /* oplock/lease break: we take none */
		free(buf);
		return 0;
	}
	bool interim = h.status == STATUS_PENDING && (h.flags & SMB2_FLAGS_ASYNC_COMMAND);
	struct req *r = take_pending(ch, h.message_id, !interim);
	if (!r) {
		fprintf(stderr, "smb3c: response for unknown MessageId %llu on channel %d\n",
			(unsigned long long)h.message_id, ch->index);
		free(buf);
		return 0;
	}
	if (interim) { /* MS-SMB2 3.2.5.1.5: keep waiting for the final reply */
		free(buf);
		return 0;
	}
	if (!sealed)
		h.status = check_signature(ch, &h, msg, mlen);
	r->hdr = h;
	r->status = h.status;
	r->rsp = buf;
	r->msg = msg;
	r->msg_len = mlen;
	r->done = true;
	if (r->cb)
		r->cb(ch, r);
	return 0;
}

static int chan_read(struct chan *ch)
{
	for (;;) {
		if (ch->nbss_got < 4) {
			ssize_t k = read(ch->fd, ch->nbss + ch->nbss_got, 4 - ch->nbss_got);
			if (k == 0)
				return -ECONNRESET;
			if (k < 0)
				return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
			ch->nbss_got += (size_t)k;
			if (ch->nbss_got < 4)
				continue;
			if (ch->nbss[0] != 0)
				return -EBADMSG;
			ch->rlen = ((size_t)ch->nbss[1] << 16) | ((size_t)ch->nbss[2] << 8) | ch->nbss[3];
			ch->rbuf = malloc(ch->rlen ? ch->rlen : 1);
			if (!ch->rbuf)
				return -ENOMEM;
			ch->rgot = 0;
		}
		if (ch->rgot < ch->rlen) {
			ssize_t k = read(ch->fd, ch->rbuf + ch->rgot, ch->rlen - ch->rgot);
			if (k == 0)
				return -ECONNRESET;
			if (k < 0)
				return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
			ch->rgot += (size_t)k;
			if (ch->rgot < ch->rlen)
				continue;
		}
		uint8_t *buf = ch->rbuf;
		size_t len = ch->rlen;
		ch->rbuf = NULL;
		ch->nbss_got = 0;
		int rc = handle_pdu(ch, buf, len);
		if (rc)
			return rc;
	}
}

static void chan_fail(struct chan *ch, int err)
{
	fprintf(stderr, "smb3c: channel %d (%s): %s\n", ch->index, ch->peer, strerror(-err));
	ch->dead = true;
	/* Complete every pending request with an error. */
	while (ch->pending) {
		struct req *r = ch->pending;
		ch->pending = r->next;
		ch->inflight--;
		r->status = STATUS_CONNECTION_DISCONNECTED;
		r->done = true;
		if (r->cb)
			r->cb(ch, r);
	}
}

int loop_once(struct session *s, int timeout_ms)
{
	struct pollfd pfd[64];
	int n = 0;
	for (int i = 0; i < s->nch; i++) {
		struct chan *ch = s->ch[i];
		pfd[i].fd = ch->dead ? -1 : ch->fd;
		pfd[i].events = POLLIN | (ch->oq_head ? POLLOUT : 0);
		pfd[i].revents = 0;
		n++;
	}
	int k = poll(pfd, (nfds_t)n, timeout_ms);
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct chan *ch = s->ch[i];
		if (ch->dead || !pfd[i].revents)
			continue;
		int rc = 0;
		if (pfd[i].revents & POLLOUT)
			rc = flush_out(ch);
		if (!rc && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			rc = chan_read(ch);
		if (rc)
			chan_fail(ch, rc);
	}
	return 0;
}

int chan_call(struct chan *ch, struct msg *m, struct req *r, bool sign)
{
	int rc;
	r->cb = NULL;
	while ((rc = chan_submit(ch, m, r, sign)) == -EAGAIN) {
		if (ch->inflight == 0) {
			msg_free(m);
			return -ENOSPC; /* no credits and nothing that could grant some */
		}
		loop_once(ch->s, 1000);
	}
	if (rc) {
		msg_free(m);
		return rc;
	}
	while (!r->done) {
		rc = loop_once(ch->s, 1000);
		if (rc)
			return rc;
	}
	return r->status == STATUS_CONNECTION_DISCONNECTED && ch->dead ? -ECONNRESET : 0;
}
