/* Security descriptors from unix owner, group and mode ([MS-DTYP] 2.4.6). */
#include "cmd/secdesc.h"

#include <string.h>

#include "wire/cursor.h"
#include "wire/info.h"
#include "wire/secdesc.h"

#define SD_HEADER 20
#define ACL_REVISION 2
#define ACCESS_ALLOWED_ACE_TYPE 0
#define OBJECT_INHERIT_ACE 0x01
#define CONTAINER_INHERIT_ACE 0x02

/* [MS-DTYP] 2.4.3 access masks */
#define SEC_FILE_READ 0x00120089u    /* FILE_GENERIC_READ */
#define SEC_FILE_WRITE 0x00120116u   /* FILE_GENERIC_WRITE */
#define SEC_FILE_EXECUTE 0x001200A0u /* FILE_GENERIC_EXECUTE */
#define SEC_FILE_ALL 0x001F01FFu
#define SEC_DELETE_CHILD 0x00000040u
#define SEC_STD_DELETE 0x00010000u
#define SEC_STD_WRITE_DAC 0x00040000u
#define SEC_STD_WRITE_OWNER 0x00080000u

struct sid {
	uint8_t authority;
	uint8_t n;
	uint32_t sub[2];
};

static size_t sid_size(const struct sid *s) { return 8 + 4u * s->n; }

static void sid_put(uint8_t *p, const struct sid *s)
{
	p[0] = 1;            /* Revision */
	p[1] = s->n;         /* SubAuthorityCount */
	memset(p + 2, 0, 5); /* IdentifierAuthority, 48-bit big-endian */
	p[7] = s->authority;
	for (unsigned i = 0; i < s->n; i++)
		put_le32(p + 8 + 4 * i, s->sub[i]);
}

static uint32_t rwx_mask(unsigned rwx, bool is_dir)
{
	if ((rwx & 7) == 7)
		return SEC_FILE_ALL;
	uint32_t m = 0;
	if (rwx & 4)
		m |= SEC_FILE_READ;
	if (rwx & 2) {
		m |= SEC_FILE_WRITE | SEC_STD_DELETE;
		if (is_dir)
			m |= SEC_DELETE_CHILD;
	}
	if (rwx & 1)
		m |= SEC_FILE_EXECUTE;
	return m;
}

size_t secdesc_build(uid_t uid, gid_t gid, mode_t mode, bool is_dir, uint32_t secinfo,
		     uint8_t *buf, size_t cap)
{
	struct sid owner = { 22, 2, { 1, (uint32_t)uid } };
	struct sid group = { 22, 2, { 2, (uint32_t)gid } };
	struct sid world = { 1, 1, { 0, 0 } };
	struct {
		const struct sid *sid;
		uint32_t mask;
	} aces[3] = {
		/* the owner may always change the mode (chmod): WRITE_DAC */
		{ &owner, rwx_mask((mode >> 6) & 7, is_dir) | SEC_STD_WRITE_DAC | SEC_STD_WRITE_OWNER | 0x00020000u | 0x00100000u | 0x80u | 0x100u },
		{ &group, rwx_mask((mode >> 3) & 7, is_dir) },
		{ &world, rwx_mask(mode & 7, is_dir) },
	};
	bool want_owner = secinfo & OWNER_SECURITY_INFORMATION;
	bool want_group = secinfo & GROUP_SECURITY_INFORMATION;
	bool want_dacl = secinfo & DACL_SECURITY_INFORMATION;
	bool want_sacl = secinfo & SACL_SECURITY_INFORMATION;

	size_t dacl_size = 8;
	for (unsigned i = 0; i < 3; i++)
		if (aces[i].mask)
			dacl_size += 8 + sid_size(aces[i].sid);
	size_t need = SD_HEADER;
	size_t off_owner = 0, off_group = 0, off_dacl = 0, off_sacl = 0;
	if (want_owner) { off_owner = need; need += sid_size(&owner); }
	if (want_group) { off_group = need; need += sid_size(&group); }
	if (want_sacl) { off_sacl = need; need += 8; }
	if (want_dacl) { off_dacl = need; need += dacl_size; }
	if (!buf || need > cap)
		return need;

	memset(buf, 0, need);
	uint16_t control = SE_SELF_RELATIVE;
	if (want_dacl)
		control |= SE_DACL_PRESENT;
	if (want_sacl)
		control |= SE_SACL_PRESENT;
	buf[0] = 1; /* Revision */
	put_le16(buf + 2, control);
	put_le32(buf + 4, (uint32_t)off_owner);
	put_le32(buf + 8, (uint32_t)off_group);
	put_le32(buf + 12, (uint32_t)off_sacl);
	put_le32(buf + 16, (uint32_t)off_dacl);
	if (want_owner)
		sid_put(buf + off_owner, &owner);
	if (want_group)
		sid_put(buf + off_group, &group);
	if (want_sacl) {
		buf[off_sacl] = ACL_REVISION;
		put_le16(buf + off_sacl + 2, 8);
	}
	if (want_dacl) {
		uint8_t *acl = buf + off_dacl;
		uint8_t *p = acl + 8;
		uint16_t count = 0;
		for (unsigned i = 0; i < 3; i++) {
			if (!aces[i].mask)
				continue;
			size_t sz = 8 + sid_size(aces[i].sid);
			p[0] = ACCESS_ALLOWED_ACE_TYPE;
			p[1] = is_dir ? (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE) : 0;
			put_le16(p + 2, (uint16_t)sz);
			put_le32(p + 4, aces[i].mask);
			sid_put(p + 8, aces[i].sid);
			p += sz;
			count++;
		}
		acl[0] = ACL_REVISION;
		put_le16(acl + 2, (uint16_t)dacl_size);
		put_le16(acl + 4, count);
	}
	return need;
}

bool secdesc_valid(const uint8_t *buf, size_t len)
{
	struct wire_sd sd;
	return wire_sd_decode(buf, len, &sd, NULL) == 0;
}
