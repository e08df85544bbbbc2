/* One handler per SMB2 command, one file each (src/cmd/<command>.c). */
#ifndef SMB3D_CMD_H
#define SMB3D_CMD_H

#include "proto/smb.h"

/* Connect the layers below to the handlers, before the first connection:
 * the dispatch table and the SMB1 negotiate to proto, the oplock break
 * sender to mc, the closing of a tree's opens to state.  From server.c. */
void cmd_init(void);

/* MS-SMB2 3.3.5.3.1: the SMB1 multi-protocol negotiate (cmd/negotiate.c). */
void cmd_smb1_negotiate(struct smb_conn *sc, const uint8_t *pdu, size_t len);

NTSTATUS cmd_negotiate(struct smb2_req *req);
/* Is dialect d one this server implements and its configuration allows? */
bool negotiate_dialect_enabled(const struct conf *cf, uint16_t d);
NTSTATUS cmd_session_setup(struct smb2_req *req);
NTSTATUS cmd_logoff(struct smb2_req *req);
NTSTATUS cmd_tree_connect(struct smb2_req *req);
NTSTATUS cmd_tree_disconnect(struct smb2_req *req);
NTSTATUS cmd_create(struct smb2_req *req);
NTSTATUS cmd_close(struct smb2_req *req);
NTSTATUS cmd_flush(struct smb2_req *req);
NTSTATUS cmd_read(struct smb2_req *req);
NTSTATUS cmd_write(struct smb2_req *req);
/* The dispatch table's .replay_key (proto/smb.h) of WRITE, SET_INFO, IOCTL. */
int cmd_write_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3]);
int cmd_set_info_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3]);
int cmd_ioctl_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3]);
NTSTATUS cmd_lock(struct smb2_req *req);
NTSTATUS cmd_ioctl(struct smb2_req *req);
/* The dispatch table's .needs for IOCTL: an FSCTL that the FSCTL table
 * allows without a session or a tree connect clears *session / *tree. */
void cmd_ioctl_needs(const struct smb2_req *req, bool *session, bool *tree);
/* Samba's test FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP (cmd/ioctl_torture.c): a
 * CLOSE of an open waits here until no such sleep on it is running. */
void ioctl_torture_close_wait(struct smb2_req *req, const struct open *o);
NTSTATUS cmd_cancel(struct smb2_req *req);
NTSTATUS cmd_echo(struct smb2_req *req);
NTSTATUS cmd_query_directory(struct smb2_req *req);
NTSTATUS cmd_change_notify(struct smb2_req *req);
NTSTATUS cmd_query_info(struct smb2_req *req);
NTSTATUS cmd_set_info(struct smb2_req *req);
NTSTATUS cmd_oplock_break(struct smb2_req *req);

#endif
