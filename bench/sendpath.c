/* bench/sendpath.c -- how fast can one thread move a page-cached file into a
 * loopback TCP socket, by each way a server can send file data?  The physical
 * reference for smb3d's plain READ path (what "zero copy" buys on this kernel).
 *
 *   sendpath MODE FILE MIB [SENDER_CPU RECEIVER_CPU]
 *
 * MODE: copy      pread() into a buffer, send()                (smb3d's default)
 *       sendfile  sendfile() file -> socket
 *       splice    splice() file -> pipe -> socket              (`use sendfile = yes`)
 *       mmap      send() straight from a shared mapping of the file
 *       zerocopy  pread() into a buffer, send(MSG_ZEROCOPY)
 *       uring     io_uring READ_FIXED into a registered buffer, SEND
 *       uring-zc  io_uring READ_FIXED into a registered buffer, SEND_ZC fixed
 * The receiver is a forked process that recv()s into a 1 MiB buffer and drops
 * the data, like a client reading to /dev/null.  MIB MiB are sent in 1 MiB
 * requests, wrapping around the file.  Prints "MiB/s sender-CPU-s bytes".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void send_all(int s, const char *p, size_t n, int flags)
{
	while (n) {
		ssize_t k = send(s, p, n, flags);

		if (k <= 0)
			die("send");
		p += k;
		n -= (size_t)k;
	}
}

/* MSG_ZEROCOPY: the buffer may be reused only after its completion arrives on
 * the error queue; with one buffer, wait for each send's notification. */
static void zc_wait(int s)
{
	char cbuf[128];

	for (;;) {
		struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

		struct pollfd pf = { .fd = s };

		if (recvmsg(s, &mh, MSG_ERRQUEUE) >= 0)
			return;
		poll(&pf, 1, 1000); /* POLLERR: the notification is queued */
	}
}

static struct io_uring ring;

static int uring_wait(void)
{
	struct io_uring_cqe *cqe;
	int res, more;

	if (io_uring_wait_cqe(&ring, &cqe))
		die("io_uring_wait_cqe");
	res = cqe->res;
	more = cqe->flags & IORING_CQE_F_MORE;
	io_uring_cqe_seen(&ring, cqe);
	if (more) { /* SEND_ZC: a second CQE says the buffer is free again */
		if (io_uring_wait_cqe(&ring, &cqe))
			die("io_uring_wait_cqe");
		io_uring_cqe_seen(&ring, cqe);
	}
	return res;
}

static void uring_chunk(int fd, int s, char *buf, off_t off, size_t n, int zc)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	size_t done = 0;
	int r;

	io_uring_prep_read_fixed(sqe, fd, buf, (unsigned)n, (uint64_t)off, 0);
	io_uring_submit(&ring);
	r = uring_wait();
	if (r != (int)n)
		die("read_fixed");
	while (done < n) {
		sqe = io_uring_get_sqe(&ring);
		if (zc)
			io_uring_prep_send_zc_fixed(sqe, s, buf + done, n - done, 0, 0, 0);
		else
			io_uring_prep_send(sqe, s, buf + done, n - done, 0);
		io_uring_submit(&ring);
		r = uring_wait();
		if (r <= 0)
			die("io_uring send");
		done += (size_t)r;
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s copy|sendfile|splice|mmap|zerocopy|uring|uring-zc FILE MIB [SCPU RCPU]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	size_t total = strtoull(argv[3], NULL, 0) << 20, sent = 0;
	int scpu = argc > 5 ? atoi(argv[4]) : -1, rcpu = argc > 5 ? atoi(argv[5]) : -1;
	int one = 1, ls, s, fd, pfd[2], status;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen))
		die("listen");
	pid_t child = fork();
	if (child == 0) {
		char *b = malloc(CHUNK);
		size_t got = 0;
		int c = socket(AF_INET, SOCK_STREAM, 0);

		pin(rcpu);
		if (!b || connect(c, (struct sockaddr *)&a, sizeof(a)))
			_exit(1);
		while (got < total) {
			ssize_t r = recv(c, b, CHUNK, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		_exit(got == total ? 0 : 1);
	}
	pin(scpu);
	s = accept(ls, NULL, NULL);
	fd = open(argv[2], O_RDONLY);
	if (s < 0 || fd < 0)
		die("accept/open");
	off_t fsize = lseek(fd, 0, SEEK_END);
	if (fsize < (off_t)CHUNK)
		die("file smaller than 1 MiB");
	fsize -= fsize % CHUNK;
	char *buf = aligned_alloc(4096, CHUNK), *map = NULL;
	if (!strcmp(mode, "splice")) {
		if (pipe(pfd) || fcntl(pfd[1], F_SETPIPE_SZ, CHUNK) < 0)
			die("pipe");
	} else if (!strcmp(mode, "mmap")) {
		map = mmap(NULL, (size_t)fsize, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap");
	} else if (!strcmp(mode, "zerocopy")) {
		if (setsockopt(s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
			die("SO_ZEROCOPY");
	} else if (!strncmp(mode, "uring", 5)) {
		struct iovec iov = { buf, CHUNK };
		if (io_uring_queue_init(8, &ring, 0) || io_uring_register_buffers(&ring, &iov, 1))
			die("io_uring setup");
	}

	double t0 = now(), c0 = cpu_seconds();
	while (sent < total) {
		off_t off = (off_t)(sent % (size_t)fsize);

		if (!strcmp(mode, "copy") || !strcmp(mode, "zerocopy")) {
			if (pread(fd, buf, CHUNK, off) != CHUNK)
				die("pread");
			send_all(s, buf, CHUNK, *mode == 'z' ? MSG_ZEROCOPY : 0);
			if (*mode == 'z')
				zc_wait(s);
		} else if (!strcmp(mode, "sendfile")) {
			size_t left = CHUNK;
			while (left) {
				ssize_t k = sendfile(s, fd, &off, left);
				if (k <= 0)
					die("sendfile");
				left -= (size_t)k;
			}
		} else if (!strcmp(mode, "splice")) {
			loff_t o = off;
			ssize_t in = splice(fd, &o, pfd[1], NULL, CHUNK, SPLICE_F_MOVE);
			if (in <= 0)
				die("splice in");
			while (in > 0) {
				ssize_t k = splice(pfd[0], NULL, s, NULL, (size_t)in, SPLICE_F_MOVE);
				if (k <= 0)
					die("splice out");
				in -= k;
			}
		} else if (!strcmp(mode, "mmap")) {
			send_all(s, map + off, CHUNK, 0);
		} else if (!strcmp(mode, "uring") || !strcmp(mode, "uring-zc")) {
			uring_chunk(fd, s, buf, off, CHUNK, mode[5] == '-');
		} else {
			fprintf(stderr, "unknown mode %s\n", mode);
			return 2;
		}
		sent += CHUNK;
	}
	shutdown(s, SHUT_WR);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("receiver");
	double t = now() - t0, cpu = cpu_seconds() - c0;
	printf("%.1f %.3f %zu\n", (double)total / 1048576.0 / t, cpu, total);
	return 0;
}
