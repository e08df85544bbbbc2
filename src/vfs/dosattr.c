/* DOS attributes and create time in the user.DOSATTRIB xattr, in Samba's
 * format, so a share moved between Samba and smb3d keeps them both ways.
 *
 * Samba's value (librpc/idl/xattr.idl, xattr_DOSATTRIB; NDR, little-endian):
 *   an ASCII attribute string, NUL-terminated ("0x20" for versions 1-3,
 *   empty for 4 and 5; before Samba 3.5 the string was the whole value),
 *   then, aligned to 2: uint16 version, uint16 union level (= version),
 *   then, aligned to 4, the xattr_DosInfo<version> struct:
 *     1: attrib, ea_size, size(8), alloc_size(8), create_time(8), change_time(8)
 *     2: flags, attrib, ea_size, size(8), alloc_size(8), create_time(8), ...
 *     3: valid_flags, attrib, ea_size, size(8), alloc_size(8), create_time(8), change_time(8)
 *     4: valid_flags, attrib, itime(8), create_time(8)
 *     5: valid_flags, attrib, create_time(8)
 *   valid_flags: 0x01 attrib, 0x10 create time (both set when Samba writes).
 * Samba 4.15+ writes version 5 and ignores anything after the struct; all
 * of 1-5 and the bare string are read here.  smb3d writes version 5.
 *
 * After the struct smb3d may append its own extension (Samba drops it when
 * it rewrites the value; it only matters to smb3d):
 *   0  4  "S3CT"
 *   4  8  change time set by a client, NT time
 *  12  8  mtime (ns since the epoch) when it was set
 *  20  8  size when it was set
 * Values written by smb3d before this format ("S3DA" + version 1) are still
 * read; the next set rewrites them in Samba's format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/dosattr.h"
#include "vfs/vfs.h"

#define DOS_XATTR "user.DOSATTRIB"
#define DOS_MAX 160         /* a version 3 value is at most 60 bytes; 2 may carry a name */
/* READONLY|HIDDEN|SYSTEM|ARCHIVE|TEMPORARY|SPARSE_FILE|OFFLINE|NOT_CONTENT_INDEXED */
#define DOS_STORED 0x00003327u
#define DOSINFO_ATTRIB 0x01u
#define DOSINFO_CREATE_TIME 0x10u
#define EXT_MAGIC "S3CT"
#define EXT_LEN 28
/* smb3d's format before it wrote Samba's */
#define OLD_MAGIC "S3DA"
#define OLD_LEN 24
#define OLD_LEN_EXT 48

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

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

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
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

/* The old smb3d value. */
static int parse_old(const uint8_t *b, size_t n, struct vfs_dosinfo_ext *x)
{
	if (n < OLD_LEN || b[4] != 1)
		return -ENODATA;
	x->d.attrs = get_le32(b + 8) & DOS_STORED;
	x->d.create_time = get_le64(b + 16);
	if (n >= OLD_LEN_EXT) {
		x->change_time = get_le64(b + 24);
		x->mtime_ns = (int64_t)get_le64(b + 32);
		x->size = get_le64(b + 40);
		x->has_change = x->change_time != 0;
	}
	return 0;
}

/* "0x20" as Samba writes it; -ENODATA if it is not a number. */
static int parse_hex(const uint8_t *b, size_t len, uint32_t *attrs)
{
	char s[16];
	if (len == 0 || len >= sizeof(s))
		return -ENODATA;
	memcpy(s, b, len);
	s[len] = '\0';
	char *end;
	unsigned long v = strtoul(s, &end, 16);
	if (*end || v > UINT32_MAX)
		return -ENODATA;
	*attrs = (uint32_t)v;
	return 0;
}

/* The fixed part of xattr_DosInfo<version> at b[0..n): attrib, create time
 * and the struct's length; -ENODATA if short or unknown. */
static long parse_info(uint16_t version, const uint8_t *b, size_t n, struct vfs_dosinfo_ext *x)
{
	static const size_t len[] = { 0, 40, 52, 44, 24, 16 };
	if (version < 1 || version > 5 || n < len[version])
		return -ENODATA;
	uint32_t valid = DOSINFO_ATTRIB | DOSINFO_CREATE_TIME;
	switch (version) {
	case 1:
		x->d.attrs = get_le32(b);
		x->d.create_time = get_le64(b + 24);
		break;
	case 2: /* Samba reads only the attributes of this one */
		x->d.attrs = get_le32(b + 4);
		valid = DOSINFO_ATTRIB;
		break;
	case 3:
		valid = get_le32(b);
		x->d.attrs = get_le32(b + 4);
		x->d.create_time = get_le64(b + 28);
		break;
	case 4:
		valid = get_le32(b);
		x->d.attrs = get_le32(b + 4);
		x->d.create_time = get_le64(b + 16);
		break;
	case 5:
		valid = get_le32(b);
		x->d.attrs = get_le32(b + 4);
		x->d.create_time = get_le64(b + 8);
		break;
	}
	if (!(valid & DOSINFO_CREATE_TIME))
		x->d.create_time = 0;
	x->d.attrs &= DOS_STORED;
	return version == 2 ? (long)n : (long)len[version]; /* 2 ends in a name: nothing after it */
}

/* Samba's value (or smb3d's old one) in b[0..n) -> x; -ENODATA when it is
 * neither. */
static int parse(const uint8_t *b, size_t n, struct vfs_dosinfo_ext *x)
{
	memset(x, 0, sizeof(*x));
	if (n >= 5 && !memcmp(b, OLD_MAGIC, 4))
		return parse_old(b, n, x);
	const uint8_t *nul = memchr(b, 0, n);
	if (!nul)
		return -ENODATA;
	size_t pos = (size_t)(nul - b) + 1;
	if (pos >= n) { /* only the string: Samba before 3.5 */
		uint32_t a;
		if (parse_hex(b, (size_t)(nul - b), &a) < 0)
			return -ENODATA;
		x->d.attrs = a & DOS_STORED;
		return 0;
	}
	pos = (pos + 1) & ~(size_t)1;
	if (pos + 4 > n)
		return -ENODATA;
	uint16_t version = get_le16(b + pos), level = get_le16(b + pos + 2);
	if (version != level)
		return -ENODATA;
	pos = (pos + 4 + 3) & ~(size_t)3;
	if (pos > n)
		return -ENODATA;
	long used = parse_info(version, b + pos, n - pos, x);
	if (used < 0)
		return (int)used;
	pos += (size_t)used;
	if (n - pos >= EXT_LEN && !memcmp(b + pos, EXT_MAGIC, 4)) {
		x->change_time = get_le64(b + pos + 4);
		x->mtime_ns = (int64_t)get_le64(b + pos + 12);
		x->size = get_le64(b + pos + 20);
		x->has_change = x->change_time != 0;
	}
	return 0;
}

/* `name` NULL: the value of fd itself; else of entry `name` of directory fd. */
static int get_ext(const struct vfs_ident *id, int fd, const char *name, struct vfs_dosinfo_ext *x)
{
	uint8_t b[DOS_MAX];
	ssize_t n = name ? vfs_getxattrat(id, fd, name, DOS_XATTR, b, sizeof(b))
	                 : vfs_fgetxattr(id, fd, DOS_XATTR, b, sizeof(b));
	if (n == -ERANGE)
		return -ENODATA; /* larger than any version: treated as none */
	if (n < 0)
		return (int)n;
	return parse(b, (size_t)n, x);
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

/* Samba's version 5 value (24 bytes), then the change-time extension. */
size_t vfs_dos_encode(const struct vfs_dosinfo_ext *x, uint8_t out[VFS_DOS_ENCODED_MAX])
{
	memset(out, 0, VFS_DOS_ENCODED_MAX);
	/* 0: "" and its NUL, 1: pad to 2, 2: version, 4: level, 6: pad to 4 */
	put_le16(out + 2, 5);
	put_le16(out + 4, 5);
	put_le32(out + 8, DOSINFO_ATTRIB | DOSINFO_CREATE_TIME);
	put_le32(out + 12, x->d.attrs & DOS_STORED);
	put_le64(out + 16, x->d.create_time);
	if (!x->has_change)
		return 24;
	memcpy(out + 24, EXT_MAGIC, 4);
	put_le64(out + 28, x->change_time);
	put_le64(out + 36, (uint64_t)x->mtime_ns);
	put_le64(out + 44, x->size);
	return 24 + EXT_LEN;
}

int vfs_dos_decode(const uint8_t *b, size_t n, struct vfs_dosinfo_ext *x)
{
	return parse(b, n, x);
}

int vfs_dos_set_ext(const struct vfs_ident *id, int fd, const struct vfs_dosinfo_ext *x)
{
	uint8_t b[VFS_DOS_ENCODED_MAX];
	size_t n = vfs_dos_encode(x, b);
	return vfs_fsetxattr(id, fd, DOS_XATTR, b, n, 0);
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
