/* Connection-oriented DCE/RPC ([C706] chapter 12, [MS-RPCE] 2.2.2) over a
 * named pipe: framing of the byte stream into PDUs, BIND / ALTER_CONTEXT
 * negotiation, REQUEST reassembly, RESPONSE fragmentation and FAULTs.
 *
 * Scope: NDR20, little-endian, no authentication (auth_length must be 0),
 * one call at a time (no PFC_CONC_MPX). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/ndr.h"
#include "rpc/rpc.h"

/* [C706] 12.6.4 PDU types */
enum {
	PT_REQUEST = 0, PT_RESPONSE = 2, PT_FAULT = 3, PT_BIND = 11, PT_BIND_ACK = 12,
	PT_BIND_NAK = 13, PT_ALTER_CONTEXT = 14, PT_ALTER_CONTEXT_RESP = 15,
	PT_AUTH3 = 16, PT_SHUTDOWN = 17, PT_CO_CANCEL = 18, PT_ORPHANED = 19,
};

/* [C706] 12.6.3.1 pfc_flags */
#define PFC_FIRST_FRAG      0x01
#define PFC_LAST_FRAG       0x02
#define PFC_DID_NOT_EXECUTE 0x20
#define PFC_OBJECT_UUID     0x80

#define HDR_LEN      16 /* common header */
#define REQ_HDR_LEN  24 /* + alloc_hint, p_cont_id, opnum */
#define RESP_HDR_LEN 24 /* + alloc_hint, p_cont_id, cancel_count, reserved */
#define FAULT_LEN    32
#define MIN_FRAG     64 /* smaller fragments could not carry 8-aligned stub data */
#define MAX_CTX      16

/* [C706] 12.6.3.1 p_cont_def_result_t, [MS-RPCE] 2.2.2.4 adds negotiate_ack */
enum { RES_ACCEPT = 0, RES_PROVIDER_REJECT = 2, RES_NEGOTIATE_ACK = 3 };
/* p_provider_reason_t */
enum { PR_ABSTRACT_NOT_SUPPORTED = 1, PR_TRANSFER_NOT_SUPPORTED = 2, PR_LOCAL_LIMIT = 3 };
/* p_reject_reason_t ([MS-RPCE] 2.2.2.5 adds 8) */
enum { NAK_NOT_SPECIFIED = 0, NAK_LOCAL_LIMIT = 2, NAK_PROTOCOL_VERSION = 4, NAK_AUTH_TYPE = 8 };

/* [MS-RPCE] 2.2.4.12 bind time feature negotiation bits */
#define BTFN_KEEP_CONNECTION_ON_ORPHAN 0x02

/* p_syntax_id_t: a UUID in NDR form (first three fields little-endian)
 * followed by version major (low 16 bits) and minor. */
struct syntax {
	uint8_t uuid[16];
	uint32_t version;
};

static const struct syntax ndr20 = { /* 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0 */
	{ 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 }, 2 };
/* 6cb71c2c-9812-4540-<8-byte feature bitmask>, [MS-RPCE] 3.3.1.5.3 */
static const uint8_t btfn_prefix[8] = { 0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45 };

struct iface {
	const char *name;
	const char *port; /* sec_addr of BIND_ACK, as Windows sends it */
	struct syntax syntax;
	rpc_call_fn call;
};

static const struct iface ifaces[] = {
	{ "srvsvc", "\\PIPE\\srvsvc", /* 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0 */
	  { { 0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 }, 3 },
	  rpc_srvsvc_call },
	{ "wkssvc", "\\PIPE\\wkssvc", /* 6bffd098-a112-3610-9833-46c3f87e345a v1.0 */
	  { { 0x98, 0xd0, 0xff, 0x6b, 0x12, 0xa1, 0x10, 0x36, 0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a }, 1 },
	  rpc_wkssvc_call },
	{ "lsarpc", "\\PIPE\\lsass", /* 12345778-1234-abcd-ef00-0123456789ab v0.0 */
	  { { 0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab }, 0 },
	  rpc_lsarpc_call },
};

struct out_pdu {
	struct out_pdu *next;
	size_t len, off;
	uint8_t data[];
};

struct rpc_pipe {
	const struct iface *iface;
	struct rpc_server_info info; /* deep copy; strings live in `copy` */
	void *copy;

	bool bound, broken;
	uint8_t minor;     /* rpc_vers_minor the client bound with */
	uint16_t frag;     /* negotiated fragment size for our PDUs */
	uint32_t assoc_group;
	uint16_t ctx_id[MAX_CTX];
	size_t n_ctx;

	/* the PDU being received */
	uint8_t in[RPC_MAX_FRAG];
	size_t in_len;

	/* the request being reassembled from fragments */
	bool in_call, call_too_big;
	uint32_t call_id;
	uint16_t call_ctx, call_opnum;
	uint8_t *req;
	size_t req_len, req_cap;

	/* responses not yet read, one message per PDU */
	struct out_pdu *out_head, *out_tail;
	size_t out_total;
};

/* ---- opening and the deep copy of the server info ---- */

static size_t str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *str_copy(char **pool, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = memcpy(*pool, s, n);
	*pool += n;
	return d;
}

static bool copy_info(struct rpc_pipe *p, const struct rpc_server_info *in)
{
	size_t sz = in->n_shares * sizeof(struct rpc_share);
	if (in->n_shares > SIZE_MAX / 2 / sizeof(struct rpc_share))
		return false;
	sz += str_size(in->netbios_name) + str_size(in->domain) + str_size(in->server_string);
	for (size_t i = 0; i < in->n_shares; i++)
		sz += str_size(in->shares[i].name) + str_size(in->shares[i].comment) +
		      str_size(in->shares[i].path);
	p->copy = malloc(sz ? sz : 1);
	if (!p->copy)
		return false;
	struct rpc_share *sh = p->copy;
	char *pool = (char *)(sh + in->n_shares);
	p->info = *in;
	p->info.shares = sh;
	p->info.netbios_name = str_copy(&pool, in->netbios_name);
	p->info.domain = str_copy(&pool, in->domain);
	p->info.server_string = str_copy(&pool, in->server_string);
	for (size_t i = 0; i < in->n_shares; i++) {
		sh[i].type = in->shares[i].type;
		sh[i].name = str_copy(&pool, in->shares[i].name);
		sh[i].comment = str_copy(&pool, in->shares[i].comment);
		sh[i].path = str_copy(&pool, in->shares[i].path);
	}
	return true;
}

struct rpc_pipe *rpc_pipe_open(const char *pipe_name, const struct rpc_server_info *info)
{
	if (!pipe_name || !info) {
		errno = ENOENT;
		return NULL;
	}
	if (strncasecmp(pipe_name, "\\PIPE\\", 6) == 0)
		pipe_name += 6;
	else if (pipe_name[0] == '\\')
		pipe_name++;
	const struct iface *ifc = NULL;
	for (size_t i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++)
		if (strcasecmp(pipe_name, ifaces[i].name) == 0)
			ifc = &ifaces[i];
	if (!ifc) {
		errno = ENOENT;
		return NULL;
	}
	struct rpc_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		goto fail_alloc;
	p->iface = ifc;
	if (!copy_info(p, info))
		goto fail_copy;
	return p;

fail_copy:
	free(p);
fail_alloc:
	errno = ENOMEM;
	return NULL;
}

static void reset_call(struct rpc_pipe *p)
{
	p->in_call = p->call_too_big = false;
	p->req_len = 0;
}

void rpc_pipe_close(struct rpc_pipe *p)
{
	if (!p)
		return;
	for (struct out_pdu *o = p->out_head, *next; o; o = next) {
		next = o->next;
		free(o);
	}
	free(p->req);
	free(p->copy);
	free(p);
}

/* ---- output queue ---- */

/* A new message of `len` bytes at the tail of the queue, or NULL. */
static uint8_t *queue_pdu(struct rpc_pipe *p, size_t len)
{
	if (len > RPC_MAX_PENDING_OUT - p->out_total)
		return NULL;
	struct out_pdu *o = malloc(sizeof(*o) + len);
	if (!o)
		return NULL;
	o->next = NULL;
	o->len = len;
	o->off = 0;
	if (p->out_tail)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	p->out_total += len;
	return o->data;
}

static int queue_copy(struct rpc_pipe *p, const uint8_t *pdu, size_t len)
{
	uint8_t *q = queue_pdu(p, len);
	if (!q)
		return -ENOBUFS;
	memcpy(q, pdu, len);
	return 0;
}

size_t rpc_pipe_pending(const struct rpc_pipe *p) { return p->out_total; }

size_t rpc_pipe_msg_pending(const struct rpc_pipe *p)
{
	return p->out_head ? p->out_head->len - p->out_head->off : 0;
}

size_t rpc_pipe_read(struct rpc_pipe *p, uint8_t *buf, size_t cap)
{
	struct out_pdu *o = p->out_head;
	if (!o)
		return 0;
	size_t n = o->len - o->off;
	if (n > cap)
		n = cap;
	if (n)
		memcpy(buf, o->data + o->off, n);
	o->off += n;
	p->out_total -= n;
	if (o->off == o->len) {
		p->out_head = o->next;
		if (!p->out_head)
			p->out_tail = NULL;
		free(o);
	}
	return n;
}

/* ---- PDU builders ---- */

/* [C706] 12.6.3.1: our PDUs are always little-endian, ASCII, IEEE. */
static void put_hdr(struct wr *w, uint8_t minor, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
	static const uint8_t drep[4] = { 0x10, 0, 0, 0 };
	wr_u8(w, 5);
	wr_u8(w, minor);
	wr_u8(w, ptype);
	wr_u8(w, flags);
	wr_bytes(w, drep, 4);
	wr_le16(w, 0); /* frag_length, patched by finish() */
	wr_le16(w, 0); /* auth_length */
	wr_le32(w, call_id);
}

static int finish(struct rpc_pipe *p, struct wr *w)
{
	if (!wr_ok(w) || wr_pos(w) > UINT16_MAX)
		return -ENOBUFS;
	put_le16(w->base + 8, (uint16_t)wr_pos(w));
	return queue_copy(p, w->base, wr_pos(w));
}

/* [C706] 12.6.4.7 fault PDU */
static int send_fault(struct rpc_pipe *p, uint32_t call_id, uint16_t ctx, uint32_t status, bool executed)
{
	uint8_t buf[FAULT_LEN];
	struct wr w = wr_init(buf, sizeof(buf));
	uint8_t flags = PFC_FIRST_FRAG | PFC_LAST_FRAG | (executed ? 0 : PFC_DID_NOT_EXECUTE);
	put_hdr(&w, p->minor, PT_FAULT, flags, call_id);
	wr_le32(&w, 0);   /* alloc_hint */
	wr_le16(&w, ctx);
	wr_u8(&w, 0);     /* cancel_count */
	wr_u8(&w, 0);     /* reserved */
	wr_le32(&w, status);
	wr_le32(&w, 0);   /* reserved: pads the body to 8 */
	reset_call(p);
	return finish(p, &w);
}

/* [C706] 12.6.4.4 bind_nak; we offer protocol 5.0 only. */
static int send_bind_nak(struct rpc_pipe *p, uint32_t call_id, uint16_t reason)
{
	uint8_t buf[24];
	struct wr w = wr_init(buf, sizeof(buf));
	put_hdr(&w, p->minor, PT_BIND_NAK, PFC_FIRST_FRAG | PFC_LAST_FRAG, call_id);
	wr_le16(&w, reason);
	wr_u8(&w, 1); /* n_protocols */
	wr_u8(&w, 5);
	wr_u8(&w, 0);
	wr_align(&w, 4);
	return finish(p, &w);
}

/* ---- BIND and ALTER_CONTEXT ---- */

struct ctx_result {
	uint16_t result, reason;
	bool ndr20;
};

static bool ctx_known(const struct rpc_pipe *p, uint16_t id)
{
	for (size_t i = 0; i < p->n_ctx; i++)
		if (p->ctx_id[i] == id)
			return true;
	return false;
}

static bool syntax_eq(const uint8_t *wire, const struct syntax *s, bool any_minor)
{
	uint32_t v = get_le32(wire + 16);
	/* [C706] 12.6.3.4 and 6.2.2: same major version, minor not newer than ours */
	bool ver_ok = any_minor ? (v & 0xffff) == (s->version & 0xffff) && (v >> 16) <= (s->version >> 16)
				: v == s->version;
	return memcmp(wire, s->uuid, 16) == 0 && ver_ok;
}

/* Decide one presentation context element ([C706] 12.6.3.1 p_cont_elem_t). */
static struct ctx_result eval_ctx(struct rpc_pipe *p, uint16_t id, const uint8_t *abstract,
				  const uint8_t *ts, uint8_t n_ts)
{
	struct ctx_result res = { RES_PROVIDER_REJECT, PR_TRANSFER_NOT_SUPPORTED, false };
	bool iface_ok = syntax_eq(abstract, &p->iface->syntax, true);
	bool has_ndr20 = false, has_btfn = false;
	uint16_t btfn = 0;
	for (uint8_t i = 0; i < n_ts; i++) {
		const uint8_t *t = ts + 20 * (size_t)i;
		if (syntax_eq(t, &ndr20, false))
			has_ndr20 = true;
		else if (memcmp(t, btfn_prefix, sizeof(btfn_prefix)) == 0) {
			has_btfn = true;
			btfn = get_le16(t + 8);
		}
		/* NDR64 (71710533-beba-4937-8319-b5dbef9ccc36) and all others
		 * fall through to a provider rejection. */
	}
	if (iface_ok && has_ndr20) {
		if (!ctx_known(p, id)) {
			if (p->n_ctx == MAX_CTX) {
				res.reason = PR_LOCAL_LIMIT;
				return res;
			}
			p->ctx_id[p->n_ctx++] = id;
		}
		res = (struct ctx_result){ RES_ACCEPT, 0, true };
	} else if (has_btfn) {
		/* [MS-RPCE] 3.3.1.5.3: answer negotiate_ack with the offered
		 * features we support in the reason field.  Without security
		 * contexts, multiplexing them (0x01) means nothing; keeping
		 * the connection on orphan (0x02) is what we do anyway. */
		res = (struct ctx_result){ RES_NEGOTIATE_ACK, btfn & BTFN_KEEP_CONNECTION_ON_ORPHAN, false };
	} else if (!iface_ok) {
		res.reason = PR_ABSTRACT_NOT_SUPPORTED;
	}
	return res;
}

/* Parse a bind / alter_context body ([C706] 12.6.4.3) and answer it with a
 * bind_ack / alter_context_resp.  Returns 1 when the body is malformed. */
static int answer_bind(struct rpc_pipe *p, const uint8_t *pdu, size_t len, uint32_t call_id, bool alter)
{
	struct rd r = rd_init(pdu, len);
	rd_skip(&r, HDR_LEN);
	uint16_t max_xmit = rd_le16(&r);
	uint16_t max_recv = rd_le16(&r);
	uint32_t assoc = rd_le32(&r);
	uint8_t n = rd_u8(&r);
	rd_skip(&r, 3);
	if (!rd_ok(&r) || n == 0)
		return 1;

	struct ctx_result res[255];
	uint16_t ids[255];
	const uint8_t *abstract[255], *ts[255];
	uint8_t n_ts[255];
	for (unsigned i = 0; i < n; i++) {
		ids[i] = rd_le16(&r);
		n_ts[i] = rd_u8(&r);
		rd_skip(&r, 1);
		abstract[i] = rd_ptr(&r, 20);
		ts[i] = rd_ptr(&r, 20 * (size_t)n_ts[i]);
		if (!rd_ok(&r))
			return 1;
	}

	if (!alter) {
		uint16_t frag = max_xmit < max_recv ? max_xmit : max_recv;
		if (frag < MIN_FRAG)
			return send_bind_nak(p, call_id, NAK_LOCAL_LIMIT);
		/* Our fragments fit both what the client may receive and what it
		 * sends: Windows sizes its replies by the client's max_xmit_frag. */
		p->frag = frag;
		/* No context handles are shared across connections, so any
		 * nonzero group id will do. */
		p->assoc_group = assoc ? assoc : 0x53f0;
		p->bound = true;
	}
	for (unsigned i = 0; i < n; i++)
		res[i] = eval_ctx(p, ids[i], abstract[i], ts[i], n_ts[i]);

	uint8_t buf[HDR_LEN + 8 + 2 + 32 + 4 + 4 + 24 * 255];
	struct wr w = wr_init(buf, sizeof(buf));
	put_hdr(&w, p->minor, alter ? PT_ALTER_CONTEXT_RESP : PT_BIND_ACK, PFC_FIRST_FRAG | PFC_LAST_FRAG, call_id);
	wr_le16(&w, p->frag);
	wr_le16(&w, p->frag);
	wr_le32(&w, p->assoc_group);
	/* port_any_t sec_addr: Windows names the pipe in a bind_ack and sends
	 * an empty one in an alter_context_resp. */
	const char *port = alter ? "" : p->iface->port;
	size_t plen = alter ? 0 : strlen(port) + 1;
	wr_le16(&w, (uint16_t)plen);
	wr_bytes(&w, port, plen);
	wr_align(&w, 4);
	wr_u8(&w, n);
	wr_zero(&w, 3);
	for (unsigned i = 0; i < n; i++) {
		wr_le16(&w, res[i].result);
		wr_le16(&w, res[i].reason);
		if (res[i].ndr20) {
			wr_bytes(&w, ndr20.uuid, 16);
			wr_le32(&w, ndr20.version);
		} else {
			wr_zero(&w, 20);
		}
	}
	return finish(p, &w);
}

/* ---- REQUEST ---- */

/* Run the reassembled call and queue its response fragments
 * ([C706] 12.6.4.10): each fragment's stub is 8-byte aligned in size
 * except the last, and alloc_hint counts the stub bytes still to come. */
static int run_call(struct rpc_pipe *p)
{
	uint32_t call_id = p->call_id;
	uint16_t ctx = p->call_ctx;
	if (!ctx_known(p, ctx))
		return send_fault(p, call_id, ctx, RPC_NCA_S_UNK_IF, false);
	struct ndr_out o;
	ndr_out_init(&o, RPC_MAX_REQUEST);
	/* An empty stub has no buffer; the cursor wants a real pointer. */
	static const uint8_t empty[1];
	const uint8_t *stub = p->req ? p->req : empty;
	uint32_t status = p->iface->call(&p->info, p->call_opnum, stub, p->req_len, &o);
	if (!status && o.err)
		status = RPC_NCA_S_FAULT_REMOTE_NO_MEMORY;
	if (status) {
		ndr_out_free(&o);
		return send_fault(p, call_id, ctx, status, false);
	}
	reset_call(p);

	size_t per = ((size_t)(p->frag - RESP_HDR_LEN) / 8) * 8;
	size_t off = 0;
	int rc = 0;
	do {
		size_t chunk = o.len - off < per ? o.len - off : per;
		uint8_t flags = (off == 0 ? PFC_FIRST_FRAG : 0) | (off + chunk == o.len ? PFC_LAST_FRAG : 0);
		uint8_t *q = queue_pdu(p, RESP_HDR_LEN + chunk);
		if (!q) {
			rc = -ENOBUFS;
			break;
		}
		struct wr w = wr_init(q, RESP_HDR_LEN + chunk);
		put_hdr(&w, p->minor, PT_RESPONSE, flags, call_id);
		put_le16(q + 8, (uint16_t)(RESP_HDR_LEN + chunk));
		wr_le32(&w, (uint32_t)(o.len - off)); /* alloc_hint */
		wr_le16(&w, ctx);
		wr_u8(&w, 0); /* cancel_count */
		wr_u8(&w, 0);
		wr_bytes(&w, o.buf + off, chunk);
		off += chunk;
	} while (off < o.len);
	ndr_out_free(&o);
	return rc;
}

static int handle_request(struct rpc_pipe *p, const uint8_t *pdu, size_t len, uint8_t flags, uint32_t call_id)
{
	struct rd r = rd_init(pdu, len);
	rd_skip(&r, HDR_LEN);
	(void)rd_le32(&r); /* alloc_hint: only a hint, never trusted for sizing */
	uint16_t ctx = rd_le16(&r);
	uint16_t opnum = rd_le16(&r);
	if (flags & PFC_OBJECT_UUID)
		rd_skip(&r, 16);
	if (!rd_ok(&r) || !p->bound)
		return send_fault(p, call_id, ctx, RPC_NCA_S_PROTO_ERROR, false);
	size_t stub_len = rd_left(&r);
	const uint8_t *stub = rd_ptr(&r, stub_len);

	if (flags & PFC_FIRST_FRAG) {
		/* A new call replaces one left half-sent (no PFC_CONC_MPX). */
		reset_call(p);
		p->in_call = true;
		p->call_id = call_id;
		p->call_ctx = ctx;
		p->call_opnum = opnum;
	} else if (!p->in_call || call_id != p->call_id) {
		return send_fault(p, call_id, ctx, RPC_NCA_S_PROTO_ERROR, false);
	}

	if (!p->call_too_big && stub_len > RPC_MAX_REQUEST - p->req_len)
		p->call_too_big = true; /* keep swallowing fragments until the last */
	if (!p->call_too_big && stub_len) {
		if (p->req_len + stub_len > p->req_cap) {
			size_t cap = p->req_cap ? p->req_cap : 4096;
			while (cap < p->req_len + stub_len)
				cap *= 2;
			uint8_t *nb = realloc(p->req, cap);
			if (!nb)
				return send_fault(p, call_id, ctx, RPC_NCA_S_FAULT_REMOTE_NO_MEMORY, false);
			p->req = nb;
			p->req_cap = cap;
		}
		memcpy(p->req + p->req_len, stub, stub_len);
		p->req_len += stub_len;
	}
	if (!(flags & PFC_LAST_FRAG))
		return 0;
	if (p->call_too_big)
		return send_fault(p, call_id, ctx, RPC_NCA_S_FAULT_REMOTE_NO_MEMORY, false);
	return run_call(p);
}

/* ---- one complete PDU ---- */

static int process_pdu(struct rpc_pipe *p, const uint8_t *pdu, size_t len)
{
	struct rd r = rd_init(pdu, len);
	uint8_t vers = rd_u8(&r), minor = rd_u8(&r), ptype = rd_u8(&r), flags = rd_u8(&r);
	uint8_t drep0 = rd_u8(&r);
	rd_skip(&r, 3 + 2);
	uint16_t auth_len = rd_le16(&r);
	uint32_t call_id = rd_le32(&r);
	if (!p->bound)
		p->minor = minor <= 1 ? minor : 0;
	bool version_ok = vers == 5 && minor <= 1;
	/* [C706] 14.1: integer representation in the high nibble of drep[0];
	 * only little-endian (1) is supported. */
	bool le = (drep0 >> 4) == 1;

	switch (ptype) {
	case PT_BIND:
		if (!version_ok)
			return send_bind_nak(p, call_id, NAK_PROTOCOL_VERSION);
		if (auth_len)
			return send_bind_nak(p, call_id, NAK_AUTH_TYPE);
		/* [C706] 12.4.1: a second bind on an association is a protocol error. */
		if (!le || p->bound)
			return send_bind_nak(p, call_id, NAK_NOT_SPECIFIED);
		if (answer_bind(p, pdu, len, call_id, false) == 1)
			return send_bind_nak(p, call_id, NAK_NOT_SPECIFIED);
		return 0;
	case PT_ALTER_CONTEXT:
	case PT_REQUEST:
		if (!version_ok || !le)
			return send_fault(p, call_id, 0, RPC_NCA_S_PROTO_ERROR, false);
		if (auth_len)
			return send_fault(p, call_id, 0, RPC_S_ACCESS_DENIED, false);
		if (ptype == PT_REQUEST)
			return handle_request(p, pdu, len, flags, call_id);
		if (!p->bound || answer_bind(p, pdu, len, call_id, true) == 1)
			return send_fault(p, call_id, 0, RPC_NCA_S_PROTO_ERROR, false);
		return 0;
	case PT_ORPHANED:
	case PT_CO_CANCEL:
		/* [C706] 12.4.4: the client gave up on the call; no reply. */
		if (ptype == PT_ORPHANED && p->in_call && call_id == p->call_id)
			reset_call(p);
		return 0;
	case PT_AUTH3:
	case PT_SHUTDOWN:
		return 0; /* never answered */
	default:
		return send_fault(p, call_id, 0, RPC_NCA_S_PROTO_ERROR, false);
	}
}

/* frag_length is in the sender's integer representation ([C706] 12.6.3.1). */
static size_t frag_length(const uint8_t *hdr)
{
	if ((hdr[4] >> 4) == 1)
		return get_le16(hdr + 8);
	return (size_t)hdr[8] << 8 | hdr[9];
}

int rpc_pipe_write(struct rpc_pipe *p, const uint8_t *data, size_t len)
{
	if (p->broken || len > INT_MAX)
		return -EINVAL;
	size_t off = 0;
	while (off < len) {
		size_t want = p->in_len < HDR_LEN ? HDR_LEN : frag_length(p->in);
		size_t take = want - p->in_len < len - off ? want - p->in_len : len - off;
		memcpy(p->in + p->in_len, data + off, take);
		p->in_len += take;
		off += take;
		if (p->in_len < HDR_LEN)
			continue;
		size_t fl = frag_length(p->in);
		if (fl < HDR_LEN) {
			/* No way to find the next PDU boundary. */
			p->broken = true;
			return -EINVAL;
		}
		if (p->in_len < fl)
			continue;
		int rc = process_pdu(p, p->in, fl);
		p->in_len = 0;
		if (rc < 0) {
			/* A response was lost: the stream can no longer be trusted. */
			p->broken = true;
			return rc;
		}
	}
	return (int)len;
}

int rpc_pipe_transceive(struct rpc_pipe *p, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t cap, size_t *out_len, bool *more)
{
	int rc = rpc_pipe_write(p, in, in_len);
	if (rc < 0)
		return rc;
	size_t msg = rpc_pipe_msg_pending(p);
	*out_len = rpc_pipe_read(p, out, cap);
	*more = *out_len < msg;
	return 0;
}
