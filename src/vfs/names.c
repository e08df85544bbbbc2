/* Case-insensitive name resolution ("case sensitive = no").
 *
 * Component by component, from the share root: a component that exists as
 * written is used as is (the common case costs one openat2 per component);
 * otherwise its directory is scanned with getdents64 for a name equal under
 * case folding (ASCII, plus towlower() of decoded UTF-8 in the C.UTF-8
 * locale, which covers the simple one-to-one Unicode mappings).  The first
 * match in directory order wins when several differ only in case.
 *
 * Everything runs as one job on a pool thread with the caller's identity
 * (vfs_call), so the scans see what the user may see, and all lookups go
 * through openat2(RESOLVE_BENEATH) relative to the root: symlinks inside the
 * share work, nothing leaves it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wctype.h>

#include "vfs/vfs_int.h"

struct dirent64_rec {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static locale_t utf8_loc;
static pthread_once_t loc_once = PTHREAD_ONCE_INIT;

static void loc_init(void)
{
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decode one UTF-8 sequence; invalid bytes decode as themselves (so names
 * that are not UTF-8 still compare, byte for byte). */
static uint32_t utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t c = p[0];
	int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
	if (n <= 0) {
		*pp = p + 1;
		return n == 0 ? c : 0x110000u + c; /* out of Unicode range: raw byte */
	}
	uint32_t v = c & (0x3Fu >> n);
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*pp = p + 1;
			return 0x110000u + c;
		}
		v = (v << 6) | (p[i] & 0x3F);
	}
	*pp = p + n + 1;
	return v;
}

static uint32_t fold(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	if (c >= 0x110000u || !utf8_loc)
		return c;
	return (uint32_t)towlower_l((wint_t)c, utf8_loc);
}

/* Exported for tests and for the directory search (wildcards) if wanted. */
bool vfs_name_equal_ci(const char *a, const char *b)
{
	pthread_once(&loc_once, loc_init);
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	while (*p && *q) {
		if (fold(utf8_next(&p)) != fold(utf8_next(&q)))
			return false;
	}
	return *p == *q;
}

/* Names the server keeps inside shares for itself (vfs.h). */
static const char *const reserved_names[] = { VFS_STREAMS_DEPOT };

bool vfs_name_reserved(const char *name, size_t len)
{
	char c[NAME_MAX + 1];
	if (len == 0 || len > NAME_MAX)
		return false;
	memcpy(c, name, len);
	c[len] = '\0';
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
		if (vfs_name_equal_ci(c, reserved_names[i]))
			return true;
	return false;
}

static int open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Find `name` case-insensitively in directory `dir` (relative to rootfd);
 * copies the on-disk name into `found`.  0, -ENOENT or -errno. */
static int scan_dir(int rootfd, const char *dir, const char *name, char *found)
{
	int fd = open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	char buf[16384] __attribute__((aligned(8)));
	int ret = -ENOENT;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64_rec *d = (struct dirent64_rec *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
			    vfs_name_reserved(d->d_name, strlen(d->d_name)))
				continue; /* never the answer to a client's name */
			if (vfs_name_equal_ci(d->d_name, name)) {
				strcpy(found, d->d_name); /* d_name <= NAME_MAX */
				ret = 0;
				goto out;
			}
		}
	}
out:
	close(fd);
	return ret;
}

struct ci_job {
	int rootfd;
	const char *path;
	char *out;
};

/* Moves *pp to its next non-empty component, copied into comp; *last says
 * whether only slashes follow it.  1 with a component, 0 at the end, or
 * -ENAMETOOLONG, -EINVAL for "." and "..". */
static int next_component(const char **pp, char comp[NAME_MAX + 1], bool *last)
{
	const char *p = *pp;
	while (*p == '/') /* "a//b" or a trailing '/' */
		p++;
	if (!*p)
		return 0;
	const char *e = strchr(p, '/');
	size_t clen = e ? (size_t)(e - p) : strlen(p);
	if (clen > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(comp, p, clen);
	comp[clen] = '\0';
	if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
		return -EINVAL;
	const char *next = p + clen;
	while (*next == '/')
		next++;
	*last = *next == '\0';
	*pp = next;
	return 1;
}

/* Appends "/name" (or "name" to an empty path) to the PATH_MAX+1 buffer res
 * of length *rlen.  0 or -ENAMETOOLONG. */
static int append_component(char *res, size_t *rlen, const char *name)
{
	size_t n = strlen(name);
	if (*rlen + (*rlen ? 1 : 0) + n > PATH_MAX)
		return -ENAMETOOLONG;
	if (*rlen)
		res[(*rlen)++] = '/';
	memcpy(res + *rlen, name, n + 1);
	*rlen += n;
	return 0;
}

/* The name on disk of component comp in directory res (relative to
 * rootfd), copied into found: comp itself when it exists as written, else
 * the case-insensitive match, else comp when it is the last component (to
 * be created).  0 or -errno. */
static int ci_component(int rootfd, char *res, size_t rlen, const char *comp, bool last,
			char found[NAME_MAX + 1])
{
	size_t save = rlen;
	int r = append_component(res, &rlen, comp);
	if (r < 0)
		return r;
	int cfd = open_beneath(rootfd, res, O_PATH | (last ? O_NOFOLLOW : 0));
	res[save] = '\0';
	if (cfd >= 0) {
		close(cfd);
		strcpy(found, comp);
		return 0;
	}
	if (cfd != -ENOENT)
		return cfd;
	r = scan_dir(rootfd, res, comp, found);
	if (r == -ENOENT && last) {
		strcpy(found, comp); /* to be created */
		return 0;
	}
	return r;
}

static long resolve_job(void *arg)
{
	struct ci_job *j = arg;
	const char *path = j->path;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (path[0] == '/')
		return -EINVAL;
	/* The common case: the path exists as written, and only "." and ".."
	 * components are still rejected below. */
	int fd = open_beneath(j->rootfd, path, O_PATH | O_NOFOLLOW);
	bool exact = fd >= 0;
	if (fd >= 0)
		close(fd);
	char *res = malloc(PATH_MAX + 1);
	if (!res)
		return -ENOMEM;
	size_t rlen = 0;
	res[0] = '\0';
	char comp[NAME_MAX + 1], found[NAME_MAX + 1];
	bool last = false;
	int r;
	while ((r = next_component(&path, comp, &last)) > 0) {
		if (rlen + (rlen ? 1 : 0) + strlen(comp) > PATH_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!exact) {
			r = ci_component(j->rootfd, res, rlen, comp, last, found);
			if (r < 0)
				break;
		}
		r = append_component(res, &rlen, exact ? comp : found);
		if (r < 0)
			break;
	}
	if (r < 0) {
		free(res);
		return r;
	}
	j->out = res;
	return 0;
}

/* A path resolve_job would return unchanged when it exists: relative, no
 * empty, "." or ".." component. */
static bool plain_path(const char *p)
{
	if (!*p || *p == '/' || strlen(p) >= PATH_MAX)
		return false;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > NAME_MAX || (p[0] == '.' && (n == 1 || (n == 2 && p[1] == '.'))))
			return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

int vfs_resolve_ci(const struct vfs_ident *id, int rootfd, const char *path, char **out)
{
	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	/* The common case first, outside the pool: the path exists as written
	 * (one openat2 beneath the root, an SQE or inline, vfs.c). */
	if (plain_path(path)) {
		int fd = vfs_open(id, rootfd, path, O_PATH | O_NOFOLLOW, 0);
		if (fd >= 0) {
			vfs_close(fd);
			*out = strdup(path);
			return *out ? 0 : -ENOMEM;
		}
	}
	struct ci_job j = { .rootfd = rootfd, .path = path, .out = NULL };
	long r = vfs_call(id, resolve_job, &j);
	if (r < 0)
		return (int)r;
	*out = j.out;
	return 0;
}
