/* CHANGE_NOTIFY ([MS-SMB2] 3.3.5.19): parse, park, answer.
 *
 * The engine (inotify watches, the walk of a watched tree, the queue of
 * changes) is vfs/notify*.c.  The first CHANGE_NOTIFY on a directory open
 * creates the open's watch there; its filter, WATCH_TREE and buffer size
 * stay, as on Windows.  A request that finds nothing queued goes async and
 * parks on the watch (struct vfs_notify_waiter on its stack).  Whoever ends
 * the wait (an event, CANCEL, the close of the open, delete-pending) unparks
 * it under the engine's lock and calls req_wake exactly once; the request
 * then builds its own response on its worker. */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_VFS /* log lines of Samba's "vfs" class */

#include "cmd/change_notify.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "util/log.h"
#include "vfs/notify.h"
#include "vfs/vfs.h"
#include "wire/notify.h"

void notify_open_closed(struct open *o)
{
	vfs_notify_unwatch(o, o->volatile_id);
}

void notify_delete_pending(struct file *f)
{
	vfs_notify_delete_pending(f);
}

void notify_sync(void)
{
	vfs_notify_sync();
}

static bool delete_pending(struct open *o)
{
	if (!o->file)
		return false;
	pthread_mutex_lock(&o->file->lock);
	bool dp = o->file->delete_pending;
	pthread_mutex_unlock(&o->file->lock);
	return dp;
}

/* The FILE_NOTIFY_INFORMATION list of a batch; ENUM_DIR when it cannot be
 * encoded (the engine checked that it fits out_len). */
static NTSTATUS encode(struct smb2_req *req, const struct vfs_notify_batch *b)
{
	size_t need = 0;
	for (unsigned i = 0; i < b->n; i++)
		need += b->ev[i].size;
	if (req_out_reserve(req, 8 + need + 8) < 0)
		return STATUS_NO_MEMORY;
	uint8_t *body = wire_notify_rsp_begin(&req->out);
	uint8_t *prev = NULL;
	for (unsigned i = 0; i < b->n && body; i++)
		if (wire_notify_entry_encode(&req->out, b->ev[i].action, b->ev[i].name, &prev) < 0)
			body = NULL;
	if (!body || wire_notify_rsp_end(&req->out, body) < 0) {
		req->out.p = req->out.base + SMB2_HDR_SIZE;
		req->out.err = false;
		return STATUS_NOTIFY_ENUM_DIR;
	}
	log_debug("notify: answered %u changes (mid %llu)", b->n,
		  (unsigned long long)req->hdr.message_id);
	return STATUS_SUCCESS;
}

/* Answer from the watch's queue (up to `take` changes), or park `park` and
 * return STATUS_PENDING when there is nothing to say yet. */
static NTSTATUS answer(struct smb2_req *req, struct open *o, uint32_t out_len, unsigned take,
		       struct vfs_notify_waiter *park)
{
	struct vfs_notify_batch b;
	NTSTATUS st;
	switch (vfs_notify_poll(o, o->volatile_id, out_len, take, &b, park)) {
	case VFS_NOTIFY_EVENTS:
		st = encode(req, &b);
		vfs_notify_batch_free(&b);
		return st;
	case VFS_NOTIFY_ENUM_DIR:
		return STATUS_NOTIFY_ENUM_DIR;
	case VFS_NOTIFY_PENDING:
		return STATUS_PENDING;
	case VFS_NOTIFY_NOMEM:
		return STATUS_NO_MEMORY;
	case VFS_NOTIFY_DELETE_PENDING:
		return STATUS_DELETE_PENDING;
	default:
		return STATUS_NOTIFY_CLEANUP;
	}
}

static NTSTATUS wait_status(enum vfs_notify_status s)
{
	switch (s) {
	case VFS_NOTIFY_CANCELLED:
		return STATUS_CANCELLED;
	case VFS_NOTIFY_DELETE_PENDING:
		return STATUS_DELETE_PENDING;
	case VFS_NOTIFY_PENDING:
	case VFS_NOTIFY_EVENTS:
		return STATUS_PENDING; /* poll again */
	default:
		return STATUS_NOTIFY_CLEANUP;
	}
}

/* CANCEL, on the connection's worker outside the request's coroutine. */
static void nt_cancel(struct smb2_req *req)
{
	vfs_notify_cancel(req);
}

/* Called under the engine's lock: only queues the resume. */
static void nt_wake(void *cookie)
{
	req_wake(cookie);
}

/* Wait for changes (the request is async and cancellable). */
static NTSTATUS notify_park(struct smb2_req *req, struct open *o, uint32_t out_len)
{
	struct vfs_notify_waiter p = { .wake = nt_wake, .cookie = req };
	NTSTATUS st;
	for (;;) {
		if (atomic_load_explicit(&o->closed, memory_order_acquire))
			st = STATUS_NOTIFY_CLEANUP;
		else if (req->cancelled)
			st = STATUS_CANCELLED;
		else
			st = answer(req, o, out_len, p.status == VFS_NOTIFY_EVENTS && p.take ? p.take : UINT32_MAX, &p);
		if (st != STATUS_PENDING)
			break;
		/* Exactly one req_wake follows: from the event, CANCEL or close
		 * path that unparks p under the engine's lock. */
		req_wait(req);
		if ((st = wait_status(p.status)) != STATUS_PENDING)
			break;
	}
	return st;
}

/* STATUS_PENDING to the client now; CANCEL finds the request from here on. */
static NTSTATUS go_async(struct smb2_req *req)
{
	NTSTATUS st = req_go_async(req);
	if (st == STATUS_SUCCESS)
		req->cancel_fn = nt_cancel;
	return st; /* only the last element of a compound may wait */
}

static NTSTATUS notify_wait(struct smb2_req *req, struct open *o, const struct wire_notify_req *q)
{
	NTSTATUS st;
	bool async = false;
	if (!vfs_notify_watching(o, o->volatile_id)) {
		/* A new watch has nothing to report yet, and the walk of its
		 * tree runs on the pool (as the session's user) while this
		 * coroutine waits: go async first, so a CANCEL sent meanwhile
		 * finds the request. */
		if ((st = go_async(req)) != STATUS_SUCCESS)
			return st;
		async = true;
	}
	/* as the open's identity (its creator's) */
	int r = vfs_notify_watch(o, o->volatile_id, o->file, o->ident, o->fd, q->completion_filter,
				 q->flags & SMB2_WATCH_TREE, q->output_len);
	if (r < 0) {
		st = vfs_nt_status(r);
	} else if (atomic_load_explicit(&o->closed, memory_order_acquire)) {
		/* closed while the walk ran: its close may have missed the watch */
		vfs_notify_unwatch(o, o->volatile_id);
		st = async ? STATUS_NOTIFY_CLEANUP : STATUS_FILE_CLOSED;
	} else if (delete_pending(o)) {
		/* became so before the watch existed (after it, the watch
		 * remembers: vfs_notify_delete_pending) */
		st = STATUS_DELETE_PENDING;
	} else if ((st = answer(req, o, q->output_len, UINT32_MAX, NULL)) == STATUS_PENDING &&
		   (async || (st = go_async(req)) == STATUS_SUCCESS)) {
		st = notify_park(req, o, q->output_len);
	}
	req->cancel_fn = NULL;
	return st;
}

NTSTATUS cmd_change_notify(struct smb2_req *req)
{
	struct wire_notify_req q;
	if (wire_notify_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	NTSTATUS st;
	uint32_t max_trans = req_conf(req)->max_io_size;
	if (req->sc->dialect == SMB2_DIALECT_202 && max_trans > 65536)
		max_trans = 65536;
	if (!o->is_dir || o->pipe) /* 3.3.5.19: directories only */
		st = STATUS_INVALID_PARAMETER;
	else if (q.output_len > max_trans)
		st = STATUS_INVALID_PARAMETER;
	else if (!(o->access & FILE_READ_DATA)) /* FILE_LIST_DIRECTORY */
		st = STATUS_ACCESS_DENIED;
	else if (delete_pending(o)) /* the directory is going away */
		st = STATUS_DELETE_PENDING;
	else if (vfs_notify_init() < 0)
		st = STATUS_NOT_SUPPORTED;
	else
		st = notify_wait(req, o, &q);
	return st;
}
