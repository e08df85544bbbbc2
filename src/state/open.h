/* Opens (MS-SMB2 3.3.1.10 Open) and the per-inode file object shared by all
 * opens of one file (share modes, delete-pending, byte-range locks, change
 * notify watchers).
 *
 * FileIds: two global tables.  The volatile id finds an attached open from
 * any channel; the persistent id (allocated apart, so the two differ) finds
 * every open, attached or detached.  A detached open (open_detach) has no
 * session and no tree: a durable open whose client lost every channel keeps
 * its file, its identity and a share root (struct share_root, one
 * descriptor for all the detached opens of a tree) until it is reattached
 * (open_attach) or closed.
 *
 * References an open holds: its session and tree while attached, its file,
 * the identity it runs as (the creator's), and the share root (through the
 * tree while attached, a struct share_root while detached).
 *
 * Locks: session->lock -> open_table_lock -> file->lock.  o->session and
 * o->tree change only under all three (attach/detach), so a reader holding
 * any one of them sees a consistent value.  A handler holds a reference to
 * its open for as long as it uses it (open_put when done). */
#ifndef SMB3D_STATE_OPEN_H
#define SMB3D_STATE_OPEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "state/outcome.h"

struct session;
struct tree;
struct worker;
struct rpc_pipe;
struct ipc_reader;

/* A byte-range lock (MS-FSA 2.1.5.8) */
struct brl {
	uint64_t offset, length;
	bool exclusive;
	struct open *owner;
};

/* The channel sequence of an open ([MS-SMB2] 3.3.1.10 Open.ChannelSequence,
 * OutstandingRequestCount, OutstandingPreRequestCount): the rules and the
 * lock that guards it are in mc/chanseq.c. */
struct open_chanseq {
	uint16_t seq;                 /* the newest ChannelSequence seen */
	uint32_t outstanding;         /* requests running under seq */
	uint32_t pre_outstanding;     /* requests running under older sequences */
	uint32_t generation;          /* +1 each time seq moves forward */
};

/* The lock sequence buckets of an open ([MS-SMB2] 3.3.1.10
 * Open.LockSequenceArray), under its file's lock; rules in mc/lockseq.c. */
#define OPEN_LOCKSEQ_BUCKETS 64
struct open_lockseq {
	uint64_t valid;               /* bit i: bucket i+1 holds a number */
	uint8_t number[OPEN_LOCKSEQ_BUCKETS];
};

/* A descriptor of a share root that detached opens share: the first
 * detach of one of a tree's opens makes it (one per tree, however many
 * opens it keeps); the tree and each detached open hold a reference. */
struct share_root {
	atomic_int refs;
	int fd;
};
void share_root_put(struct share_root *r);

/* An open's path, relative to the share root, '/'-separated ("" = the
 * root; "base:stream" for a named stream).  Immutable once made: a rename
 * never writes into one, it replaces o->path with a new one.
 *   Owner: each holder of a reference (the open holds one).
 *   Lock: o->path (the pointer) changes only under o->file->lock, and only
 *     through open_path_replace_locked(): set_info.c rename_opens, for every
 *     open of the renamed file (a rename of a file or of one of its named
 *     streams).  Nothing else changes it after the CREATE that made the open
 *     (a durable reconnect keeps it; a renamed directory's opens below it are
 *     refused, so their paths never go stale).  An open without a file (an
 *     IPC$ pipe) keeps its path for its whole life.
 *   Readers: code holding o->file->lock may read o->path->s directly; any
 *     other reader takes a reference with open_path_get() and drops it with
 *     open_path_put(), never keeping a pointer into o->path past the lock:
 *     a rename through another open, on another worker, frees the old one.
 *   Lifetime: freed when its last reference is dropped. */
struct open_path {
	atomic_int refs;
	size_t len;                   /* strlen(s) */
	char s[];
};
/* A new path (one reference) with the first len bytes of s; NULL on ENOMEM. */
struct open_path *open_path_new(const char *s, size_t len);
/* o's path, referenced (open_path_put), or NULL when it has none (an open
 * not fully made).  Takes o->file->lock: never call it holding that lock. */
struct open_path *open_path_get(const struct open *o);
void open_path_put(struct open_path *p);
/* Does o open the share root (its path is "")?  No rename makes a path
 * "" or changes one that is. */
bool open_path_is_root(const struct open *o);
/* Make p (the caller's reference passes to o) o's path and drop the old
 * one; the caller holds o->file->lock when o has a file. */
void open_path_replace_locked(struct open *o, struct open_path *p);

struct brl_waiter;            /* a blocked LOCK request (src/cmd/lock.c) */
struct notify_watch;          /* a pending CHANGE_NOTIFY (src/cmd/change_notify.c) */
struct attr_cache;            /* cached DOS attributes of an open (src/cmd/attrcache.c) */
struct lease;                 /* a lease (src/mc/lease.c) */
struct rename_turn;           /* a rename waiting for its turn (src/cmd/set_info.c) */

struct file {
	atomic_int refs;
	pthread_mutex_t lock;
	dev_t dev;
	ino_t ino;
	bool is_dir;
	bool delete_pending;          /* set by delete-on-close or disposition */
	/* the ParentLeaseKey of the opens that asked for the delete (a
	 * directory lease that all of them name is not broken by it):
	 * 0 nobody yet, 1 delete_by holds the one key, 2 none in common */
	uint8_t delete_by_state;
	uint8_t delete_by[16];
	struct open *opens;           /* all opens of this file (open->file_next) */
	unsigned n_opens;
	struct brl *locks;
	unsigned n_locks, cap_locks;
	struct brl_waiter *waiters;   /* blocked lock requests to retry on unlock */
	struct notify_watch *watches; /* on directories */
	/* One rename (or link) through its opens at a time, from the read of
	 * the open's path to the update of every open's (cmd/set_info.c): two
	 * at once could leave the opens naming what the file was called. */
	bool renaming;
	struct rename_turn *rename_waiters; /* the next ones, first come first served */
	struct file *hash_next;
};

struct open {
	atomic_int refs;
	uint64_t persistent_id, volatile_id;
	struct session *session;      /* reference while attached, NULL detached (state.h "Lifetimes") */
	struct tree *tree;            /* reference while attached, NULL detached */
	struct vfs_ident *ident;      /* reference: who operations on this open run as */
	struct share_root *root;      /* detached only: a reference to its share root (open_root_fd) */
	bool detached;                /* see open_detach */
	struct file *file;            /* reference; NULL for pipes */
	struct open *file_next;
	int fd;                       /* -1 for pipes */
	struct open_path *path;       /* reference; replaced by a rename under file->lock: read it through
	                                 open_path_get() unless holding file->lock (struct open_path) */
	uint32_t access;              /* granted access mask */
	uint32_t share_access;        /* FILE_SHARE_READ/WRITE/DELETE */
	uint32_t create_options;
	uint32_t create_disposition;
	bool is_dir;
	bool delete_on_close;         /* FILE_DELETE_ON_CLOSE on this open */
	bool write_through;
	uint8_t oplock_level;
	bool oplock_breaking;         /* a break was sent and not yet acknowledged */
	uint8_t oplock_break_to;
	unsigned oplock_acks;         /* break acknowledgments received (under file->lock): a break being
	                                 delivered (mc/break_deliver.c) stops once one came */
	uint64_t position;            /* FilePositionInformation */
	uint32_t mode;                /* FileModeInformation */
	_Atomic bool closed;          /* CLOSE ran; lookups fail (read without the table lock by waiters) */
	_Atomic bool written;         /* data written through it: its close breaks the parent's directory leases */
	struct rpc_pipe *pipe;        /* IPC$ named pipe */
	struct ipc_reader *pipe_readers; /* READs waiting for a message (cmd/ipc.c), under its ipc_lock */
	void *dir;                    /* directory enumeration state (cmd/query_directory.c) */
	void (*dir_free)(void *);
	struct attr_cache *attr_cache; /* malloc'd, under file->lock */
	uint64_t last_write_nt;       /* for "sticky" write times */
	/* multichannel part 2 fills these */
	uint64_t conn_id;             /* the connection it was created on (Open.Connection), or reconnected on
	                                 (under file->lock): its breaks go there first */
	uint8_t create_guid[16];
	struct open_chanseq chanseq;  /* mc/chanseq.c */
	struct open_lockseq lockseq;  /* mc/lockseq.c, under file->lock */
	struct outcome_set outcomes;  /* state/outcome.c, under its striped lock: what requests that
	                                 outlived their channel answered, for their replays */
	bool replay_cached;           /* replay_lock: in the CreateGuid table (state/replay.c) */
	_Atomic bool replay_eligible; /* a replayed CREATE may still get this open (cmd/create_replay.h) */
	uint32_t create_action;       /* what its CREATE answered (FILE_CREATED ...), for a replay */
	uint8_t replay_key[32];       /* replay_lock: its key there (ClientGUID, CreateGuid) */
	uint8_t lease_key[16];
	/* durable handles (cmd/durable.c).  Set once when the CREATE grants
	 * them, before anyone else can find the open, except where noted. */
	uint8_t durable;              /* 0, 1 (DHnQ) or 2 (DH2Q) */
	bool resilient;               /* FSCTL_LMR_REQUEST_RESILIENCY: kept like a durable open (cmd/ioctl.c) */
	bool has_app_instance;
	uint8_t app_instance_id[16];  /* SMB2_CREATE_APP_INSTANCE_ID */
	uint32_t durable_timeout_ms;  /* how long it is kept detached */
	char *owner;                  /* user name of the creator (a reconnect must be the same user) */
	char *share;                  /* share name (a reconnect must name the same share) */
	uint32_t detach_gen;          /* open_table_lock: counts open_detach(), so an old scavenger timer knows it is old */
	uint64_t detach_deadline_ms;  /* open_table_lock: when a detached open is closed (timer_now_ms clock) */
	struct worker *scav_w;        /* file->lock: the scavenger timer's worker, id and job (cmd/durable.c); */
	uint64_t scav_id;             /*   stale values are harmless: a cancel that finds no timer frees nothing */
	void *scavenger;
	struct lease *lease;          /* reference (mc/lease.c): set before the CREATE answers, cleared
				       * under file->lock by lease_open_closed() */
	/* what open_register charged against the open limits (undone by
	 * open_unregister without touching the session, which may be gone) */
	bool charged;
	uint64_t charge_sid, charge_uid;
};

/* Bounds on opens ("max open files" and its per-session / per-user
 * companions), set at start and on reload.  An open holds a descriptor, so
 * these keep one client from exhausting the process's RLIMIT_NOFILE.  The
 * last `newcomer_reserve` of `total` are kept for users holding fewer than
 * OPEN_FEW opens: a new client can still open a few files when another
 * user holds everything else it may. */
#define OPEN_FEW 16
struct open_limits {
	unsigned total, per_session, per_user, newcomer_reserve; /* 0 = no bound */
};
void open_limits_set(const struct open_limits *l);
/* May session s (its request holds a reference) open one more file?  0, or
 * -EMFILE when a limit is reached (checked again by open_register). */
int open_limit_check(const struct session *s);

/* Register a new open (refs: the table's + the caller's) and assign ids.
 * -ENOTCONN when its session was destroyed or its tree disconnected in the
 * meantime (the caller undoes the open: nobody else would ever close it),
 * -EMFILE when an open limit is reached, -ENOMEM otherwise. */
int open_register(struct open *o);
/* Detach an attached open from its session and tree (durable handles):
 * it leaves the volatile table and keeps its persistent id, file, identity
 * and a reference to its tree's share_root.  -ENOENT when it is closed or
 * not attached, -errno when the root cannot be duplicated.  The detaches
 * of one tree's opens come from one thread (its teardown). */
int open_detach(struct open *o);
/* Unregister o (as open_unregister) only while it is still detached since
 * detach number `gen` (a scavenger or a purge must not close an open that
 * was reconnected meanwhile); false otherwise. */
bool open_unregister_detached(struct open *o, uint32_t gen);
/* Detached opens, referenced, with their detach deadline; malloc'd. */
struct open **open_list_detached(unsigned *n);
/* Attach a detached open to session s and tree t with a new volatile id
 * (a durable reconnect); -ENOTCONN when s is destroyed or t disconnected,
 * -ENOENT when the open is not detached (any more). */
int open_attach(struct open *o, struct session *s, struct tree *t);
/* The detached open with this persistent id; takes a reference. */
struct open *open_lookup_detached(uint64_t persistent_id);
/* The share root of an open: its tree's while attached, its share_root's
 * detached.  Read under the file lock: another thread may detach it. */
int open_root_fd(struct open *o);
/* The open's tree, referenced (tree_put), or NULL while it is detached.
 * Whoever does not own the request that holds the open's tree reads
 * o->tree through this (or under the file lock), never directly: a detach
 * on another thread drops the open's reference to it. */
struct tree *open_tree_get(struct open *o);
/* Look up by FileId for the request's session and tree; takes a reference.
 * NULL when unknown, closed, or of another session/tree. */
struct open *open_lookup(uint64_t persistent_id, uint64_t volatile_id, const struct session *s, const struct tree *t);
void open_get(struct open *o);
/* Drop a reference; the last one closes the fd and frees the open. */
void open_put(struct open *o);
/* Remove from the table (CLOSE, tree disconnect, logoff). Returns false if
 * it was already gone.  The caller still holds its reference. */
bool open_unregister(struct open *o);
/* Every open of (session, tree) or of a session when tree is NULL;
 * returns a malloc'd array of referenced opens. */
struct open **open_list(const struct session *s, const struct tree *t, unsigned *n);
unsigned open_count(void);
/* Opens of one session (no references taken). */
unsigned open_count_session(const struct session *s);

/* The per-inode file object; takes a reference. */
struct file *file_get(dev_t dev, ino_t ino, bool is_dir);
void file_put(struct file *f);
/* Link / unlink an open to its file's open list (caller holds f->lock). */
void file_add_open(struct file *f, struct open *o);
void file_remove_open(struct file *f, struct open *o);

#endif
