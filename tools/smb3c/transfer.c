/* smb3c: bulk transfer.  The file is cut into fixed-size chunks handed out
 * round-robin to the channels, each channel keeping up to `depth` requests
 * in flight as far as its credits allow.  A chunk whose channel dies is
 * requeued on the others. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smb3c.h"

struct retry {
	uint64_t off;
	uint32_t len;
};

struct xfer {
	struct session *s;
	const struct smb3c_fid *fid;
	uint64_t size, next_off, done;
	int fd;
	bool write;
	uint32_t chunk;
	unsigned depth;
	int err;
	int rr;
	struct req *slots;       /* nch * depth */
	bool *busy;
	struct retry *retry;
	unsigned nretry, retry_cap;
	unsigned inflight;
	uint8_t *pattern;
};

static void xfer_done_cb(struct chan *ch, struct req *r);

static int submit_chunk(struct xfer *x, int ci, uint64_t off, uint32_t len)
{
	struct chan *ch = x->s->ch[ci];
	int slot = -1;
	for (unsigned k = 0; k < x->depth; k++)
		if (!x->busy[ci * x->depth + k]) {
			slot = (int)(ci * x->depth + k);
			break;
		}
	if (slot < 0)
		return -EAGAIN;
	struct req *r = &x->slots[slot];
	memset(r, 0, sizeof(*r));
	r->cb = xfer_done_cb;
	r->ctx = x;
	r->u64 = off;
	r->u32 = len;
	struct msg m;
	int rc;
	if (x->write) {
		uint8_t *data;
		rc = op_write_msg(&m, x->s, x->fid, off, len, &data);
		if (rc)
			return rc;
		if (x->fd >= 0) {
			ssize_t k = pread(x->fd, data, len, (off_t)off);
			if (k != (ssize_t)len) {
				msg_free(&m);
				return k < 0 ? -errno : -EIO;
			}
		} else {
			memcpy(data, x->pattern, len);
		}
	} else {
		rc = op_read_msg(&m, x->s, x->fid, off, len);
		if (rc)
			return rc;
	}
	x->busy[slot] = true;
	rc = chan_submit(ch, &m, r, x->s->signing);
	if (rc) {
		x->busy[slot] = false;
		msg_free(&m);
		return rc;
	}
	x->inflight++;
	return 0;
}

static bool next_piece(struct xfer *x, uint64_t *off, uint32_t *len)
{
	if (x->nretry) {
		x->nretry--;
		*off = x->retry[x->nretry].off;
		*len = x->retry[x->nretry].len;
		return true;
	}
	if (x->next_off >= x->size)
		return false;
	*off = x->next_off;
	uint64_t left = x->size - x->next_off;
	*len = left < x->chunk ? (uint32_t)left : x->chunk;
	x->next_off += *len;
	return true;
}

static void push_retry(struct xfer *x, uint64_t off, uint32_t len)
{
	if (x->nretry == x->retry_cap) {
		unsigned cap = x->retry_cap ? x->retry_cap * 2 : 64;
		struct retry *n = realloc(x->retry, cap * sizeof(*n));
		if (!n) {
			x->err = -ENOMEM;
			return;
		}
		x->retry = n;
		x->retry_cap = cap;
	}
	x->retry[x->nretry++] = (struct retry){ off, len };
}

static void pump(struct xfer *x)
{
	struct session *s = x->s;
	uint16_t charge = (uint16_t)((x->chunk + 65535) / 65536);
	for (;;) {
		if (x->err)
			return;
		bool sent = false;
		for (int k = 0; k < s->nch; k++) {
			int ci = (x->rr + k) % s->nch;
			struct chan *ch = s->ch[ci];
			if (ch->dead || ch->inflight >= x->depth || !chan_has_credits(ch, charge))
				continue;
			uint64_t off;
			uint32_t len;
			if (!next_piece(x, &off, &len))
				return;
			int rc = submit_chunk(x, ci, off, len);
			if (rc) {
				push_retry(x, off, len);
				if (rc != -EAGAIN && rc != -EPIPE) {
					x->err = rc;
					return;
				}
				continue;
			}
			x->rr = ci + 1;
			sent = true;
			break;
		}
		if (!sent)
			return;
	}
}

static void xfer_done_cb(struct chan *ch, struct req *r)
{
	struct xfer *x = r->ctx;
	x->busy[r - x->slots] = false;
	x->inflight--;
	if (r->status == STATUS_CONNECTION_DISCONNECTED) {
		push_retry(x, r->u64, r->u32);
		req_release(r);
		return;
	}
	if (r->status) {
		fprintf(stderr, "smb3c: %s at %llu on channel %d: %s\n", x->write ? "WRITE" : "READ",
			(unsigned long long)r->u64, ch->index, nt_errstr(r->status));
		x->err = -EIO;
		req_release(r);
		return;
	}
	if (x->write) {
		uint32_t count;
		if (op_write_rsp(r, &count) || count != r->u32) {
			fprintf(stderr, "smb3c: short WRITE at %llu\n", (unsigned long long)r->u64);
			x->err = -EIO;
		}
	} else {
		const uint8_t *data;
		uint32_t len;
		if (op_read_rsp(r, &data, &len) || len != r->u32) {
			fprintf(stderr, "smb3c: short READ at %llu\n", (unsigned long long)r->u64);
			x->err = -EIO;
		} else if (x->fd >= 0 && pwrite(x->fd, data, len, (off_t)r->u64) != (ssize_t)len) {
			x->err = -errno;
		}
	}
	if (!x->err) {
		x->done += r->u32;
		ch->bytes += r->u32;
		ch->ops++;
	}
	req_release(r);
}

static int xfer_run(struct session *s, const struct smb3c_fid *fid, uint64_t size, int fd, bool write,
		    const struct xfer_opts *o)
{
	struct xfer x = { .s = s, .fid = fid, .size = size, .fd = fd, .write = write, .depth = o->depth };
	uint32_t chunk = o->chunk;
	for (int i = 0; i < s->nch; i++) {
		uint32_t lim = write ? s->ch[i]->max_write : s->ch[i]->max_read;
		if (!(s->ch[i]->server_caps & SMB2_GLOBAL_CAP_LARGE_MTU))
			lim = 65536;
		if (lim && chunk > lim)
			chunk = lim;
	}
	x.chunk = chunk;
	x.slots = calloc((size_t)s->nch * x.depth, sizeof(*x.slots));
	x.busy = calloc((size_t)s->nch * x.depth, sizeof(*x.busy));
	if (write && fd < 0) {
		x.pattern = malloc(chunk);
		if (x.pattern)
			for (uint32_t i = 0; i < chunk; i++)
				x.pattern[i] = (uint8_t)(i * 7 + 3);
	}
	if (!x.slots || !x.busy || (write && fd < 0 && !x.pattern)) {
		x.err = -ENOMEM;
		goto out;
	}
	pump(&x);
	while ((x.done < size && !x.err) || x.inflight) {
		bool alive = false;
		for (int i = 0; i < s->nch; i++)
			alive |= !s->ch[i]->dead;
		if (!alive) {
			x.err = -ECONNRESET;
			break;
		}
		int rc = loop_once(s, 1000);
		if (rc) {
			x.err = rc;
			break;
		}
		pump(&x);
	}
out:
	free(x.slots);
	free(x.busy);
	free(x.retry);
	free(x.pattern);
	return x.err;
}

int xfer_get(struct session *s, const struct smb3c_fid *fid, uint64_t size, int fd, const struct xfer_opts *o)
{
	return xfer_run(s, fid, size, fd, false, o);
}

int xfer_put(struct session *s, const struct smb3c_fid *fid, uint64_t size, int fd, const struct xfer_opts *o)
{
	return xfer_run(s, fid, size, fd, true, o);
}
