/* State shared by channels (DESIGN.md "the heart of multichannel").
 *
 * client   one per ClientGUID: the connections (channels) of one client
 * session  not owned by any connection; each channel bound to it has its own
 *          signing key (MS-SMB2 3.3.1.8 Channel)
 * tree     a tree connect of a session
 * open     (src/state/open.h) a file handle of a session's tree
 *
 * All objects are reference counted (atomic) and have one mutex each.
 * Lock order: global tables lock -> client -> session -> tree -> open -> file.
 * A connection going away drops its references but never cancels a running
 * state-changing request (Samba bug 14449). */
#ifndef SMB3D_STATE_H
#define SMB3D_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/idtable.h"

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
	struct conn **channels;  /* connections of this client (weak: removed on close) */
	unsigned n_channels, cap_channels;
};

enum session_state { SESSION_IN_PROGRESS, SESSION_VALID, SESSION_EXPIRED };

#define SESSION_MAX_CHANNELS 32

struct session_channel {
	struct conn *conn;          /* weak: cleared when the connection closes */
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
	struct session_channel channels[SESSION_MAX_CHANNELS];
	unsigned n_channels;
	/* trees and opens of this session */
	struct idtable trees;
	struct idtable opens;       /* persistent FileId -> struct open */
	uint64_t open_seq;
};

struct tree {
	atomic_int refs;
	uint32_t id;
	struct session *session;    /* not a reference: trees die with their session */
	struct conf_share *share;   /* deep copy of the share's settings at connect time */
	int root_fd;                /* O_PATH fd of the share root, -1 for IPC$ */
	bool ipc;
	bool read_only;
	bool encrypt;               /* share requires encryption */
	uint32_t maximal_access;
	bool disconnected;
};

/* ---- clients ---- */
struct smb_client *client_get_or_create(const uint8_t guid[16], uint16_t dialect, uint32_t caps, uint16_t sec_mode);
void client_put(struct smb_client *cl);
/* Attach / detach a connection to the client's channel list (locked). */
int client_attach(struct smb_client *cl, struct conn *c);
void client_detach(struct smb_client *cl, struct conn *c);
/* Call fn for every client (the table lock is held; fn must not block). */
void client_foreach(void (*fn)(struct smb_client *cl, void *arg), void *arg);

/* ---- sessions (global table: ids are valid on every channel) ---- */
struct session *session_new(uint16_t dialect, struct smb_client *cl);
/* Look up and take a reference; NULL if absent. */
struct session *session_lookup(uint64_t id);
void session_get(struct session *s);
void session_put(struct session *s);
/* Remove from the table, disconnect its trees and close its opens. */
void session_destroy(struct session *s);
/* Find the channel entry of connection c (caller holds s->lock). */
struct session_channel *session_channel_find(struct session *s, const struct conn *c);
struct session_channel *session_channel_add(struct session *s, struct conn *c);
/* A connection closed: drop it from every session; sessions left with no
 * channel are destroyed (durable handles will change this). */
void session_conn_closed(struct conn *c);
/* For smb3ctl status / tests. */
unsigned session_count(void);
/* Call fn for every session (the table lock is held; fn must not block). */
void session_foreach(void (*fn)(struct session *s, void *arg), void *arg);

/* ---- trees ---- */
struct tree *tree_new(struct session *s, const struct conf_share *share, int root_fd);
struct tree *tree_lookup(struct session *s, uint32_t id); /* takes a reference */
void tree_put(struct tree *t);
/* Remove from the session, close its opens; returns false if unknown. */
bool tree_disconnect(struct session *s, uint32_t id);

/* Hooks the file service sets to close opens when their tree or session
 * goes away (state/ never calls up into cmd/). */
extern void (*state_close_opens_of_tree)(struct session *s, struct tree *t);

#endif
