/* Named streams in a depot directory of the share (see streams.h). */
#include "cmd/streams.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "util/coro.h"
#include "vfs/vfs.h"

static void sub_path(char *out, size_t len, uint64_t dev, uint64_t ino)
{
	snprintf(out, len, STREAMS_DEPOT "/%llx-%llx", (unsigned long long)dev,
		 (unsigned long long)ino);
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
	char sub[96];
	sub_path(sub, sizeof(sub), dev, ino);
	*ondisk = NULL;
	if (flags & O_CREAT) {
		int r = vfs_mkdirat(NULL, root, STREAMS_DEPOT, 0700);
		if (r < 0 && r != -EEXIST)
			return r;
		r = vfs_mkdirat(NULL, root, sub, 0700);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	size_t len = strlen(sub) + 1 + strlen(name) + 1;
	char *path = malloc(len);
	if (!path)
		return -ENOMEM;
	snprintf(path, len, "%s/%s", sub, name);
	char *real = NULL;
	int r = vfs_resolve_ci(NULL, root, path, &real);
	if (r >= 0 && real) {
		free(path);
		path = real;
	} else if (r < 0 && !(flags & O_CREAT)) {
		free(path);
		return -ENOENT;
	}
	int fd = vfs_open(NULL, root, path, flags | O_NOFOLLOW, 0600);
	if (fd == -EEXIST && (flags & O_EXCL))
		goto out;
	if (fd >= 0 && (flags & O_CREAT)) {
		/* the base file's owner may change the stream's metadata */
		struct statx st;
		if (vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_UID, &st) >= 0 && st.stx_uid == 0 && uid) {
			struct chown_arg a = { fd, uid, gid };
			(void)vfs_call(NULL, chown_fn, &a);
		}
	}
	if (fd >= 0) {
		const char *b = strrchr(path, '/');
		*ondisk = strdup(b ? b + 1 : path);
		if (!*ondisk) {
			vfs_close(fd);
			fd = -ENOMEM;
		}
	}
out:
	free(path);
	return fd;
}

int streams_list(int root, uint64_t dev, uint64_t ino, struct fscc_stream **v, unsigned *n)
{
	char sub[96];
	sub_path(sub, sizeof(sub), dev, ino);
	*v = NULL;
	*n = 0;
	int dfd = vfs_open(NULL, root, sub, O_RDONLY | O_DIRECTORY, 0);
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
	char sub[96];
	sub_path(sub, sizeof(sub), dev, ino);
	size_t len = strlen(sub) + 1 + strlen(ondisk) + 1;
	char *path = malloc(len);
	if (!path)
		return -ENOMEM;
	snprintf(path, len, "%s/%s", sub, ondisk);
	int r = coro_self() ? vfs_unlinkat(NULL, root, path, 0)
			    : (unlinkat(root, path, 0) < 0 ? -errno : 0);
	free(path);
	return r;
}

void streams_remove_all(int root, uint64_t dev, uint64_t ino)
{
	char sub[96];
	sub_path(sub, sizeof(sub), dev, ino);
	bool co = coro_self() != NULL;
	int dfd = co ? vfs_open(NULL, root, sub, O_RDONLY | O_DIRECTORY, 0)
		     : openat(root, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
	if (co) {
		vfs_close(dfd);
		(void)vfs_unlinkat(NULL, root, sub, AT_REMOVEDIR);
	} else {
		close(dfd);
		(void)unlinkat(root, sub, AT_REMOVEDIR);
	}
}
