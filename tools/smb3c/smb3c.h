/* smb3c: a small multichannel SMB 3.1.1 client (ls / get / put / bench).
 *
 * One thread, one poll() loop over every channel.  A channel is one TCP
 * connection; all channels of a run are bound to one session.  Requests are
 * built into a `struct msg` whose buffer leaves room in front for the 4-byte
 * NBSS header and a 52-byte TRANSFORM header, so signing and sealing happen
 * in place when the request is submitted (that is when its MessageId is
 * known).  Responses are matched to requests by MessageId.
 *
 * The codec here is the client direction (request encoders, response
 * decoders); it uses src/wire/cursor.h and the SPNEGO/NTLMSSP codecs, and
 * src/crypto for every cryptographic operation. */
#ifndef SMB3C_H
#define SMB3C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire/cursor.h"
#include "wire/smb2.h"

#include "wire/ntstatus.h"

/* Space in front of every message: NBSS (4) + TRANSFORM header (52). */
#define MSG_HEADROOM (4 + SMB2_TF_HDR_SIZE)

struct msg {
	uint8_t *buf;     /* MSG_HEADROOM bytes, then the SMB2 message */
	size_t len;       /* length of the SMB2 message */
	size_t cap;       /* capacity after the headroom */
	size_t wire_off;  /* where the bytes to send start (NBSS header) */
	size_t wire_len;
};
static inline uint8_t *msg_smb(struct msg *m) { return m->buf + MSG_HEADROOM; }

/* A request in flight. */
struct req;
struct chan;
typedef void (*req_cb)(struct chan *ch, struct req *r);
struct req {
	uint64_t mid;
	uint16_t command;
	uint16_t charge;
	bool done;
	uint32_t status;
	struct smb2_hdr hdr;     /* of the final response */
	uint8_t *rsp;            /* malloc'd receive buffer that holds the response */
	const uint8_t *msg;      /* the SMB2 response message inside rsp */
	size_t msg_len;
	req_cb cb;               /* NULL for synchronous calls */
	void *ctx;
	uint8_t *preauth;        /* if set: hash the request as sent (3.1.1) */
	uint8_t *preauth2;       /* a second hash to extend (diagnosis) */
	uint64_t u64;            /* caller data (offset) */
	uint32_t u32;            /* caller data (length) */
	struct req *next;        /* pending list of the channel */
};

struct session;

/* Output queue entry. */
struct outq {
	struct msg m;
	size_t sent;
	struct outq *next;
};

struct chan {
	int fd;
	int index;
	struct session *s;
	char peer[64];
	/* negotiate result of this connection */
	uint16_t dialect;
	uint16_t server_sec_mode;
	uint32_t server_caps;
	uint32_t max_read, max_write, max_transact;
	uint16_t cipher;           /* 3.1.1 negotiated cipher (0: none) */
	uint16_t sign_alg;         /* crypto_sign_alg */
	uint8_t server_guid[16];
	uint8_t preauth[64];       /* connection preauth hash (3.1.1) */
	uint8_t *neg_token;        /* SPNEGO hint from the negotiate response */
	size_t neg_token_len;
	/* signing key of this channel (3.1.1 bound channels have their own) */
	uint8_t sign_key[16];
	bool have_sign_key;
	bool binding;              /* during the binding session setup */
	/* credits and message ids */
	uint64_t next_mid;
	uint32_t credits;
	/* requests in flight */
	struct req *pending;
	unsigned inflight;
	/* send queue */
	struct outq *oq_head, *oq_tail;
	/* receive state */
	uint8_t nbss[4];
	size_t nbss_got;
	uint8_t *rbuf;
	size_t rlen, rgot;
	bool dead;
	/* statistics */
	uint64_t bytes;
	unsigned ops;
};

struct session {
	uint64_t id;
	uint16_t dialect;
	uint8_t session_key[16];
	uint8_t sign_key[16];
	uint8_t enc_key[32];       /* client -> server */
	uint8_t dec_key[32];       /* server -> client */
	uint16_t cipher;           /* crypto_cipher, 0 none */
	uint16_t sign_alg;
	bool signing;              /* sign every request */
	bool encrypt;              /* seal every request */
	bool valid;
	uint64_t nonce_ctr;
	uint8_t nonce_salt[4];
	uint32_t tree_id;
	/* channels */
	struct chan *ch[64];
	int nch;
	/* options */
	const char *user, *domain, *pass;
	bool want_sign, want_encrypt;
	uint16_t max_dialect;
	uint8_t client_guid[16];
};

/* conn.c */
extern int smb3c_verbose;
/* seconds after which a silent channel is dead (TCP_USER_TIMEOUT, keepalive); 0: kernel defaults */
extern int smb3c_dead_secs;
#define vlog(...) do { if (smb3c_verbose) fprintf(stderr, __VA_ARGS__); } while (0)
int chan_connect(struct chan *ch, const struct sockaddr *sa, socklen_t salen);
int chan_connect_host(struct chan *ch, const char *host, const char *port);
void chan_close(struct chan *ch);
/* Allocate a message with room for `body` bytes after the 64-byte header,
 * the header filled with the command, charge, session and tree ids. */
int msg_new(struct msg *m, struct session *s, uint16_t cmd, size_t body, uint32_t tree_id);
void msg_free(struct msg *m);
/* Assign MessageId/credits, sign or seal, queue for sending; the msg is
 * taken over.  `r` must stay valid until r->done.  0 or -errno (-EAGAIN when
 * the channel lacks credits: the caller retries after running the loop). */
int chan_submit(struct chan *ch, struct msg *m, struct req *r, bool sign);
/* Run the event loop once over every channel of the session (timeout ms). */
int loop_once(struct session *s, int timeout_ms);
/* Submit and wait for the final response. */
int chan_call(struct chan *ch, struct msg *m, struct req *r, bool sign);
void req_release(struct req *r);
bool chan_has_credits(struct chan *ch, unsigned charge);
/* Preauth: hash = SHA-512(hash || msg). */
void preauth_update(uint8_t hash[64], const uint8_t *msg, size_t len);
/* Does the signature of msg (len bytes) verify with key and alg? */
bool msg_signature_ok(int alg, const uint8_t key[16], uint8_t *msg, size_t len);
const char *nt_errstr(uint32_t st);

/* session.c */
int sess_negotiate(struct chan *ch);
int sess_setup(struct chan *ch, bool bind);

/* ops.c */
struct smb3c_fid { uint64_t persistent, volatile_; };
struct smb3c_stat {
	uint64_t size;
	uint32_t attrs;
	uint64_t mtime;
};
int op_tree_connect(struct chan *ch, const char *host, const char *share, uint32_t *tid);
int op_create(struct chan *ch, const char *path, uint32_t access, uint32_t disposition, uint32_t options,
	      struct smb3c_fid *fid, struct smb3c_stat *st);
int op_close(struct chan *ch, const struct smb3c_fid *fid);
int op_list(struct chan *ch, const struct smb3c_fid *fid, void (*each)(const char *name, uint64_t size,
									 uint32_t attrs, uint64_t mtime, void *arg),
	    void *arg);
struct smb3c_netif {
	uint32_t ifindex, capability;
	uint64_t speed;
	bool ipv6;
	struct sockaddr_storage ss;
	socklen_t sslen;
};
int op_query_interfaces(struct chan *ch, struct smb3c_netif *out, int max);
/* Build (not submit) a READ / WRITE request. */
int op_read_msg(struct msg *m, struct session *s, const struct smb3c_fid *fid, uint64_t off, uint32_t len);
int op_write_msg(struct msg *m, struct session *s, const struct smb3c_fid *fid, uint64_t off, uint32_t len,
		 uint8_t **data);
/* Decode a READ response: pointer to data and its length. */
int op_read_rsp(const struct req *r, const uint8_t **data, uint32_t *len);
int op_write_rsp(const struct req *r, uint32_t *count);
int op_set_eof(struct chan *ch, const struct smb3c_fid *fid, uint64_t eof);

/* transfer.c */
struct xfer_opts {
	uint32_t chunk;
	unsigned depth;
};
/* Read [0,size) of fid into fd (or discard when fd < 0). */
int xfer_get(struct session *s, const struct smb3c_fid *fid, uint64_t size, int fd, const struct xfer_opts *o);
/* Write size bytes from fd (or a pattern when fd < 0) into fid. */
int xfer_put(struct session *s, const struct smb3c_fid *fid, uint64_t size, int fd, const struct xfer_opts *o);

#endif
