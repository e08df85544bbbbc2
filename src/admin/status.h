/* smb3ctl status: the server's state as text or JSON (status.c). */
#ifndef SMB3D_ADMIN_STATUS_H
#define SMB3D_ADMIN_STATUS_H

#include <stdio.h>

void status_write_text(FILE *f);
void status_write_json(FILE *f);

#endif
