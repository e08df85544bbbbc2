/* Samba's stored NT ACL: the xattr `security.NTACL` that Samba's acl_xattr
 * module writes (NDR of struct xattr_NTACL, librpc/idl/xattr.idl), versions
 * 1 to 4.  Only located here, never trusted further: the descriptor it
 * carries is handed to wire_sd_decode(), which validates every offset.
 *
 * Layout (NDR, little endian, 4-byte alignment):
 *   uint16 version, uint16 version again (the union's switch), uint32
 *   referent id of the union arm (0: no descriptor), then the arm:
 *   v1  the descriptor (self-relative)
 *   v2  uint32 sd referent, 16-byte hash, then the descriptor
 *   v3  uint32 sd referent, uint16 hash type, 64-byte hash, then it
 *   v4  uint32 sd referent, uint16 hash type, 64-byte hash, a NUL-ended
 *       UTF-8 description, NTTIME (4-aligned), 64-byte hash of the POSIX
 *       ACL, then the descriptor (4-aligned).
 * The descriptor is laid out as a self-relative one, but its offsets count
 * from the start of the whole value (NDR's relative base), not from the
 * descriptor: it is copied out and its four offsets rebased.
 * The hashes are not checked: smb3d uses the descriptor only to limit
 * access further than the unix permissions do (cmd/acl.h), so a stale one
 * can refuse more, never grant more. */
#ifndef SMB3D_WIRE_SAMBA_NTACL_H
#define SMB3D_WIRE_SAMBA_NTACL_H

#include <stddef.h>
#include <stdint.h>

#define SAMBA_NTACL_XATTR "security.NTACL"

/* Copy the descriptor of a security.NTACL value into out[cap] as a
 * self-relative descriptor (to hand to wire_sd_decode): 0 with *out_len
 * set; -1 when the value is malformed, of an unknown version, carries no
 * descriptor, or does not fit. */
int wire_samba_ntacl_sd(const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* A security.NTACL value of version 1 (the descriptor alone, no hashes:
 * Samba's acl_xattr takes versions 1 and 2 as they are) for the
 * self-relative descriptor sd[sd_len], into out[cap]: the length, or 0
 * when it does not fit or sd is not a self-relative descriptor. */
size_t wire_samba_ntacl_encode_v1(const uint8_t *sd, size_t sd_len, uint8_t *out, size_t cap);

#endif
