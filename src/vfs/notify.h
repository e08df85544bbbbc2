/* Change notification engine: inotify watches on directories, the walk of
 * a watched tree, and the queue of changes recorded per watch.
 *
 * A layer below cmd/: it knows directories, identities and changes, not SMB
 * requests.  cmd/change_notify.c parses CHANGE_NOTIFY, parks the request on
 * a watch (struct vfs_notify_waiter) and encodes what it takes from here.
 *
 * Threads and locks (notify_int.h has the details):
 *  - one inotify fd for the server, read by a thread of its own and, so a
 *    change a client just made is never missed, by any caller of
 *    vfs_notify_poll / vfs_notify_sync;
 *  - a directory walk (the WATCH_TREE tree at the first request, the
 *    contents of a directory that appeared in a watched tree) never runs
 *    under a lock and never on a worker: it is a pool job (vfs_call, or a
 *    detached pool job when the inotify thread found the directory), runs
 *    as the watch's identity and goes by fd: every directory is opened with
 *    openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 *    under its parent, or under the watched directory for a new one, and is
 *    given to inotify as /proc/self/fd/N, so no path is resolved from "/".
 *
 * Watches are keyed by an owner (the open: its address and an id, so a
 * later owner at the same address is not taken for it) and belong to a
 * group (the file: vfs_notify_delete_pending ends the waits of a group). */
#ifndef SMB3D_VFS_NOTIFY_H
#define SMB3D_VFS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct vfs_ident;

/* How a parked wait ended (vfs_notify_waiter.status). */
enum vfs_notify_status {
	VFS_NOTIFY_PENDING = 0,  /* still parked / nothing to report yet */
	VFS_NOTIFY_EVENTS,       /* changes were queued: poll again with `take` */
	VFS_NOTIFY_ENUM_DIR,     /* (poll) the changes did not fit: re-read the directory */
	VFS_NOTIFY_CANCELLED,    /* vfs_notify_cancel */
	VFS_NOTIFY_CLEANUP,      /* the watch ended (vfs_notify_unwatch) */
	VFS_NOTIFY_DELETE_PENDING, /* the watched directory is being deleted */
	VFS_NOTIFY_NOMEM,
};

/* A request waiting for changes; lives with the waiter (its stack).  Parked
 * by vfs_notify_poll, unparked by whoever ends the wait, which sets status
 * (and take) and then calls wake(cookie) exactly once, under the engine's
 * lock: wake must not block or take a lock of the engine. */
struct vfs_notify_waiter {
	void (*wake)(void *cookie);
	void *cookie;
	enum vfs_notify_status status;
	unsigned take;           /* EVENTS: changes queued when woken (a batch ends there) */
	struct vfs_notify_waiter *next;
};

/* One recorded change ([MS-FSCC] 2.7.1 FILE_NOTIFY_INFORMATION). */
struct vfs_notify_event {
	uint32_t action;         /* FILE_ACTION_* */
	char *name;              /* relative to the watched directory, '\' separated, UTF-8 */
	uint32_t size;           /* its FILE_NOTIFY_INFORMATION size, 4-aligned */
};

struct vfs_notify_batch {
	struct vfs_notify_event *ev;
	unsigned n;
};
void vfs_notify_batch_free(struct vfs_notify_batch *b);

/* Start the engine (once; later calls return the first result): 0, or
 * -errno when inotify is unavailable (CHANGE_NOTIFY is then unsupported). */
int vfs_notify_init(void);

/* The watch of (owner, owner_id) exists, or is created now: `dirfd` is the
 * watched directory (any fd of it, O_PATH will do; only used during this
 * call), `id` who walks it (the watch and its walks hold references), filter the FILE_NOTIFY_CHANGE_*
 * bits, `tree` WATCH_TREE, buf_size the size of the recording buffer.  The
 * filter, tree and buf_size of the first call stay.  Called from a request
 * coroutine: the walk suspends it.  0 or -errno. */
int vfs_notify_watch(const void *owner, uint64_t owner_id, const void *group, struct vfs_ident *id,
		     int dirfd, uint32_t filter, bool tree, uint32_t buf_size);

/* Has (owner, owner_id) a watch? */
bool vfs_notify_watching(const void *owner, uint64_t owner_id);

/* Take up to `take` recorded changes whose FILE_NOTIFY_INFORMATION sizes add
 * up to at most out_len.  EVENTS: *b holds them (vfs_notify_batch_free).
 * ENUM_DIR: they overflowed the recording buffer or out_len; the queue
 * starts afresh.  PENDING: nothing yet; `park` (when not NULL) is parked.
 * DELETE_PENDING: the directory became delete-pending since the last park.
 * CLEANUP: no such watch. */
enum vfs_notify_status vfs_notify_poll(const void *owner, uint64_t owner_id, uint32_t out_len, unsigned take,
				       struct vfs_notify_batch *b, struct vfs_notify_waiter *park);

/* End the wait of the waiter whose cookie is `cookie` with CANCELLED (it is
 * woken) when it is still parked; false when it was not. */
bool vfs_notify_cancel(void *cookie);

/* The owner is going away: its waiters end with CLEANUP, its watch and
 * queued changes go.  Any thread, any number of times. */
void vfs_notify_unwatch(const void *owner, uint64_t owner_id);

/* The directory of `group` is delete-pending: its waiters end with
 * DELETE_PENDING (the watches stay); a watch with none parked ends its
 * next park so instead. */
void vfs_notify_delete_pending(const void *group);

/* ---- directory leases ----
 * A leased directory is watched so that changes other programs make in it
 * break its leases.  `changed(arg, name)` is called for each name created,
 * removed, renamed in or out of a watched directory, or whose attributes
 * changed (not for writes), with name NULL when events were lost; it runs
 * under the engine's lock on whichever thread read the event, so it must
 * not block nor take a lock of the layers above.  Installed once, at
 * start-up. */
typedef void (*vfs_lease_change_fn)(void *arg, const char *name);
void vfs_notify_lease_init(vfs_lease_change_fn fn);
/* Watch the directory `dirfd` (any fd of it; used during the call only)
 * for (owner, owner_id), handing `arg` to the callback.  0; -EEXIST when
 * (owner, owner_id) has a watch already (arg is not taken); -ENOSPC when
 * `max` lease watches exist or inotify's own limit is reached; -ENOSYS
 * without inotify; -errno. */
int vfs_notify_lease_watch(const void *owner, uint64_t owner_id, void *arg, int dirfd, unsigned max);
/* End the watch of (owner, owner_id); its `arg` (NULL: there was none).
 * After it returns the callback no longer runs for that arg. */
void *vfs_notify_lease_unwatch(const void *owner, uint64_t owner_id);

/* A directory was just created or moved by the server: record the inotify
 * events queued so far and finish the walks they start, so a WATCH_TREE
 * watch covers the new directory before the client hears of it.  From a
 * request coroutine it waits (suspended) for walks other threads run; it
 * never blocks the worker.  Cheap when nothing is watched. */
void vfs_notify_sync(void);

#endif
