/* Private to the change notification engine (vfs/notify*.c).
 *
 * Objects:
 *   nt_watch  one per owner (open): filter, queue of changes, parked waiters,
 *             its subs, and `root`, an O_PATH fd of the watched directory
 *             (opened beneath the owner's fd) that walks start from.
 *   nt_sub    one watched directory of one nt_watch: its place in the tree
 *             (prefix as reported, rel as opened beneath root).
 *   nt_wd     one inotify watch descriptor, shared by every sub on that inode.
 *   nt_job    a walk to do: the tree below a directory that appeared in a
 *             WATCH_TREE (and a scan of what it holds already).
 *
 * Locks, in this order (a thread holding one never waits for one above it):
 *   nt_read_lock  who consumes the inotify fd: a reader holds it from read()
 *                 until the events are recorded, and a walk holds it from
 *                 inotify_add_watch until the new wd is registered, so no
 *                 event of a new wd is read before its sub exists.  Held
 *                 only around memory work and those two syscalls (no disk,
 *                 no NSS): a worker may wait for it.
 *   nt_lock       every nt_* object and list below.  Held only around
 *                 memory work; the wake callbacks run under it.
 * A walk collects what it needs under nt_lock (watch id, a dup of root),
 * does its I/O holding nothing, and applies each result under nt_lock after
 * finding its watch again by id (it may have ended meanwhile). */
#ifndef SMB3D_VFS_NOTIFY_INT_H
#define SMB3D_VFS_NOTIFY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/inotify.h>

#include "util/keycount.h"
#include "vfs/notify.h"

#define NT_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
		 IN_CLOSE | IN_ONLYDIR | IN_EXCL_UNLINK)
#define NT_MAX_DIRS 4096     /* inotify watches per WATCH_TREE watch */
/* Watched directories (subs) of all the watches of one uid (the identity
 * that walks them): each may hold one of fs.inotify.max_user_watches,
 * which count the server's uid, so one user's WATCH_TREE requests over
 * many directories must not take them all from the others' notifies and
 * directory leases.  Past it the user's further directories go unwatched,
 * as when inotify itself runs out. */
#define NT_MAX_DIRS_PER_USER 16384
#define NT_MAX_DEPTH 32
#define NT_MAX_EVENTS 4096   /* queued changes per watch before ENUM_DIR */
#define NT_WD_BUCKETS 256

struct nt_wd;
struct nt_watch;

struct nt_sub {
	struct nt_watch *w;
	struct nt_wd *wd;
	uint64_t id;         /* unique: a walk checks its parent is still watched */
	char *prefix;        /* '\'-separated as reported; "" = the watched directory */
	char *rel;           /* '/'-separated beneath the watch's root; "" = root */
	/* Names a scan reported as ADDED: an IN_CREATE of the same name may
	 * still be queued behind (the wd may be older than the scan); it must
	 * not be reported a second time. */
	char **scanned;
	unsigned n_scanned;
	/* While a scan of this directory runs (`scanning`), names that events
	 * reported as ADDED: the scan must not report them again. */
	bool scanning;
	char **seen;
	unsigned n_seen;
	struct nt_sub *next_wd, *next_w;
};

/* One directory lease's watch (vfs_notify_lease_watch): on a wd, with no
 * queue and no walk; what happens in its directory goes to the lease
 * callback. */
struct nt_lsub {
	const void *owner;
	uint64_t owner_id;
	void *arg;           /* the caller's, handed to the callback */
	struct nt_wd *wd;    /* NULL once the directory is gone (IN_IGNORED) */
	struct nt_lsub *next_wd, *next;
};

struct nt_wd {
	int wd;
	char *fresh;         /* just created, not yet closed: its IN_ATTRIBs are the
	                        creator's own xattrs (DOS attributes), not changes */
	struct nt_sub *subs;
	struct nt_lsub *lsubs;  /* directory leases watching this directory */
	struct nt_wd *hnext;
};

struct nt_watch {
	const void *owner;
	uint64_t owner_id;
	const void *group;
	uint64_t id;         /* unique: how a walk finds the watch again */
	struct vfs_ident *ident; /* reference */
	int root;            /* O_PATH, -1 until the first walk opened it */
	uint32_t filter;
	bool tree;
	uint32_t buf_size;
	size_t queued_bytes;
	struct vfs_notify_event *ev;
	unsigned n_ev, cap_ev;
	bool overflow;
	bool delete_pending; /* became so while no waiter was parked: the next park ends at once */
	struct vfs_notify_waiter *pend;
	struct nt_sub *subs;
	unsigned n_subs;
	uint64_t user;       /* uid + 1 of ident: what its subs count against (nt_user_subs) */
	struct nt_watch *next;
};

struct nt_job {
	uint64_t watch_id;
	struct vfs_ident *ident; /* reference */
	char *rel, *prefix;  /* of the new directory */
	struct nt_job *next;
};

extern pthread_mutex_t nt_lock, nt_read_lock;
extern int nt_fd;
extern unsigned nt_watching;     /* watches that exist (atomic reads) */
extern struct nt_watch *nt_watches;

/* notify.c (nt_lock held) */
struct nt_wd *nt_wd_find(int wd);
/* The nt_wd of wd, made when new (NULL: out of memory). */
struct nt_wd *nt_wd_get(int wd);
/* Free d when neither a sub nor a lease watch is left on it (`rm`: and
 * remove its inotify watch). */
void nt_wd_release(struct nt_wd *d, bool rm);
/* notify_lease.c (nt_lock held): the lease watches of d hear of a change
 * of `name` (NULL: unknown, the queue overflowed); d is gone: they lose it. */
void nt_lease_changed(struct nt_wd *d, const char *name);
void nt_lease_overflow(void);
void nt_lease_wd_gone(struct nt_wd *d);
struct nt_watch *nt_watch_by_id(uint64_t id);
/* Subscribe w to `wd` for the directory (prefix, rel).  1 = added, 0 = w
 * already watches that directory (do not descend again), -errno.  A wd
 * left with no sub is removed from inotify. */
int nt_sub_add(struct nt_watch *w, int wd, const char *prefix, const char *rel, struct nt_sub **out);
void nt_sub_free(struct nt_sub *s, bool rm);
/* Subs per watch user, under their own leaf lock (util/keycount.h). */
extern struct keycount nt_user_subs;
/* Is the sub `id` of w on `wd` still there? */
bool nt_sub_alive(struct nt_watch *w, int wd, uint64_t id);
void nt_tree_remove(struct nt_watch *w, const char *prefix);
void nt_queue_event(struct nt_watch *w, uint32_t action, char *name);
void nt_queue_overflow(struct nt_watch *w);
/* Wake a parked waiter of every watch with changes queued: the end of an
 * inotify batch, where a rename's OLD_NAME has its NEW_NAME (nt_lock). */
void nt_queue_flush(void);
bool nt_strv_add(char ***v, unsigned *n, const char *s);
bool nt_strv_take(char **v, unsigned *n, const char *s);
void nt_strv_free(char ***v, unsigned *n);

/* notify_events.c */
int nt_drain(void);
void nt_job_add(struct nt_watch *w, const char *prefix, const char *rel); /* nt_lock held */

/* notify_walk.c */
/* The walk of a new watch (its directory, and its tree with WATCH_TREE):
 * a vfs_call job, as the watch's identity.  0 or -errno. */
struct nt_walk_arg {
	uint64_t watch_id;
	int dirfd;           /* the owner's fd of the directory, valid during the call */
};
long nt_walk_watch(void *arg);
/* The walk and scan of a directory that appeared (job); frees it. */
void nt_walk_job(struct nt_job *j);

#endif
