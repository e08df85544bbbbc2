/* Logging with a level: to stderr (with journald priority prefixes when
 * stderr is the journal, timestamps otherwise) or to "log file". */
#ifndef SMB3D_LOG_H
#define SMB3D_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_NOTICE = 2, LOG_INFO = 3, LOG_DEBUG = 4, LOG_TRACE = 5 };

/* Debug classes, Samba's names for what they cover ("log level = 1
 * auth:3 smb2:5").  A file says which class its lines belong to by
 * defining LOG_CLASS before including this header (or its library does,
 * in meson.build: auth, proto and cmd, vfs); without, a line is "all".
 * conf_options.c has the names. */
enum log_class {
	LOG_CLASS_ALL = 0,
	LOG_CLASS_AUTH,    /* logons, NTLMSSP, PAM, session binding */
	LOG_CLASS_PASSDB,  /* the smbpasswd user database */
	LOG_CLASS_SMB2,    /* the pipeline and the command handlers */
	LOG_CLASS_VFS,     /* file system operations, streams, change notify */
	LOG_CLASS_LOCKING, /* oplocks, leases, their breaks */
	LOG_CLASS_N
};
#ifndef LOG_CLASS
#define LOG_CLASS LOG_CLASS_ALL
#endif

/* The level each class logs at: its own, or the "all" level.  Set by a
 * reload while workers log. */
extern _Atomic int log_class_level[LOG_CLASS_N];
#define log_level_current (log_class_level[LOG_CLASS])
/* All classes at `level`, except those with a level of their own in
 * `classes` (NULL, or LOG_CLASS_N entries, -1 = follows `level`). */
void log_set_levels(int level, const int *classes);
void log_set_level(int level);
void log_msg_class(int cls, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_msg(level, ...) log_msg_class(LOG_CLASS, (level), __VA_ARGS__)
/* Log to `path` (appending; NULL or "" = stderr again), renamed to
 * PATH.old and started afresh when it reaches max_bytes (0 = never).
 * Reopening on every reload lets logrotate move the file.  -errno. */
int log_open_file(const char *path, long long max_bytes);
/* Why the server cannot start or run: an error line on stderr (with its
 * journald priority or timestamp), and in the log file too when one is
 * open, so `systemctl status` shows it whatever "log file" says. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) do { if (log_level_current >= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level_current >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_level_current >= LOG_TRACE) log_msg(LOG_TRACE, __VA_ARGS__); } while (0)

/* Assertions with levels (CONVENTIONS rule 12): BUG_ON aborts, WARN_ON logs. */
#define BUG_ON(cond) do { if (__builtin_expect(!!(cond), 0)) { \
	log_msg(LOG_ERR, "BUG at %s:%d: %s", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)
#define WARN_ON(cond) ({ int __w = !!(cond); if (__builtin_expect(__w, 0)) \
	log_msg(LOG_WARN, "WARNING at %s:%d: %s", __FILE__, __LINE__, #cond); __w; })

/* A *_locked function's first line: its caller holds `m`.  (A trylock that
 * succeeds means no thread held it; cheap enough to stay in release builds
 * off the hot paths.) */
static inline bool lock_is_free(pthread_mutex_t *m)
{
	if (pthread_mutex_trylock(m) != 0)
		return false;
	pthread_mutex_unlock(m);
	return true;
}
#define LOCK_HELD(m) BUG_ON(lock_is_free(m))

/* Drop one reference of an atomic count; true when it was the last.  A
 * count that was already zero is a use after free: BUG. */
#define REF_DROP(refs) ({ int __old = atomic_fetch_sub((refs), 1); BUG_ON(__old <= 0); __old == 1; })

#endif
