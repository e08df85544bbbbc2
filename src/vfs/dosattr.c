/* DOS attributes, create time and an explicit change time, kept in the
 * user.DOSATTRIB xattr.
 *
 * Our own format (not Samba's NDR blob; compatibility is not a goal),
 * little-endian:
 *   0  4  magic "S3DA"
 *   4  1  version (1)
 *   5  3  zero
 *   8  4  attrs: FILE_ATTRIBUTE_* restricted to DOS_STORED below (READONLY,
 *         HIDDEN, SYSTEM, ARCHIVE, TEMPORARY, SPARSE_FILE, OFFLINE,
 *         NOT_CONTENT_INDEXED; the rest -- directory, normal, reparse ... --
 *         is derived from the inode, never stored)
 *  12  4  zero
 *  16  8  create time, NT time (100 ns since 1601), 0 = unknown
 * optional extension (48 bytes in all), see dosattr.h:
 *  24  8  change time set by a client, NT time
 *  32  8  mtime (ns since the epoch) when it was set
 *  40  8  size when it was set
 * A value in any other format (a Samba-written blob, a shorter or newer
 * version) reads as -ENODATA, i.e. "no attributes yet"; the next set
 * overwrites it.  Readers accept a longer value with the same version
 * byte; vfs_dos_set() keeps an extension it does not know about. */
#include <errno.h>
#include <string.h>

#include "vfs/dosattr.h"
#include "vfs/vfs.h"

#define DOS_XATTR "user.DOSATTRIB"
#define DOS_MAGIC "S3DA"
#define DOS_VERSION 1
#define DOS_LEN 24
#define DOS_LEN_EXT 48
/* READONLY|HIDDEN|SYSTEM|ARCHIVE|TEMPORARY|SPARSE_FILE|OFFLINE|NOT_CONTENT_INDEXED */
#define DOS_STORED 0x00003327u

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

/* The raw value when it is ours: its length, or -ENODATA / -errno.
 * `name` NULL: of fd itself; else of entry `name` of directory fd. */
static long read_raw(const struct vfs_ident *id, int fd, const char *name, uint8_t b[64])
{
	ssize_t n = name ? vfs_getxattrat(id, fd, name, DOS_XATTR, b, 64) : vfs_fgetxattr(id, fd, DOS_XATTR, b, 64);
	if (n == -ERANGE)
		return -ENODATA; /* larger than anything we write: not ours */
	if (n < 0)
		return (long)n;
	if (n < DOS_LEN || memcmp(b, DOS_MAGIC, 4) != 0 || b[4] != DOS_VERSION)
		return -ENODATA;
	return (long)n;
}

static int get_ext(const struct vfs_ident *id, int fd, const char *name, struct vfs_dosinfo_ext *x)
{
	uint8_t b[64];
	long n = read_raw(id, fd, name, b);
	if (n < 0)
		return (int)n;
	memset(x, 0, sizeof(*x));
	x->d.attrs = get_le32(b + 8) & DOS_STORED;
	x->d.create_time = get_le64(b + 16);
	if (n >= DOS_LEN_EXT) {
		x->change_time = get_le64(b + 24);
		x->mtime_ns = (int64_t)get_le64(b + 32);
		x->size = get_le64(b + 40);
		x->has_change = x->change_time != 0;
	}
	return 0;
}

int vfs_dos_get_ext(const struct vfs_ident *id, int fd, struct vfs_dosinfo_ext *x)
{
	return get_ext(id, fd, NULL, x);
}

int vfs_dos_get_ext_at(const struct vfs_ident *id, int dirfd, const char *name, struct vfs_dosinfo_ext *x)
{
	return get_ext(id, dirfd, name, x);
}

int vfs_dos_get(const struct vfs_ident *id, int fd, struct vfs_dosinfo *d)
{
	struct vfs_dosinfo_ext x;
	int r = vfs_dos_get_ext(id, fd, &x);
	if (r < 0)
		return r;
	*d = x.d;
	return 0;
}

int vfs_dos_set_ext(const struct vfs_ident *id, int fd, const struct vfs_dosinfo_ext *x)
{
	uint8_t b[DOS_LEN_EXT] = { 0 };
	memcpy(b, DOS_MAGIC, 4);
	b[4] = DOS_VERSION;
	put_le32(b + 8, x->d.attrs & DOS_STORED);
	put_le64(b + 16, x->d.create_time);
	if (!x->has_change)
		return vfs_fsetxattr(id, fd, DOS_XATTR, b, DOS_LEN, 0);
	put_le64(b + 24, x->change_time);
	put_le64(b + 32, (uint64_t)x->mtime_ns);
	put_le64(b + 40, x->size);
	return vfs_fsetxattr(id, fd, DOS_XATTR, b, DOS_LEN_EXT, 0);
}

int vfs_dos_set(const struct vfs_ident *id, int fd, const struct vfs_dosinfo *d)
{
	/* keep a change time stored earlier */
	struct vfs_dosinfo_ext x;
	if (vfs_dos_get_ext(id, fd, &x) < 0)
		memset(&x, 0, sizeof(x));
	x.d = *d;
	return vfs_dos_set_ext(id, fd, &x);
}
