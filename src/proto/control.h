/* The local control socket (`control socket`, root only) that smb3ctl
 * talks to: one request line ("status" or "reload"), a text answer, close. */
#ifndef SMB3D_PROTO_CONTROL_H
#define SMB3D_PROTO_CONTROL_H

/* Start the control thread; `reload` is called for "reload". */
int control_start(const char *path, void (*reload)(void));
void control_stop(void);

#endif
