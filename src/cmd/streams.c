/* Named streams in a depot directory of the share (see streams.h). */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_VFS /* log lines of Samba's "vfs" class */

#include "cmd/streams.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util/coro.h"
#include "util/log.h"
#include "vfs/vfs.h"

/* Is fd a directory only the server may enter: the server's own, no access
 * for group or others?  Anything else under the depot's name was not made
 * by smb3d (a local user's directory, a file) and is not trusted with
 * anyone's stream data. */
static bool trusted_dir(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 077);
}

/* Open directory `name` under dirfd without following a symlink, through
 * the vfs in a request coroutine, directly outside one (a tree torn down
 * with its connection). */
static int open_dir(bool co, int dirfd, const char *name)
{
	if (co)
		return vfs_open(NULL, dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The checked directory of (dev, ino)'s streams; `create` makes it (and
 * the depot) when missing (coroutines only).  *depot (when not NULL) gets
 * the depot's fd.  The fd, or -ENOENT, -EACCES (not smb3d's own), -errno. */
static int sub_open(int root, uint64_t dev, uint64_t ino, bool create, int *depot)
{
	bool co = coro_self() != NULL;
	char sub[48];
	snprintf(sub, sizeof(sub), "%llx-%llx", (unsigned long long)dev, (unsigned long long)ino);
	if (create) {
		int r = vfs_mkdirat(NULL, root, VFS_STREAMS_DEPOT, 0700);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	int dfd = open_dir(co, root, VFS_STREAMS_DEPOT);
	if (dfd < 0)
		return dfd == -ENOTDIR || dfd == -ELOOP ? -EACCES : dfd;
	int fd = -EACCES;
	if (!trusted_dir(dfd)) {
		log_warn("%s in a share is not smb3d's own (owner, mode): named streams refused",
			 VFS_STREAMS_DEPOT);
		goto out;
	}
	if (create) {
		int r = vfs_mkdirat(NULL, dfd, sub, 0700);
		if (r < 0 && r != -EEXIST) {
			fd = r;
			goto out;
		}
	}
	fd = open_dir(co, dfd, sub);
	if (fd >= 0 && !trusted_dir(fd)) {
		co ? vfs_close(fd) : close(fd);
		fd = -EACCES;
	}
out:
	if (depot && fd >= 0)
		*depot = dfd;
	else
		co ? vfs_close(dfd) : close(dfd);
	return fd;
}

struct chown_arg {
	int fd;
	uid_t uid;
	gid_t gid;
};

static long chown_fn(void *p)
{
	struct chown_arg *a = p;
	return fchown(a->fd, a->uid, a->gid) < 0 ? -errno : 0;
}

int streams_open(int root, uint64_t dev, uint64_t ino, const char *name, int flags,
		 uid_t uid, gid_t gid, char **ondisk)
{
	*ondisk = NULL;
	int sfd = sub_open(root, dev, ino, flags & O_CREAT, NULL);
	if (sfd < 0)
		return sfd == -ENOENT && (flags & O_CREAT) ? -EIO : sfd;
	char *path = NULL;
	int r = vfs_resolve_ci(NULL, sfd, name, &path);
	if (r < 0 && !(flags & O_CREAT)) {
		vfs_close(sfd);
		return -ENOENT;
	}
	int fd = vfs_open(NULL, sfd, path ? path : name, flags | O_NOFOLLOW, 0600);
	vfs_close(sfd);
	if (fd >= 0 && (flags & O_CREAT)) {
		/* the base file's owner may change the stream's metadata */
		struct statx st;
		if (vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_UID, &st) >= 0 && st.stx_uid == 0 && uid) {
			struct chown_arg a = { fd, uid, gid };
			(void)vfs_call(NULL, chown_fn, &a);
		}
	}
	if (fd >= 0) {
		*ondisk = strdup(path ? path : name);
		if (!*ondisk) {
			vfs_close(fd);
			fd = -ENOMEM;
		}
	}
	free(path);
	return fd;
}

int streams_list(int root, uint64_t dev, uint64_t ino, struct fscc_stream **v, unsigned *n)
{
	*v = NULL;
	*n = 0;
	int dfd = sub_open(root, dev, ino, false, NULL);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	unsigned cap = 0;
	char buf[8192];
	int res = 0;
	for (;;) {
		ssize_t got = vfs_getdents(NULL, dfd, buf, sizeof(buf));
		if (got <= 0) {
			if (got < 0)
				res = (int)got;
			break;
		}
		for (ssize_t off = 0; off < got;) {
			uint16_t reclen;
			memcpy(&reclen, buf + off + 16, 2);
			const char *name = buf + off + 19;
			off += reclen;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			struct statx st;
			if (vfs_statx(NULL, dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) < 0 ||
			    !S_ISREG(st.stx_mode))
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				struct fscc_stream *nv = realloc(*v, cap * sizeof(*nv));
				if (!nv) {
					res = -ENOMEM;
					goto done;
				}
				*v = nv;
			}
			size_t l = strlen(name) + 8;
			char *sn = malloc(l);
			if (!sn) {
				res = -ENOMEM;
				goto done;
			}
			snprintf(sn, l, ":%s:$DATA", name);
			(*v)[*n].name = sn;
			(*v)[*n].size = st.stx_size;
			(*v)[*n].alloc = (uint64_t)st.stx_blocks * 512;
			(*n)++;
		}
	}
done:
	vfs_close(dfd);
	return res;
}

void streams_list_free(struct fscc_stream *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free((char *)v[i].name);
	free(v);
}

int streams_unlink(int root, uint64_t dev, uint64_t ino, const char *ondisk)
{
	bool co = coro_self() != NULL;
	int sfd = sub_open(root, dev, ino, false, NULL);
	if (sfd < 0)
		return sfd;
	int r = co ? vfs_unlinkat(NULL, sfd, ondisk, 0) : (unlinkat(sfd, ondisk, 0) < 0 ? -errno : 0);
	co ? vfs_close(sfd) : close(sfd);
	return r;
}

int streams_rename(int root, uint64_t dev, uint64_t ino, const char *from, const char *to, bool replace)
{
	int sfd = sub_open(root, dev, ino, false, NULL);
	if (sfd < 0)
		return sfd;
	char *have = NULL;
	struct statx st;
	int r = 0;
	if (!vfs_name_equal_ci(from, to) && vfs_resolve_ci(NULL, sfd, to, &have) >= 0 &&
	    vfs_statx(NULL, sfd, have ? have : to, AT_SYMLINK_NOFOLLOW, STATX_SIZE, &st) >= 0) {
		/* [MS-FSA] 2.1.5.14.11: only an empty stream is replaced */
		r = !replace ? -EEXIST : st.stx_size ? -ENOTEMPTY : vfs_unlinkat(NULL, sfd, have ? have : to, 0);
	}
	if (r == 0)
		r = vfs_renameat(NULL, sfd, from, sfd, to, 0);
	free(have);
	vfs_close(sfd);
	return r;
}

void streams_remove_all(int root, uint64_t dev, uint64_t ino)
{
	bool co = coro_self() != NULL;
	int depot = -1;
	int dfd = sub_open(root, dev, ino, false, &depot);
	if (dfd < 0)
		return;
	char buf[8192];
	for (;;) {
		ssize_t got = co ? vfs_getdents(NULL, dfd, buf, sizeof(buf))
				 : (ssize_t)syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (ssize_t off = 0; off < got;) {
			uint16_t reclen;
			memcpy(&reclen, buf + off + 16, 2);
			const char *name = buf + off + 19;
			off += reclen;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			if (co)
				(void)vfs_unlinkat(NULL, dfd, name, 0);
			else
				(void)unlinkat(dfd, name, 0);
		}
	}
	char sub[48];
	snprintf(sub, sizeof(sub), "%llx-%llx", (unsigned long long)dev, (unsigned long long)ino);
	if (co) {
		vfs_close(dfd);
		(void)vfs_unlinkat(NULL, depot, sub, AT_REMOVEDIR);
		vfs_close(depot);
	} else {
		close(dfd);
		(void)unlinkat(depot, sub, AT_REMOVEDIR);
		close(depot);
	}
}
