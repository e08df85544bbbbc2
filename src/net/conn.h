/* A TCP connection (one SMB channel) on its worker's ring: direct-TCP
 * framing (MS-SMB2 2.1: 4-byte header, 0x00 + 24-bit big-endian length),
 * receive of whole PDUs, and an ordered send queue that handles short sends.
 * The SMB layer above sees whole PDUs through conn_ops and replies with
 * conn_send(); it never touches the socket. */
#ifndef SMB3D_NET_CONN_H
#define SMB3D_NET_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "loop/worker.h"

struct conn;

/* Called on the connection's worker thread. */
struct conn_ops {
	/* A new connection: set up c->proto; a negative return refuses it
	 * (connection limit) and the socket is closed at once. */
	int (*accepted)(struct conn *c);
	/* A whole PDU (without the 4-byte framing) in a malloc'd buffer whose
	 * ownership passes to the callee. */
	void (*pdu)(struct conn *c, uint8_t *buf, size_t len);
	/* The connection is gone (peer closed, error, timeout, shutdown); no
	 * more pdu calls follow.  Requests still running keep their reference. */
	void (*closed)(struct conn *c);
	/* The deadline passed: may the connection be closed now?  (NULL: yes) */
	bool (*expire_ok)(struct conn *c);
	/* The last reference is gone: free c->proto. */
	void (*freed)(struct conn *c);
	/* Too much in flight: hand up no further PDU until conn_resume(). */
	bool (*busy)(struct conn *c);
};

/* The largest PDU before the connection has authenticated: NEGOTIATE and
 * SESSION_SETUP need no more than a 64 KiB security token and headers. */
#define CONN_PREAUTH_MAX_PDU (65536 + 1024)

struct send_item;
typedef void (*send_done_fn)(void *arg, int err);

struct conn {
	struct worker *w;
	int fd;
	int refs;                  /* touched on the worker thread only */
	uint64_t id;               /* server-wide unique, for status output */
	struct sockaddr_storage local, peer;
	const struct conn_ops *ops;
	void *proto;               /* the SMB layer's per-connection state */
	/* receive */
	struct uring_op recv_op;
	uint8_t *rbuf;             /* small-PDU staging buffer */
	size_t rbuf_cap, rbuf_len;
	uint8_t *big;              /* large PDU received straight into its own buffer */
	size_t big_len, big_have;
	size_t max_pdu;            /* once authenticated; before: CONN_PREAUTH_MAX_PDU */
	bool authenticated;        /* a session was established or bound on it */
	uint64_t pdu_deadline;     /* timer_now_ms(): the PDU begun must be complete; 0 = none */
	unsigned pdu_timeout;      /* seconds for one PDU ("pdu timeout"), 0 = none */
	bool recv_armed;
	bool recv_paused;          /* busy: PDUs wait (staged or unread) until conn_resume */
	bool resume_posted;
	/* send */
	struct uring_op send_op;
	struct send_item *sq_head, *sq_tail;
	struct msghdr send_msg;
	bool sending;
	size_t sq_bytes;           /* queued response bytes in memory */
	enum { SEND_IOV, SEND_SPLICE_IN, SEND_SPLICE_OUT } send_phase;
	int pipe_fds[2];           /* for splicing file data to the socket */
	size_t pipe_size;
	/* lifetime */
	_Atomic bool dead;         /* no more receive; sends are dropped (atomic: smb3ctl status reads it) */
	bool closed_called;
	uint64_t deadline;         /* timer_now_ms(); 0 = none; past it the conn is closed (conn_set_deadline) */
	bool deadline_negotiate;   /* the deadline is the negotiate timeout */
	timer_id deadline_timer;   /* armed for the earlier of deadline and pdu_deadline, or later */
	uint64_t deadline_timer_at;
	_Atomic uint64_t bytes_in;     /* atomic: smb3ctl status reads it from its own thread */
	/* Bytes of this connection's stream the kernel has taken (the sums of
	 * the send CQEs, framing included).  A send's completion runs right
	 * after its last byte is counted here, so the value read in a
	 * completion is the offset at which that message ends in the stream;
	 * once bytes_sent_to_kernel - SIOCOUTQ (the bytes the kernel still
	 * holds) reaches it, the peer has acknowledged the whole message. */
	_Atomic uint64_t bytes_sent_to_kernel;
	/* Samba's test hook (FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT, only with
	 * "smbd:FSCTL_SMBTORTURE = yes"): nothing sent counts as acknowledged. */
	bool force_unacked;
	struct conn *next, *prev;  /* worker's list */
};

/* Take over an accepted socket on worker w (on w's thread). */
struct conn *conn_new(struct worker *w, int fd, const struct conn_ops *ops, size_t max_pdu);
void conn_get(struct conn *c);
/* A session was established or bound on c: lift the pre-authentication
 * PDU cap and stop counting it as unauthenticated. */
void conn_set_authenticated(struct conn *c);
void conn_put(struct conn *c);

/* Queue iov[0..n) for sending after everything queued before.  The framing
 * header is added here.  The iovecs' memory must stay valid until done(arg,
 * err) is called: err = 0 once the kernel has taken every byte (the socket
 * buffer, not the peer: see bytes_sent_to_kernel), -errno if the
 * connection died first (not called when conn_send returns an error).
 * `n` at most CONN_MAX_IOV.  May be called from the conn's worker only. */
#define CONN_MAX_IOV 16
/* flags of conn_send / conn_send_file:
 * CONN_SEND_ELICIT_ACK: the 4-byte framing header goes out as a segment of
 * its own, the message after it.  A Linux peer that answers requests
 * delays its ACK of a lone small segment (by 40 ms or more) to ride on its
 * next request, but ACKs two small segments, or more than a segment's
 * worth, as soon as the application has read them (tcp_measure_rcv_mss,
 * __tcp_cleanup_rbuf).  For a message after which the connection falls
 * idle, that keeps bytes_acked current: see proto/reply.c for who asks.
 * A message of 64 KiB or more is sent as it is. */
#define CONN_SEND_ELICIT_ACK 1u
int conn_send(struct conn *c, const struct iovec *iov, int n, unsigned flags, send_done_fn done, void *arg);

static inline bool conn_is_dead(const struct conn *c) { return c->dead; }
/* See struct conn; on the conn's worker. */
static inline uint64_t conn_bytes_sent_to_kernel(const struct conn *c) { return c->bytes_sent_to_kernel; }
/* The bytes of c's stream the peer has acknowledged: bytes_sent_to_kernel
 * minus what the socket still holds (ioctl SIOCOUTQ: sent and not yet
 * acknowledged, or not sent yet).  0 for a dead connection and for one
 * with force_unacked.  On the conn's worker. */
uint64_t conn_bytes_acked(struct conn *c);
/* The socket's retransmission timeout in ms as its measured round trips
 * set it (TCP_INFO tcpi_rto before exponential backoff: tcpi_rto >>
 * tcpi_backoff), 0 when the kernel does not say.  The backoff doubles the
 * RTO for every retransmission the peer left unanswered; a wait derived
 * from the RTO (a break's acknowledgment, mc/break_deliver.c) must not
 * grow with the very evidence that the path is broken.  On the conn's
 * worker. */
unsigned conn_rto_ms(struct conn *c);

/* Close the connection at `at_ms` (timer_now_ms clock; 0 = no deadline)
 * unless ops->expire_ok says otherwise then.  Cheap to call on every PDU:
 * a later deadline leaves the armed timer alone, which re-arms when it
 * fires.  On the conn's worker. */
void conn_set_deadline(struct conn *c, uint64_t at_ms);

/* As conn_send, followed by `flen` bytes of file `fd` from `off`, moved to
 * the socket with splice (no copy through user space).  The fd is dup'ed;
 * if the file is shorter, zeroes are sent in its place. */
int conn_send_file(struct conn *c, const struct iovec *iov, int n, int fd, uint64_t off, size_t flen,
		   unsigned flags, send_done_fn done, void *arg);

/* The SMB layer is no longer busy (conn_ops.busy): hand up the PDUs that
 * wait and read on, soon, from the worker loop.  On c's worker only. */
void conn_resume(struct conn *c);

/* Stop receiving, fail queued sends, and close when the last reference goes. */
void conn_shutdown(struct conn *c, const char *why);
/* The same for a connection taken for broken (its peer acknowledges
 * nothing): the close resets it (SO_LINGER 0), so the peer learns at once
 * even when its ACKs are lost.  On c's worker. */
void conn_abort(struct conn *c, const char *why);

/* For the worker loop while it stops (struct worker_sockets): are all of
 * w's connections idle (no request holds one, nothing queued to send)?
 * Shut them all down; true when none is left.  On w's thread. */
bool conn_worker_idle(struct worker *w);
bool conn_worker_close_all(struct worker *w);

/* Call fn for every live connection while holding the registry lock (fn
 * must be quick and must not call back into conn_*). Fields are read racily:
 * for status output only. */
void conn_foreach(void (*fn)(struct conn *c, void *arg), void *arg);

/* Format an address "ip:port" into buf. */
const char *conn_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
