/* Telling systemd about the service's state (Type=notify): READY=1 once
 * serving, RELOADING=1 ... READY=1 around a reload, STOPPING=1, STATUS=.
 * No-ops (0) when not started by systemd.  0 or -errno. */
#ifndef SMB3D_UTIL_SDNOTIFY_H
#define SMB3D_UTIL_SDNOTIFY_H

int sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sd_notify_reloading(void);

#endif
