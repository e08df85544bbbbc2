/* The request pipeline's view of a connection and of one request.
 *
 * decrypt -> split compound -> check credits -> verify signature -> dispatch
 * -> sign -> encrypt -> send.  Handlers in src/cmd/ see `struct smb2_req`:
 * they parse req->in (a reader positioned at their body), look up what they
 * need, act, and write their response body into req->out.  A handler that
 * waits (vfs I/O, a blocking lock, a notify) simply calls a function that
 * yields its coroutine; one that waits long first calls req_go_async() so the
 * client can CANCEL it and, if it still waits a moment later, gets an interim
 * STATUS_PENDING answer. */
#ifndef SMB3D_PROTO_SMB_H
#define SMB3D_PROTO_SMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "conf/conf.h"
#include "loop/timer.h"
#include "state/state.h"
#include "wire/cursor.h"
#include "wire/ntstatus.h"
#include "wire/smb2.h"

struct conn;
struct coro;
struct open;

/* Per-connection SMB state (conn->proto). */
struct smb_conn {
	struct conn *conn;
	struct conf *conf;            /* snapshot taken at accept */
	bool negotiated;              /* SMB2 NEGOTIATE done */
	bool smb1_upgraded;           /* answered an SMB1 multi-protocol negotiate */
	uint16_t dialect;
	uint8_t client_guid[16];
	uint32_t client_caps;
	uint16_t client_sec_mode;
	uint32_t server_caps;
	uint16_t server_sec_mode;
	bool signing_required;        /* by server config */
	int signing_alg;              /* enum crypto_sign_alg */
	int cipher;                   /* enum crypto_cipher; 0 = no encryption */
	uint16_t preauth_alg;         /* 1 = SHA-512 (3.1.1) */
	uint8_t preauth[64];          /* connection preauth hash */
	bool posix_ext;
	struct smb_client *client;    /* reference, for 3.x with a ClientGUID */
	/* negotiate request values kept for VALIDATE_NEGOTIATE_INFO */
	uint16_t neg_dialects[16];
	unsigned n_neg_dialects;
	/* credits (MS-SMB2 3.3.1.1): message ids [seq_low, seq_low + window) may be
	 * used; `used` marks ids consumed ahead of seq_low. */
	uint64_t seq_low, seq_high;
	uint8_t *used;                /* bitmap over the window, ring-indexed */
	uint32_t used_cap;            /* bits */
	uint32_t max_credits;
	/* requests */
	unsigned running;             /* requests in progress on this connection */
	struct smb2_req *async_list;  /* requests that went async (for CANCEL) */
	unsigned n_async;             /* of them, at most SMB_MAX_ASYNC */
	unsigned inflight;            /* credits charged by chains not yet sent (async ones excepted) */
	uint64_t next_async_id;
	uint64_t requests;
	/* zero bytes after every READ response body from now on: 0, or 8
	 * after FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8 (a test
	 * hook, cmd/ioctl_torture.c); on the connection's worker */
	uint8_t read_body_pad;
};

/* Requests waiting asynchronously per connection (a blocking LOCK, a
 * CHANGE_NOTIFY, a pipe READ, a CREATE waiting for a break); the next
 * fails with STATUS_INSUFFICIENT_RESOURCES.  Windows' limit is its
 * AsynchronousCredits setting, 512 by default, of which 511 requests may
 * wait (the smb2.credits *_max_async_credits tests: 511 interim responses,
 * then STATUS_INSUFFICIENT_RESOURCES, on each connection, also on every
 * channel of one session). */
#define SMB_MAX_ASYNC 511

/* Credits charged by the requests of a connection that are running or
 * whose responses are not yet sent (one per 64 KiB of payload): past the
 * high mark no further PDU is taken from the connection until they fall
 * to the low mark (the credit window alone allows 8192, 512 MiB of READ
 * data, per connection). */
#define SMB_INFLIGHT_HIGH 2048
#define SMB_INFLIGHT_LOW 1536

/* One SMB2 message of a (possibly compound) request. */
struct smb2_req {
	struct smb_conn *sc;
	struct conn *conn;            /* reference while the request runs */
	struct smb2_chain *chain;
	/* input */
	const uint8_t *in_msg;        /* this element's header */
	size_t in_len;
	struct smb2_hdr hdr;
	struct rd in;                 /* base = in_msg, p = body start */
	bool encrypted;               /* arrived in a TRANSFORM header */
	bool signed_ok;               /* signature present and verified */
	/* context resolved by the dispatcher */
	struct session *session;      /* reference or NULL */
	struct tree *tree;            /* reference or NULL */
	struct open *open;            /* of the FileId (smb2_cmd_desc.fid_off): a
				       * reference the pipeline drops after the handler */
	/* output: header + body, plus optional data iovecs after it */
	uint8_t *out_buf;
	size_t out_cap;
	struct wr out;                /* base = response header, p = body */
	struct iovec data[4];         /* extra payload (READ data) sent after the body */
	int file_fd;                  /* or: payload spliced from this file (req_add_file_data) */
	uint64_t file_off;
	size_t file_len;
	int n_data;
	void (*data_free)(void *);    /* releases the data iovecs after send */
	void *data_free_arg;
	NTSTATUS status;
	int replay_outcome;           /* enum metrics_replay a handler found, -1: none (counted by req_call) */
	bool sign;                    /* sign the response */
	bool no_response;             /* e.g. CANCEL, or a dropped request */
	uint8_t *preauth_hash;        /* 3.1.1: hash to extend with the response */
	struct session_channel *preauth_channel; /* reference: owns preauth_hash during a bind */
	/* async (proto/async.c) */
	bool async_linked;            /* in sc->async_list: CANCEL finds it, SMB_MAX_ASYNC counts it */
	bool is_async;                /* its interim response went out: the final one is async
				       * (ASYNC flag, AsyncId) and grants no credits */
	timer_id interim_timer;       /* the deferred interim response, 0 when none is due */
	uint64_t async_id;
	bool cancelled;
	struct coro *co;              /* the coroutine running this request */
	void (*cancel_fn)(struct smb2_req *req); /* set by a handler that can be woken to cancel */
	struct smb2_req *async_next, *async_prev;
	/* The FileId a related compound element after this one inherits
	 * (3.3.5.2.7.2): this element's open, or the one CREATE opened. */
	uint64_t file_id_persistent, file_id_volatile;
};

/* Handler entry points (src/cmd/<command>.c). */
typedef NTSTATUS (*smb2_handler)(struct smb2_req *req);

/* The dispatch table entry (CONVENTIONS rule 4, cmd/dispatch.c): what
 * the pipeline checks and resolves before the handler runs. */
struct smb2_cmd_desc {
	smb2_handler fn;
	uint16_t body_size;      /* StructureSize; the fixed part that must be present */
	bool need_session;       /* a valid session, bound to this channel */
	bool need_tree;          /* a tree connect */
	bool allow_in_progress;  /* allowed on a session still authenticating */
	/* Where the FileId (2.2.14.1) sits in the body, 0 for a command
	 * without one.  The pipeline looks the open up once, before the
	 * handler runs, and hands it over as req->open; in a related
	 * compound element the FileId all ones names the previous element's
	 * open (3.3.5.2.7.2).  Unknown or closed: STATUS_FILE_CLOSED. */
	uint8_t fid_off;
	/* Non-zero: only the body form with this StructureSize has the
	 * FileId (OPLOCK_BREAK: 24, the oplock acknowledgment). */
	uint16_t fid_form;
	/* An unknown FileId is not an error: the handler runs with
	 * req->open NULL and decides (IOCTL: FSCTLs of the server). */
	bool fid_optional;
	/* May be refused for a stale channel sequence (3.3.5.2.10: WRITE,
	 * SET_INFO, IOCTL; mc/chanseq.c).  Every command with an open takes
	 * part in the counting. */
	bool chan_seq;
	/* May be resent with SMB2_FLAGS_REPLAY_OPERATION after a channel
	 * failed (3.x): CREATE (cmd/create_replay.c), WRITE, SET_INFO, IOCTL. */
	bool replayable;
	/* Optional (WRITE, SET_INFO, IOCTL): what identifies the request and
	 * its replays, for the outcome kept when its channel dies
	 * (state/outcome.h).  Decodes the body again from its start, puts
	 * the fixed fields that say what the request does into `fixed` and
	 * points iov at them and at its buffer; returns the iovecs used (at
	 * most 3), -1 when the body does not decode (nothing is kept). */
	int (*replay_key)(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3]);
	/* Optional: this request needs less than need_session / need_tree
	 * say, by what its body asks (IOCTL: an FSCTL that the FSCTL table
	 * allows before a session or without a tree connect).  Called after
	 * the fixed part of the body is known to be there; clears *session
	 * or *tree.  A request that runs without a session gets no open. */
	void (*needs)(const struct smb2_req *req, bool *session, bool *tree);
};
/* The table, set by smb_dispatch_init() (proto/dispatch.c). */
extern const struct smb2_cmd_desc *smb2_cmds;
/* An SMB1 NEGOTIATE (MS-SMB2 3.3.5.3.1). */
typedef void (*smb1_negotiate_fn)(struct smb_conn *sc, const uint8_t *pdu, size_t len);
extern smb1_negotiate_fn smb1_negotiate;
/* The handlers live above this layer (src/cmd/dispatch.c, cmd_init()):
 * install them once at start-up, before any connection is accepted. */
void smb_dispatch_init(const struct smb2_cmd_desc table[SMB2_N_COMMANDS], smb1_negotiate_fn smb1);

/* The body of the request from its start, whatever its handler read
 * (req->in moves on as the handler decodes). */
static inline struct rd req_body(const struct smb2_req *req)
{
	struct rd r = req->in;
	r.p = req->in_msg + SMB2_HDR_SIZE;
	r.err = false;
	return r;
}

/* Make room for `body` bytes of response body (beyond what is written). */
int req_out_reserve(struct smb2_req *req, size_t body);
/* Attach payload iovecs sent after the response body (READ data). */
void req_add_data(struct smb2_req *req, void *buf, size_t len);

/* MS-SMB2 3.3.5.2.5: a payload of `len` bytes must fit the negotiated
 * maximum and, with multi-credit (2.1 and later: Connection.SupportsMultiCredit),
 * be paid for with CreditCharge >= ceil(len / 64 KiB).  STATUS_INVALID_PARAMETER
 * otherwise. */
NTSTATUS req_check_payload(const struct smb2_req *req, uint32_t len);
/* Multi-credit requests are allowed (dialect 2.1 and later, LARGE_MTU). */
static inline bool smb_multi_credit(const struct smb_conn *sc) { return sc->dialect >= SMB2_DIALECT_210; }

/* May this response carry file data by splice (no copy through user
 * space)?  Only when it is neither signed nor sealed, not part of a
 * compound, and "use sendfile" is on. */
bool req_zero_copy_ok(const struct smb2_req *req);
/* Send `len` bytes of file `fd` from `off` after the body (the fd is
 * duplicated; the caller keeps its own). Only when req_zero_copy_ok(). */
void req_add_file_data(struct smb2_req *req, int fd, uint64_t off, size_t len);

/* Make the request cancellable now and send an interim STATUS_PENDING
 * response if it still runs a millisecond later (MS-SMB2 3.3.4.2; a
 * request that ends sooner gets one synchronous answer, no interim).  The
 * responses of the compound elements before it go out with the interim
 * response, in one message.  Only the last element of a compound may
 * wait: for any other this returns STATUS_INTERNAL_ERROR (what Windows
 * answers, MS-SMB2 <159>) and the handler must fail with it instead of
 * waiting.  STATUS_INSUFFICIENT_RESOURCES past SMB_MAX_ASYNC. */
NTSTATUS req_go_async(struct smb2_req *req);
/* Yield until woken by req_wake() (from any thread) or cancelled. */
void req_wait(struct smb2_req *req);
/* Wake a request parked in req_wait (thread-safe). */
void req_wake(struct smb2_req *req);

/* A session of user uid_key (uid + 1) was established or bound on this
 * connection: the negotiate timeout and the pre-authentication PDU cap no
 * longer apply, and the client's lease breaks for that user may go here
 * (state.h client_channel_user). */
void smb_conn_authenticated(struct smb_conn *sc, uint64_t uid_key);
/* End the connection (MS-SMB2 "disconnect"): handlers ask the pipeline
 * instead of closing the socket themselves.  req_disconnect() also drops
 * the request's response. */
void smb_disconnect(struct smb_conn *sc, const char *why);
void req_disconnect(struct smb2_req *req, const char *why);
/* Sessions that have this connection as a channel. */
unsigned smb_conn_sessions(struct smb_conn *sc);

/* Preauth hash update helper (3.1.1). */
void smb_preauth_update(uint8_t hash[64], const uint8_t *msg, size_t len);

/* Server-wide current configuration for handlers. */
static inline struct conf *req_conf(struct smb2_req *req) { return req->sc->conf; }

/* Called by the net layer (set in src/server.c). */
extern const struct conn_ops smb_conn_ops;

#endif
