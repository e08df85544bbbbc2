/* Fuzz target for the file-service codecs: the input is one SMB2 message
 * (64-byte header + body) and is given to every request decoder; what they
 * decode (create contexts, lock elements, IOCTL input, SET_INFO buffer) is
 * fed on to the payload decoders.  The whole input also goes to every
 * SET_INFO and FSCTL payload decoder and the EA list iterator. */
#include <stddef.h>
#include <stdint.h>

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

static volatile uint64_t sink;

static struct rd msg_rd(const uint8_t *data, size_t size)
{
	struct rd r = rd_init(data, size);
	r.p = data + SMB2_HDR_SIZE;
	return r;
}

static void payloads(const uint8_t *b, size_t len)
{
	struct fscc_basic bi;
	struct fscc_rename rn;
	bool bo;
	uint32_t u32;
	uint64_t u64;
	fscc_basic_decode(b, len, &bi);
	if (fscc_rename_decode(b, len, &rn) == 0 && rn.name_len)
		sink += rn.name[rn.name_len - 1];
	fscc_link_decode(b, len, &rn);
	fscc_disposition_decode(b, len, &bo);
	fscc_disposition_ex_decode(b, len, &u32);
	fscc_position_decode(b, len, &u64);
	fscc_mode_decode(b, len, &u32);
	fscc_eof_decode(b, len, &u64);
	fscc_allocation_decode(b, len, &u64);

	struct fscc_ea_iter it;
	struct fscc_ea ea;
	fscc_ea_iter_init(&it, b, len);
	while (fscc_ea_next(&it, &ea) == 1)
		sink += ea.name[ea.name_len] + (ea.value_len ? ea.value[ea.value_len - 1] : 0);

	struct wire_copychunk_req cc;
	if (wire_fsctl_copychunk_decode(b, len, &cc) == 0) {
		struct wire_copychunk ch;
		for (uint32_t i = 0; i < cc.chunk_count; i++) {
			wire_fsctl_copychunk_get(&cc, i, &ch);
			sink += ch.length;
		}
	}
	struct wire_validate_neg_req vn;
	if (wire_fsctl_validate_neg_decode(b, len, &vn) == 0)
		for (unsigned i = 0; i < vn.dialect_count; i++)
			sink += wire_fsctl_validate_neg_dialect(&vn, i);
	struct wire_zero_data z;
	wire_fsctl_zero_data_decode(b, len, &z);
	struct wire_alloc_range ar;
	wire_fsctl_alloc_range_decode(b, len, &ar);
	wire_fsctl_set_sparse_decode(b, len, &bo);
}

static void create_contexts(const struct wire_create_req *q)
{
	for (unsigned i = 0; i < q->n_ctx; i++) {
		const struct wire_create_ctx *c = &q->ctx[i];
		struct wire_fileid fid;
		struct wire_ctx_dh2q d2q;
		struct wire_ctx_dh2c d2c;
		struct wire_ctx_mxac mx;
		struct wire_ctx_lease l;
		uint8_t app_id[16];
		uint64_t v;
		sink += c->name[c->name_len - 1];
		wire_ctx_dhnq_decode(c);
		wire_ctx_dhnc_decode(c, &fid);
		wire_ctx_dh2q_decode(c, &d2q);
		wire_ctx_dh2c_decode(c, &d2c);
		if (wire_ctx_app_instance_decode(c, app_id) == 0)
			sink += app_id[15];
		wire_ctx_mxac_decode(c, &mx);
		wire_ctx_qfid_decode(c);
		wire_ctx_lease_decode(c, &l);
		wire_ctx_twrp_decode(c, &v);
		wire_ctx_alsi_decode(c, &v);
		if (c->data_len)
			payloads(c->data, c->data_len);
	}
	sink += !!WIRE_CREATE_CTX_FIND(q, WIRE_CTX_LEASE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	payloads(data, size);
	if (size < SMB2_HDR_SIZE)
		return 0;

	struct rd r;
	struct wire_close_req cl;
	r = msg_rd(data, size);
	wire_close_decode_req(&r, &cl);
	struct wire_flush_req fl;
	r = msg_rd(data, size);
	wire_flush_decode_req(&r, &fl);

	struct wire_read_req rq;
	r = msg_rd(data, size);
	if (wire_read_decode_req(&r, &rq) == 0 && rq.channel_info_len)
		sink += rq.channel_info[rq.channel_info_len - 1];
	struct wire_write_req wq;
	r = msg_rd(data, size);
	if (wire_write_decode_req(&r, &wq) == 0 && wq.length)
		sink += wq.data[wq.length - 1];

	struct wire_lock_req lq;
	r = msg_rd(data, size);
	if (wire_lock_decode_req(&r, &lq) == 0) {
		struct wire_lock_elem e;
		for (unsigned i = 0; i < lq.lock_count; i++) {
			wire_lock_req_elem(&lq, i, &e);
			sink += e.flags;
		}
	}

	struct wire_ioctl_req iq;
	r = msg_rd(data, size);
	if (wire_ioctl_decode_req(&r, &iq) == 0) {
		if (iq.in_len)
			payloads(iq.in, iq.in_len);
		if (iq.out_len)
			sink += iq.out[iq.out_len - 1];
	}

	static struct wire_create_req cq;
	r = msg_rd(data, size);
	if (wire_create_decode_req(&r, &cq) == 0) {
		if (cq.name_len)
			sink += cq.name[cq.name_len - 1];
		create_contexts(&cq);
	}

	struct wire_qdir_req dq;
	r = msg_rd(data, size);
	if (wire_qdir_decode_req(&r, &dq) == 0 && dq.pattern_len)
		sink += dq.pattern[dq.pattern_len - 1];

	struct wire_query_info_req qi;
	r = msg_rd(data, size);
	if (wire_query_info_decode_req(&r, &qi) == 0 && qi.in_len)
		payloads(qi.in, qi.in_len);
	struct wire_set_info_req si;
	r = msg_rd(data, size);
	if (wire_set_info_decode_req(&r, &si) == 0 && si.buf_len)
		payloads(si.buf, si.buf_len);

	struct wire_notify_req nq;
	r = msg_rd(data, size);
	wire_notify_decode_req(&r, &nq);

	struct wire_oplock_ack oa;
	struct wire_lease_ack la;
	r = msg_rd(data, size);
	sink += wire_oplock_break_form(&r);
	wire_oplock_ack_decode(&r, &oa);
	r = msg_rd(data, size);
	if (wire_lease_ack_decode(&r, &la) == 0)
		sink += la.key[15];
	return 0;
}
