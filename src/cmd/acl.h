/* NT ACLs stored by smb3d: the self-relative security descriptor a client
 * sets with SET_INFO SECURITY is kept in an xattr of the file
 * (security.smb3d.ntacl when the server runs as root, so users cannot
 * forge it; user.smb3d.ntacl otherwise) behind a 4-byte version header:
 *
 *   byte 0   format version (1)    bytes 1-3  zero    then the descriptor
 *
 * When a file has one it is what QUERY_INFO SECURITY returns, its DACL
 * takes part in the access check of CREATE (on top of the kernel's unix
 * check, never instead of it) and new objects inherit from the parent's
 * DACL ([MS-DTYP] 2.5.3.4).  Files without one keep the descriptor derived
 * from unix owner/group/mode (secdesc.h). */
#ifndef SMB3D_CMD_ACL_H
#define SMB3D_CMD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/smb.h"
#include "wire/secdesc.h"

struct token;
struct vfs_ident;

/* A descriptor loaded from a file: buf is malloc'd, sd points into it. */
struct acl_stored {
	uint8_t *buf;
	size_t len;
	struct wire_sd sd;
};

/* Load the stored descriptor of fd (O_PATH fds too).  0, -ENODATA when the
 * file has none (or it does not decode: logged and ignored), other -errno. */
int acl_load(int fd, struct acl_stored *out);
void acl_stored_free(struct acl_stored *a);

/* The rights the DACL of sd grants to the tree's user ([MS-DTYP]
 * 2.5.3.2): the owner has READ_CONTROL | WRITE_DAC unless an OWNER RIGHTS
 * (S-1-3-4) ACE says otherwise, which applies to the owner; ACEs are taken
 * in order, a right denied before it is allowed stays denied; INHERIT_ONLY
 * ACEs are skipped.  A NULL or absent DACL grants everything. */
uint32_t acl_access(const struct token *s, const struct wire_sd *sd);

/* The limit the stored DACLs put on an open of an existing object (fd open
 * on it, `parent` its parent's share-relative path, NULL for the share
 * root): everything when it has no stored descriptor; else what its DACL
 * grants, with DELETE also when the parent's DACL grants FILE_DELETE_CHILD
 * and FILE_READ_ATTRIBUTES when it grants FILE_LIST_DIRECTORY ([MS-FSA]
 * 2.1.5.1.2.1), or when the parent has no stored DACL (the unix parent
 * check applies).  Bits outside FILE_ALL_ACCESS are not limited. */
uint32_t acl_open_limit(const struct token *s, const struct vfs_ident *id, int root,
			const char *parent, int fd);

/* For a new object under `parent`: *psd is the parent's stored descriptor
 * (0) or -ENODATA.  acl_create_check: may the session add a file
 * (FILE_ADD_FILE) or a directory (FILE_ADD_SUBDIRECTORY) by that DACL? */
int acl_load_parent(const struct vfs_ident *id, int root, const char *parent,
		    struct acl_stored *psd);
bool acl_create_allowed(const struct token *s, const struct acl_stored *psd, bool is_dir);
/* Store on the new object fd the descriptor it inherits from the parent's
 * ([MS-DTYP] 2.5.3.4.1/2: OBJECT/CONTAINER_INHERIT, NO_PROPAGATE,
 * INHERIT_ONLY, CREATOR OWNER / CREATOR GROUP replaced by the creator's
 * SIDs).  Nothing is stored when no ACE is inherited (the unix-derived
 * descriptor stands).  -errno. */
int acl_inherit(const struct token *s, const struct acl_stored *psd, bool is_dir, int fd);

/* SET_INFO SECURITY: merge the parts of `in` selected by secinfo into the
 * file's descriptor (stored, else derived) and store the result, as Windows
 * stores it: generic rights of ACEs that apply to the object mapped, a DACL
 * without SE_DACL_PRESENT stored as a NULL DACL, SE_DACL_AUTO_INHERITED
 * kept only with SE_DACL_AUTO_INHERIT_REQ (never stored itself).
 * STATUS_INVALID_SECURITY_DESCR for a descriptor that does not decode,
 * STATUS_INVALID_OWNER for an owner that is not the user (or one of its
 * groups) and not the current owner. */
NTSTATUS acl_set(const struct token *s, int fd, uint32_t secinfo, const uint8_t *in, size_t in_len);

/* QUERY_INFO SECURITY of a file with a stored descriptor: the parts
 * selected by secinfo; returns the size needed, writes only when it fits. */
size_t acl_query(const struct wire_sd *sd, uint32_t secinfo, uint8_t *buf, size_t cap);

#endif
