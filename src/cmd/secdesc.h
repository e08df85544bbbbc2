/* Security descriptors synthesized from unix ownership and mode bits
 * ([MS-DTYP] 2.4.6 SECURITY_DESCRIPTOR, self-relative form).
 *
 * owner  S-1-22-1-<uid> (Samba's "Unix User" authority)
 * group  S-1-22-2-<gid> ("Unix Group")
 * DACL   one ACCESS_ALLOWED ACE each for owner, group and Everyone (S-1-1-0)
 *        whose mask is derived from the matching rwx triple. */
#ifndef SMB3D_CMD_SECDESC_H
#define SMB3D_CMD_SECDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Build the descriptor holding the parts selected by `secinfo`
 * (OWNER/GROUP/DACL_SECURITY_INFORMATION; SACL yields an empty SACL).
 * Writes at most `cap` bytes into buf (may be NULL) and returns the size
 * the whole descriptor needs; nothing is written when it exceeds cap. */
size_t secdesc_build(uid_t uid, gid_t gid, mode_t mode, bool is_dir, uint32_t secinfo,
		     uint8_t *buf, size_t cap);

/* Check that buf holds a well-formed self-relative descriptor
 * (wire_sd_decode: offsets, SIDs, ACL and ACE sizes).  Returns true when
 * valid. */
bool secdesc_valid(const uint8_t *buf, size_t len);

#endif
