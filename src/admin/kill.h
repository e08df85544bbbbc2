/* smb3ctl kill-client ADDRESS, kill-session ID, close-share NAME (kill.c):
 * end the connections of a client (IP, or IP:PORT), of a session, or that
 * have a tree connect to a share.  The answer goes to `reply`; 0 when
 * something was ended, -1 (an "error:" line) otherwise. */
#ifndef SMB3D_ADMIN_KILL_H
#define SMB3D_ADMIN_KILL_H

#include <stdio.h>

int admin_kill(const char *cmd, const char *arg, FILE *reply);

#endif
