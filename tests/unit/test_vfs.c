/* vfs unit tests: both engines, run as coroutines on a real worker.
 *
 * Test bodies run on the worker thread inside a coroutine (that is the only
 * place the io_uring engine is used), so they cannot use cmocka's asserts
 * (they longjmp on the wrong stack and thread): CHECK records the first
 * failure and returns, and the cmocka test asserts on that record. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop/worker.h"
#include "util/coro.h"
#include "vfs/vfs.h"
#include "vfs/vfs_int.h"

static struct worker W;
static char root_path[64];
static int rootfd = -1;

static int fail_line;
static char fail_msg[256];

#define CHECK(c) do { if (!(c)) { fail_line = __LINE__; snprintf(fail_msg, sizeof(fail_msg), "%s", #c); return; } } while (0)
#define CHECK_EQ(a, b) do { long __a = (long)(a), __b = (long)(b); if (__a != __b) { fail_line = __LINE__; \
	snprintf(fail_msg, sizeof(fail_msg), "%s == %ld, expected %s == %ld", #a, __a, #b, __b); return; } } while (0)

/* ---- running a body on the worker ---- */

struct run {
	void (*body)(void);
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void co_main(void *arg)
{
	struct run *r = arg;
	r->body();
	pthread_mutex_lock(&r->lock);
	r->done = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void start_co(void *arg)
{
	struct coro *co = coro_new(co_main, arg);
	if (!co)
		abort();
	coro_resume(co);
}

static void run_on_worker(void (*body)(void))
{
	struct run r = { .body = body, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	fail_line = 0;
	fail_msg[0] = '\0';
	assert_int_equal(worker_post(&W, start_co, &r), 0);
	pthread_mutex_lock(&r.lock);
	while (!r.done)
		pthread_cond_wait(&r.cond, &r.lock);
	pthread_mutex_unlock(&r.lock);
	if (fail_line)
		fail_msg("line %d: %s", fail_line, fail_msg);
}

/* ---- fixtures ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup_engine(void **state, enum vfs_backend b)
{
	if (vfs_init(b, 0) < 0)
		return -1;
	strcpy(root_path, "/tmp/smb3d-vfs-XXXXXX");
	if (!mkdtemp(root_path))
		return -1;
	chmod(root_path, 0755); /* the unprivileged ident must reach files in it */
	rootfd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int setup_uring(void **state) { return setup_engine(state, VFS_URING); }
static int setup_threads(void **state) { return setup_engine(state, VFS_THREADS); }

static int teardown_engine(void **state)
{
	close(rootfd);
	rootfd = -1;
	nftw(root_path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	vfs_fini();
	return 0;
}

/* ---- bodies ---- */

static void body_open_beneath(void)
{
	int fd = vfs_open(NULL, rootfd, "a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(vfs_close(fd), 0);
	fd = vfs_open(NULL, rootfd, "", O_RDONLY | O_DIRECTORY, 0); /* "" = the root itself */
	CHECK(fd >= 0);
	vfs_close(fd);
	CHECK_EQ(vfs_open(NULL, rootfd, "../x", O_RDONLY, 0), -EXDEV);
	CHECK_EQ(vfs_open(NULL, rootfd, "/etc/passwd", O_RDONLY, 0), -EXDEV);
	CHECK_EQ(symlinkat("/etc", rootfd, "esc_abs"), 0);
	CHECK_EQ(symlinkat("..", rootfd, "esc_rel"), 0);
	fd = vfs_open(NULL, rootfd, "esc_abs/passwd", O_RDONLY, 0);
	CHECK(fd == -EXDEV || fd == -ELOOP);
	fd = vfs_open(NULL, rootfd, "esc_rel/etc/passwd", O_RDONLY, 0);
	CHECK(fd == -EXDEV || fd == -ELOOP);
	/* a symlink inside the share is fine */
	CHECK_EQ(symlinkat("a.txt", rootfd, "in_link"), 0);
	fd = vfs_open(NULL, rootfd, "in_link", O_RDONLY, 0);
	CHECK(fd >= 0);
	vfs_close(fd);
	/* path ops cannot escape either */
	struct statx st;
	CHECK_EQ(vfs_statx(NULL, rootfd, "esc_abs/passwd", 0, STATX_BASIC_STATS, &st), -EXDEV);
	CHECK_EQ(vfs_statx(NULL, rootfd, "..", 0, STATX_BASIC_STATS, &st), -EXDEV);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "esc_abs/passwd", 0), -EXDEV);
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "esc_rel/zz", 0755), -EXDEV);
	CHECK_EQ(vfs_renameat(NULL, rootfd, "a.txt", rootfd, "esc_rel/stolen", 0), -EXDEV);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "esc_abs", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "esc_rel", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "in_link", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "a.txt", 0), 0);
}

static void body_rw(void)
{
	enum { N = 200000 };
	static unsigned char out[N], in[N];
	for (int i = 0; i < N; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	int fd = vfs_open(NULL, rootfd, "rw.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(vfs_pwrite(NULL, fd, out, N, 4096), N);
	CHECK_EQ(vfs_fsync(NULL, fd, false), 0);
	CHECK_EQ(vfs_fsync(NULL, fd, true), 0);
	memset(in, 0, sizeof(in));
	CHECK_EQ(vfs_pread(NULL, fd, in, N, 4096), N);
	CHECK(memcmp(in, out, N) == 0);
	CHECK_EQ(vfs_pread(NULL, fd, in, 100, 4096 + N - 10), 10); /* short at EOF */
	CHECK_EQ(vfs_pread(NULL, fd, in, 100, 4096 + N), 0);
	struct statx st;
	CHECK_EQ(vfs_statx(NULL, fd, "", 0, STATX_SIZE, &st), 0);
	CHECK_EQ(st.stx_size, 4096 + N);
	CHECK_EQ(vfs_statx(NULL, rootfd, "rw.bin", AT_SYMLINK_NOFOLLOW, STATX_SIZE, &st), 0);
	CHECK_EQ(st.stx_size, 4096 + N);
	CHECK_EQ(vfs_ftruncate(NULL, fd, 10), 0);
	CHECK_EQ(vfs_statx(NULL, rootfd, "rw.bin", 0, STATX_SIZE, &st), 0);
	CHECK_EQ(st.stx_size, 10);
	CHECK_EQ(vfs_fallocate(NULL, fd, 0, 0, 65536), 0);
	CHECK_EQ(vfs_statx(NULL, fd, "", 0, STATX_SIZE, &st), 0);
	CHECK_EQ(st.stx_size, 65536);
	CHECK_EQ(vfs_lseek(NULL, fd, 0, SEEK_END), 65536);
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 5 } };
	CHECK_EQ(vfs_futimens(NULL, fd, ts), 0);
	CHECK_EQ(vfs_fchmod(NULL, fd, 0640), 0);
	CHECK_EQ(vfs_statx(NULL, fd, "", 0, STATX_MTIME | STATX_MODE, &st), 0);
	CHECK_EQ(st.stx_mtime.tv_sec, 1000000000);
	CHECK_EQ(st.stx_mode & 07777, 0640);
	struct statfs sfs;
	CHECK_EQ(vfs_fstatfs(NULL, fd, &sfs), 0);
	int fd2 = vfs_open(NULL, rootfd, "copy.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd2 >= 0);
	CHECK_EQ(vfs_pwrite(NULL, fd, out, 1000, 0), 1000);
	CHECK_EQ(vfs_copy_file_range(NULL, fd, 0, fd2, 0, 1000), 1000);
	CHECK_EQ(vfs_pread(NULL, fd2, in, 1000, 0), 1000);
	CHECK(memcmp(in, out, 1000) == 0);
	CHECK_EQ(vfs_close(fd2), 0);
	CHECK_EQ(vfs_close(fd), 0);
	CHECK_EQ(vfs_close(fd), -EBADF);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "rw.bin", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "copy.bin", 0), 0);
}

static void body_paths(void)
{
	struct statx st;
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "d", 0755), 0);
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "d", 0755), -EEXIST);
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "d/sub", 0755), 0);
	int fd = vfs_open(NULL, rootfd, "d/sub/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	vfs_close(fd);
	CHECK_EQ(vfs_renameat(NULL, rootfd, "d/sub/f", rootfd, "d/g", 0), 0);
	CHECK_EQ(vfs_statx(NULL, rootfd, "d/sub/f", 0, STATX_TYPE, &st), -ENOENT);
	CHECK_EQ(vfs_statx(NULL, rootfd, "d/g", 0, STATX_TYPE, &st), 0);
	CHECK(S_ISREG(st.stx_mode));
	CHECK_EQ(vfs_linkat(NULL, rootfd, "d/g", rootfd, "d/sub/h"), 0);
	CHECK_EQ(vfs_statx(NULL, rootfd, "d/sub/h", AT_SYMLINK_NOFOLLOW, STATX_NLINK, &st), 0);
	CHECK_EQ(st.stx_nlink, 2);
	fd = vfs_open(NULL, rootfd, "d/x", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	vfs_close(fd);
	CHECK_EQ(vfs_renameat(NULL, rootfd, "d/x", rootfd, "d/g", RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d", AT_REMOVEDIR), -ENOTEMPTY);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d/x", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d/g", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d/sub/h", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d/sub/", AT_REMOVEDIR), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d/..", AT_REMOVEDIR), -EINVAL);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d", AT_REMOVEDIR), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "d", AT_REMOVEDIR), -ENOENT);
}

struct dirent64_rec {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void body_getdents(void)
{
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "ls", 0755), 0);
	const char *names[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof(p), "ls/%s", names[i]);
		int fd = vfs_open(NULL, rootfd, p, O_CREAT | O_WRONLY, 0644);
		CHECK(fd >= 0);
		vfs_close(fd);
	}
	int dfd = vfs_open(NULL, rootfd, "ls", O_RDONLY | O_DIRECTORY, 0);
	CHECK(dfd >= 0);
	char buf[4096] __attribute__((aligned(8)));
	int seen = 0, total = 0;
	for (;;) {
		ssize_t n = vfs_getdents(NULL, dfd, buf, sizeof(buf));
		CHECK(n >= 0);
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64_rec *d = (struct dirent64_rec *)(buf + off);
			off += d->d_reclen;
			total++;
			for (int i = 0; i < 3; i++)
				if (strcmp(d->d_name, names[i]) == 0)
					seen |= 1 << i;
		}
	}
	CHECK_EQ(total, 5); /* . .. and three files */
	CHECK_EQ(seen, 7);
	vfs_close(dfd);
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof(p), "ls/%s", names[i]);
		CHECK_EQ(vfs_unlinkat(NULL, rootfd, p, 0), 0);
	}
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "ls", AT_REMOVEDIR), 0);
}

static void body_xattr(void)
{
	int fd = vfs_open(NULL, rootfd, "x.txt", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	struct vfs_dosinfo d = { 0 };
	CHECK_EQ(vfs_dos_get(NULL, fd, &d), -ENODATA);
	d.attrs = 0x2 | 0x20 | 0x10 /* DIRECTORY: not stored */;
	d.create_time = 0x01D9000012345678ull;
	CHECK_EQ(vfs_dos_set(NULL, fd, &d), 0);
	struct vfs_dosinfo e = { 0 };
	CHECK_EQ(vfs_dos_get(NULL, fd, &e), 0);
	CHECK_EQ(e.attrs, 0x22);
	CHECK(e.create_time == d.create_time);
	char list[256];
	ssize_t n = vfs_flistxattr(NULL, fd, list, sizeof(list));
	CHECK(n > 0);
	bool found = false;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		if (strcmp(list + i, "user.DOSATTRIB") == 0)
			found = true;
	CHECK(found);
	/* Samba's oldest value (the hex string alone) is read; junk is "none yet" */
	CHECK_EQ(vfs_fsetxattr(NULL, fd, "user.DOSATTRIB", "0x22", 5, 0), 0);
	CHECK_EQ(vfs_dos_get(NULL, fd, &e), 0);
	CHECK_EQ(e.attrs, 0x22u);
	CHECK_EQ(vfs_fsetxattr(NULL, fd, "user.DOSATTRIB", "junk", 4, 0), 0);
	CHECK_EQ(vfs_dos_get(NULL, fd, &e), -ENODATA);
	CHECK_EQ(vfs_fsetxattr(NULL, fd, "user.test", "abc", 3, XATTR_CREATE), 0);
	CHECK_EQ(vfs_fsetxattr(NULL, fd, "user.test", "abc", 3, XATTR_CREATE), -EEXIST);
	char v[8];
	CHECK_EQ(vfs_fgetxattr(NULL, fd, "user.test", v, sizeof(v)), 3);
	CHECK(memcmp(v, "abc", 3) == 0);
	CHECK_EQ(vfs_fremovexattr(NULL, fd, "user.test"), 0);
	CHECK_EQ(vfs_fgetxattr(NULL, fd, "user.test", v, sizeof(v)), -ENODATA);
	vfs_close(fd);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "x.txt", 0), 0);
}

static void body_resolve_ci(void)
{
	CHECK_EQ(vfs_mkdirat(NULL, rootfd, "dir", 0755), 0);
	int fd = vfs_open(NULL, rootfd, "dir/file.txt", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	vfs_close(fd);
	fd = vfs_open(NULL, rootfd, "dir/\xc3\xa9t\xc3\xa9", O_CREAT | O_WRONLY, 0644); /* "été" */
	CHECK(fd >= 0);
	vfs_close(fd);
	char *out = NULL;
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "DIR/File.TXT", &out), 0);
	CHECK(out && strcmp(out, "dir/file.txt") == 0);
	free(out);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir/file.txt", &out), 0);
	CHECK(out && strcmp(out, "dir/file.txt") == 0);
	free(out);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "Dir/\xc3\x89T\xc3\x89", &out), 0); /* "ÉTÉ" */
	CHECK(out && strcmp(out, "dir/\xc3\xa9t\xc3\xa9") == 0);
	free(out);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "DIR/New.Txt", &out), 0); /* last may be missing */
	CHECK(out && strcmp(out, "dir/New.Txt") == 0);
	free(out);
	/* empty components and a trailing slash are dropped; only the last
	 * component may be missing */
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "DIR//FILE.txt/", &out), 0);
	CHECK(out && strcmp(out, "dir/file.txt") == 0);
	free(out);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir//file.txt", &out), 0);
	CHECK(out && strcmp(out, "dir/file.txt") == 0);
	free(out);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir/Missing/x", &out), -ENOENT);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir/./file.txt", &out), -EINVAL);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir/..", &out), -EINVAL);
	char longname[NAME_MAX + 3];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, longname, &out), -ENAMETOOLONG);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "NoDir/x", &out), -ENOENT);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "dir/../x", &out), -EINVAL);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "./dir", &out), -EINVAL);
	CHECK_EQ(vfs_resolve_ci(NULL, rootfd, "/etc", &out), -EINVAL);
	CHECK(vfs_name_equal_ci("ABC", "abc"));
	CHECK(!vfs_name_equal_ci("ABC", "abcd"));
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "dir/file.txt", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "dir/\xc3\xa9t\xc3\xa9", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "dir", AT_REMOVEDIR), 0);
}

static long get_euid(void *arg)
{
	return (long)geteuid(); /* a raw syscall: the pool thread's own euid */
}

static void body_ident(void)
{
	int fd = vfs_open(NULL, rootfd, "secret", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	vfs_fchmod(NULL, fd, 0600);
	vfs_close(fd);
	fd = vfs_open(NULL, rootfd, "public", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	vfs_fchmod(NULL, fd, 0644);
	vfs_close(fd);
	gid_t groups[1] = { 65534 };
	struct vfs_ident *nobody = vfs_ident_get(65534, 65534, groups, 1);
	CHECK(nobody);
	CHECK(vfs_ident_get(65534, 65534, groups, 1) == nobody); /* cached */
	vfs_ident_put(nobody);
	if (geteuid() != 0) {
		vfs_ident_put(nobody);
		return; /* identities are ignored when not root */
	}
	for (int round = 0; round < 2; round++) { /* 2nd round: cached personality / thread creds */
		CHECK_EQ(vfs_open(nobody, rootfd, "secret", O_RDONLY, 0), -EACCES);
		fd = vfs_open(nobody, rootfd, "public", O_RDONLY, 0);
		CHECK(fd >= 0);
		char b[4];
		CHECK_EQ(vfs_pread(nobody, fd, b, 4, 0), 0);
		vfs_close(fd);
		CHECK_EQ(vfs_open(nobody, rootfd, "public", O_WRONLY, 0), -EACCES);
		CHECK_EQ(vfs_mkdirat(nobody, rootfd, "nd", 0755), -EACCES);
		CHECK_EQ(vfs_unlinkat(nobody, rootfd, "public", 0), -EACCES);
		CHECK_EQ(vfs_call(nobody, get_euid, NULL), 65534);
		CHECK_EQ(vfs_call(NULL, get_euid, NULL), 0);
		/* the server is itself again, on the ring and on the pool */
		fd = vfs_open(NULL, rootfd, "secret", O_RDONLY, 0);
		CHECK(fd >= 0);
		vfs_close(fd);
		CHECK_EQ(geteuid(), 0); /* the worker thread */
	}
	vfs_ident_put(nobody);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "secret", 0), 0);
	CHECK_EQ(vfs_unlinkat(NULL, rootfd, "public", 0), 0);
}

/* Many coroutines waiting on the pool at once: every one is resumed. */
static int conc_left;
static struct run *conc_run;
static void conc_co(void *arg)
{
	int fd = vfs_open(NULL, rootfd, "", O_RDONLY | O_DIRECTORY, 0);
	char buf[1024] __attribute__((aligned(8)));
	if (fd >= 0) {
		vfs_getdents(NULL, fd, buf, sizeof(buf));
		vfs_lseek(NULL, fd, 0, SEEK_SET);
		vfs_close(fd);
	}
	if (--conc_left == 0)
		co_main(conc_run);
}

static void conc_start(void *arg)
{
	conc_run = arg;
	conc_left = 64;
	for (int i = 0; i < 64; i++) {
		struct coro *co = coro_new(conc_co, NULL);
		if (!co)
			abort();
		coro_resume(co);
	}
}

static void noop(void) {}

static void test_concurrent(void **state)
{
	struct run r = { .body = noop, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	assert_int_equal(worker_post(&W, conc_start, &r), 0);
	pthread_mutex_lock(&r.lock);
	while (!r.done)
		pthread_cond_wait(&r.cond, &r.lock);
	pthread_mutex_unlock(&r.lock);
	assert_int_equal(conc_left, 0);
}

static void test_open_beneath(void **state) { run_on_worker(body_open_beneath); }
static void test_rw(void **state) { run_on_worker(body_rw); }
static void test_paths(void **state) { run_on_worker(body_paths); }
static void test_getdents(void **state) { run_on_worker(body_getdents); }
static void test_xattr(void **state) { run_on_worker(body_xattr); }
static void test_resolve_ci(void **state) { run_on_worker(body_resolve_ci); }
static void test_ident(void **state) { run_on_worker(body_ident); }

/* Outside any coroutine (startup code, tools): the calls run inline. */
static void test_inline(void **state)
{
	int fd = vfs_open(NULL, rootfd, "inl", O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(NULL, fd, "hello", 5, 0), 5);
	char b[5];
	assert_int_equal(vfs_pread(NULL, fd, b, 5, 0), 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(vfs_close(fd), 0);
	assert_int_equal(vfs_open(NULL, rootfd, "../inl", O_RDONLY, 0), -EXDEV);
	if (geteuid() == 0) {
		struct vfs_ident *nobody = vfs_ident_get(65534, 65534, NULL, 0);
		assert_int_equal(vfs_call(nobody, get_euid, NULL), 65534);
		assert_int_equal(geteuid(), 0);
		vfs_ident_put(nobody);
	}
	assert_int_equal(vfs_unlinkat(NULL, rootfd, "inl", 0), 0);
}

static void test_uring_ops(void **state)
{
	/* On this kernel the ring does the path and data ops itself. */
	assert_true(uring_supports(VOP_OPEN));
	assert_true(uring_supports(VOP_READ));
	assert_true(uring_supports(VOP_STATX));
	assert_true(uring_supports(VOP_RENAME));
	assert_true(uring_supports(VOP_FSETXATTR));
	assert_false(uring_supports(VOP_GETDENTS));
	print_message("io_uring ftruncate: %s\n", uring_supports(VOP_FTRUNCATE) ? "ring" : "pool");
}

static void test_errmap(void **state)
{
	assert_int_equal(vfs_nt_status(0), STATUS_SUCCESS);
	assert_int_equal(vfs_nt_status(-ENOENT), STATUS_OBJECT_NAME_NOT_FOUND);
	assert_int_equal(vfs_nt_status(-ENOTDIR), STATUS_OBJECT_PATH_NOT_FOUND);
	assert_int_equal(vfs_nt_status(-EEXIST), STATUS_OBJECT_NAME_COLLISION);
	assert_int_equal(vfs_nt_status(-EACCES), STATUS_ACCESS_DENIED);
	assert_int_equal(vfs_nt_status(-EPERM), STATUS_ACCESS_DENIED);
	assert_int_equal(vfs_nt_status(-EISDIR), STATUS_FILE_IS_A_DIRECTORY);
	assert_int_equal(vfs_nt_status(-ENOTEMPTY), STATUS_DIRECTORY_NOT_EMPTY);
	assert_int_equal(vfs_nt_status(-ENOSPC), STATUS_DISK_FULL);
	assert_int_equal(vfs_nt_status(-EDQUOT), 0xC0000802u); /* STATUS_DISK_QUOTA_EXCEEDED */
	assert_int_equal(vfs_nt_status(-EXDEV), STATUS_ACCESS_DENIED);
	assert_int_equal(vfs_nt_status_rename(-EXDEV), STATUS_NOT_SAME_DEVICE);
	assert_int_equal(vfs_nt_status(-EBADF), STATUS_INVALID_HANDLE);
	assert_int_equal(vfs_nt_status(-EMFILE), STATUS_TOO_MANY_OPENED_FILES);
	assert_int_equal(vfs_nt_status(-ELOOP), STATUS_OBJECT_PATH_NOT_FOUND);
	assert_int_equal(vfs_nt_status(-EOPNOTSUPP), STATUS_NOT_SUPPORTED);
	assert_int_equal(vfs_nt_status(-ENODATA), STATUS_UNSUCCESSFUL);
	assert_int_equal(vfs_nt_status(-EAGAIN), STATUS_UNSUCCESSFUL);
}

#define ENGINE_TESTS \
	cmocka_unit_test(test_open_beneath), cmocka_unit_test(test_rw), cmocka_unit_test(test_paths), \
	cmocka_unit_test(test_getdents), cmocka_unit_test(test_xattr), cmocka_unit_test(test_resolve_ci), \
	cmocka_unit_test(test_ident), cmocka_unit_test(test_concurrent), cmocka_unit_test(test_inline)

int main(void)
{
	if (worker_init(&W, 0, 64, false) < 0 || worker_start(&W) < 0) {
		fprintf(stderr, "cannot start a worker (io_uring unavailable?)\n");
		return 77;
	}
	const struct CMUnitTest uring[] = { ENGINE_TESTS, cmocka_unit_test(test_uring_ops) };
	const struct CMUnitTest threads[] = { ENGINE_TESTS };
	const struct CMUnitTest plain[] = { cmocka_unit_test(test_errmap) };
	int fails = cmocka_run_group_tests_name("vfs io_uring", uring, setup_uring, teardown_engine);
	fails += cmocka_run_group_tests_name("vfs threads", threads, setup_threads, teardown_engine);
	fails += cmocka_run_group_tests_name("vfs errmap", plain, NULL, NULL);
	worker_stop(&W);
	worker_join(&W);
	worker_fini(&W);
	return fails ? 1 : 0;
}
