/* State shared by channels (DESIGN.md "the heart of multichannel").
 *
 * client   one per ClientGUID: the connections (channels) of one client
 * session  not owned by any connection; each channel bound to it has its own
 *          signing key (MS-SMB2 3.3.1.8 Channel)
 * tree     a tree connect of a session
 * open     (src/state/open.h) a file handle of a session's tree
 *
 * All objects are reference counted (atomic) and have one mutex each.
 * Lock order: global tables lock -> client -> session -> tree -> open -> file;
 * open_register() takes the open table's lock inside the session's (the one
 * exception, so that registering and tearing down exclude each other).
 * A connection going away drops its references but never cancels a running
 * state-changing request (Samba bug 14449).
 *
 * Lifetimes (DESIGN.md "Lifetimes"):
 * - an open holds references to its session and tree; a session that is
 *   destroyed (state SESSION_EXPIRED: logoff, its last channel gone) or a
 *   tree that is disconnected accepts no new open or tree: open_register()
 *   and tree_new() check that under the session lock, and teardown collects
 *   under the same lock, so every open is either closed by the teardown or
 *   refused and undone by the request that made it;
 * - channels are objects of their own (struct session_channel, counted):
 *   whoever uses one after dropping the session lock holds a reference;
 *   keys are copied out under the lock, never read through a pointer into
 *   the session after it. */
#ifndef SMB3D_STATE_H
#define SMB3D_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/idtable.h"

struct share_root;

struct conn;
struct conf_share;
struct auth_ctx;
struct vfs_ident;

struct smb_client {
	atomic_int refs;
	pthread_mutex_t lock;
	uint8_t guid[16];
	uint16_t dialect;
	uint32_t capabilities;   /* the client's, from NEGOTIATE */
	uint16_t security_mode;
	/* Connections of this client (weak: a connection leaves in its
	 * teardown, before its last reference goes, so one read here under
	 * `lock` is alive; use it after the lock only on its own worker). */
	struct conn **channels;
	unsigned n_channels, cap_channels;
	/* for each of channels[]: the users (uid + 1) that established or
	 * bound a session on it, the first CLIENT_CHANNEL_USERS of them.  A
	 * ClientGUID is the client's word only: a lease break goes only to a
	 * channel one of the lease's users authenticated on (mc/break_deliver.c) */
	struct client_channel_users *channel_users;
	/* connections that left channels[] so far (client_detach): a lease
	 * break whose answer is overdue looks whether one went while it ran,
	 * taking the answer with it (mc/break_deliver.c) */
	atomic_uint channels_lost;
};

#define CLIENT_CHANNEL_USERS 4
struct client_channel_users {
	uint64_t uid_key[CLIENT_CHANNEL_USERS];
	unsigned n;
};

/* SESSION_EXPIRED: destroyed (logoff, failed authentication, last channel
 * gone); it stays in memory while references remain but takes nothing new. */
enum session_state { SESSION_IN_PROGRESS, SESSION_VALID, SESSION_EXPIRED };

#define SESSION_MAX_CHANNELS 32

/* A channel of a session (MS-SMB2 3.3.1.8 Channel).  Counted: the session's
 * array holds one reference; a request that keeps using a channel after
 * dropping the session lock (a bind's preauth hash) holds another. */
struct session_channel {
	atomic_int refs;
	struct conn *conn;          /* weak: the channel leaves the session before its connection is freed */
	uint8_t signing_key[16];
	uint8_t preauth[64];        /* 3.1.1 binding: the channel's own preauth hash */
	bool binding;               /* a bind is in progress on this channel */
	void *auth;                 /* in-progress bind authentication */
};

struct session {
	atomic_int refs;
	pthread_mutex_t lock;
	uint64_t id;
	enum session_state state;
	uint16_t dialect;
	struct smb_client *client;  /* reference; NULL for 2.0.2 without a GUID */
	/* who */
	char *user, *domain;
	bool guest, anonymous;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	struct vfs_ident *ident;    /* who file operations run as (vfs_ident_get) */
	/* keys (MS-SMB2 3.3.1.8) */
	uint8_t session_key[16];
	uint8_t signing_key[16];    /* of the first channel; channels carry their own */
	uint8_t enc_key[32];        /* server -> client */
	uint8_t dec_key[32];        /* client -> server */
	uint8_t app_key[16];
	int signing_alg;            /* enum crypto_sign_alg */
	int cipher;                 /* enum crypto_cipher, 0 = none */
	bool signing_required;
	bool encrypt_data;          /* every message of the session is encrypted */
	uint8_t preauth[64];        /* 3.1.1 session preauth hash */
	void *auth;                 /* authentication in progress (owned by cmd/session_setup.c) */
	void (*auth_free)(void *);  /* how to free it if the session dies first */
	uint64_t expires;           /* monotonic seconds, 0 = never */
	/* channels */
	struct session_channel *channels[SESSION_MAX_CHANNELS]; /* references */
	unsigned n_channels;
	/* trees and opens of this session */
	struct idtable trees;
	struct idtable opens;       /* persistent FileId -> struct open */
	uint64_t open_seq;
};

/* Who a tree's file operations run as and are checked against: the
 * session's user, or the share's "force user" (with its own groups), with
 * the primary group replaced by "force group" where that applies (Samba's
 * connection token).  Fixed at TREE_CONNECT; owned by the tree. */
struct token {
	uid_t uid;
	gid_t gid;
	gid_t *groups;              /* malloc'd, n_groups entries */
	int n_groups;
	bool authenticated;         /* neither guest nor anonymous: "Authenticated Users" */
	bool samba_acls;            /* the share's "vfs objects = acl_xattr": ACLs stored in security.NTACL */
	struct vfs_ident *ident;    /* reference (vfs_ident_get) */
};

struct tree {
	atomic_int refs;
	uint32_t id;
	struct session *session;    /* reference (the cycle with session->trees ends at session_destroy) */
	struct conf_share *share;   /* deep copy of the share's settings at connect time */
	int root_fd;                /* O_PATH fd of the share root, -1 for IPC$ */
	struct share_root *detached_root; /* made by the first open_detach (open_table_lock); a reference */
	bool ipc;
	bool read_only;
	bool encrypt;               /* share requires encryption */
	uint32_t maximal_access;
	bool disconnected;
	struct token tok;           /* set by the tree connect before the tree is used */
};

/* ---- clients ---- */
struct smb_client *client_get_or_create(const uint8_t guid[16], uint16_t dialect, uint32_t caps, uint16_t sec_mode);
void client_put(struct smb_client *cl);
/* The client of `guid` with a reference, or NULL (a lease break looks
 * for the client's channels: MS-SMB2 3.3.4.7). */
struct smb_client *client_lookup(const uint8_t guid[16]);
/* Attach / detach a connection to the client's channel list (locked). */
int client_attach(struct smb_client *cl, struct conn *c);
void client_detach(struct smb_client *cl, struct conn *c);
/* How many connections the client has now, without its lock (a snapshot
 * that may be stale at once: for heuristics only). */
unsigned client_n_channels(const struct smb_client *cl);
/* How many connections have left the client so far (any thread, no lock). */
unsigned client_channels_lost(struct smb_client *cl);
/* A session of user uid_key (uid + 1) was established or bound on c, one
 * of cl's channels (locked). */
void client_channel_user(struct smb_client *cl, const struct conn *c, uint64_t uid_key);
/* Has a user among uid_keys[0..n) authenticated on cl->channels[i]?
 * Under cl->lock. */
bool client_channel_has_user(struct smb_client *cl, unsigned i, const uint64_t *uid_keys, unsigned n);
/* Call fn for every client (the table lock is held; fn must not block). */
void client_foreach(void (*fn)(struct smb_client *cl, void *arg), void *arg);

/* ---- sessions (global table: ids are valid on every channel) ---- */
struct session *session_new(uint16_t dialect, struct smb_client *cl);
/* Look up and take a reference; NULL if absent. */
struct session *session_lookup(uint64_t id);
void session_get(struct session *s);
void session_put(struct session *s);
/* Remove from the table, disconnect all its trees and close their opens. */
void session_destroy(struct session *s);
/* The same, but its durable opens are detached and kept for a reconnect
 * instead of closed (the last channel lost, LOGOFF, a PreviousSessionId
 * reconnect: MS-SMB2 3.3.7.1, 3.3.5.5.3). */
void session_disconnect(struct session *s);
/* Find the channel of connection c (caller holds s->lock; no reference). */
struct session_channel *session_channel_find(struct session *s, const struct conn *c);
/* Add connection c as a channel (or find it); returns a reference, NULL
 * when the session is destroyed or has SESSION_MAX_CHANNELS already. */
struct session_channel *session_channel_add(struct session *s, struct conn *c);
/* Take c's channel out of the session (caller holds s->lock); returns the
 * session's reference, or NULL.  Its in-progress authentication is the
 * caller's to free (with s->auth_free, after unlocking). */
struct session_channel *session_channel_unlink(struct session *s, const struct conn *c);
void session_channel_get(struct session_channel *ch);
void session_channel_put(struct session_channel *ch);
/* Copy the signing key of c's channel (or the session's when c is not a
 * channel) under the session lock. */
void session_signing_key(struct session *s, const struct conn *c, uint8_t key[16]);
/* A connection closed: drop it from every session; sessions left with no
 * channel are disconnected (session_disconnect: durable opens stay). */
void session_conn_closed(struct conn *c);
/* For smb3ctl status / tests. */
unsigned session_count(void);
/* Call fn for every session (the table lock is held; fn must not block). */
void session_foreach(void (*fn)(struct session *s, void *arg), void *arg);

/* ---- trees ---- */
/* NULL when out of memory or the session is destroyed (root_fd stays the caller's). */
/* tok: who the tree's operations run as (copied); NULL = the session's user. */
struct tree *tree_new(struct session *s, const struct conf_share *share, int root_fd, const struct token *tok);
struct tree *tree_lookup(struct session *s, uint32_t id); /* takes a reference */
void tree_put(struct tree *t);
/* Remove from the session, close its opens; returns false if unknown.
 * keep_durable: durable opens are detached instead (session teardown). */
bool tree_disconnect(struct session *s, uint32_t id);
bool tree_disconnect_ex(struct session *s, uint32_t id, bool keep_durable);

/* Closes the opens of a tree when it or its session goes away (or, with
 * keep_durable, detaches its durable ones): the file service's, installed
 * at start-up by cmd_init() (fileops_init); state/ never calls up into
 * cmd/ by name (docs/ARCHITECTURE.md "Layers"). */
extern void (*state_close_opens_of_tree)(struct session *s, struct tree *t, bool keep_durable);

#endif
