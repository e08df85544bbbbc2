#include "wire/tree.h"

#include <errno.h>

int tree_connect_req_decode(struct rd *r, struct tree_connect_req *q)
{
	if (rd_le16(r) != 9)
		return -EINVAL;
	q->flags = rd_le16(r);
	uint16_t off = rd_le16(r);
	uint16_t len = rd_le16(r);
	if (!rd_ok(r))
		return -EINVAL;
	if (q->flags & SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT) {
		/* MS-SMB2 2.2.9.1: the buffer starts with a 16-byte
		 * TREE_CONNECT_REQUEST_EXTENSION (context offset/count, reserved)
		 * followed by the path name. */
		q->path = rd_range(r, (uint64_t)off + 16, len);
		q->path_len = len;
		if (!q->path)
			return -EINVAL;
	} else {
		q->path = rd_range(r, off, len);
		q->path_len = len;
		if (!q->path && len)
			return -EINVAL;
	}
	if (q->path_len & 1)
		return -EINVAL;
	return 0;
}

void tree_connect_resp_encode(struct wr *w, const struct tree_connect_resp *p)
{
	wr_le16(w, 16);
	wr_u8(w, p->share_type);
	wr_u8(w, 0);
	wr_le32(w, p->share_flags);
	wr_le32(w, p->capabilities);
	wr_le32(w, p->maximal_access);
}
