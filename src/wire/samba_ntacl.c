/* Samba's security.NTACL (samba_ntacl.h). */
#include "wire/samba_ntacl.h"

#include <string.h>

#include "wire/cursor.h"

static void align4(struct rd *r)
{
	size_t pad = (4 - rd_pos(r) % 4) % 4;
	rd_skip(r, pad);
}

/* v4's header after the sd referent and hash type, up to the descriptor. */
static void skip_v4_tail(struct rd *r)
{
	rd_skip(r, 64); /* hash */
	const uint8_t *p = rd_ptr(r, 0);
	size_t left = rd_left(r);
	const uint8_t *nul = p ? memchr(p, 0, left) : NULL;
	if (!nul) {
		rd_skip(r, left + 1); /* no terminator: a short read */
		return;
	}
	rd_skip(r, (size_t)(nul - p) + 1); /* description */
	align4(r);
	rd_skip(r, 8);  /* NTTIME */
	rd_skip(r, 64); /* hash of the POSIX ACL */
}

/* The descriptor at buf[pos..len) with offsets counted from buf: copy it
 * to out with its OffsetOwner/Group/Sacl/Dacl made relative to itself. */
static int rebase(const uint8_t *buf, size_t len, size_t pos, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = len - pos;
	if (n < 20 || n > cap)
		return -1;
	memcpy(out, buf + pos, n);
	for (size_t f = 4; f < 20; f += 4) {
		struct rd r = rd_init(out + f, 4);
		uint32_t off = rd_le32(&r);
		if (off == 0)
			continue;
		if (off < pos + 20 || off - pos >= n)
			return -1;
		struct wr w = wr_init(out + f, 4);
		wr_le32(&w, (uint32_t)(off - pos));
	}
	*out_len = n;
	return 0;
}

int wire_samba_ntacl_sd(const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct rd r = rd_init(buf, len);
	uint16_t version = rd_le16(&r);
	uint16_t level = rd_le16(&r);
	uint32_t arm = rd_le32(&r);
	if (!rd_ok(&r) || version != level || version < 1 || version > 4 || arm == 0)
		return -1;
	if (version > 1) {
		uint32_t sd_ref = rd_le32(&r);
		if (version == 2) {
			rd_skip(&r, 16);
		} else {
			rd_skip(&r, 2); /* hash type */
			if (version == 3)
				rd_skip(&r, 64);
			else
				skip_v4_tail(&r);
		}
		if (sd_ref == 0)
			return -1;
	}
	align4(&r);
	if (!rd_ok(&r) || rd_left(&r) == 0)
		return -1;
	return rebase(buf, len, rd_pos(&r), out, cap, out_len);
}

#define NTACL_V1_HEADER 8 /* version, union level, referent of the descriptor */

size_t wire_samba_ntacl_encode_v1(const uint8_t *sd, size_t sd_len, uint8_t *out, size_t cap)
{
	if (sd_len < 20 || sd_len > UINT32_MAX - NTACL_V1_HEADER || cap < NTACL_V1_HEADER + sd_len)
		return 0;
	put_le16(out, 1);
	put_le16(out + 2, 1);
	put_le32(out + 4, 0x00020000u); /* NDR's first referent id */
	memcpy(out + NTACL_V1_HEADER, sd, sd_len);
	/* NDR's relative base is the start of the value: offsets move by the header */
	for (size_t f = 4; f < 20; f += 4) {
		uint32_t off = get_le32(sd + f);
		if (off == 0)
			continue;
		if (off >= sd_len)
			return 0;
		put_le32(out + NTACL_V1_HEADER + f, off + NTACL_V1_HEADER);
	}
	return NTACL_V1_HEADER + sd_len;
}
