/* Unit tests for src/rpc: DCE/RPC framing, bind, fragmentation, faults and
 * the srvsvc / wkssvc calls.  Requests are built byte by byte as a client
 * would; responses are decoded by the small NDR reader below, which is
 * independent of src/rpc/ndr.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "rpc/rpc.h"
#include "wire/cursor.h"

/* ---------------------------------------------------------------- fixtures */

static const struct rpc_share base_shares[] = {
	{ "data", RPC_STYPE_DISKTREE, "Team data", "/srv/data" },
	{ "public", RPC_STYPE_DISKTREE, NULL, "/srv/public" },
	{ "IPC$", RPC_STYPE_IPC | RPC_STYPE_SPECIAL, "IPC Service", NULL },
};

static const struct rpc_server_info base_info = {
	"SMB3D", "WORKGROUP", "smb3d server", base_shares, 3,
	RPC_PLATFORM_ID_NT, 6, 1, RPC_SV_TYPE_WORKSTATION | RPC_SV_TYPE_SERVER | RPC_SV_TYPE_SERVER_NT,
};

static const uint8_t SRVSVC_UUID[16] = { 0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
					 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 };
static const uint8_t WKSSVC_UUID[16] = { 0x98, 0xd0, 0xff, 0x6b, 0x12, 0xa1, 0x10, 0x36,
					 0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a };
static const uint8_t NDR20_UUID[16] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
					0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };
static const uint8_t NDR64_UUID[16] = { 0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49,
					0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36 };
/* bind time feature negotiation, bitmask 0x03 */
static const uint8_t BTFN_UUID[16] = { 0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45,
				       0x03, 0, 0, 0, 0, 0, 0, 0 };

/* NetrShareEnum level 1 and NetrShareGetInfo("data", 2) stubs as impacket
 * marshals them (random referent ids, 0xbf padding). */
static const char impacket_enum_hex[] =
	"bdc900000600000000000000060000005c005c00730072007600000001000000010000001e76"
	"00000000000000000000ffffffff00000000";
static const char impacket_getinfo_hex[] =
	"bfe300000600000000000000060000005c005c00730072007600000005000000000000000500"
	"000064006100740061000000bfbf02000000";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ------------------------------------------------------- request builders */

static void hdr(struct wr *w, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
	static const uint8_t drep[4] = { 0x10, 0, 0, 0 };
	wr_u8(w, 5);
	wr_u8(w, 0);
	wr_u8(w, ptype);
	wr_u8(w, flags);
	wr_bytes(w, drep, 4);
	wr_le16(w, 0);
	wr_le16(w, 0);
	wr_le32(w, call_id);
}

static size_t fin(struct wr *w)
{
	assert_true(wr_ok(w));
	put_le16(w->base + 8, (uint16_t)wr_pos(w));
	return wr_pos(w);
}

struct ctx_elem {
	uint16_t id;
	const uint8_t *abstract;
	uint32_t abstract_ver;
	const uint8_t *ts;
	uint32_t ts_ver;
};

static size_t build_bind(uint8_t *buf, size_t cap, uint8_t ptype, uint16_t xmit, uint16_t recv,
			 const struct ctx_elem *c, size_t n)
{
	struct wr w = wr_init(buf, cap);
	hdr(&w, ptype, 3, 1);
	wr_le16(&w, xmit);
	wr_le16(&w, recv);
	wr_le32(&w, 0);
	wr_u8(&w, (uint8_t)n);
	wr_zero(&w, 3);
	for (size_t i = 0; i < n; i++) {
		wr_le16(&w, c[i].id);
		wr_u8(&w, 1);
		wr_u8(&w, 0);
		wr_bytes(&w, c[i].abstract, 16);
		wr_le32(&w, c[i].abstract_ver);
		wr_bytes(&w, c[i].ts, 16);
		wr_le32(&w, c[i].ts_ver);
	}
	return fin(&w);
}

static size_t simple_bind(uint8_t *buf, size_t cap, const uint8_t *iface, uint32_t ver, uint16_t frag)
{
	struct ctx_elem c = { 0, iface, ver, NDR20_UUID, 2 };
	return build_bind(buf, cap, 11, frag, frag, &c, 1);
}

static size_t build_request(uint8_t *buf, size_t cap, uint8_t flags, uint32_t call_id, uint16_t ctx,
			    uint16_t opnum, const uint8_t *stub, size_t stub_len)
{
	struct wr w = wr_init(buf, cap);
	hdr(&w, 0, flags, call_id);
	wr_le32(&w, (uint32_t)stub_len);
	wr_le16(&w, ctx);
	wr_le16(&w, opnum);
	wr_bytes(&w, stub, stub_len);
	return fin(&w);
}

/* NDR writer for stubs (aligned relative to the stub start). */
static void s_u32(struct wr *w, uint32_t v) { wr_align(w, 4); wr_le32(w, v); }
static void s_str(struct wr *w, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	s_u32(w, n);
	s_u32(w, 0);
	s_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		wr_le16(w, (uint8_t)s[i]);
}

/* NetrShareEnum: ServerName, InfoStruct{Level, union, container*},
 * PreferedMaximumLength, ResumeHandle*. */
static size_t enum_stub(uint8_t *buf, size_t cap, uint32_t level, uint32_t prefmax, bool resume_ptr, uint32_t resume)
{
	struct wr w = wr_init(buf, cap);
	s_u32(&w, 0x00020000);
	s_str(&w, "\\\\SMB3D");
	s_u32(&w, level);
	s_u32(&w, level);
	s_u32(&w, 0x00020004); /* container */
	s_u32(&w, 0);          /* EntriesRead */
	s_u32(&w, 0);          /* Buffer: NULL */
	s_u32(&w, prefmax);
	s_u32(&w, resume_ptr ? 0x00020008 : 0);
	if (resume_ptr)
		s_u32(&w, resume);
	assert_true(wr_ok(&w));
	return wr_pos(&w);
}

/* ------------------------------------------------------- response readers */

struct pdu {
	uint8_t ptype, flags;
	uint32_t call_id;
	const uint8_t *p;
	size_t len;
};

static uint8_t outbuf[1 << 20];
static size_t outlen;

/* Read everything pending, one message at a time, and split it. */
static size_t drain(struct rpc_pipe *p, struct pdu *pdus, size_t max)
{
	outlen = 0;
	size_t n = 0;
	while (rpc_pipe_pending(p)) {
		size_t msg = rpc_pipe_msg_pending(p);
		size_t got = rpc_pipe_read(p, outbuf + outlen, sizeof(outbuf) - outlen);
		assert_int_equal(got, msg); /* one read, one PDU */
		assert_true(got >= 16);
		assert_int_equal(get_le16(outbuf + outlen + 8), got);
		assert_true(n < max);
		pdus[n++] = (struct pdu){ outbuf[outlen + 2], outbuf[outlen + 3], get_le32(outbuf + outlen + 12),
					  outbuf + outlen, got };
		outlen += got;
	}
	return n;
}

static uint32_t fault_status(const struct pdu *d)
{
	assert_int_equal(d->ptype, 3);
	assert_int_equal(d->len, 32);
	return get_le32(d->p + 24);
}

/* Reassemble the stub of a fragmented response. */
static uint8_t stub_buf[1 << 20];
static size_t response_stub(const struct pdu *d, size_t n, size_t max_frag)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(d[i].ptype, 2);
		assert_true(d[i].len <= max_frag);
		assert_int_equal(!!(d[i].flags & 1), i == 0);
		assert_int_equal(!!(d[i].flags & 2), i == n - 1);
		size_t chunk = d[i].len - 24;
		if (i != n - 1)
			assert_int_equal(chunk % 8, 0);
		memcpy(stub_buf + len, d[i].p + 24, chunk);
		len += chunk;
	}
	/* alloc_hint of each fragment counts the stub bytes from there on */
	size_t left = len;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(get_le32(d[i].p + 16), left);
		left -= d[i].len - 24;
	}
	return len;
}

/* A small NDR reader. */
struct tr {
	const uint8_t *b;
	size_t len, pos;
};

static uint32_t t_u32(struct tr *t)
{
	t->pos = (t->pos + 3) & ~(size_t)3;
	assert_true(t->pos + 4 <= t->len);
	uint32_t v = get_le32(t->b + t->pos);
	t->pos += 4;
	return v;
}

/* A conformant varying wchar string, returned as ASCII. */
static void t_str(struct tr *t, char *out, size_t cap)
{
	uint32_t max = t_u32(t), off = t_u32(t), act = t_u32(t);
	assert_int_equal(off, 0);
	assert_int_equal(max, act);
	assert_true(act >= 1 && act <= cap);
	assert_true(t->pos + 2 * act <= t->len);
	for (uint32_t i = 0; i < act; i++)
		out[i] = (char)get_le16(t->b + t->pos + 2 * i);
	assert_int_equal(out[act - 1], 0);
	t->pos += 2 * act;
}

/* ------------------------------------------------------------ test helpers */

static uint8_t reqbuf[1 << 16];
static struct pdu pdus[4096];

static struct rpc_pipe *bound_pipe(const char *name, const struct rpc_server_info *info, uint16_t frag)
{
	struct rpc_pipe *p = rpc_pipe_open(name, info);
	assert_non_null(p);
	bool wk = strstr(name, "wks") || strstr(name, "WKS");
	size_t n = simple_bind(reqbuf, sizeof(reqbuf), wk ? WKSSVC_UUID : SRVSVC_UUID, wk ? 1 : 3, frag);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 12);
	assert_int_equal(get_le16(pdus[0].p + 44), 0); /* accepted */
	return p;
}

static size_t call(struct rpc_pipe *p, uint16_t opnum, const uint8_t *stub, size_t stub_len)
{
	size_t n = build_request(reqbuf, sizeof(reqbuf), 3, 7, 0, opnum, stub, stub_len);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	return drain(p, pdus, 4096);
}

struct enum_entry {
	char name[64], comment[64];
	uint32_t type;
};

/* Decode a level-1 NetrShareEnum response stub. */
static void decode_enum1(const uint8_t *b, size_t len, struct enum_entry *e, uint32_t *count,
			 uint32_t *total, uint32_t *resume, uint32_t *status)
{
	struct tr t = { b, len, 0 };
	assert_int_equal(t_u32(&t), 1);
	assert_int_equal(t_u32(&t), 1);
	assert_int_not_equal(t_u32(&t), 0);
	*count = t_u32(&t);
	uint32_t bufp = t_u32(&t);
	if (*count) {
		assert_int_not_equal(bufp, 0);
		assert_int_equal(t_u32(&t), *count);
		uint32_t ptrs[256][2];
		assert_true(*count <= 256);
		for (uint32_t i = 0; i < *count; i++) {
			ptrs[i][0] = t_u32(&t);
			e[i].type = t_u32(&t);
			ptrs[i][1] = t_u32(&t);
		}
		for (uint32_t i = 0; i < *count; i++) {
			assert_int_not_equal(ptrs[i][0], 0);
			t_str(&t, e[i].name, sizeof(e[i].name));
			assert_int_not_equal(ptrs[i][1], 0);
			t_str(&t, e[i].comment, sizeof(e[i].comment));
		}
	}
	*total = t_u32(&t);
	*resume = t_u32(&t) ? t_u32(&t) : UINT32_MAX;
	*status = t_u32(&t);
	assert_int_equal(t.pos, len);
}

/* ------------------------------------------------------------------ tests */

static void test_open_names(void **state)
{
	const char *ok[] = { "srvsvc", "SRVSVC", "\\PIPE\\srvsvc", "\\pipe\\SrvSvc", "wkssvc", "\\PIPE\\WKSSVC" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct rpc_pipe *p = rpc_pipe_open(ok[i], &base_info);
		assert_non_null(p);
		assert_int_equal(rpc_pipe_pending(p), 0);
		rpc_pipe_close(p);
	}
	assert_null(rpc_pipe_open("\\PIPE\\samr", &base_info));
	assert_null(rpc_pipe_open("srvsvcx", &base_info));
}

static void test_bind_ack(void **state)
{
	struct rpc_pipe *p = rpc_pipe_open("\\PIPE\\srvsvc", &base_info);
	struct ctx_elem c[] = {
		{ 0, SRVSVC_UUID, 3, NDR20_UUID, 2 },
		{ 1, SRVSVC_UUID, 3, NDR64_UUID, 1 },
		{ 2, SRVSVC_UUID, 3, BTFN_UUID, 1 },
		{ 3, WKSSVC_UUID, 1, NDR20_UUID, 2 },
	};
	size_t n = build_bind(reqbuf, sizeof(reqbuf), 11, 4280, 4280, c, 4);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	const uint8_t *b = pdus[0].p;
	assert_int_equal(pdus[0].ptype, 12);
	assert_int_equal(pdus[0].flags, 3);
	assert_int_equal(b[4], 0x10);
	assert_int_equal(pdus[0].call_id, 1);
	assert_int_equal(get_le16(b + 16), 4280);
	assert_int_equal(get_le16(b + 18), 4280);
	assert_int_not_equal(get_le32(b + 20), 0);
	assert_int_equal(get_le16(b + 24), 13);
	assert_memory_equal(b + 26, "\\PIPE\\srvsvc", 13);
	/* 26 + 13 = 39, padded to 40 */
	assert_int_equal(b[40], 4);
	const uint8_t *r = b + 44;
	assert_int_equal(get_le16(r), 0);
	assert_memory_equal(r + 4, NDR20_UUID, 16);
	assert_int_equal(get_le32(r + 20), 2);
	assert_int_equal(get_le16(r + 24), 2); /* provider rejection */
	assert_int_equal(get_le16(r + 26), 2); /* proposed transfer syntaxes not supported */
	assert_int_equal(get_le16(r + 48), 3); /* negotiate_ack */
	assert_int_equal(get_le16(r + 50), 2); /* keep connection on orphan only */
	assert_int_equal(get_le16(r + 72), 2);
	assert_int_equal(get_le16(r + 74), 1); /* abstract syntax not supported */
	assert_int_equal(pdus[0].len, 44 + 4 * 24);

	/* a second bind is refused */
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 13);
	rpc_pipe_close(p);
}

/* lsarpc binds as on Windows (smbtorture's smb2.credits ipc tests bind it
 * with NDR, NDR64 and bind time feature negotiation) and faults every call. */
static void test_lsarpc_bind_only(void **state)
{
	static const uint8_t LSARPC_UUID[16] = { 0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab,
						 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };
	struct rpc_pipe *p = rpc_pipe_open("\\PIPE\\LSARPC", &base_info);
	assert_non_null(p);
	struct ctx_elem c[] = {
		{ 0, LSARPC_UUID, 0, NDR20_UUID, 2 },
		{ 1, LSARPC_UUID, 0, NDR64_UUID, 1 },
		{ 2, LSARPC_UUID, 0, BTFN_UUID, 1 },
	};
	size_t n = build_bind(reqbuf, sizeof(reqbuf), 11, 4280, 4280, c, 3);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	const uint8_t *b = pdus[0].p;
	assert_int_equal(pdus[0].ptype, 12);
	assert_int_equal(get_le16(b + 24), 12);
	assert_memory_equal(b + 26, "\\PIPE\\lsass", 12);
	/* 26 + 12 = 38, padded to 40 */
	assert_int_equal(b[40], 3);
	assert_int_equal(get_le16(b + 44), 0);      /* NDR accepted */
	assert_int_equal(get_le16(b + 44 + 24), 2); /* NDR64 refused */
	assert_int_equal(get_le16(b + 44 + 48), 3); /* negotiate_ack */
	uint8_t stub[8] = { 0 };
	for (uint16_t op = 0; op < 80; op += 44) { /* LsarClose, LsarOpenPolicy2 */
		assert_int_equal(call(p, op, stub, sizeof(stub)), 1);
		assert_int_equal(fault_status(&pdus[0]), 0x1c010002);
		assert_true(pdus[0].flags & 0x20); /* did not execute */
	}
	rpc_pipe_close(p);
	/* srvsvc's syntax on the lsarpc pipe is refused */
	p = rpc_pipe_open("lsarpc", &base_info);
	n = simple_bind(reqbuf, sizeof(reqbuf), SRVSVC_UUID, 3, 4280);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(get_le16(pdus[0].p + 44), 2);
	rpc_pipe_close(p);
}

static void test_bind_nak(void **state)
{
	struct rpc_pipe *p = rpc_pipe_open("srvsvc", &base_info);
	size_t n = simple_bind(reqbuf, sizeof(reqbuf), SRVSVC_UUID, 3, 4280);
	put_le16(reqbuf + 10, 8); /* auth_length */
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 13);
	assert_int_equal(get_le16(pdus[0].p + 16), 8);
	/* wrong major version */
	n = simple_bind(reqbuf, sizeof(reqbuf), SRVSVC_UUID, 3, 4280);
	reqbuf[0] = 4;
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 13);
	assert_int_equal(get_le16(pdus[0].p + 16), 4);
	assert_int_equal(pdus[0].p[18], 1);
	assert_int_equal(pdus[0].p[19], 5);
	/* big-endian data representation */
	n = simple_bind(reqbuf, sizeof(reqbuf), SRVSVC_UUID, 3, 4280);
	reqbuf[4] = 0x00;
	reqbuf[8] = (uint8_t)(n >> 8);
	reqbuf[9] = (uint8_t)n;
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 13);
	/* truncated context list */
	n = simple_bind(reqbuf, sizeof(reqbuf), SRVSVC_UUID, 3, 4280);
	put_le16(reqbuf + 8, (uint16_t)(n - 4));
	assert_int_equal(rpc_pipe_write(p, reqbuf, n - 4), (int)n - 4);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 13);
	rpc_pipe_close(p);
}

static void check_enum_base(const uint8_t *stub, size_t len)
{
	struct enum_entry e[3];
	uint32_t count, total, resume, status;
	decode_enum1(stub, len, e, &count, &total, &resume, &status);
	assert_int_equal(count, 3);
	assert_int_equal(total, 3);
	assert_int_equal(status, 0);
	assert_string_equal(e[0].name, "data");
	assert_string_equal(e[0].comment, "Team data");
	assert_int_equal(e[0].type, 0);
	assert_string_equal(e[1].name, "public");
	assert_string_equal(e[1].comment, "");
	assert_string_equal(e[2].name, "IPC$");
	assert_int_equal(e[2].type, 0x80000003u);
}

static void test_share_enum_level1(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[256];
	size_t sl = enum_stub(stub, sizeof(stub), 1, UINT32_MAX, true, 0);
	size_t n = call(p, 15, stub, sl);
	assert_int_equal(n, 1);
	assert_int_equal(pdus[0].call_id, 7);
	size_t len = response_stub(pdus, n, 4280);
	check_enum_base(stub_buf, len);

	/* the same call as impacket marshals it (ResumeHandle NULL) */
	sl = unhex(impacket_enum_hex, stub);
	n = call(p, 15, stub, sl);
	len = response_stub(pdus, n, 4280);
	struct enum_entry e[3];
	uint32_t count, total, resume, status;
	decode_enum1(stub_buf, len, e, &count, &total, &resume, &status);
	assert_int_equal(count, 3);
	assert_int_equal(resume, UINT32_MAX); /* NULL pointer echoed */
	rpc_pipe_close(p);
}

static void test_share_enum_levels(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[256];
	static const uint32_t levels[] = { 0, 2, 501, 502 };
	static const uint32_t nfields[] = { 1, 8, 4, 10 };
	for (size_t k = 0; k < 4; k++) {
		size_t sl = enum_stub(stub, sizeof(stub), levels[k], UINT32_MAX, true, 0);
		size_t n = call(p, 15, stub, sl);
		size_t len = response_stub(pdus, n, 4280);
		struct tr t = { stub_buf, len, 0 };
		assert_int_equal(t_u32(&t), levels[k]);
		assert_int_equal(t_u32(&t), levels[k]);
		assert_int_not_equal(t_u32(&t), 0);
		assert_int_equal(t_u32(&t), 3);
		assert_int_not_equal(t_u32(&t), 0);
		assert_int_equal(t_u32(&t), 3);
		uint32_t f[3][10];
		for (int i = 0; i < 3; i++)
			for (uint32_t j = 0; j < nfields[k]; j++)
				f[i][j] = t_u32(&t);
		char s[64];
		/* pointer fields are 0,2,6,7 (string) and 9 (security descriptor) */
		for (int i = 0; i < 3; i++)
			for (uint32_t j = 0; j < nfields[k]; j++) {
				bool is_ptr = j == 0 || j == 2 || ((levels[k] == 2 || levels[k] == 502) && (j == 6 || j == 7 || j == 9));
				if (!is_ptr || !f[i][j])
					continue;
				t_str(&t, s, sizeof(s));
				if (j == 0)
					assert_string_equal(s, base_shares[i].name);
				if (j == 6)
					assert_string_equal(s, base_shares[i].path ? base_shares[i].path : "");
			}
		if (levels[k] == 2 || levels[k] == 502) {
			assert_int_equal(f[0][4], UINT32_MAX);
			assert_int_equal(f[0][7], 0); /* no password */
		}
		assert_int_equal(t_u32(&t), 3);
		assert_int_not_equal(t_u32(&t), 0);
		assert_int_equal(t_u32(&t), 0);
		assert_int_equal(t_u32(&t), 0);
		assert_int_equal(t.pos, len);
	}
	/* 503 is a union arm we do not serve: ERROR_INVALID_LEVEL */
	size_t sl = enum_stub(stub, sizeof(stub), 503, UINT32_MAX, false, 0);
	size_t n = call(p, 15, stub, sl);
	size_t len = response_stub(pdus, n, 4280);
	struct tr t = { stub_buf, len, 0 };
	assert_int_equal(t_u32(&t), 503);
	assert_int_equal(t_u32(&t), 503);
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 124);
	/* 7 is no arm at all: the request cannot be unmarshalled */
	sl = enum_stub(stub, sizeof(stub), 7, UINT32_MAX, false, 0);
	n = call(p, 15, stub, sl);
	assert_int_equal(n, 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c000006);
	rpc_pipe_close(p);
}

static void test_share_enum_resume(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[256];
	struct enum_entry e[3];
	uint32_t count, total, resume = 0, status;
	const char *want[] = { "data", "public", "IPC$" };
	for (int i = 0; i < 3; i++) {
		size_t sl = enum_stub(stub, sizeof(stub), 1, 1, true, resume);
		size_t n = call(p, 15, stub, sl);
		size_t len = response_stub(pdus, n, 4280);
		decode_enum1(stub_buf, len, e, &count, &total, &resume, &status);
		assert_int_equal(count, 1);
		assert_int_equal(total, 3);
		assert_string_equal(e[0].name, want[i]);
		assert_int_equal(status, i < 2 ? 234 : 0);
		assert_int_equal(resume, i < 2 ? (uint32_t)i + 1 : 0);
	}
	rpc_pipe_close(p);
}

static void test_fragmented_response(void **state)
{
	struct rpc_share *sh = calloc(100, sizeof(*sh));
	char (*names)[32] = calloc(100, 32);
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], 32, "share%03d", i);
		sh[i] = (struct rpc_share){ names[i], 0, "a comment for this share", "/srv" };
	}
	struct rpc_server_info info = base_info;
	info.shares = sh;
	info.n_shares = 100;
	struct rpc_pipe *p = bound_pipe("srvsvc", &info, 1024);
	/* deep copy: the caller's memory may go */
	memset(names, 'x', 100 * 32);
	free(names);
	free(sh);

	uint8_t stub[256];
	size_t sl = enum_stub(stub, sizeof(stub), 1, UINT32_MAX, true, 0);
	size_t n = call(p, 15, stub, sl);
	assert_true(n > 5);
	size_t len = response_stub(pdus, n, 1024);
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(pdus[i].len, 1024);
	struct enum_entry e[100];
	uint32_t count, total, resume, status;
	decode_enum1(stub_buf, len, e, &count, &total, &resume, &status);
	assert_int_equal(count, 100);
	assert_int_equal(total, 100);
	assert_string_equal(e[57].name, "share057");
	assert_string_equal(e[99].comment, "a comment for this share");

	/* reading with a small buffer keeps PDU boundaries */
	size_t rl = build_request(reqbuf, sizeof(reqbuf), 3, 9, 0, 15, stub, sl);
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	size_t total_bytes = rpc_pipe_pending(p), got = 0, pdus_seen = 0;
	uint8_t piece[100];
	while (rpc_pipe_pending(p)) {
		size_t msg = rpc_pipe_msg_pending(p);
		assert_true(msg >= 24);
		size_t taken = 0;
		while (taken < msg) {
			size_t r = rpc_pipe_read(p, piece, sizeof(piece));
			assert_int_equal(r, msg - taken < sizeof(piece) ? msg - taken : sizeof(piece));
			if (taken == 0)
				assert_int_equal(get_le16(piece + 8), msg);
			taken += r;
		}
		got += taken;
		pdus_seen++;
	}
	assert_int_equal(got, total_bytes);
	assert_int_equal(pdus_seen, n);
	rpc_pipe_close(p);
}

static void test_fragmented_request(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[256], all[1024];
	size_t sl = enum_stub(stub, sizeof(stub), 1, UINT32_MAX, true, 0);
	/* three fragments, all written in one go */
	size_t off = 0, a = 0;
	while (off < sl) {
		size_t chunk = sl - off > 16 ? 16 : sl - off;
		uint8_t flags = (off == 0 ? 1 : 0) | (off + chunk == sl ? 2 : 0);
		a += build_request(all + a, sizeof(all) - a, flags, 11, 0, 15, stub + off, chunk);
		off += chunk;
	}
	assert_int_equal(rpc_pipe_write(p, all, a), (int)a);
	size_t n = drain(p, pdus, 8);
	assert_int_equal(n, 1);
	assert_int_equal(pdus[0].call_id, 11);
	check_enum_base(stub_buf, response_stub(pdus, n, 4280));

	/* byte by byte gives the same bytes */
	uint8_t first[4096];
	memcpy(first, outbuf, outlen);
	size_t first_len = outlen;
	for (size_t i = 0; i < a; i++)
		assert_int_equal(rpc_pipe_write(p, all + i, 1), 1);
	drain(p, pdus, 8);
	assert_int_equal(outlen, first_len);
	assert_memory_equal(outbuf, first, first_len);

	/* a middle fragment of another call is a protocol error */
	size_t rl = build_request(reqbuf, sizeof(reqbuf), 0, 99, 0, 15, stub, 8);
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c01000b);
	rpc_pipe_close(p);
}

static void test_faults(void **state)
{
	uint8_t stub[256];
	size_t sl = enum_stub(stub, sizeof(stub), 1, UINT32_MAX, true, 0);

	/* request before bind */
	struct rpc_pipe *p = rpc_pipe_open("srvsvc", &base_info);
	size_t rl = build_request(reqbuf, sizeof(reqbuf), 3, 5, 0, 15, stub, sl);
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c01000b);
	assert_int_equal(pdus[0].call_id, 5);
	rpc_pipe_close(p);

	p = bound_pipe("srvsvc", &base_info, 4280);
	/* unknown opnum */
	assert_int_equal(call(p, 99, stub, sl), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c010002);
	assert_true(pdus[0].flags & 0x20); /* did not execute */
	/* an empty stub (no request buffer was ever allocated) */
	assert_int_equal(call(p, 15, stub, 0), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x6f7);
	/* bad NDR: the stub ends early */
	assert_int_equal(call(p, 15, stub, sl - 6), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x6f7);
	/* bad NDR: a string whose actual_count exceeds max_count */
	uint8_t bad[256];
	memcpy(bad, stub, sl);
	put_le32(bad + 12, 100);
	assert_int_equal(call(p, 15, bad, sl), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x6f7);
	/* unknown presentation context */
	rl = build_request(reqbuf, sizeof(reqbuf), 3, 6, 9, 15, stub, sl);
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c010003);
	assert_int_equal(get_le16(pdus[0].p + 20), 9);
	/* auth_length on a request */
	rl = build_request(reqbuf, sizeof(reqbuf), 3, 6, 0, 15, stub, sl);
	put_le16(reqbuf + 10, 16);
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 5);
	/* big-endian request */
	rl = build_request(reqbuf, sizeof(reqbuf), 3, 6, 0, 15, stub, sl);
	reqbuf[4] = 0;
	reqbuf[8] = (uint8_t)(rl >> 8);
	reqbuf[9] = (uint8_t)rl;
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 3);
	/* a server-only PDU type from the client */
	rl = build_request(reqbuf, sizeof(reqbuf), 3, 6, 0, 15, stub, sl);
	reqbuf[2] = 12;
	assert_int_equal(rpc_pipe_write(p, reqbuf, rl), (int)rl);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c01000b);
	/* the pipe still works */
	assert_int_equal(call(p, 15, stub, sl), 1);
	check_enum_base(stub_buf, response_stub(pdus, 1, 4280));
	/* frag_length below the header breaks the stream for good */
	memset(reqbuf, 0, 16);
	reqbuf[0] = 5;
	reqbuf[4] = 0x10;
	put_le16(reqbuf + 8, 10);
	assert_int_equal(rpc_pipe_write(p, reqbuf, 16), -EINVAL);
	assert_int_equal(rpc_pipe_write(p, reqbuf, 1), -EINVAL);
	rpc_pipe_close(p);
}

/* Every prefix of a bind + request stream, and every truncation of the
 * request with its frag_length made consistent, must be handled. */
static void test_truncations(void **state)
{
	uint8_t stream[1024], stub[256];
	size_t bl = simple_bind(stream, sizeof(stream), SRVSVC_UUID, 3, 4280);
	size_t sl = enum_stub(stub, sizeof(stub), 2, UINT32_MAX, true, 0);
	size_t rl = build_request(stream + bl, sizeof(stream) - bl, 3, 2, 0, 15, stub, sl);
	for (size_t cut = 0; cut <= bl + rl; cut++) {
		struct rpc_pipe *p = rpc_pipe_open("srvsvc", &base_info);
		assert_int_equal(rpc_pipe_write(p, stream, cut), (int)cut);
		size_t n = drain(p, pdus, 8);
		assert_int_equal(n, cut < bl ? 0 : cut < bl + rl ? 1 : 2);
		rpc_pipe_close(p);
	}
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t req[1024];
	for (size_t cut = 16; cut < rl; cut++) {
		memcpy(req, stream + bl, cut);
		put_le16(req + 8, (uint16_t)cut);
		assert_int_equal(rpc_pipe_write(p, req, cut), (int)cut);
		assert_int_equal(drain(p, pdus, 8), 1);
		assert_int_equal(pdus[0].ptype, 3);
	}
	/* and every single-byte corruption of the request */
	for (size_t i = 0; i < rl; i++) {
		if (i == 4 || i == 8 || i == 9)
			continue; /* drep and frag_length change the framing */
		memcpy(req, stream + bl, rl);
		req[i] ^= 0xa5;
		assert_int_equal(rpc_pipe_write(p, req, rl), (int)rl);
		drain(p, pdus, 4096);
	}
	rpc_pipe_close(p);
}

static void test_share_get_info(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[256];
	size_t sl = unhex(impacket_getinfo_hex, stub); /* "data", level 2 */
	size_t n = call(p, 16, stub, sl);
	size_t len = response_stub(pdus, n, 4280);
	struct tr t = { stub_buf, len, 0 };
	char s[64];
	assert_int_equal(t_u32(&t), 2);
	assert_int_not_equal(t_u32(&t), 0);
	uint32_t f[8];
	for (int i = 0; i < 8; i++)
		f[i] = t_u32(&t);
	assert_int_equal(f[1], 0);
	assert_int_equal(f[7], 0);
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "data");
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "Team data");
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "/srv/data");
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t.pos, len);

	/* case-insensitive name, level 1005; unknown share; unknown level */
	struct { const char *name; uint32_t level, status; } cases[] = {
		{ "DATA", 1005, 0 }, { "nope", 1, 2310 }, { "data", 7, 124 }, { "data", 1501, 124 },
	};
	for (size_t k = 0; k < 4; k++) {
		struct wr w = wr_init(stub, sizeof(stub));
		s_u32(&w, 0);
		s_str(&w, cases[k].name);
		s_u32(&w, cases[k].level);
		n = call(p, 16, stub, wr_pos(&w));
		len = response_stub(pdus, n, 4280);
		struct tr u = { stub_buf, len, 0 };
		assert_int_equal(t_u32(&u), cases[k].level);
		if (cases[k].level != 7) {
			uint32_t ptr = t_u32(&u);
			assert_int_equal(ptr != 0, cases[k].status == 0);
			if (ptr)
				assert_int_equal(t_u32(&u), 0); /* shi1005_flags */
		}
		assert_int_equal(t_u32(&u), cases[k].status);
		assert_int_equal(u.pos, len);
	}
	rpc_pipe_close(p);
}

static void test_server_and_wksta_info(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	uint8_t stub[64];
	struct wr w = wr_init(stub, sizeof(stub));
	s_u32(&w, 0);
	s_u32(&w, 101);
	size_t n = call(p, 21, stub, wr_pos(&w));
	size_t len = response_stub(pdus, n, 4280);
	struct tr t = { stub_buf, len, 0 };
	char s[64];
	assert_int_equal(t_u32(&t), 101);
	assert_int_not_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 500);
	assert_int_not_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 6);
	assert_int_equal(t_u32(&t), 1);
	assert_int_equal(t_u32(&t), 0x8003);
	assert_int_not_equal(t_u32(&t), 0);
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "SMB3D");
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "smb3d server");
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t.pos, len);
	/* level 102 decodes to 13 fields + 3 strings */
	w = wr_init(stub, sizeof(stub));
	s_u32(&w, 0);
	s_u32(&w, 102);
	n = call(p, 21, stub, wr_pos(&w));
	len = response_stub(pdus, n, 4280);
	t = (struct tr){ stub_buf, len, 0 };
	assert_int_equal(t_u32(&t), 102);
	t_u32(&t);
	for (int i = 0; i < 13; i++)
		t_u32(&t);
	for (int i = 0; i < 3; i++)
		t_str(&t, s, sizeof(s));
	assert_string_equal(s, "/");
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t.pos, len);
	rpc_pipe_close(p);

	p = bound_pipe("\\PIPE\\wkssvc", &base_info, 4280);
	w = wr_init(stub, sizeof(stub));
	s_u32(&w, 0x00020000);
	s_str(&w, "\\\\SMB3D");
	s_u32(&w, 100);
	n = call(p, 0, stub, wr_pos(&w));
	len = response_stub(pdus, n, 4280);
	t = (struct tr){ stub_buf, len, 0 };
	assert_int_equal(t_u32(&t), 100);
	assert_int_not_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 500);
	t_u32(&t);
	t_u32(&t);
	assert_int_equal(t_u32(&t), 6);
	assert_int_equal(t_u32(&t), 1);
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "SMB3D");
	t_str(&t, s, sizeof(s));
	assert_string_equal(s, "WORKGROUP");
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t.pos, len);
	/* level 502 is not served */
	w = wr_init(stub, sizeof(stub));
	s_u32(&w, 0);
	s_u32(&w, 502);
	n = call(p, 0, stub, wr_pos(&w));
	len = response_stub(pdus, n, 4280);
	t = (struct tr){ stub_buf, len, 0 };
	assert_int_equal(t_u32(&t), 502);
	assert_int_equal(t_u32(&t), 0);
	assert_int_equal(t_u32(&t), 124);
	/* srvsvc opnums mean nothing here */
	assert_int_equal(call(p, 15, stub, 8), 1);
	assert_int_equal(fault_status(&pdus[0]), 0x1c010002);
	rpc_pipe_close(p);
}

static void test_alter_context_and_transceive(void **state)
{
	struct rpc_pipe *p = bound_pipe("srvsvc", &base_info, 4280);
	struct ctx_elem c = { 5, SRVSVC_UUID, 3, NDR20_UUID, 2 };
	size_t n = build_bind(reqbuf, sizeof(reqbuf), 14, 4280, 4280, &c, 1);
	assert_int_equal(rpc_pipe_write(p, reqbuf, n), (int)n);
	assert_int_equal(drain(p, pdus, 8), 1);
	assert_int_equal(pdus[0].ptype, 15);
	assert_int_equal(get_le16(pdus[0].p + 24), 0); /* empty sec_addr */
	assert_int_equal(pdus[0].p[28], 1);
	assert_int_equal(get_le16(pdus[0].p + 32), 0);

	uint8_t stub[256], out[64];
	size_t sl = enum_stub(stub, sizeof(stub), 1, UINT32_MAX, true, 0);
	size_t rl = build_request(reqbuf, sizeof(reqbuf), 3, 8, 5, 15, stub, sl);
	size_t out_len;
	bool more;
	assert_int_equal(rpc_pipe_transceive(p, reqbuf, rl, out, sizeof(out), &out_len, &more), 0);
	assert_int_equal(out_len, sizeof(out));
	assert_true(more);
	assert_int_equal(out[2], 2);
	assert_int_equal(get_le16(out + 20), 5);
	size_t rest = rpc_pipe_msg_pending(p);
	assert_int_equal(rest, get_le16(out + 8) - sizeof(out));
	assert_int_equal(rpc_pipe_pending(p), rest);
	assert_int_equal(rpc_pipe_read(p, outbuf, sizeof(outbuf)), rest);
	assert_int_equal(rpc_pipe_pending(p), 0);
	assert_int_equal(rpc_pipe_read(p, outbuf, sizeof(outbuf)), 0);
	rpc_pipe_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_names),
		cmocka_unit_test(test_bind_ack),
		cmocka_unit_test(test_bind_nak),
		cmocka_unit_test(test_lsarpc_bind_only),
		cmocka_unit_test(test_share_enum_level1),
		cmocka_unit_test(test_share_enum_levels),
		cmocka_unit_test(test_share_enum_resume),
		cmocka_unit_test(test_fragmented_response),
		cmocka_unit_test(test_fragmented_request),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_share_get_info),
		cmocka_unit_test(test_server_and_wksta_info),
		cmocka_unit_test(test_alter_context_and_transceive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
