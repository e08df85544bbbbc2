/* CHANGE_NOTIFY ([MS-SMB2] 3.3.5.19) on top of inotify; see change_notify.c. */
#ifndef SMB3D_CMD_CHANGE_NOTIFY_H
#define SMB3D_CMD_CHANGE_NOTIFY_H

#include "state/open.h"

/* The open is going away (CLOSE, tree disconnect, logoff, connection
 * loss): complete its pending CHANGE_NOTIFY requests with
 * STATUS_NOTIFY_CLEANUP and drop its watches and queued events.  Safe to
 * call for any open, from any thread, more than once. */
void notify_open_closed(struct open *o);

/* Directory `f` became delete-pending (SET_INFO disposition, or the close
 * of a delete-on-close open while other opens remain): complete the
 * pending CHANGE_NOTIFYs on it with STATUS_DELETE_PENDING, as Windows. */
void notify_delete_pending(struct file *f);

/* A directory was just created or moved by smb3d: record the inotify
 * events queued so far now, so that a WATCH_TREE watch covers the new
 * directory before the client hears of it (a change the client makes in
 * it right after is then not missed).  Cheap when nothing is watched. */
void notify_sync(void);

#endif
