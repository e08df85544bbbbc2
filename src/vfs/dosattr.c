/* DOS attributes and create time, kept in the user.DOSATTRIB xattr.
 *
 * Our own format (not Samba's NDR blob; compatibility is not a goal), 24
 * bytes, little-endian:
 *   0  4  magic "S3DA"
 *   4  1  version (1)
 *   5  3  zero
 *   8  4  attrs: FILE_ATTRIBUTE_* restricted to READONLY 0x1, HIDDEN 0x2,
 *         SYSTEM 0x4, ARCHIVE 0x20, SPARSE_FILE 0x200 (the rest -- directory,
 *         normal, reparse ... -- is derived from the inode, never stored)
 *  12  4  zero
 *  16  8  create time, NT time (100 ns since 1601), 0 = unknown
 * A value in any other format (a Samba-written blob, a shorter or newer
 * version) reads as -ENODATA, i.e. "no attributes yet"; the next set
 * overwrites it.  A later version may append fields: readers accept a
 * longer value with the same version byte. */
#include <errno.h>
#include <string.h>

#include "vfs/vfs.h"

#define DOS_XATTR "user.DOSATTRIB"
#define DOS_MAGIC "S3DA"
#define DOS_VERSION 1
#define DOS_LEN 24
#define DOS_STORED 0x00000227u /* READONLY|HIDDEN|SYSTEM|ARCHIVE|SPARSE_FILE */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int vfs_dos_get(const struct vfs_ident *id, int fd, struct vfs_dosinfo *d)
{
	uint8_t b[64];
	ssize_t n = vfs_fgetxattr(id, fd, DOS_XATTR, b, sizeof(b));
	if (n == -ERANGE)
		return -ENODATA; /* larger than anything we write: not ours */
	if (n < 0)
		return (int)n;
	if (n < DOS_LEN || memcmp(b, DOS_MAGIC, 4) != 0 || b[4] != DOS_VERSION)
		return -ENODATA;
	d->attrs = get_le32(b + 8) & DOS_STORED;
	d->create_time = get_le64(b + 16);
	return 0;
}

int vfs_dos_set(const struct vfs_ident *id, int fd, const struct vfs_dosinfo *d)
{
	uint8_t b[DOS_LEN] = { 0 };
	memcpy(b, DOS_MAGIC, 4);
	b[4] = DOS_VERSION;
	put_le32(b + 8, d->attrs & DOS_STORED);
	put_le64(b + 16, d->create_time);
	return vfs_fsetxattr(id, fd, DOS_XATTR, b, sizeof(b), 0);
}
