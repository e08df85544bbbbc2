/* SMB2 CLOSE request/response ([MS-SMB2] 2.2.15, 2.2.16). */
#include "wire/close.h"

int wire_close_decode_req(struct rd *r, struct wire_close_req *q)
{
	if (!wire_body_start(r, 24))
		return -EINVAL;
	q->flags = rd_le16(r);
	rd_skip(r, 4); /* Reserved */
	wire_fileid_read(r, &q->fid);
	return rd_ok(r) ? 0 : -EINVAL;
}

void wire_close_encode_rsp(struct wr *w, const struct wire_close_rsp *s)
{
	bool attrs = s->flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;

	wr_le16(w, 60);
	wr_le16(w, s->flags);
	wr_le32(w, 0); /* Reserved */
	wr_le64(w, attrs ? s->create : 0);
	wr_le64(w, attrs ? s->access : 0);
	wr_le64(w, attrs ? s->write : 0);
	wr_le64(w, attrs ? s->change : 0);
	wr_le64(w, attrs ? s->alloc : 0);
	wr_le64(w, attrs ? s->eof : 0);
	wr_le32(w, attrs ? s->attrs : 0);
}
