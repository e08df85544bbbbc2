/* Self-relative security descriptors, ACLs, ACEs and SIDs ([MS-DTYP]
 * 2.4.6, 2.4.5, 2.4.4, 2.4.2.2): a bounds-checked decoder that validates
 * everything a client may send, an ACE iterator over a validated ACL, an
 * ACL builder and the descriptor encoder.  Pure: no I/O, no allocation.
 *
 * Decoded parts point into the caller's buffer (they stay raw wire bytes:
 * a SID is compared and copied, never converted). */
#ifndef SMB3D_WIRE_SECDESC_H
#define SMB3D_WIRE_SECDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SECURITY_DESCRIPTOR.Control ([MS-DTYP] 2.4.6) */
#define SE_OWNER_DEFAULTED 0x0001u
#define SE_GROUP_DEFAULTED 0x0002u
#define SE_DACL_PRESENT 0x0004u
#define SE_DACL_DEFAULTED 0x0008u
#define SE_SACL_PRESENT 0x0010u
#define SE_SACL_DEFAULTED 0x0020u
#define SE_DACL_AUTO_INHERIT_REQ 0x0100u
#define SE_SACL_AUTO_INHERIT_REQ 0x0200u
#define SE_DACL_AUTO_INHERITED 0x0400u
#define SE_SACL_AUTO_INHERITED 0x0800u
#define SE_DACL_PROTECTED 0x1000u
#define SE_SACL_PROTECTED 0x2000u
#define SE_SELF_RELATIVE 0x8000u
#define SE_DACL_BITS (SE_DACL_PRESENT | SE_DACL_DEFAULTED | SE_DACL_AUTO_INHERIT_REQ | \
		      SE_DACL_AUTO_INHERITED | SE_DACL_PROTECTED)
#define SE_SACL_BITS (SE_SACL_PRESENT | SE_SACL_DEFAULTED | SE_SACL_AUTO_INHERIT_REQ | \
		      SE_SACL_AUTO_INHERITED | SE_SACL_PROTECTED)

#define WIRE_SD_HEADER 20
#define WIRE_ACL_HEADER 8
#define WIRE_ACL_REVISION 2
#define WIRE_ACL_REVISION_DS 4
#define WIRE_SID_MAX_SUBAUTH 15
#define WIRE_SID_MAX (8 + 4 * WIRE_SID_MAX_SUBAUTH)

/* ACE types ([MS-DTYP] 2.4.4.1) used by the policy */
#define ACE_ACCESS_ALLOWED 0x00
#define ACE_ACCESS_DENIED 0x01
/* AceFlags */
#define ACE_OBJECT_INHERIT 0x01u
#define ACE_CONTAINER_INHERIT 0x02u
#define ACE_NO_PROPAGATE_INHERIT 0x04u
#define ACE_INHERIT_ONLY 0x08u
#define ACE_INHERITED 0x10u

struct wire_sd {
	uint16_t control;
	const uint8_t *owner; /* NULL when absent */
	size_t owner_len;
	const uint8_t *group;
	size_t group_len;
	const uint8_t *sacl;  /* the whole ACL (AclSize bytes); NULL when absent */
	size_t sacl_len;
	const uint8_t *dacl;  /* NULL with SE_DACL_PRESENT = a NULL DACL (no protection) */
	size_t dacl_len;
};

/* Decode and validate a self-relative descriptor: Revision 1,
 * SE_SELF_RELATIVE, every offset inside the buffer and past the header,
 * SIDs (revision 1, at most 15 sub-authorities), ACLs (revision 2 or 4,
 * AclSize inside the buffer, AceCount ACEs each inside AclSize, each ACE's
 * SID inside the ACE).  The DACL/SACL is looked at only when its PRESENT
 * bit is set.  Returns 0, or -EINVAL with *why (when not NULL) naming the
 * first problem. */
int wire_sd_decode(const uint8_t *buf, size_t len, struct wire_sd *sd, const char **why);

/* Encode sd in self-relative form (header, owner, group, SACL, DACL; the
 * parts that are NULL are left out; Control is sd->control |
 * SE_SELF_RELATIVE).  Returns the size needed; writes only when it fits
 * in cap (buf may be NULL to ask the size). */
size_t wire_sd_encode(const struct wire_sd *sd, uint8_t *buf, size_t cap);

/* The length (8 + 4 * SubAuthorityCount) of the valid SID at p within len
 * bytes, 0 when it is not one. */
size_t wire_sid_len(const uint8_t *p, size_t len);
bool wire_sid_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Write S-1-<auth>-<sub[0]>-... (n <= 15 sub-authorities); returns its
 * length (8 + 4n); out must hold WIRE_SID_MAX bytes. */
size_t wire_sid_make(uint8_t *out, uint8_t authority, const uint32_t *sub, unsigned n);

/* One ACE of a validated ACL. */
struct wire_ace {
	uint8_t type, flags;
	uint16_t size;
	uint32_t mask;        /* 0 for types without one */
	const uint8_t *sid;   /* NULL for object / unknown types (never matched) */
	size_t sid_len;
	const uint8_t *raw;   /* the whole ACE, `size` bytes */
};

struct wire_acl_iter {
	const uint8_t *acl;
	size_t size, pos;
	unsigned left;
};
/* Iterate the ACEs of an ACL that wire_sd_decode accepted (acl may be NULL:
 * no ACEs).  next returns false at the end (or on a malformed ACE). */
void wire_acl_iter_init(struct wire_acl_iter *it, const uint8_t *acl, size_t acl_len);
bool wire_acl_iter_next(struct wire_acl_iter *it, struct wire_ace *ace);

/* ACL builder: ACEs are appended to buf (cap bytes); `err` is set when one
 * does not fit (or the ACL would pass 65535 bytes). */
struct wire_acl_builder {
	uint8_t *buf;
	size_t cap, len;
	unsigned count;
	bool err;
};
void wire_acl_begin(struct wire_acl_builder *b, uint8_t *buf, size_t cap);
/* A plain ACE (mask + SID). */
void wire_acl_add(struct wire_acl_builder *b, uint8_t type, uint8_t flags, uint32_t mask,
		  const uint8_t *sid, size_t sid_len);
/* An ACE copied as it is, with new flags. */
void wire_acl_add_raw(struct wire_acl_builder *b, const struct wire_ace *ace, uint8_t flags);
/* Fill in the header; returns the ACL size, 0 on error. */
size_t wire_acl_finish(struct wire_acl_builder *b);

#endif
