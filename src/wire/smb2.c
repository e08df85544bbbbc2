#include "wire/smb2.h"

#include <errno.h>
#include <stddef.h>

int smb2_hdr_decode(struct rd *r, struct smb2_hdr *h)
{
	if (rd_left(r) < SMB2_HDR_SIZE)
		return -EINVAL;
	if (rd_le32(r) != SMB2_PROTOCOL_ID)
		return -EINVAL;
	if (rd_le16(r) != SMB2_HDR_SIZE) /* StructureSize */
		return -EINVAL;
	h->credit_charge = rd_le16(r);
	h->status = rd_le32(r);
	h->command = rd_le16(r);
	h->credits = rd_le16(r);
	h->flags = rd_le32(r);
	h->next_command = rd_le32(r);
	h->message_id = rd_le64(r);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		h->async_id = rd_le64(r);
		h->process_id = 0;
		h->tree_id = 0;
	} else {
		h->async_id = 0;
		h->process_id = rd_le32(r);
		h->tree_id = rd_le32(r);
	}
	h->session_id = rd_le64(r);
	rd_bytes(r, h->signature, 16);
	return rd_ok(r) ? 0 : -EINVAL;
}

void smb2_hdr_encode(struct wr *w, const struct smb2_hdr *h)
{
	wr_le32(w, SMB2_PROTOCOL_ID);
	wr_le16(w, SMB2_HDR_SIZE);
	wr_le16(w, h->credit_charge);
	wr_le32(w, h->status);
	wr_le16(w, h->command);
	wr_le16(w, h->credits);
	wr_le32(w, h->flags);
	wr_le32(w, h->next_command);
	wr_le64(w, h->message_id);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		wr_le64(w, h->async_id);
	} else {
		wr_le32(w, h->process_id);
		wr_le32(w, h->tree_id);
	}
	wr_le64(w, h->session_id);
	wr_bytes(w, h->signature, 16);
}

int smb2_compound_split(const uint8_t *msg, size_t len, struct smb2_elem *out, unsigned max)
{
	size_t pos = 0;
	unsigned n = 0;
	for (;;) {
		if (n == max)
			return -E2BIG;
		struct rd r = rd_init(msg + pos, len - pos);
		if (smb2_hdr_decode(&r, &out[n].hdr) < 0)
			return -EINVAL;
		uint32_t next = out[n].hdr.next_command;
		size_t elen = len - pos;
		if (next) {
			if (next % 8 || next < SMB2_HDR_SIZE || next >= len - pos)
				return -EINVAL;
			elen = next;
		}
		out[n].off = pos;
		out[n].len = elen;
		n++;
		if (!next)
			return (int)n;
		pos += next;
	}
}

int smb2_tf_hdr_decode(struct rd *r, struct smb2_tf_hdr *t)
{
	if (rd_left(r) < SMB2_TF_HDR_SIZE || rd_le32(r) != SMB2_TF_PROTOCOL_ID)
		return -EINVAL;
	rd_bytes(r, t->signature, 16);
	rd_bytes(r, t->nonce, 16);
	t->orig_size = rd_le32(r);
	rd_skip(r, 2); /* Reserved */
	t->flags = rd_le16(r);
	t->session_id = rd_le64(r);
	return rd_ok(r) ? 0 : -EINVAL;
}

void smb2_tf_hdr_encode(struct wr *w, const struct smb2_tf_hdr *t)
{
	wr_le32(w, SMB2_TF_PROTOCOL_ID);
	wr_bytes(w, t->signature, 16);
	wr_bytes(w, t->nonce, 16);
	wr_le32(w, t->orig_size);
	wr_le16(w, 0);
	wr_le16(w, t->flags);
	wr_le64(w, t->session_id);
}

void smb2_error_encode(struct wr *w, const uint8_t *data, uint32_t len)
{
	/* MS-SMB2 2.2.2: StructureSize 9, ErrorContextCount, Reserved,
	 * ByteCount, ErrorData (at least one byte even when ByteCount is 0). */
	wr_le16(w, 9);
	wr_u8(w, 0);
	wr_u8(w, 0);
	wr_le32(w, len);
	if (len)
		wr_bytes(w, data, len);
	else
		wr_u8(w, 0);
}

static const char *const names[SMB2_N_COMMANDS] = {
	"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
	"CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO",
	"QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
};

const char *smb2_command_name(uint16_t cmd)
{
	return cmd < SMB2_N_COMMANDS ? names[cmd] : "UNKNOWN";
}
