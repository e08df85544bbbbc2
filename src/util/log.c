/* Log lines: to stderr, or to "log file" with rotation at "max log size".
 *   stderr is the journal (JOURNAL_STREAM names it, sd-daemon(3)):
 *       "<4>smb3d[warning]: message"   (journald stores the priority and time)
 *   otherwise:
 *       "2026-12-02 03:40:01.123 smb3d[warning]: message"
 * One write(2) per line, so lines from several threads never interleave;
 * the lock only covers the output's fd and rotation. */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Atomic int log_class_level[LOG_CLASS_N] = {
	LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN,
};
static int class_own[LOG_CLASS_N] = { -1, -1, -1, -1, -1, -1 }; /* under out_lock */

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug", "trace" };
static const int syslog_prio[] = { 3, 4, 5, 6, 7, 7 };

/* The log file and its rotation.  Leaf: any thread may log holding any
 * other lock. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = -1;          /* "log file", -1 = stderr */
static char *out_path;
static off_t out_size, out_max;  /* bytes in the file, rotation size (0 = none) */
static int journal = -1;         /* -1 unknown, 0 no, 1 stderr is the journal */

void log_set_levels(int level, const int *classes)
{
	pthread_mutex_lock(&out_lock);
	for (int c = 0; c < LOG_CLASS_N; c++) {
		class_own[c] = classes && c != LOG_CLASS_ALL ? classes[c] : -1;
		log_class_level[c] = class_own[c] >= 0 ? class_own[c] : level;
	}
	pthread_mutex_unlock(&out_lock);
}

/* `smb3d -d N`: the "all" level; classes with their own level keep it. */
void log_set_level(int level)
{
	pthread_mutex_lock(&out_lock);
	for (int c = 0; c < LOG_CLASS_N; c++)
		log_class_level[c] = class_own[c] >= 0 ? class_own[c] : level;
	pthread_mutex_unlock(&out_lock);
}

static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_open_file(const char *path, long long max_bytes)
{
	int fd = -1;
	off_t size = 0;
	if (path && *path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0)
			return -errno;
		struct stat st;
		size = fstat(fd, &st) == 0 ? st.st_size : 0;
	}
	pthread_mutex_lock(&out_lock);
	int old = out_fd;
	out_fd = fd;
	free(out_path);
	out_path = fd >= 0 ? strdup(path) : NULL;
	out_size = size;
	out_max = max_bytes > 0 ? (off_t)max_bytes : 0;
	pthread_mutex_unlock(&out_lock);
	if (old >= 0)
		close(old);
	return 0;
}

/* Samba's rotation: the full file becomes PATH.old, a new one starts.
 * Called with out_lock held. */
static void rotate(void)
{
	char old[4200];
	if (!out_path || snprintf(old, sizeof(old), "%s.old", out_path) >= (int)sizeof(old))
		return;
	if (rename(out_path, old) < 0)
		return;
	int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return; /* keep writing to the renamed one */
	close(out_fd);
	out_fd = fd;
	out_size = 0;
}

static void emit(int level, bool also_stderr, const char *fmt, va_list ap)
{
	if (level < 0)
		level = 0;
	if (level > LOG_TRACE)
		level = LOG_TRACE;
	char line[1100];
	int n;
	pthread_mutex_lock(&out_lock);
	bool to_journal = (out_fd < 0 || also_stderr) && (journal < 0 ? (journal = stderr_is_journal()) : journal);
	pthread_mutex_unlock(&out_lock);
	if (to_journal) {
		n = snprintf(line, sizeof(line), "<%d>smb3d[%s]: ", syslog_prio[level], level_names[level]);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ld smb3d[%s]: ", ts.tv_nsec / 1000000,
			      level_names[level]);
	}
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m > sizeof(line) - (size_t)n - 2 ? sizeof(line) - (size_t)n - 2
	                                                                              : (size_t)m);
	/* One message, one line: names a client chose (user names, stream
	 * names) may hold control characters; a newline would forge a line
	 * that fail2ban and the journal take as the server's own. */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	pthread_mutex_lock(&out_lock);
	int fd = out_fd >= 0 ? out_fd : STDERR_FILENO;
	ssize_t w = write(fd, line, len);
	if (out_fd >= 0 && w > 0) {
		out_size += w;
		if (out_max && out_size >= out_max)
			rotate();
	}
	if (also_stderr && fd != STDERR_FILENO)
		(void)!write(STDERR_FILENO, line, len);
	pthread_mutex_unlock(&out_lock);
}

void log_msg_class(int cls, int level, const char *fmt, ...)
{
	if (cls < 0 || cls >= LOG_CLASS_N)
		cls = LOG_CLASS_ALL;
	if (level > log_class_level[cls])
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(level, false, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_ERR, true, fmt, ap);
	va_end(ap);
}
