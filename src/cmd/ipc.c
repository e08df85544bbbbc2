/* Named pipes on IPC$ (see ipc.h): an open whose o->pipe is an rpc_pipe
 * from src/rpc/.  The pipes are message-mode, as on Windows: a READ or a
 * TRANSCEIVE returns at most one response PDU, and STATUS_BUFFER_OVERFLOW
 * when part of it is left for the next READ.  A READ with no message
 * waiting blocks, as on Windows: it goes async and waits (struct
 * ipc_reader) for a WRITE or TRANSCEIVE to leave a response unread, for
 * its CANCEL, or for the close of the pipe.
 *
 * An rpc_pipe is not thread-safe and the channels of one session may live
 * on different workers, so every pipe operation runs under ipc_lock (pipe
 * traffic is small: share lists, server info). */
#include "cmd/ipc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/fileops.h"
#include "rpc/rpc.h"
#include "util/log.h"

/* Named-pipe state shared by opens of IPC$ (o->pipe, o->pipe_readers).
 * Leaf: nothing is woken while it is held. */
static pthread_mutex_t ipc_lock = PTHREAD_MUTEX_INITIALIZER;

/* A READ parked on its pipe, on the stack of the request's coroutine.
 * Whoever takes it off o->pipe_readers (under ipc_lock) sets `result` and
 * wakes the request exactly once, after dropping the lock.  A connection
 * bounds how many wait (SMB_MAX_ASYNC, via req_go_async). */
struct ipc_reader {
	struct smb2_req *req;
	struct ipc_reader *next;
	NTSTATUS result; /* STATUS_PENDING while queued */
};

/* Readers are served in arrival order. */
static void reader_push_locked(struct open *o, struct ipc_reader *r)
{
	struct ipc_reader **pp = &o->pipe_readers;
	while (*pp)
		pp = &(*pp)->next;
	r->next = NULL;
	*pp = r;
}

/* Take the first reader off with `result`; its request, to wake once the
 * lock is dropped, or NULL when none waits. */
static struct smb2_req *reader_pop_locked(struct open *o, NTSTATUS result)
{
	struct ipc_reader *r = o->pipe_readers;
	if (!r)
		return NULL;
	o->pipe_readers = r->next;
	r->result = result;
	return r->req;
}

/* A response is waiting: the first reader takes it (called under the lock
 * after anything that may leave one). */
static struct smb2_req *reader_for_message_locked(struct open *o)
{
	if (!o->pipe || !rpc_pipe_msg_pending(o->pipe))
		return NULL;
	return reader_pop_locked(o, STATUS_SUCCESS);
}

/* CANCEL, or the connection going away: on the request's own worker while
 * its coroutine is parked.  req->open is the pipe (the pipeline holds it
 * until the handler returns). */
static void reader_cancel(struct smb2_req *req)
{
	struct open *o = req->open;
	bool wake = false;
	pthread_mutex_lock(&ipc_lock);
	for (struct ipc_reader **pp = &o->pipe_readers; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			struct ipc_reader *r = *pp;
			*pp = r->next;
			r->result = STATUS_CANCELLED;
			wake = true;
			break;
		}
	}
	pthread_mutex_unlock(&ipc_lock);
	/* Not queued any more: a message or the close took it, and its wake
	 * is on the way. */
	if (wake)
		req_wake(req); /* may run the request to its end: touch nothing after */
}

/* Wait for a message.  STATUS_SUCCESS: one may be there, look again;
 * otherwise the READ's answer: STATUS_CANCELLED (CANCEL, or the pipe was
 * closed), STATUS_INSUFFICIENT_RESOURCES (too many requests wait on the
 * connection), or the error of going async. */
static NTSTATUS reader_wait(struct smb2_req *req, struct open *o)
{
	NTSTATUS st = req_go_async(req);
	if (st != STATUS_SUCCESS)
		return st;
	struct ipc_reader r = { .req = req, .result = STATUS_PENDING };
	bool queued = false;
	pthread_mutex_lock(&ipc_lock);
	if (!o->pipe)
		st = STATUS_FILE_CLOSED;
	else if (rpc_pipe_msg_pending(o->pipe))
		st = STATUS_SUCCESS; /* came since the first look, without the lock */
	else if (req->cancelled)
		st = STATUS_CANCELLED;
	else {
		reader_push_locked(o, &r);
		queued = true;
	}
	pthread_mutex_unlock(&ipc_lock);
	if (!queued)
		return st;
	req->cancel_fn = reader_cancel;
	req_wait(req);
	req->cancel_fn = NULL;
	pthread_mutex_lock(&ipc_lock);
	st = r.result;
	pthread_mutex_unlock(&ipc_lock);
	return st;
}

static NTSTATUS pipe_status(int err)
{
	switch (err) {
	case -EINVAL:
		return STATUS_PIPE_DISCONNECTED; /* broken framing: the pipe is dead */
	case -ENOBUFS:
		return STATUS_INSUFFICIENT_RESOURCES;
	case -ENOMEM:
		return STATUS_NO_MEMORY;
	default:
		return STATUS_PIPE_BROKEN;
	}
}

/* What srvsvc / wkssvc report: the browseable shares and IPC$ of the
 * current configuration. */
static NTSTATUS ipc_server_info(struct conf *cf, struct rpc_server_info *info, struct rpc_share **shares,
				char **ipc_comment)
{
	struct rpc_share *v = calloc(cf->n_shares ? cf->n_shares : 1, sizeof(*v));
	if (!v)
		return STATUS_NO_MEMORY;
	const char *ss = cf->server_string ? cf->server_string : "";
	if (asprintf(ipc_comment, "IPC Service (%s)", ss) < 0) {
		free(v);
		return STATUS_NO_MEMORY;
	}
	size_t n = 0;
	for (size_t i = 0; i < cf->n_shares; i++) {
		const struct conf_share *s = &cf->shares[i];
		if (s->ipc) {
			v[n].name = "IPC$";
			v[n].type = RPC_STYPE_IPC | RPC_STYPE_SPECIAL;
			v[n].comment = *ipc_comment;
			v[n].path = NULL;
			n++;
			continue;
		}
		if (!s->browseable)
			continue;
		v[n].name = s->name;
		v[n].type = RPC_STYPE_DISKTREE;
		v[n].comment = s->comment;
		v[n].path = s->path;
		n++;
	}
	memset(info, 0, sizeof(*info));
	info->netbios_name = cf->netbios_name;
	info->domain = cf->workgroup;
	info->server_string = cf->server_string;
	info->shares = v;
	info->n_shares = n;
	info->platform_id = RPC_PLATFORM_ID_NT;
	info->ver_major = 10;
	info->ver_minor = 0;
	info->server_type = RPC_SV_TYPE_WORKSTATION | RPC_SV_TYPE_SERVER | RPC_SV_TYPE_SERVER_NT;
	*shares = v;
	return STATUS_SUCCESS;
}

NTSTATUS ipc_open(struct smb2_req *req, const char *name, struct open **out)
{
	*out = NULL;
	struct conf *cf = conf_current_get();
	struct rpc_server_info info;
	struct rpc_share *shares = NULL;
	char *ipc_comment = NULL;
	NTSTATUS st = ipc_server_info(cf, &info, &shares, &ipc_comment);
	struct rpc_pipe *p = NULL;
	if (st == STATUS_SUCCESS) {
		errno = 0;
		p = rpc_pipe_open(name, &info); /* copies info deep */
		if (!p)
			st = errno == ENOMEM ? STATUS_NO_MEMORY : STATUS_OBJECT_NAME_NOT_FOUND;
	}
	free(shares);
	free(ipc_comment);
	conf_current_put(cf);
	if (!p)
		return st;
	struct open *o = calloc(1, sizeof(*o));
	struct open_path *path = open_path_new(name, strlen(name)); /* a pipe's never changes */
	if (!o || !path) {
		free(o);
		open_path_put(path);
		rpc_pipe_close(p);
		return STATUS_NO_MEMORY;
	}
	o->fd = -1;
	o->pipe = p;
	o->path = path;
	o->session = req->session;
	session_get(o->session); /* the open's reference (open_put drops it) */
	o->tree = req->tree;
	atomic_fetch_add(&o->tree->refs, 1); /* the open's reference (open_put drops it) */
	o->access = FILE_GENERIC_READ | FILE_GENERIC_WRITE;
	o->share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
	int reg = open_register(o);
	if (reg < 0) {
		rpc_pipe_close(p);
		o->pipe = NULL;
		atomic_store(&o->refs, 1);
		open_put(o);
		return reg == -ENOTCONN ? STATUS_USER_SESSION_DELETED
		     : reg == -EMFILE	? STATUS_TOO_MANY_OPENED_FILES
					: STATUS_INSUFFICIENT_RESOURCES;
	}
	log_debug("pipe %s opened as %llu", name, (unsigned long long)o->volatile_id);
	*out = o;
	return STATUS_SUCCESS;
}

/* Take up to `len` bytes of the current message (under ipc_lock). */
static NTSTATUS take_locked(struct open *o, uint32_t len, size_t msg, uint8_t **data, uint32_t *n)
{
	size_t cap = msg < len ? msg : len;
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf)
		return STATUS_NO_MEMORY;
	size_t got = rpc_pipe_read(o->pipe, buf, cap);
	*data = buf;
	*n = (uint32_t)got;
	return got < msg ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS ipc_read(struct smb2_req *req, struct open *o, uint32_t len, uint8_t **data, uint32_t *n)
{
	*data = NULL;
	*n = 0;
	for (;;) {
		pthread_mutex_lock(&ipc_lock);
		if (!o->pipe) {
			pthread_mutex_unlock(&ipc_lock);
			return STATUS_FILE_CLOSED;
		}
		size_t msg = rpc_pipe_msg_pending(o->pipe);
		if (msg) {
			NTSTATUS st = take_locked(o, len, msg, data, n);
			/* what is left (the rest of this message, or the next
			 * one) goes to the next reader in line */
			struct smb2_req *next = reader_for_message_locked(o);
			pthread_mutex_unlock(&ipc_lock);
			if (next)
				req_wake(next);
			return st;
		}
		pthread_mutex_unlock(&ipc_lock);
		/* Nothing yet: wait for it, as a Windows pipe read does
		 * (smb2.credits.*ipc*: reads park, then CANCEL ends them). */
		NTSTATUS st = reader_wait(req, o);
		if (st != STATUS_SUCCESS)
			return st;
	}
}

NTSTATUS ipc_write(struct smb2_req *req, struct open *o, const uint8_t *buf, uint32_t len)
{
	(void)req;
	pthread_mutex_lock(&ipc_lock);
	int r = o->pipe ? rpc_pipe_write(o->pipe, buf, len) : -EBADF;
	struct smb2_req *reader = reader_for_message_locked(o);
	pthread_mutex_unlock(&ipc_lock);
	if (reader)
		req_wake(reader);
	if (r == -EBADF)
		return STATUS_FILE_CLOSED;
	return r < 0 ? pipe_status(r) : STATUS_SUCCESS;
}

NTSTATUS ipc_transceive(struct smb2_req *req, struct open *o, const uint8_t *in, uint32_t in_len,
			uint32_t max_out, uint8_t **out, uint32_t *out_len)
{
	(void)req;
	*out = NULL;
	*out_len = 0;
	size_t cap = max_out < RPC_MAX_FRAG ? max_out : RPC_MAX_FRAG;
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf)
		return STATUS_NO_MEMORY;
	size_t got = 0;
	bool more = false;
	pthread_mutex_lock(&ipc_lock);
	int r = o->pipe ? rpc_pipe_transceive(o->pipe, in, in_len, buf, cap, &got, &more) : -EBADF;
	/* the rest of a response too long for the transceive is read next */
	struct smb2_req *reader = reader_for_message_locked(o);
	pthread_mutex_unlock(&ipc_lock);
	if (reader)
		req_wake(reader);
	if (r < 0) {
		free(buf);
		return r == -EBADF ? STATUS_FILE_CLOSED : pipe_status(r);
	}
	*out = buf;
	*out_len = (uint32_t)got;
	return more ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

void ipc_close(struct open *o)
{
	pthread_mutex_lock(&ipc_lock);
	struct rpc_pipe *p = o->pipe;
	o->pipe = NULL;
	/* Reads still waiting end as Windows ends the I/O of a handle being
	 * closed: cancelled.  Each request holds its own reference to o. */
	struct ipc_reader *readers = o->pipe_readers;
	o->pipe_readers = NULL;
	for (struct ipc_reader *r = readers; r; r = r->next)
		r->result = STATUS_CANCELLED;
	pthread_mutex_unlock(&ipc_lock);
	if (p)
		rpc_pipe_close(p);
	/* r->next is read before the wake: a woken reader's frame may go */
	for (struct ipc_reader *r = readers, *next; r; r = next) {
		next = r->next;
		req_wake(r->req);
	}
}
