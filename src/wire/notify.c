/* SMB2 CHANGE_NOTIFY request/response ([MS-SMB2] 2.2.35, 2.2.36) and
 * FILE_NOTIFY_INFORMATION ([MS-FSCC] 2.7.1). */
#include "wire/notify.h"
#include "wire/query_directory.h"
#include "util/utf16.h"

#include <string.h>

int wire_notify_decode_req(struct rd *r, struct wire_notify_req *q)
{
	if (!wire_body_start(r, 32))
		return -EINVAL;
	q->flags = rd_le16(r);
	q->output_len = rd_le32(r);
	wire_fileid_read(r, &q->fid);
	q->completion_filter = rd_le32(r);
	rd_skip(r, 4); /* Reserved */
	return rd_ok(r) ? 0 : -EINVAL;
}

/* The response (2.2.36) has QUERY_DIRECTORY's shape (2.2.34). */
uint8_t *wire_notify_rsp_begin(struct wr *w)
{
	return wire_qdir_rsp_begin(w);
}

int wire_notify_rsp_end(struct wr *w, uint8_t *body)
{
	return wire_qdir_rsp_end(w, body);
}

int wire_notify_entry_encode(struct wr *w, uint32_t action, const char *name, uint8_t **prev)
{
	size_t nlen = strlen(name);
	long u16 = utf8_utf16le_size(name, nlen);
	if (u16 < 0)
		return -EINVAL;
	size_t pad = (4 - wr_pos(w) % 4) % 4;
	if (wr_left(w) < pad + 12 + (size_t)u16)
		return -ENOSPC;
	wr_zero(w, pad);
	uint8_t *e = wr_reserve(w, 12 + (size_t)u16);
	put_le32(e, 0);
	put_le32(e + 4, action);
	put_le32(e + 8, (uint32_t)u16);
	utf8_to_utf16le(name, nlen, e + 12, (size_t)u16);
	if (*prev)
		put_le32(*prev, (uint32_t)(e - *prev));
	*prev = e;
	return 0;
}
