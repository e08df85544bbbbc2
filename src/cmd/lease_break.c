/* Lease breaks caused by something other than a conflicting CREATE
 * ([MS-FSA] 2.1.4.12 for SET_INFO and CLOSE, [MS-SMB2] 3.3.4.7):
 * - a delete (delete-on-close, a disposition) or a rename takes the handle
 *   caching of the file's other leases; a rename waits for their acks;
 * - a change of what a directory lists (a name created, removed, renamed
 *   in or out, linked; the size, times or attributes of a child) breaks
 *   the directory's leases to none, except the one the actor names as its
 *   ParentLeaseKey (3.1.1 directory leases).
 * mc/oplock.c and mc/lease.c decide which leases and send the breaks; the
 * waiting (async, parked coroutine) is the request's, as in oplock_wait.c. */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_LOCKING /* log lines of Samba's "locking" class */

#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cmd/durable.h"
#include "cmd/fileops.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "proto/pipeline.h"
#include "util/coro.h"
#include "util/log.h"
#include "vfs/vfs.h"

static void wake_req(void *arg)
{
	req_wake(arg);
}

/* A delete's breaks go out before its reply, as Windows sends them: the
 * request waits (briefly, not async) until the kernel took each break,
 * also on another worker's channel. */
#define FENCE_TIMEOUT_MS 250

static void break_handles_fenced(struct smb2_req *req, struct file *f, const uint8_t *spare_key)
{
	struct break_fence *fence = coro_self() ? oplock_fence_begin(wake_req, req) : NULL;
	(void)oplock_break_leases_start(NULL, f, spare_key, ~(uint32_t)LEASE_H, LEASE_H, 0, true);
	if (oplock_fence_end(fence, FENCE_TIMEOUT_MS))
		req_wait(req); /* exactly one wake: the last send, or the timer */
	oplock_fence_done(fence);
}

void lease_break_file_handles(struct smb2_req *req, struct file *f, const uint8_t *spare_key, bool wait)
{
	if (!f)
		return;
	/* 3.3.4.7: the detached opens whose lease loses its handle caching
	 * cannot hear the break; they are closed now, not at their
	 * reconnect, and nobody waits for their ack (smbtorture
	 * durable-v2-open.purge-disconnected-rh-with-rename) */
	durable_purge_leased(f, spare_key, ~(uint32_t)LEASE_H, "a rename or a delete takes its handle caching");
	unsigned timeout = req ? (unsigned)req_conf(req)->oplock_break_timeout : 35;
	for (int round = 0; round < 4; round++) {
		struct oplock_wait w = { .wake = wake_req, .arg = req };
		if (!oplock_break_leases_start(wait && req ? &w : NULL, f, spare_key, ~(uint32_t)LEASE_H, LEASE_H,
					       timeout, true))
			return;
		if (req_go_async(req) != STATUS_SUCCESS)
			log_debug("message %llu waits for a lease break inside a compound",
				  (unsigned long long)req->hdr.message_id);
		req_wait(req); /* exactly one wake: whoever disarmed w */
		oplock_wait_done(&w);
	}
}

void lease_break_data(struct file *f, const struct open *by)
{
	if (!f)
		return;
	struct oplock_victim v[16];
	unsigned n = oplock_break_level2(f, by, v, 16);
	/* more than 16 on one file: the rest go at their reconnect
	 * (durable.c purge_if_broken) or at a conflicting open */
	durable_purge_victims(v, n, "a write, a truncation or a lock takes its lease's read caching");
}

void lease_break_handles_first(struct smb2_req *req, struct open *o)
{
	if (!o || !o->file)
		return;
	uint8_t key[16], parent[16];
	bool has_parent;
	bool leased = lease_keys_of(o, key, parent, &has_parent);
	durable_purge_leased(o->file, leased ? key : NULL, ~(uint32_t)LEASE_H,
			     "a rename or a delete takes its handle caching");
	break_handles_fenced(req, o->file, leased ? key : NULL);
}

void lease_break_handles(struct smb2_req *req, struct open *o, bool wait)
{
	if (!o || !o->file)
		return;
	uint8_t key[16], parent[16];
	bool has_parent;
	bool leased = lease_keys_of(o, key, parent, &has_parent);
	lease_break_file_handles(req, o->file, leased ? key : NULL, wait);
}

/* The parent directory of share-relative `path` ("" for the root's
 * children); NULL for the root itself or when out of memory. */
static char *parent_of(const char *path)
{
	if (!path[0])
		return NULL;
	const char *s = strrchr(path, '/');
	return s ? strndup(path, (size_t)(s - path)) : strdup("");
}

void lease_break_parent(const struct vfs_ident *id, int root, const struct open *o, const char *path)
{
	lease_watch_own(o, path);
	if (!lease_dirs_leased())
		return;
	uint8_t key[16], parent[16];
	bool has_parent = false;
	(void)lease_keys_of(o, key, parent, &has_parent);
	lease_break_dir(id, root, has_parent ? parent : NULL, path);
}

struct file *lease_dir_of(const struct vfs_ident *id, int root, const char *path)
{
	if (!lease_dirs_leased() || !path)
		return NULL;
	char *pp = parent_of(path);
	if (!pp)
		return NULL;
	struct statx st;
	int r = vfs_statx(id, root, pp[0] ? pp : ".", 0, STATX_BASIC_STATS, &st);
	free(pp);
	if (r < 0)
		return NULL;
	return file_get(makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino, true);
}

void lease_dir_break(struct file *d, const uint8_t *spare_key, bool send_now)
{
	if (!d)
		return;
	/* 3.3.4.7 / 2.2.13.2.10: the change comes from the holder of the
	 * directory's lease when the actor names it as its parent.  Unless
	 * send_now, the breaks go out after the reply: nothing may yield
	 * between here and the end of the request. */
	(void)oplock_break_leases_start(NULL, d, spare_key, 0, 0, 0, send_now);
	file_put(d);
}

void lease_break_dir(const struct vfs_ident *id, int root, const uint8_t *spare_key, const char *path)
{
	lease_dir_break(lease_dir_of(id, root, path), spare_key, false);
}
