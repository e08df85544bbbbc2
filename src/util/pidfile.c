#include "util/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static long read_pid(int fd)
{
	char buf[32] = { 0 };
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* The lock is the flock on the file; the pid in it is for humans.  A file
 * left by a crashed process is unlocked, so it is simply taken over.  After
 * locking, the file must still be the one at `path`: the holder may have
 * unlinked it between our open and our flock, and a lock on an unlinked
 * inode protects nothing. */
int pidfile_take(const char *path, long *holder)
{
	*holder = 0;
	for (int tries = 0; tries < 8; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
			*holder = read_pid(fd);
			close(fd);
			return err;
		}
		struct stat a, b;
		if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			close(fd);
			continue;
		}
		char line[32];
		int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n) {
			int err = -errno;
			close(fd);
			return err ? err : -EIO;
		}
		return fd;
	}
	return -EAGAIN;
}

void pidfile_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	unlink(path); /* still locked by us: nobody else can hold this name */
	close(fd);
}
