/* The local control socket (`control socket`, root only) that smb3ctl
 * talks to: one request line ("status" or "reload"), a text answer, close. */
#ifndef SMB3D_ADMIN_CONTROL_H
#define SMB3D_ADMIN_CONTROL_H

#include <stdio.h>

/* Start the control thread; `reload` is called for "reload" and writes its
 * messages to `reply`, returning 0 when the new configuration was accepted.
 * -EADDRINUSE when a running server answers on `path`: its socket is never
 * taken over.  A stale socket file (nobody listening) is replaced. */
int control_start(const char *path, int (*reload)(FILE *reply));
/* Stop the thread; the socket file is removed only if it is still ours. */
void control_stop(void);

#endif
