/* Extended attributes ([MS-FSCC] 2.4.15 FILE_FULL_EA_INFORMATION, [MS-FSA]
 * 2.1.5.1 / 2.1.5.14.4): EA "NAME" is the xattr "user.NAME", as Samba
 * stores them.  NTFS compares EA names without case and returns them in
 * upper case, so names are upper-cased when stored.  user.DOSATTRIB (our
 * attribute store) and user.DosStream.* (named streams) are not EAs. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/fileops.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"

#ifndef STATUS_INVALID_EA_NAME
#define STATUS_INVALID_EA_NAME 0x80000013u
#endif
#ifndef STATUS_EA_LIST_INCONSISTENT
#define STATUS_EA_LIST_INCONSISTENT 0x80000014u
#endif

#define XATTR_LIST_MAX 65536

/* Names (after "user.") smb3d keeps its own state in: never EAs, in
 * either direction (DOS attributes, named streams, stored NT ACLs). */
static bool ea_reserved(const char *n, size_t len)
{
	return (len == 9 && !strncasecmp(n, "DOSATTRIB", 9)) || (len >= 10 && !strncasecmp(n, "DosStream.", 10)) ||
	       (len >= 6 && !strncasecmp(n, "smb3d.", 6));
}

/* Is `x` (a full xattr name) the xattr of an EA? */
static bool is_ea_xattr(const char *x)
{
	if (strncmp(x, "user.", 5) != 0)
		return false;
	x += 5;
	if (!*x || strlen(x) > 255)
		return false;
	return !ea_reserved(x, strlen(x));
}

/* The names of all xattrs of fd, or of entry `name` of directory fd
 * (NUL-separated), malloc'd; n = 0 when none. */
static char *list_xattrs(const struct vfs_ident *id, int fd, const char *name, ssize_t *n)
{
	char *names = malloc(XATTR_LIST_MAX);
	*n = 0;
	if (!names)
		return NULL;
	ssize_t r = name ? vfs_listxattrat(id, fd, name, names, XATTR_LIST_MAX)
			 : vfs_flistxattr(id, fd, names, XATTR_LIST_MAX);
	*n = r > 0 ? r : 0;
	return names;
}

static uint32_t ea_size(const struct vfs_ident *id, int fd, const char *name)
{
	ssize_t n;
	char *names = list_xattrs(id, fd, name, &n);
	if (!names)
		return 0;
	uint64_t total = 0;
	for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *x = names + off;
		if (!is_ea_xattr(x))
			continue;
		ssize_t vl = name ? vfs_getxattrat(id, fd, name, x, NULL, 0) : vfs_fgetxattr(id, fd, x, NULL, 0);
		if (vl < 0 || vl > 65535)
			continue;
		/* entries are 4-byte aligned in the list */
		total = (total + 3) & ~3ull;
		total += 8 + strlen(x + 5) + 1 + (uint64_t)vl;
	}
	free(names);
	return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

uint32_t fileops_ea_size(const struct vfs_ident *id, int fd)
{
	return fd < 0 ? 0 : ea_size(id, fd, NULL);
}

uint32_t fileops_ea_size_at(const struct vfs_ident *id, int dirfd, const char *name)
{
	return ea_size(id, dirfd, name);
}

/* [MS-FSCC] 2.4.15: characters an EA name may not contain (those FAT
 * refuses in names, as NTFS checks them). */
static bool ea_name_valid(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || strchr("\"*+,/:;<=>?[\\]|", c))
			return false;
	}
	return true;
}

NTSTATUS fileops_ea_check(const uint8_t *b, size_t len, uint32_t *err_off)
{
	struct fscc_ea_iter it;
	struct fscc_ea ea;
	int r;
	if (err_off)
		*err_off = 0;
	fscc_ea_iter_init(&it, b, len);
	for (;;) {
		const uint8_t *at = it.p;
		r = fscc_ea_next(&it, &ea);
		if (r <= 0)
			break;
		if (!ea_name_valid(ea.name, ea.name_len) || ea_reserved((const char *)ea.name, ea.name_len)) {
			if (err_off)
				*err_off = (uint32_t)(at - b);
			return STATUS_INVALID_EA_NAME;
		}
	}
	return r < 0 ? STATUS_EA_LIST_INCONSISTENT : STATUS_SUCCESS;
}

static NTSTATUS ea_errno(int r)
{
	return r == -EOPNOTSUPP || r == -ENOTSUP ? STATUS_EAS_NOT_SUPPORTED : vfs_nt_status(r);
}

NTSTATUS fileops_ea_apply(const struct vfs_ident *id, int fd, const uint8_t *b, size_t len,
			  bool replace_all)
{
	int r;
	if (replace_all) {
		ssize_t n;
		char *names = list_xattrs(id, fd, NULL, &n);
		if (!names)
			return STATUS_NO_MEMORY;
		for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1)
			if (is_ea_xattr(names + off))
				(void)vfs_fremovexattr(id, fd, names + off);
		free(names);
	}
	struct fscc_ea_iter it;
	struct fscc_ea ea;
	fscc_ea_iter_init(&it, b, len);
	while (fscc_ea_next(&it, &ea) == 1) {
		char name[6 + 256];
		memcpy(name, "user.", 5);
		for (size_t i = 0; i < ea.name_len; i++)
			name[5 + i] = (char)toupper((unsigned char)ea.name[i]);
		name[5 + ea.name_len] = 0;
		/* an EA stored by another server with another case goes too */
		if (!replace_all) {
			ssize_t n;
			char *names = list_xattrs(id, fd, NULL, &n);
			for (ssize_t off = 0; names && off < n; off += (ssize_t)strlen(names + off) + 1)
				if (is_ea_xattr(names + off) && strcmp(names + off, name) &&
				    !strcasecmp(names + off + 5, name + 5))
					(void)vfs_fremovexattr(id, fd, names + off);
			free(names);
		}
		if (ea.value_len)
			r = vfs_fsetxattr(id, fd, name, ea.value, ea.value_len, 0);
		else if ((r = vfs_fremovexattr(id, fd, name)) == -ENODATA)
			r = 0;
		if (r < 0)
			return ea_errno(r);
	}
	return STATUS_SUCCESS;
}
