/* Tests of the file-service command codecs (src/wire/create.c ... fscc*.c):
 * hand-built requests decode to the right values; every truncated prefix
 * and a set of bad offsets/lengths give -EINVAL (exact-size heap copies so
 * ASan catches any overread); encoders produce the sizes [MS-FSCC] fixes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/close.h"
#include "wire/create.h"
#include "wire/fscc.h"
#include "wire/info.h"
#include "wire/ioctl.h"
#include "wire/lock.h"
#include "wire/notify.h"
#include "wire/oplock.h"
#include "wire/query_directory.h"
#include "wire/rw.h"

/* --- message building and decoding helpers */

static uint8_t msg[4096];

/* A writer for a request: zero 64-byte header, p at the body. */
static struct wr msg_begin(void)
{
	memset(msg, 0, sizeof(msg));
	struct wr w = wr_init(msg, sizeof(msg));
	wr_zero(&w, SMB2_HDR_SIZE);
	return w;
}

typedef int (*dec_fn)(struct rd *r, void *out);

#define DEC_WRAP(name, type) \
	static int name##_w(struct rd *r, void *out) { return name(r, (type *)out); }
DEC_WRAP(wire_close_decode_req, struct wire_close_req)
DEC_WRAP(wire_flush_decode_req, struct wire_flush_req)
DEC_WRAP(wire_read_decode_req, struct wire_read_req)
DEC_WRAP(wire_write_decode_req, struct wire_write_req)
DEC_WRAP(wire_lock_decode_req, struct wire_lock_req)
DEC_WRAP(wire_ioctl_decode_req, struct wire_ioctl_req)
DEC_WRAP(wire_create_decode_req, struct wire_create_req)
DEC_WRAP(wire_qdir_decode_req, struct wire_qdir_req)
DEC_WRAP(wire_query_info_decode_req, struct wire_query_info_req)
DEC_WRAP(wire_set_info_decode_req, struct wire_set_info_req)
DEC_WRAP(wire_notify_decode_req, struct wire_notify_req)
DEC_WRAP(wire_oplock_ack_decode, struct wire_oplock_ack)
DEC_WRAP(wire_lease_ack_decode, struct wire_lease_ack)

/* Decode a copy of msg[0..len) held in an exact-size allocation. */
static int dec_copy(dec_fn f, size_t len, void *out)
{
	uint8_t *c = malloc(len);
	memcpy(c, msg, len);
	struct rd r = rd_init(c, len);
	r.p = c + SMB2_HDR_SIZE;
	int rc = f(&r, out);
	free(c);
	return rc;
}

/* Decode msg in place (decoded pointers stay valid). */
static int dec_msg(dec_fn f, size_t len, void *out)
{
	struct rd r = rd_init(msg, len);
	r.p = msg + SMB2_HDR_SIZE;
	return f(&r, out);
}

/* Every prefix shorter than the whole message must fail. */
static void check_prefixes(dec_fn f, size_t len)
{
	union { struct wire_create_req c; uint8_t b[4096]; } out;
	assert_int_equal(dec_copy(f, len, &out), 0);
	for (size_t n = SMB2_HDR_SIZE; n < len; n++)
		assert_int_equal(dec_copy(f, n, &out), -EINVAL);
}

/* Patch helpers at body-relative offsets. */
static void body16(size_t off, uint16_t v) { put_le16(msg + SMB2_HDR_SIZE + off, v); }
static void body32(size_t off, uint32_t v) { put_le32(msg + SMB2_HDR_SIZE + off, v); }

static void put_fid(struct wr *w, uint64_t p, uint64_t v)
{
	wr_le64(w, p);
	wr_le64(w, v);
}

/* --- CLOSE / FLUSH */

static void test_close(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 24);
	wr_le16(&w, SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
	wr_le32(&w, 0);
	put_fid(&w, 0x1111, 0x2222);
	size_t len = wr_pos(&w);
	struct wire_close_req q;
	assert_int_equal(dec_msg(wire_close_decode_req_w, len, &q), 0);
	assert_int_equal(q.flags, 1);
	assert_int_equal(q.fid.persistent, 0x1111);
	assert_int_equal(q.fid.volatile_, 0x2222);
	check_prefixes(wire_close_decode_req_w, len);
	body16(0, 25);
	assert_int_equal(dec_msg(wire_close_decode_req_w, len, &q), -EINVAL);

	uint8_t out[64 + 60];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	struct wire_close_rsp s = { .flags = 0, .eof = 99, .attrs = 0x20 };
	wire_close_encode_rsp(&o, &s);
	assert_true(wr_ok(&o));
	assert_int_equal(wr_pos(&o), 64 + 60);
	assert_int_equal(get_le16(out + 64), 60);
	assert_int_equal(get_le64(out + 64 + 48), 0); /* no POSTQUERY: zero */
}

static void test_flush(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 24);
	wr_zero(&w, 6);
	put_fid(&w, 7, 8);
	struct wire_flush_req q;
	assert_int_equal(dec_msg(wire_flush_decode_req_w, wr_pos(&w), &q), 0);
	assert_int_equal(q.fid.volatile_, 8);
	check_prefixes(wire_flush_decode_req_w, wr_pos(&w));
}

/* --- READ / WRITE */

static size_t build_read(uint16_t ci_off, uint16_t ci_len)
{
	struct wr w = msg_begin();
	wr_le16(&w, 49);
	wr_u8(&w, 0x50);
	wr_u8(&w, SMB2_READFLAG_READ_UNBUFFERED);
	wr_le32(&w, 65536);
	wr_le64(&w, 1ull << 40);
	put_fid(&w, 1, 2);
	wr_le32(&w, 100);                 /* MinimumCount */
	wr_le32(&w, SMB2_CHANNEL_RDMA_V1);
	wr_le32(&w, 5);                   /* RemainingBytes */
	wr_le16(&w, ci_off);
	wr_le16(&w, ci_len);
	wr_bytes(&w, "0123456789abcdef", 16); /* channel info */
	return wr_pos(&w);
}

static void test_read(void **state)
{
	size_t len = build_read(0x70, 16);
	struct wire_read_req q;
	assert_int_equal(dec_msg(wire_read_decode_req_w, len, &q), 0);
	assert_int_equal(q.padding, 0x50);
	assert_int_equal(q.flags, SMB2_READFLAG_READ_UNBUFFERED);
	assert_int_equal(q.length, 65536);
	assert_int_equal(q.offset, 1ull << 40);
	assert_int_equal(q.fid.persistent, 1);
	assert_int_equal(q.minimum_count, 100);
	assert_int_equal(q.channel, SMB2_CHANNEL_RDMA_V1);
	assert_int_equal(q.remaining_bytes, 5);
	assert_int_equal(q.channel_info_len, 16);
	assert_ptr_equal(q.channel_info, msg + 0x70);
	check_prefixes(wire_read_decode_req_w, len);

	len = build_read(0x71, 16);       /* one past the end */
	assert_int_equal(dec_copy(wire_read_decode_req_w, len, &q), -EINVAL);
	len = build_read(0x40, 16);       /* inside the fixed body */
	assert_int_equal(dec_copy(wire_read_decode_req_w, len, &q), -EINVAL);
	len = build_read(0xFFFF, 0);      /* empty: offset ignored */
	assert_int_equal(dec_copy(wire_read_decode_req_w, len, &q), 0);

	uint8_t out[88];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	wire_read_encode_rsp(&o, 4096, 0, 0);
	assert_int_equal(wr_pos(&o), 0x50);
	assert_int_equal(get_le16(out + 64), 17);
	assert_int_equal(out[66], 0x50);
	assert_int_equal(get_le32(out + 68), 4096);
	/* padded (Samba's test FSCTL): DataOffset follows the padding */
	memset(out, 0xee, sizeof(out));
	o = wr_init(out, sizeof(out));
	o.p += 64;
	wire_read_encode_rsp(&o, 4096, 0, 8);
	assert_true(wr_ok(&o));
	assert_int_equal(wr_pos(&o), 0x58);
	assert_int_equal(out[66], 0x58);
	for (int i = 0x50; i < 0x58; i++)
		assert_int_equal(out[i], 0);
}

static size_t build_write(uint16_t data_off, uint32_t data_len, size_t data_bytes)
{
	struct wr w = msg_begin();
	wr_le16(&w, 49);
	wr_le16(&w, data_off);
	wr_le32(&w, data_len);
	wr_le64(&w, 4096);
	put_fid(&w, 3, 4);
	wr_le32(&w, 0);
	wr_le32(&w, 0);
	wr_le16(&w, 0);
	wr_le16(&w, 0);
	wr_le32(&w, SMB2_WRITEFLAG_WRITE_THROUGH);
	for (size_t i = 0; i < data_bytes; i++)
		wr_u8(&w, (uint8_t)i);
	return wr_pos(&w);
}

static void test_write(void **state)
{
	size_t len = build_write(0x70, 10, 10);
	struct wire_write_req q;
	assert_int_equal(dec_msg(wire_write_decode_req_w, len, &q), 0);
	assert_int_equal(q.length, 10);
	assert_int_equal(q.offset, 4096);
	assert_int_equal(q.fid.volatile_, 4);
	assert_int_equal(q.flags, SMB2_WRITEFLAG_WRITE_THROUGH);
	assert_ptr_equal(q.data, msg + 0x70);
	assert_int_equal(q.data[9], 9);
	check_prefixes(wire_write_decode_req_w, len);

	len = build_write(0x70, 11, 10);  /* length past the message */
	assert_int_equal(dec_copy(wire_write_decode_req_w, len, &q), -EINVAL);
	len = build_write(0x20, 10, 80);  /* overlaps the header */
	assert_int_equal(dec_copy(wire_write_decode_req_w, len, &q), -EINVAL);
	len = build_write(0x6F, 10, 10);  /* overlaps the fixed body */
	assert_int_equal(dec_copy(wire_write_decode_req_w, len, &q), -EINVAL);
	len = build_write(0x70, 0xFFFFFFFFu, 10);
	assert_int_equal(dec_copy(wire_write_decode_req_w, len, &q), -EINVAL);
	len = build_write(0, 0, 0);       /* empty write */
	assert_int_equal(dec_copy(wire_write_decode_req_w, len, &q), 0);

	uint8_t out[80];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	wire_write_encode_rsp(&o, 10);
	assert_int_equal(wr_pos(&o), 80);
	assert_int_equal(get_le32(out + 68), 10);
}

/* --- LOCK */

static size_t build_lock(uint16_t count, unsigned elems)
{
	struct wr w = msg_begin();
	wr_le16(&w, 48);
	wr_le16(&w, count);
	wr_le32(&w, (0x1234567u << 4) | 0xA);
	put_fid(&w, 5, 6);
	for (unsigned i = 0; i < elems; i++) {
		wr_le64(&w, 100 * (i + 1));
		wr_le64(&w, 10);
		wr_le32(&w, SMB2_LOCKFLAG_EXCLUSIVE_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY);
		wr_le32(&w, 0);
	}
	return wr_pos(&w);
}

static void test_lock(void **state)
{
	size_t len = build_lock(2, 2);
	struct wire_lock_req q;
	assert_int_equal(dec_msg(wire_lock_decode_req_w, len, &q), 0);
	assert_int_equal(q.lock_count, 2);
	assert_int_equal(q.lock_seq_num, 0xA);
	assert_int_equal(q.lock_seq_index, 0x1234567);
	struct wire_lock_elem e;
	wire_lock_req_elem(&q, 1, &e);
	assert_int_equal(e.offset, 200);
	assert_int_equal(e.length, 10);
	assert_int_equal(e.flags, 0x12);
	check_prefixes(wire_lock_decode_req_w, len);

	len = build_lock(0, 1);
	assert_int_equal(dec_copy(wire_lock_decode_req_w, len, &q), -EINVAL);
	len = build_lock(3, 2);
	assert_int_equal(dec_copy(wire_lock_decode_req_w, len, &q), -EINVAL);
	len = build_lock(0xFFFF, 1);
	assert_int_equal(dec_copy(wire_lock_decode_req_w, len, &q), -EINVAL);
}

/* --- IOCTL and FSCTL payloads */

static size_t build_ioctl(uint32_t code, uint32_t in_off, const void *in, uint32_t in_len,
			  uint32_t claimed_len)
{
	struct wr w = msg_begin();
	wr_le16(&w, 57);
	wr_le16(&w, 0);
	wr_le32(&w, code);
	put_fid(&w, ~0ull, ~0ull);
	wr_le32(&w, in_off);
	wr_le32(&w, claimed_len);
	wr_le32(&w, 0);
	wr_le32(&w, 0x78);
	wr_le32(&w, 0);
	wr_le32(&w, 65536);
	wr_le32(&w, SMB2_0_IOCTL_IS_FSCTL);
	wr_le32(&w, 0);
	wr_bytes(&w, in, in_len);
	return wr_pos(&w);
}

static void test_ioctl(void **state)
{
	uint8_t vn[24 + 8];
	memset(vn, 0, sizeof(vn));
	put_le32(vn, 0x7F);
	memset(vn + 4, 0xAB, 16);
	put_le16(vn + 20, 1);
	put_le16(vn + 22, 4);
	put_le16(vn + 24, 0x0202);
	put_le16(vn + 26, 0x0210);
	put_le16(vn + 28, 0x0300);
	put_le16(vn + 30, 0x0311);
	size_t len = build_ioctl(FSCTL_VALIDATE_NEGOTIATE_INFO, 0x78, vn, sizeof(vn), sizeof(vn));
	struct wire_ioctl_req q;
	assert_int_equal(dec_msg(wire_ioctl_decode_req_w, len, &q), 0);
	assert_int_equal(q.ctl_code, FSCTL_VALIDATE_NEGOTIATE_INFO);
	assert_int_equal(q.in_len, sizeof(vn));
	assert_ptr_equal(q.in, msg + 0x78);
	assert_int_equal(q.max_output_response, 65536);
	assert_int_equal(q.flags, SMB2_0_IOCTL_IS_FSCTL);
	check_prefixes(wire_ioctl_decode_req_w, len);

	struct wire_validate_neg_req v;
	assert_int_equal(wire_fsctl_validate_neg_decode(q.in, q.in_len, &v), 0);
	assert_int_equal(v.capabilities, 0x7F);
	assert_int_equal(v.security_mode, 1);
	assert_int_equal(v.dialect_count, 4);
	assert_int_equal(wire_fsctl_validate_neg_dialect(&v, 3), 0x0311);
	for (size_t n = 0; n < sizeof(vn); n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, vn, n);
		assert_int_equal(wire_fsctl_validate_neg_decode(c, n, &v), -EINVAL);
		free(c);
	}

	len = build_ioctl(FSCTL_PIPE_TRANSCEIVE, 0x78, vn, sizeof(vn), sizeof(vn) + 1);
	assert_int_equal(dec_copy(wire_ioctl_decode_req_w, len, &q), -EINVAL);
	len = build_ioctl(FSCTL_PIPE_TRANSCEIVE, 0x10, vn, sizeof(vn), sizeof(vn));
	assert_int_equal(dec_copy(wire_ioctl_decode_req_w, len, &q), -EINVAL);
	len = build_ioctl(FSCTL_PIPE_TRANSCEIVE, 0xFFFFFFF0u, vn, sizeof(vn), 0x20);
	assert_int_equal(dec_copy(wire_ioctl_decode_req_w, len, &q), -EINVAL);

	/* copychunk: key, 2 chunks */
	uint8_t cc[32 + 48];
	memset(cc, 0x11, 24);
	put_le32(cc + 24, 2);
	put_le32(cc + 28, 0);
	for (int i = 0; i < 2; i++) {
		put_le64(cc + 32 + 24 * i, 1000 * i);
		put_le64(cc + 40 + 24 * i, 2000 * i);
		put_le32(cc + 48 + 24 * i, 512);
		put_le32(cc + 52 + 24 * i, 0);
	}
	struct wire_copychunk_req ccq;
	assert_int_equal(wire_fsctl_copychunk_decode(cc, sizeof(cc), &ccq), 0);
	assert_int_equal(ccq.chunk_count, 2);
	struct wire_copychunk ch;
	wire_fsctl_copychunk_get(&ccq, 1, &ch);
	assert_int_equal(ch.source_offset, 1000);
	assert_int_equal(ch.target_offset, 2000);
	assert_int_equal(ch.length, 512);
	assert_int_equal(wire_fsctl_copychunk_decode(cc, sizeof(cc) - 1, &ccq), -EINVAL);
	put_le32(cc + 24, 0x80000000u);
	assert_int_equal(wire_fsctl_copychunk_decode(cc, sizeof(cc), &ccq), -EINVAL);

	uint8_t zd[16];
	put_le64(zd, 10);
	put_le64(zd + 8, 20);
	struct wire_zero_data z;
	assert_int_equal(wire_fsctl_zero_data_decode(zd, 16, &z), 0);
	assert_int_equal(z.beyond_final_zero, 20);
	assert_int_equal(wire_fsctl_zero_data_decode(zd, 15, &z), -EINVAL);
	bool sparse = false;
	assert_int_equal(wire_fsctl_set_sparse_decode(NULL, 0, &sparse), 0);
	assert_true(sparse);
	assert_int_equal(wire_fsctl_set_sparse_decode((const uint8_t *)"\0", 1, &sparse), 0);
	assert_false(sparse);

	/* response framing + payload encoders */
	uint8_t out[1024];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	struct wire_fileid fid = { 1, 2 };
	uint8_t *b = wire_ioctl_rsp_begin(&o, FSCTL_QUERY_NETWORK_INTERFACE_INFO, &fid, 0);
	assert_non_null(b);
	assert_int_equal(wr_pos(&o), WIRE_IOCTL_RSP_BUF_OFFSET);
	struct wire_netif ifs[2] = {
		{ .ifindex = 1, .capability = SMB2_NETIF_RSS_CAPABLE, .link_speed = 10000000000ull,
		  .addr = { 198, 18, 0, 1 } },
		{ .ifindex = 2, .ipv6 = true, .link_speed = 1000000000ull, .addr = { 0xfe, 0x80 }, .scope_id = 2 },
	};
	assert_int_equal(wire_fsctl_netif_encode(&o, ifs, 2), 0);
	assert_int_equal(wire_ioctl_rsp_end(&o, b), 0);
	const uint8_t *p = out + 0x70;
	assert_int_equal(get_le32(out + 64 + 36), 2 * WIRE_NETIF_SIZE); /* OutputCount */
	assert_int_equal(get_le32(out + 64 + 32), 0x70);
	assert_int_equal(get_le32(p), WIRE_NETIF_SIZE);
	assert_int_equal(get_le16(p + 24), WIRE_NETIF_AF_INET);
	assert_int_equal(p[28], 198);
	assert_int_equal(get_le32(p + WIRE_NETIF_SIZE), 0);
	assert_int_equal(get_le16(p + WIRE_NETIF_SIZE + 24), WIRE_NETIF_AF_INET6);
	assert_int_equal(p[WIRE_NETIF_SIZE + 32], 0xfe);
	assert_int_equal(get_le32(p + WIRE_NETIF_SIZE + 48), 2);

	o = wr_init(out, sizeof(out));
	o.p += 64;
	b = wire_ioctl_rsp_begin(&o, FSCTL_SRV_REQUEST_RESUME_KEY, &fid, 0);
	uint8_t key[24] = { 1, 2, 3 };
	wire_fsctl_resume_key_encode(&o, key);
	assert_int_equal(wire_ioctl_rsp_end(&o, b), 0);
	assert_int_equal(get_le32(out + 64 + 36), 28);

	/* padded (Samba's test FSCTL): the output starts after the padding,
	 * and an empty output needs no extra buffer byte */
	o = wr_init(out, sizeof(out));
	o.p += 64;
	memset(out, 0xee, sizeof(out));
	b = wire_ioctl_rsp_begin(&o, 0x83848013u, &fid, 8);
	assert_non_null(b);
	assert_int_equal(wr_pos(&o), 0x78);
	wr_u8(&o, 8);
	assert_int_equal(wire_ioctl_rsp_end(&o, b), 0);
	assert_int_equal(get_le32(out + 64 + 24), 0x78); /* InputOffset */
	assert_int_equal(get_le32(out + 64 + 32), 0x78); /* OutputOffset */
	assert_int_equal(get_le32(out + 64 + 36), 1);    /* OutputCount */
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[0x70 + i], 0);
	o = wr_init(out, sizeof(out));
	o.p += 64;
	b = wire_ioctl_rsp_begin(&o, 0x83848013u, &fid, 8);
	assert_int_equal(wire_ioctl_rsp_end(&o, b), 0);
	assert_int_equal(get_le32(out + 64 + 36), 0);
	assert_int_equal(wr_pos(&o), 0x78);
	o = wr_init(out, 64 + 50);
	o.p += 64;
	assert_null(wire_ioctl_rsp_begin(&o, 0x83848013u, &fid, 8)); /* no room */

	struct wire_alloc_range ar[3] = { { 0, 10 }, { 20, 10 }, { 40, 10 } };
	uint8_t small[40];
	o = wr_init(small, sizeof(small));
	assert_int_equal(wire_fsctl_alloc_ranges_encode(&o, ar, 3), 2);
	assert_int_equal(wr_pos(&o), 32);
}

/* --- CREATE */

/* Append one request create context (8-aligned), returning its start. */
static uint8_t *put_ctx(struct wr *w, const char *name, const void *data, uint32_t len)
{
	wr_align(w, 8);
	uint8_t *c = w->p;
	wr_le32(w, 0);
	wr_le16(w, 16);
	wr_le16(w, 4);
	wr_le16(w, 0);
	wr_le16(w, len ? 24 : 0);
	wr_le32(w, len);
	wr_bytes(w, name, 4);
	wr_zero(w, 4);
	wr_bytes(w, data, len);
	return c;
}

/* name "a\b" + MxAc (empty) + RqLs v2 + DH2Q. */
static size_t build_create(uint8_t **ctx_start)
{
	struct wr w = msg_begin();
	wr_le16(&w, 57);
	wr_u8(&w, 0);
	wr_u8(&w, SMB2_OPLOCK_LEVEL_LEASE);
	wr_le32(&w, 2);
	wr_le64(&w, 0);
	wr_le64(&w, 0);
	wr_le32(&w, 0x12019F);
	wr_le32(&w, FILE_ATTRIBUTE_NORMAL);
	wr_le32(&w, 7);
	wr_le32(&w, FILE_OPEN_IF);
	wr_le32(&w, FILE_NON_DIRECTORY_FILE);
	wr_le16(&w, 0x78);
	wr_le16(&w, 6);
	uint8_t *ctx_fields = wr_reserve(&w, 8);
	wr_bytes(&w, "a\0\\\0b\0", 6);
	wr_align(&w, 8);
	size_t ctx_off = wr_pos(&w);
	uint8_t lease[52] = { 0 };
	memset(lease, 0x42, 16);
	put_le32(lease + 16, 7);
	memset(lease + 32, 0x43, 16);
	put_le16(lease + 48, 3);
	uint8_t dh2q[32] = { 0 };
	put_le32(dh2q, 60000);
	memset(dh2q + 16, 0x99, 16);
	uint8_t *c1 = put_ctx(&w, "MxAc", NULL, 0);
	uint8_t *c2 = put_ctx(&w, "RqLs", lease, 52);
	uint8_t *c3 = put_ctx(&w, "DH2Q", dh2q, 32);
	put_le32(c1, (uint32_t)(c2 - c1));
	put_le32(c2, (uint32_t)(c3 - c2));
	put_le32(ctx_fields, (uint32_t)ctx_off);
	put_le32(ctx_fields + 4, (uint32_t)(wr_pos(&w) - ctx_off));
	*ctx_start = msg + ctx_off;
	return wr_pos(&w);
}

static void test_create(void **state)
{
	uint8_t *cs;
	size_t len = build_create(&cs);
	struct wire_create_req q;
	assert_int_equal(dec_msg(wire_create_decode_req_w, len, &q), 0);
	assert_int_equal(q.oplock_level, SMB2_OPLOCK_LEVEL_LEASE);
	assert_int_equal(q.impersonation, 2);
	assert_int_equal(q.desired_access, 0x12019F);
	assert_int_equal(q.share_access, 7);
	assert_int_equal(q.create_disposition, FILE_OPEN_IF);
	assert_int_equal(q.create_options, FILE_NON_DIRECTORY_FILE);
	assert_int_equal(q.name_len, 6);
	assert_memory_equal(q.name, "a\0\\\0b\0", 6);
	assert_int_equal(q.n_ctx, 3);

	const struct wire_create_ctx *c = WIRE_CREATE_CTX_FIND(&q, WIRE_CTX_MAXIMAL_ACCESS);
	assert_non_null(c);
	struct wire_ctx_mxac mx;
	assert_int_equal(wire_ctx_mxac_decode(c, &mx), 0);
	assert_false(mx.has_timestamp);
	c = WIRE_CREATE_CTX_FIND(&q, WIRE_CTX_LEASE);
	struct wire_ctx_lease l;
	assert_int_equal(wire_ctx_lease_decode(c, &l), 0);
	assert_int_equal(l.version, 2);
	assert_int_equal(l.state, 7);
	assert_int_equal(l.key[15], 0x42);
	assert_int_equal(l.parent_key[0], 0x43);
	assert_int_equal(l.epoch, 3);
	c = WIRE_CREATE_CTX_FIND(&q, WIRE_CTX_DURABLE_REQ_V2);
	struct wire_ctx_dh2q d;
	assert_int_equal(wire_ctx_dh2q_decode(c, &d), 0);
	assert_int_equal(d.timeout, 60000);
	assert_int_equal(d.create_guid[0], 0x99);
	assert_null(WIRE_CREATE_CTX_FIND(&q, WIRE_CTX_DURABLE_REQ));
	assert_int_equal(wire_ctx_dhnq_decode(c), -EINVAL);
	assert_int_equal(wire_ctx_qfid_decode(c), -EINVAL);

	check_prefixes(wire_create_decode_req_w, len);

	/* odd name length; name inside the fixed body; name past the end */
	body16(46, 5);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body16(46, 6);
	body16(44, 0x70);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body16(44, 0xFFFE);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body16(44, 0x78);
	/* empty name: allowed, offset ignored */
	body16(46, 0);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), 0);
	body16(46, 6);

	uint32_t ctx_off = (uint32_t)(cs - msg);
	/* context chain offset: misaligned, inside the fixed body */
	body32(48, ctx_off + 4);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body32(48, 0x70);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body32(48, ctx_off);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), 0);

	uint8_t save[16];
	memcpy(save, cs, 16);
	static const uint32_t bad_next[] = { 4, 12, 8, 0x10000, 0xFFFFFFF8u };
	for (size_t i = 0; i < sizeof(bad_next) / sizeof(bad_next[0]); i++) {
		put_le32(cs, bad_next[i]);
		assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	}
	memcpy(cs, save, 16);
	uint8_t *c2 = cs + get_le32(cs);
	memcpy(save, c2, 16);
	put_le16(c2 + 4, 8);          /* name overlaps the context header */
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	memcpy(c2, save, 16);
	put_le16(c2 + 6, 0);          /* empty name */
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	memcpy(c2, save, 16);
	put_le16(c2 + 10, 28);        /* misaligned data */
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	memcpy(c2, save, 16);
	put_le16(c2 + 10, 16);        /* data overlaps the name */
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	memcpy(c2, save, 16);
	put_le32(c2 + 12, 57);        /* data runs into the next context */
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	memcpy(c2, save, 16);
	/* chain length shorter than the contexts */
	body32(52, get_le32(msg + SMB2_HDR_SIZE + 52) - 1);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), -EINVAL);
	body32(52, get_le32(msg + SMB2_HDR_SIZE + 52) + 1);
	assert_int_equal(dec_copy(wire_create_decode_req_w, len, &q), 0);
}

static void test_create_many_contexts(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 57);
	wr_zero(&w, 42);
	wr_le16(&w, 0);
	wr_le16(&w, 0);
	uint8_t *ctx_fields = wr_reserve(&w, 8);
	size_t off = wr_pos(&w);
	uint8_t *prev = NULL;
	for (int i = 0; i < WIRE_CREATE_MAX_CTX + 1; i++) {
		uint8_t *c = put_ctx(&w, "XXXX", NULL, 0);
		if (prev)
			put_le32(prev, (uint32_t)(c - prev));
		prev = c;
	}
	put_le32(ctx_fields, (uint32_t)off);
	put_le32(ctx_fields + 4, (uint32_t)(wr_pos(&w) - off));
	struct wire_create_req q;
	assert_int_equal(dec_copy(wire_create_decode_req_w, wr_pos(&w), &q), -EINVAL);
	put_le32(prev - 24, 0);       /* end the chain at 32 */
	assert_int_equal(dec_copy(wire_create_decode_req_w, wr_pos(&w), &q), 0);
}

static void test_create_ctx_payloads(void **state)
{
	uint8_t buf[52] = { 0 };
	struct wire_create_ctx c = { (const uint8_t *)"DHnC", 4, buf, 16 };
	put_le64(buf, 5);
	put_le64(buf + 8, 6);
	struct wire_fileid fid;
	assert_int_equal(wire_ctx_dhnc_decode(&c, &fid), 0);
	assert_int_equal(fid.volatile_, 6);
	c.data_len = 36;
	struct wire_ctx_dh2c d;
	put_le32(buf + 32, SMB2_DHANDLE_FLAG_PERSISTENT);
	assert_int_equal(wire_ctx_dh2c_decode(&c, &d), 0);
	assert_int_equal(d.flags, SMB2_DHANDLE_FLAG_PERSISTENT);
	c.data_len = 8;
	struct wire_ctx_mxac mx;
	assert_int_equal(wire_ctx_mxac_decode(&c, &mx), 0);
	assert_true(mx.has_timestamp);
	assert_int_equal(mx.timestamp, 5);
	uint64_t v;
	assert_int_equal(wire_ctx_twrp_decode(&c, &v), 0);
	assert_int_equal(wire_ctx_alsi_decode(&c, &v), 0);
	c.data_len = 4;
	assert_int_equal(wire_ctx_mxac_decode(&c, &mx), -EINVAL);
	assert_int_equal(wire_ctx_alsi_decode(&c, &v), -EINVAL);
	c.data_len = 32;
	struct wire_ctx_lease l;
	assert_int_equal(wire_ctx_lease_decode(&c, &l), 0);
	assert_int_equal(l.version, 1);
	c.data_len = 40;
	assert_int_equal(wire_ctx_lease_decode(&c, &l), -EINVAL);
	/* AppInstanceId: exactly 20 bytes with StructureSize 20 */
	uint8_t id[16];
	memset(buf, 0, sizeof(buf));
	put_le16(buf, 20);
	buf[4] = 0xAB;
	for (uint32_t n = 0; n <= 24; n++) {
		c.data_len = n;
		assert_int_equal(wire_ctx_app_instance_decode(&c, id), n == 20 ? 0 : -EINVAL);
	}
	assert_int_equal(id[0], 0xAB);
	c.data_len = 20;
	put_le16(buf, 24);
	assert_int_equal(wire_ctx_app_instance_decode(&c, id), -EINVAL);
}

static void test_create_rsp(void **state)
{
	uint8_t out[512];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	struct wire_create_rsp s = { .oplock_level = SMB2_OPLOCK_LEVEL_LEASE,
				     .create_action = FILE_CREATED, .eof = 5, .attrs = 0x20,
				     .fid = { 1, 2 } };
	struct wire_create_rsp_ctx ctx[4];
	wire_ctx_mxac_rsp(&ctx[0], 0, 0x1F01FF);
	struct wire_ctx_lease l = { .version = 2, .state = 5, .epoch = 9 };
	wire_ctx_lease_rsp(&ctx[1], &l);
	wire_ctx_qfid_rsp(&ctx[2], 1234, 77);
	wire_ctx_dh2q_rsp(&ctx[3], 60000, 0);
	assert_int_equal(wire_create_encode_rsp(&o, &s, ctx, 4), 0);
	assert_int_equal(get_le16(out + 64), 89);
	assert_int_equal(get_le32(out + 64 + 4), FILE_CREATED);
	uint32_t off = get_le32(out + 64 + 80), clen = get_le32(out + 64 + 84);
	assert_int_equal(off, 152);
	/* Walk the chain: sizes 24+8 -> 32, 24+52 -> 80 (76 aligned), 24+32, 24+8 */
	static const uint32_t next[] = { 32, 80, 56, 0 };
	static const uint32_t dlen[] = { 8, 52, 32, 8 };
	const uint8_t *c = out + off;
	for (int i = 0; i < 4; i++) {
		assert_int_equal((c - out) % 8, 0);
		assert_int_equal(get_le32(c), next[i]);
		assert_int_equal(get_le16(c + 4), 16);
		assert_int_equal(get_le16(c + 10), 24);
		assert_int_equal(get_le32(c + 12), dlen[i]);
		assert_memory_equal(c + 16, ctx[i].name, 4);
		c += next[i];
	}
	assert_int_equal(clen, 32 + 80 + 56 + 32);
	assert_int_equal(wr_pos(&o), off + clen);
	assert_int_equal(get_le32(out + off + 24 + 4), 0x1F01FF);
	assert_int_equal(get_le64(out + off + 112 + 24), 1234);

	/* no contexts: 88 + 1 pad byte, offsets 0 */
	o = wr_init(out, sizeof(out));
	o.p += 64;
	assert_int_equal(wire_create_encode_rsp(&o, &s, NULL, 0), 0);
	assert_int_equal(wr_pos(&o), 64 + 89);
	assert_int_equal(get_le32(out + 64 + 80), 0);
	/* too small */
	o = wr_init(out, 64 + 100);
	o.p += 64;
	assert_int_equal(wire_create_encode_rsp(&o, &s, ctx, 1), -ENOSPC);
}

/* --- QUERY_DIRECTORY, QUERY_INFO, SET_INFO, CHANGE_NOTIFY */

static void test_qdir(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 33);
	wr_u8(&w, FileIdBothDirectoryInformation);
	wr_u8(&w, SMB2_RESTART_SCANS | SMB2_REOPEN);
	wr_le32(&w, 0);
	put_fid(&w, 1, 2);
	wr_le16(&w, 0x60);
	wr_le16(&w, 2);
	wr_le32(&w, 65536);
	wr_bytes(&w, "*\0", 2);
	size_t len = wr_pos(&w);
	struct wire_qdir_req q;
	assert_int_equal(dec_msg(wire_qdir_decode_req_w, len, &q), 0);
	assert_int_equal(q.info_class, FileIdBothDirectoryInformation);
	assert_int_equal(q.flags, 0x11);
	assert_int_equal(q.output_len, 65536);
	assert_int_equal(q.pattern_len, 2);
	assert_memory_equal(q.pattern, "*\0", 2);
	check_prefixes(wire_qdir_decode_req_w, len);
	body16(26, 3);
	assert_int_equal(dec_copy(wire_qdir_decode_req_w, len, &q), -EINVAL);
	body16(26, 2);
	body16(24, 0x5F);
	assert_int_equal(dec_copy(wire_qdir_decode_req_w, len, &q), -EINVAL);
}

static void test_query_set_info(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 41);
	wr_u8(&w, SMB2_0_INFO_SECURITY);
	wr_u8(&w, 0);
	wr_le32(&w, 4096);
	wr_le16(&w, 0x68);
	wr_le16(&w, 0);
	wr_le32(&w, 4);
	wr_le32(&w, DACL_SECURITY_INFORMATION);
	wr_le32(&w, 0);
	put_fid(&w, 1, 2);
	wr_bytes(&w, "abcd", 4);
	size_t len = wr_pos(&w);
	struct wire_query_info_req q;
	assert_int_equal(dec_msg(wire_query_info_decode_req_w, len, &q), 0);
	assert_int_equal(q.info_type, SMB2_0_INFO_SECURITY);
	assert_int_equal(q.output_len, 4096);
	assert_int_equal(q.additional_info, DACL_SECURITY_INFORMATION);
	assert_ptr_equal(q.in, msg + 0x68);
	check_prefixes(wire_query_info_decode_req_w, len);
	body16(8, 0x67);
	assert_int_equal(dec_copy(wire_query_info_decode_req_w, len, &q), -EINVAL);

	w = msg_begin();
	wr_le16(&w, 33);
	wr_u8(&w, SMB2_0_INFO_FILE);
	wr_u8(&w, FileDispositionInformation);
	wr_le32(&w, 1);
	wr_le16(&w, 0x60);
	wr_le16(&w, 0);
	wr_le32(&w, 0);
	put_fid(&w, 3, 4);
	wr_u8(&w, 1);
	len = wr_pos(&w);
	struct wire_set_info_req s;
	assert_int_equal(dec_msg(wire_set_info_decode_req_w, len, &s), 0);
	assert_int_equal(s.info_class, FileDispositionInformation);
	assert_int_equal(s.buf_len, 1);
	bool del = false;
	assert_int_equal(fscc_disposition_decode(s.buf, s.buf_len, &del), 0);
	assert_true(del);
	check_prefixes(wire_set_info_decode_req_w, len);
	body32(4, 2);
	assert_int_equal(dec_copy(wire_set_info_decode_req_w, len, &s), -EINVAL);

	uint8_t out[128];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	uint8_t *b = wire_query_info_rsp_begin(&o);
	wr_le32(&o, 0xdeadbeef);
	assert_int_equal(wire_query_info_rsp_end(&o, b), 0);
	assert_int_equal(get_le16(out + 64), 9);
	assert_int_equal(get_le16(out + 66), 72);
	assert_int_equal(get_le32(out + 68), 4);
	o = wr_init(out, sizeof(out));
	o.p += 64;
	b = wire_query_info_rsp_begin(&o);
	assert_int_equal(wire_query_info_rsp_end(&o, b), 0);
	assert_int_equal(wr_pos(&o), 64 + 9);
}

static void test_notify(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 32);
	wr_le16(&w, SMB2_WATCH_TREE);
	wr_le32(&w, 1024);
	put_fid(&w, 1, 2);
	wr_le32(&w, FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_SIZE);
	wr_le32(&w, 0);
	size_t len = wr_pos(&w);
	struct wire_notify_req q;
	assert_int_equal(dec_msg(wire_notify_decode_req_w, len, &q), 0);
	assert_int_equal(q.flags, SMB2_WATCH_TREE);
	assert_int_equal(q.output_len, 1024);
	assert_int_equal(q.completion_filter, 9);
	check_prefixes(wire_notify_decode_req_w, len);

	uint8_t out[64 + 8 + 40];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	uint8_t *b = wire_notify_rsp_begin(&o);
	uint8_t *prev = NULL;
	assert_int_equal(wire_notify_entry_encode(&o, FILE_ACTION_ADDED, "abc", &prev), 0);
	assert_int_equal(wr_pos(&o), 72 + 18);
	assert_int_equal(wire_notify_entry_encode(&o, FILE_ACTION_REMOVED, "x", &prev), 0);
	assert_int_equal(get_le32(out + 72), 20);         /* 18 -> aligned 20 */
	assert_int_equal(get_le32(out + 92), 0);
	assert_int_equal(get_le32(out + 92 + 4), FILE_ACTION_REMOVED);
	size_t pos = wr_pos(&o);
	assert_int_equal(wire_notify_entry_encode(&o, FILE_ACTION_ADDED, "toolong", &prev), -ENOSPC);
	assert_int_equal(wr_pos(&o), pos);
	assert_int_equal(wire_notify_rsp_end(&o, b), 0);
	assert_int_equal(get_le32(out + 68), 34);
}

/* --- directory entries */

static void test_dirent(void **state)
{
	static const struct { uint8_t cls; size_t fixed; } classes[] = {
		{ FileDirectoryInformation, 64 }, { FileFullDirectoryInformation, 68 },
		{ FileBothDirectoryInformation, 94 }, { FileNamesInformation, 12 },
		{ FileIdBothDirectoryInformation, 104 }, { FileIdFullDirectoryInformation, 80 },
		{ FileIdExtdDirectoryInformation, 88 },
	};
	struct fscc_dirent e = { .file_id = 0x1122334455ull, .create = 1, .eof = 300, .alloc = 4096,
				 .attrs = FILE_ATTRIBUTE_ARCHIVE, .ea_size = 0, .name = "file.txt",
				 .short_name = "FILE.TXT" };
	uint8_t buf[1024];
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		struct wr w = wr_init(buf, sizeof(buf));
		uint8_t *prev = NULL;
		assert_int_equal(fscc_dirent_encode(&w, classes[i].cls, &e, &prev), 0);
		assert_ptr_equal(prev, buf);
		assert_int_equal(wr_pos(&w), classes[i].fixed + 16);
		assert_memory_equal(buf + classes[i].fixed, "f\0i\0l\0e\0", 8);
		assert_int_equal(fscc_dirent_encode(&w, classes[i].cls, &e, &prev), 0);
		size_t second = (classes[i].fixed + 16 + 7) & ~(size_t)7;
		assert_int_equal(get_le32(buf), second);
		assert_ptr_equal(prev, buf + second);
		assert_int_equal(get_le32(buf + second), 0);
		assert_int_equal(wr_pos(&w), second + classes[i].fixed + 16);
		if (classes[i].cls == FileNamesInformation) {
			assert_int_equal(get_le32(buf + 8), 16);
		} else {
			assert_int_equal(get_le32(buf + 60), 16);
			assert_int_equal(get_le64(buf + 40), 300);
			assert_int_equal(get_le32(buf + 56), FILE_ATTRIBUTE_ARCHIVE);
		}
	}
	/* short name and file id of FileIdBothDirectoryInformation */
	struct wr w = wr_init(buf, sizeof(buf));
	uint8_t *prev = NULL;
	assert_int_equal(fscc_dirent_encode(&w, FileIdBothDirectoryInformation, &e, &prev), 0);
	assert_int_equal(buf[68], 16);
	assert_memory_equal(buf + 70, "F\0I\0L\0E\0.\0T\0X\0T\0", 16);
	assert_int_equal(get_le64(buf + 96), 0x1122334455ull);

	/* -ENOSPC: nothing written, previous entry untouched */
	uint8_t small[64 + 16 + 8 + 10];
	w = wr_init(small, sizeof(small));
	prev = NULL;
	assert_int_equal(fscc_dirent_encode(&w, FileDirectoryInformation, &e, &prev), 0);
	uint8_t *first = prev;
	size_t pos = wr_pos(&w);
	assert_int_equal(fscc_dirent_encode(&w, FileDirectoryInformation, &e, &prev), -ENOSPC);
	assert_int_equal(wr_pos(&w), pos);
	assert_ptr_equal(prev, first);
	assert_int_equal(get_le32(small), 0);
	assert_true(wr_ok(&w));
	assert_int_equal(fscc_dirent_encode(&w, FileNamesInformation, &e, &prev), -ENOSPC);
	assert_int_equal(fscc_dirent_encode(&w, 99, &e, &prev), -EINVAL);
	assert_int_equal(fscc_dirent_encode(&w, FileBasicInformation, &e, &prev), -EINVAL);

	/* reparse point: EaSize carries the tag */
	e.attrs = FILE_ATTRIBUTE_REPARSE_POINT;
	e.reparse_tag = 0xA000000C;
	w = wr_init(buf, sizeof(buf));
	prev = NULL;
	assert_int_equal(fscc_dirent_encode(&w, FileFullDirectoryInformation, &e, &prev), 0);
	assert_int_equal(get_le32(buf + 64), 0xA000000C);
}

/* --- file and fs information */

static size_t enc_file(uint8_t cls, const struct fscc_file_info *fi, uint8_t *buf, size_t cap, int *rc)
{
	struct wr w = wr_init(buf, cap);
	*rc = fscc_file_info_encode(&w, cls, fi);
	return wr_pos(&w);
}

static void test_file_info_sizes(void **state)
{
	struct fscc_stream st[2] = { { "::$DATA", 100, 4096 }, { ":x:$DATA", 5, 8 } };
	struct fscc_file_info fi = { .create = 1, .access = 2, .write = 3, .change = 4,
				     .alloc = 4096, .eof = 100, .attrs = 0x20, .nlink = 1,
				     .index = 42, .access_mask = 0x1F01FF, .name = "\\dir\\f",
				     .streams = st, .n_streams = 2 };
	static const struct { uint8_t cls; size_t size; } sizes[] = {
		{ FileBasicInformation, 40 }, { FileStandardInformation, 24 },
		{ FileInternalInformation, 8 }, { FileEaInformation, 4 },
		{ FileAccessInformation, 4 }, { FilePositionInformation, 8 },
		{ FileModeInformation, 4 }, { FileAlignmentInformation, 4 },
		{ FileNameInformation, 4 + 12 }, { FileNormalizedNameInformation, 4 + 12 },
		{ FileAllInformation, 100 + 12 }, { FileCompressionInformation, 16 },
		{ FileNetworkOpenInformation, 56 }, { FileAttributeTagInformation, 8 },
		{ FileIdInformation, 24 }, { FileStreamInformation, 24 + 14 + 2 + 24 + 16 },
	};
	uint8_t buf[512];
	int rc;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = enc_file(sizes[i].cls, &fi, buf, sizeof(buf), &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(n, sizes[i].size);
		/* one byte less than the fixed part: nothing written */
		long min = fscc_file_info_min_size(sizes[i].cls);
		n = enc_file(sizes[i].cls, &fi, buf, (size_t)min - 1, &rc);
		assert_int_equal(rc, -ENOSPC);
		assert_int_equal(n, 0);
	}
	/* field spots */
	enc_file(FileStandardInformation, &fi, buf, sizeof(buf), &rc);
	assert_int_equal(get_le64(buf + 8), 100);
	assert_int_equal(get_le32(buf + 16), 1);
	enc_file(FileAllInformation, &fi, buf, sizeof(buf), &rc);
	assert_int_equal(get_le64(buf + 64), 42);            /* Internal */
	assert_int_equal(get_le32(buf + 76), 0x1F01FF);      /* Access */
	assert_int_equal(get_le32(buf + 96), 12);            /* FileNameLength */
	assert_memory_equal(buf + 100, "\\\0d\0i\0r\0\\\0f\0", 12);
	enc_file(FileStreamInformation, &fi, buf, sizeof(buf), &rc);
	assert_int_equal(get_le32(buf), 40);                 /* 38 -> 40 */
	assert_int_equal(get_le32(buf + 4), 14);
	assert_int_equal(get_le32(buf + 40), 0);

	/* truncated name: partial data, full FileNameLength */
	size_t n = enc_file(FileNameInformation, &fi, buf, 9, &rc);
	assert_int_equal(rc, -EOVERFLOW);
	assert_int_equal(n, 8);
	assert_int_equal(get_le32(buf), 12);
	n = enc_file(FileAllInformation, &fi, buf, 105, &rc);
	assert_int_equal(rc, -EOVERFLOW);
	assert_int_equal(n, 104);
	n = enc_file(FileStreamInformation, &fi, buf, 60, &rc);
	assert_int_equal(rc, -EOVERFLOW);
	assert_int_equal(n, 38);
	assert_int_equal(get_le32(buf), 0);

	/* set-only and unknown classes */
	assert_int_equal(fscc_file_info_min_size(FileRenameInformation), -EINVAL);
	enc_file(FileEndOfFileInformation, &fi, buf, sizeof(buf), &rc);
	assert_int_equal(rc, -EINVAL);
	enc_file(200, &fi, buf, sizeof(buf), &rc);
	assert_int_equal(rc, -EINVAL);
	assert_true(fscc_file_info_is_variable(FileAllInformation));
	assert_false(fscc_file_info_is_variable(FileBasicInformation));
}

static void test_fs_info_sizes(void **state)
{
	struct fscc_fs_info fs = { .serial = 0xCAFE, .label = "share", .total_units = 1000,
				   .avail_units = 500, .actual_avail_units = 500,
				   .sectors_per_unit = 8, .bytes_per_sector = 512,
				   .attrs = FILE_CASE_SENSITIVE_SEARCH | FILE_CASE_PRESERVED_NAMES,
				   .max_name_len = 255, .fs_name = "NTFS",
				   .device_type = FILE_DEVICE_DISK };
	static const struct { uint8_t cls; size_t size; } sizes[] = {
		{ FileFsVolumeInformation, 18 + 10 }, { FileFsSizeInformation, 24 },
		{ FileFsDeviceInformation, 8 }, { FileFsAttributeInformation, 12 + 8 },
		{ FileFsFullSizeInformation, 32 }, { FileFsObjectIdInformation, 64 },
		{ FileFsSectorSizeInformation, 28 },
	};
	uint8_t buf[256];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct wr w = wr_init(buf, sizeof(buf));
		assert_int_equal(fscc_fs_info_encode(&w, sizes[i].cls, &fs), 0);
		assert_int_equal(wr_pos(&w), sizes[i].size);
		w = wr_init(buf, (size_t)fscc_fs_info_min_size(sizes[i].cls) - 1);
		assert_int_equal(fscc_fs_info_encode(&w, sizes[i].cls, &fs), -ENOSPC);
		assert_int_equal(wr_pos(&w), 0);
	}
	struct wr w = wr_init(buf, sizeof(buf));
	fscc_fs_info_encode(&w, FileFsAttributeInformation, &fs);
	assert_int_equal(get_le32(buf + 4), 255);
	assert_int_equal(get_le32(buf + 8), 8);
	assert_memory_equal(buf + 12, "N\0T\0F\0S\0", 8);
	w = wr_init(buf, 21);
	assert_int_equal(fscc_fs_info_encode(&w, FileFsVolumeInformation, &fs), -EOVERFLOW);
	assert_int_equal(wr_pos(&w), 20);
	assert_int_equal(get_le32(buf + 12), 10);
	w = wr_init(buf, sizeof(buf));
	assert_int_equal(fscc_fs_info_encode(&w, 2, &fs), -EINVAL);
}

/* --- SET_INFO payload decoders */

static void test_set_info_decoders(void **state)
{
	uint8_t b[64] = { 0 };
	put_le64(b, 1);
	put_le64(b + 24, (uint64_t)-1);
	put_le32(b + 32, 0x21);
	struct fscc_basic bi;
	assert_int_equal(fscc_basic_decode(b, 40, &bi), 0);
	assert_int_equal(bi.create, 1);
	assert_int_equal(bi.change, (uint64_t)-1);
	assert_int_equal(bi.attrs, 0x21);
	assert_int_equal(fscc_basic_decode(b, 39, &bi), -EMSGSIZE);

	memset(b, 0, sizeof(b));
	b[0] = 1;
	put_le32(b + 16, 6);
	memcpy(b + 20, "n\0e\0w\0", 6);
	struct fscc_rename rn;
	for (size_t n = 0; n < 26; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, b, n);
		assert_int_equal(fscc_rename_decode(c, n, &rn), n < 20 ? -EMSGSIZE : -EINVAL);
		free(c);
	}
	assert_int_equal(fscc_rename_decode(b, 26, &rn), 0);
	assert_true(rn.replace_if_exists);
	assert_int_equal(rn.name_len, 6);
	assert_ptr_equal(rn.name, b + 20);
	assert_int_equal(fscc_link_decode(b, 26, &rn), 0);
	put_le32(b + 16, 5);
	assert_int_equal(fscc_rename_decode(b, 26, &rn), -EINVAL);
	put_le32(b + 16, 0xFFFFFFFEu);
	assert_int_equal(fscc_rename_decode(b, 26, &rn), -EINVAL);

	uint32_t u32;
	uint64_t u64;
	bool del;
	put_le64(b, 0x123456789ull);
	assert_int_equal(fscc_disposition_decode(b, 0, &del), -EMSGSIZE);
	assert_int_equal(fscc_disposition_ex_decode(b, 4, &u32), 0);
	assert_int_equal(u32, 0x23456789);
	assert_int_equal(fscc_disposition_ex_decode(b, 3, &u32), -EMSGSIZE);
	assert_int_equal(fscc_mode_decode(b, 4, &u32), 0);
	assert_int_equal(fscc_position_decode(b, 8, &u64), 0);
	assert_int_equal(u64, 0x123456789ull);
	assert_int_equal(fscc_eof_decode(b, 7, &u64), -EMSGSIZE);
	assert_int_equal(fscc_allocation_decode(b, 8, &u64), 0);
}

static void test_full_ea(void **state)
{
	uint8_t buf[128];
	struct wr w = wr_init(buf, sizeof(buf));
	uint8_t *prev = NULL;
	struct fscc_ea a = { 0, 4, "user", 3, (const uint8_t *)"abc" };
	struct fscc_ea b = { FILE_NEED_EA, 2, "xy", 0, NULL };
	assert_int_equal(fscc_ea_encode(&w, &a, &prev), 0);
	assert_int_equal(fscc_ea_encode(&w, &b, &prev), 0);
	assert_int_equal(get_le32(buf), 16);       /* 8+5+3 = 16 */
	size_t len = wr_pos(&w);
	assert_int_equal(len, 16 + 11);

	struct fscc_ea_iter it;
	struct fscc_ea e;
	fscc_ea_iter_init(&it, buf, len);
	assert_int_equal(fscc_ea_next(&it, &e), 1);
	assert_int_equal(e.name_len, 4);
	assert_string_equal(e.name, "user");
	assert_memory_equal(e.value, "abc", 3);
	assert_int_equal(fscc_ea_next(&it, &e), 1);
	assert_int_equal(e.flags, FILE_NEED_EA);
	assert_string_equal(e.name, "xy");
	assert_int_equal(fscc_ea_next(&it, &e), 0);

	for (size_t n = 1; n < len; n++) {
		uint8_t *c = malloc(n);
		memcpy(c, buf, n);
		fscc_ea_iter_init(&it, c, n);
		int rc;
		while ((rc = fscc_ea_next(&it, &e)) == 1)
			;
		assert_int_equal(rc, -EINVAL);
		free(c);
	}
	static const uint32_t bad_next[] = { 2, 12, 17, 100 };
	for (size_t i = 0; i < 4; i++) {
		put_le32(buf, bad_next[i]);
		fscc_ea_iter_init(&it, buf, len);
		assert_int_equal(fscc_ea_next(&it, &e), -EINVAL);
	}
	put_le32(buf, 16);
	buf[8 + 4] = 'X';                          /* name not terminated */
	fscc_ea_iter_init(&it, buf, len);
	assert_int_equal(fscc_ea_next(&it, &e), -EINVAL);
	fscc_ea_iter_init(&it, NULL, 0);
	assert_int_equal(fscc_ea_next(&it, &e), 0);

	uint8_t small[20];
	w = wr_init(small, sizeof(small));
	prev = NULL;
	assert_int_equal(fscc_ea_encode(&w, &a, &prev), 0);
	assert_int_equal(fscc_ea_encode(&w, &b, &prev), -ENOSPC);
	assert_int_equal(wr_pos(&w), 16);
}

/* --- OPLOCK_BREAK: oplock and lease, acks and notifications */

static void test_oplock_ack(void **state)
{
	struct wr w = msg_begin();
	wr_le16(&w, 24);
	wr_u8(&w, SMB2_OPLOCK_LEVEL_II);
	wr_zero(&w, 5);
	put_fid(&w, 0x1111, 0x2222);
	size_t len = wr_pos(&w);
	struct rd r = rd_init(msg, len);
	r.p = msg + SMB2_HDR_SIZE;
	assert_int_equal(wire_oplock_break_form(&r), 24);
	assert_ptr_equal(r.p, msg + SMB2_HDR_SIZE);
	struct wire_oplock_ack q;
	assert_int_equal(dec_msg(wire_oplock_ack_decode_w, len, &q), 0);
	assert_int_equal(q.level, SMB2_OPLOCK_LEVEL_II);
	assert_int_equal(q.fid.persistent, 0x1111);
	assert_int_equal(q.fid.volatile_, 0x2222);
	check_prefixes(wire_oplock_ack_decode_w, len);
	body16(0, 36); /* the lease form is not an oplock ack */
	assert_int_equal(dec_msg(wire_oplock_ack_decode_w, len, &q), -EINVAL);

	/* notification and response: the same 24 bytes (2.2.23.1, 2.2.25.1) */
	uint8_t out[64 + 24];
	struct wr o = wr_init(out, sizeof(out));
	o.p += 64;
	wire_oplock_break_encode(&o, SMB2_OPLOCK_LEVEL_NONE, &q.fid);
	assert_true(wr_ok(&o));
	assert_int_equal(wr_pos(&o), 64 + 24);
	assert_int_equal(get_le16(out + 64), 24);
	assert_int_equal(out[64 + 2], SMB2_OPLOCK_LEVEL_NONE);
	assert_int_equal(get_le64(out + 64 + 8), 0x1111);
	assert_int_equal(get_le64(out + 64 + 16), 0x2222);
	struct wr small = wr_init(out, 64 + 23);
	small.p += 64;
	wire_oplock_break_encode(&small, 0, &q.fid);
	assert_false(wr_ok(&small));
}

static void test_lease_ack(void **state)
{
	static const uint8_t key[16] = "0123456789abcdef";
	struct wr w = msg_begin();
	wr_le16(&w, 36);
	wr_le16(&w, 0);
	wr_le32(&w, 0);
	wr_bytes(&w, key, 16);
	wr_le32(&w, 0x3);                /* READ_CACHING | HANDLE_CACHING */
	wr_le64(&w, 0);
	size_t len = wr_pos(&w);
	struct rd r = rd_init(msg, len);
	r.p = msg + SMB2_HDR_SIZE;
	assert_int_equal(wire_oplock_break_form(&r), 36);
	struct wire_lease_ack q;
	assert_int_equal(dec_msg(wire_lease_ack_decode_w, len, &q), 0);
	assert_memory_equal(q.key, key, 16);
	assert_int_equal(q.state, 3);
	check_prefixes(wire_lease_ack_decode_w, len);
	r.p = msg + len - 1;
	assert_int_equal(wire_oplock_break_form(&r), 0);

	uint8_t out[64 + 44];
	struct wr o = wr_init(out, 64 + 36);
	o.p += 64;
	wire_lease_ack_encode_rsp(&o, key, 1);
	assert_true(wr_ok(&o));
	assert_int_equal(wr_pos(&o), 64 + 36);
	assert_int_equal(get_le16(out + 64), 36);
	assert_memory_equal(out + 64 + 8, key, 16);
	assert_int_equal(get_le32(out + 64 + 24), 1);

	struct wire_lease_break n = { .new_epoch = 2, .flags = SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED,
				      .current_state = 7, .new_state = 1 };
	memcpy(n.key, key, 16);
	o = wr_init(out, sizeof(out));
	o.p += 64;
	wire_lease_break_encode(&o, &n);
	assert_true(wr_ok(&o));
	assert_int_equal(wr_pos(&o), 64 + 44);
	assert_int_equal(get_le16(out + 64), 44);
	assert_int_equal(get_le16(out + 64 + 2), 2);
	assert_int_equal(get_le32(out + 64 + 4), 1);
	assert_memory_equal(out + 64 + 8, key, 16);
	assert_int_equal(get_le32(out + 64 + 24), 7);
	assert_int_equal(get_le32(out + 64 + 28), 1);
	assert_int_equal(get_le32(out + 64 + 32), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_ioctl),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_many_contexts),
		cmocka_unit_test(test_create_ctx_payloads),
		cmocka_unit_test(test_create_rsp),
		cmocka_unit_test(test_qdir),
		cmocka_unit_test(test_query_set_info),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_dirent),
		cmocka_unit_test(test_file_info_sizes),
		cmocka_unit_test(test_fs_info_sizes),
		cmocka_unit_test(test_set_info_decoders),
		cmocka_unit_test(test_full_ea),
		cmocka_unit_test(test_oplock_ack),
		cmocka_unit_test(test_lease_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
