/* A pid file that is also the lock of one running instance (Samba's
 * `pid directory`): created, flock()ed for the life of the process and
 * holding its pid.  Another process that finds it locked is refused. */
#ifndef SMB3D_UTIL_PIDFILE_H
#define SMB3D_UTIL_PIDFILE_H

/* Take the pid file at `path`: returns its fd (keep it open), or
 * -EWOULDBLOCK when a live process holds it (*holder = the pid written in
 * it, 0 if unreadable), or another -errno. */
int pidfile_take(const char *path, long *holder);

/* Remove the pid file we hold and close it. */
void pidfile_release(int fd, const char *path);

#endif
