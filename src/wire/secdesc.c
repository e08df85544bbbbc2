/* Security descriptor codec ([MS-DTYP] 2.4.6 / 2.4.5 / 2.4.4 / 2.4.2.2). */
#include "wire/secdesc.h"

#include <errno.h>
#include <string.h>

#include "wire/cursor.h"

size_t wire_sid_len(const uint8_t *p, size_t len)
{
	/* Revision(1) SubAuthorityCount(1) IdentifierAuthority(6) SubAuthority[n] */
	if (!p || len < 8 || p[0] != 1 || p[1] > WIRE_SID_MAX_SUBAUTH)
		return 0;
	size_t need = 8 + 4u * p[1];
	return len < need ? 0 : need;
}

bool wire_sid_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && b && alen == blen && memcmp(a, b, alen) == 0;
}

size_t wire_sid_make(uint8_t *out, uint8_t authority, const uint32_t *sub, unsigned n)
{
	if (n > WIRE_SID_MAX_SUBAUTH)
		n = WIRE_SID_MAX_SUBAUTH;
	out[0] = 1;
	out[1] = (uint8_t)n;
	memset(out + 2, 0, 5); /* 48-bit big-endian authority */
	out[7] = authority;
	for (unsigned i = 0; i < n; i++)
		put_le32(out + 8 + 4 * i, sub[i]);
	return 8 + 4u * n;
}

/* Where the SID of an ACE starts, by type ([MS-DTYP] 2.4.4.1); 0 = a type
 * whose SID position is computed from its flags (object ACEs, returned in
 * *object) or -1 for a type no ACL may hold. */
static int ace_sid_offset(uint8_t type, bool *object)
{
	*object = false;
	switch (type) {
	case 0x00: case 0x01: case 0x02: case 0x03: /* allowed denied audit alarm */
	case 0x09: case 0x0A: case 0x0D: case 0x0E: /* callback variants */
	case 0x11: case 0x12: case 0x13:            /* label, resource attr, scoped policy */
		return 8;
	case 0x05: case 0x06: case 0x07: case 0x08: /* object ACEs */
	case 0x0B: case 0x0C: case 0x0F: case 0x10:
		*object = true;
		return 0;
	default:
		return -1;
	}
}

/* Parse the ACE at acl[pos] (room bytes left in the ACL): 0 or -EINVAL. */
static int ace_parse(const uint8_t *p, size_t room, struct wire_ace *ace)
{
	if (room < 4)
		return -EINVAL;
	uint16_t size = get_le16(p + 2);
	if (size < 8 || size > room)
		return -EINVAL;
	bool object;
	int off = ace_sid_offset(p[0], &object);
	if (off < 0)
		return -EINVAL;
	ace->type = p[0];
	ace->flags = p[1];
	ace->size = size;
	ace->mask = get_le32(p + 4);
	ace->raw = p;
	ace->sid = NULL;
	ace->sid_len = 0;
	size_t soff = (size_t)off;
	if (object) {
		/* Mask(4) Flags(4) [ObjectType GUID] [InheritedObjectType GUID] Sid */
		if (size < 12)
			return -EINVAL;
		uint32_t of = get_le32(p + 8);
		soff = 12 + ((of & 1) ? 16 : 0) + ((of & 2) ? 16 : 0);
		if (soff > size || !wire_sid_len(p + soff, size - soff))
			return -EINVAL;
		return 0; /* object ACEs never match a file's token here */
	}
	size_t sl = wire_sid_len(p + soff, size - soff);
	if (!sl)
		return -EINVAL;
	ace->sid = p + soff;
	ace->sid_len = sl;
	return 0;
}

void wire_acl_iter_init(struct wire_acl_iter *it, const uint8_t *acl, size_t acl_len)
{
	it->acl = acl;
	it->size = 0;
	it->pos = WIRE_ACL_HEADER;
	it->left = 0;
	if (acl && acl_len >= WIRE_ACL_HEADER) {
		size_t size = get_le16(acl + 2);
		it->size = size < acl_len ? size : acl_len;
		it->left = get_le16(acl + 4);
	}
}

bool wire_acl_iter_next(struct wire_acl_iter *it, struct wire_ace *ace)
{
	if (!it->left || it->pos >= it->size)
		return false;
	if (ace_parse(it->acl + it->pos, it->size - it->pos, ace) < 0) {
		it->left = 0;
		return false;
	}
	it->pos += ace->size;
	it->left--;
	return true;
}

static int acl_check(const uint8_t *buf, size_t len, uint32_t off, const char **why)
{
	if (off < WIRE_SD_HEADER || off >= len || len - off < WIRE_ACL_HEADER) {
		*why = "ACL offset outside the descriptor";
		return -EINVAL;
	}
	const uint8_t *acl = buf + off;
	if (acl[0] != WIRE_ACL_REVISION && acl[0] != WIRE_ACL_REVISION_DS) {
		*why = "ACL revision";
		return -EINVAL;
	}
	uint16_t size = get_le16(acl + 2), count = get_le16(acl + 4);
	if (size < WIRE_ACL_HEADER || size > len - off) {
		*why = "AclSize outside the descriptor";
		return -EINVAL;
	}
	size_t pos = WIRE_ACL_HEADER;
	for (unsigned i = 0; i < count; i++) {
		struct wire_ace ace;
		if (pos > size || ace_parse(acl + pos, size - pos, &ace) < 0) {
			*why = "ACE outside its ACL or malformed";
			return -EINVAL;
		}
		pos += ace.size;
	}
	return 0;
}

static int sid_at(const uint8_t *buf, size_t len, uint32_t off, const uint8_t **sid, size_t *sid_len,
		  const char **why)
{
	*sid = NULL;
	*sid_len = 0;
	if (off == 0)
		return 0;
	if (off < WIRE_SD_HEADER || off >= len || !(*sid_len = wire_sid_len(buf + off, len - off))) {
		*why = "SID offset or SID malformed";
		return -EINVAL;
	}
	*sid = buf + off;
	return 0;
}

int wire_sd_decode(const uint8_t *buf, size_t len, struct wire_sd *sd, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(sd, 0, sizeof(*sd));
	if (!buf || len < WIRE_SD_HEADER) {
		*why = "shorter than the header";
		return -EINVAL;
	}
	if (buf[0] != 1) {
		*why = "revision";
		return -EINVAL;
	}
	sd->control = get_le16(buf + 2);
	if (!(sd->control & SE_SELF_RELATIVE)) {
		*why = "not self-relative";
		return -EINVAL;
	}
	uint32_t off_owner = get_le32(buf + 4), off_group = get_le32(buf + 8);
	uint32_t off_sacl = get_le32(buf + 12), off_dacl = get_le32(buf + 16);
	if (sid_at(buf, len, off_owner, &sd->owner, &sd->owner_len, why) < 0 ||
	    sid_at(buf, len, off_group, &sd->group, &sd->group_len, why) < 0)
		return -EINVAL;
	if ((sd->control & SE_SACL_PRESENT) && off_sacl) {
		if (acl_check(buf, len, off_sacl, why) < 0)
			return -EINVAL;
		sd->sacl = buf + off_sacl;
		sd->sacl_len = get_le16(sd->sacl + 2);
	}
	if ((sd->control & SE_DACL_PRESENT) && off_dacl) {
		if (acl_check(buf, len, off_dacl, why) < 0)
			return -EINVAL;
		sd->dacl = buf + off_dacl;
		sd->dacl_len = get_le16(sd->dacl + 2);
	}
	return 0;
}

size_t wire_sd_encode(const struct wire_sd *sd, uint8_t *buf, size_t cap)
{
	size_t need = WIRE_SD_HEADER;
	size_t off_owner = 0, off_group = 0, off_sacl = 0, off_dacl = 0;
	if (sd->owner) { off_owner = need; need += sd->owner_len; }
	if (sd->group) { off_group = need; need += sd->group_len; }
	if (sd->sacl) { off_sacl = need; need += sd->sacl_len; }
	if (sd->dacl) { off_dacl = need; need += sd->dacl_len; }
	if (!buf || need > cap)
		return need;
	buf[0] = 1;
	buf[1] = 0;
	put_le16(buf + 2, (uint16_t)(sd->control | SE_SELF_RELATIVE));
	put_le32(buf + 4, (uint32_t)off_owner);
	put_le32(buf + 8, (uint32_t)off_group);
	put_le32(buf + 12, (uint32_t)off_sacl);
	put_le32(buf + 16, (uint32_t)off_dacl);
	if (sd->owner)
		memcpy(buf + off_owner, sd->owner, sd->owner_len);
	if (sd->group)
		memcpy(buf + off_group, sd->group, sd->group_len);
	if (sd->sacl)
		memcpy(buf + off_sacl, sd->sacl, sd->sacl_len);
	if (sd->dacl)
		memcpy(buf + off_dacl, sd->dacl, sd->dacl_len);
	return need;
}

void wire_acl_begin(struct wire_acl_builder *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap > 65535 ? 65535 : cap;
	b->len = WIRE_ACL_HEADER;
	b->count = 0;
	b->err = cap < WIRE_ACL_HEADER;
}

static uint8_t *acl_room(struct wire_acl_builder *b, size_t n)
{
	if (b->err || b->cap - b->len < n || b->count >= 65535) {
		b->err = true;
		return NULL;
	}
	uint8_t *p = b->buf + b->len;
	b->len += n;
	b->count++;
	return p;
}

void wire_acl_add(struct wire_acl_builder *b, uint8_t type, uint8_t flags, uint32_t mask,
		  const uint8_t *sid, size_t sid_len)
{
	uint8_t *p = acl_room(b, 8 + sid_len);
	if (!p)
		return;
	p[0] = type;
	p[1] = flags;
	put_le16(p + 2, (uint16_t)(8 + sid_len));
	put_le32(p + 4, mask);
	memcpy(p + 8, sid, sid_len);
}

void wire_acl_add_raw(struct wire_acl_builder *b, const struct wire_ace *ace, uint8_t flags)
{
	uint8_t *p = acl_room(b, ace->size);
	if (!p)
		return;
	memcpy(p, ace->raw, ace->size);
	p[1] = flags;
}

size_t wire_acl_finish(struct wire_acl_builder *b)
{
	if (b->err)
		return 0;
	b->buf[0] = WIRE_ACL_REVISION;
	b->buf[1] = 0;
	put_le16(b->buf + 2, (uint16_t)b->len);
	put_le16(b->buf + 4, (uint16_t)b->count);
	put_le16(b->buf + 6, 0);
	return b->len;
}
