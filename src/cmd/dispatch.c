/* The dispatch table (CONVENTIONS rule 4): what the pipeline does for each
 * command before its handler runs (proto/smb.h, struct smb2_cmd_desc).
 *
 * The FileId offsets are those of the request bodies in MS-SMB2 2.2: the
 * pipeline looks the open up once, after the session and the tree, and
 * hands it to the handler as req->open.  An unknown or closed FileId is
 * answered STATUS_FILE_CLOSED without calling the handler, as Windows and
 * Samba do, except where .fid_optional lets the handler decide (IOCTL).
 *
 * It lives with the handlers, above the pipeline: proto/ gets it from
 * cmd_init(), which also installs the other calls a lower layer makes
 * upwards, the SMB1 multi-protocol NEGOTIATE among them
 * (docs/ARCHITECTURE.md "Layers"). */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/oplock.h"
#include "proto/pipeline.h"
#include "proto/smb.h"

static const struct smb2_cmd_desc cmd_table[SMB2_N_COMMANDS] = {
	[SMB2_NEGOTIATE] = {
		.fn = cmd_negotiate, .body_size = 36,
	},
	[SMB2_SESSION_SETUP] = {
		.fn = cmd_session_setup, .body_size = 25,
		.allow_in_progress = true, /* a session it continues is in progress */
	},
	[SMB2_LOGOFF] = {
		.fn = cmd_logoff, .body_size = 4,
		.need_session = true, .allow_in_progress = true,
	},
	[SMB2_TREE_CONNECT] = {
		.fn = cmd_tree_connect, .body_size = 9,
		.need_session = true,
	},
	[SMB2_TREE_DISCONNECT] = {
		.fn = cmd_tree_disconnect, .body_size = 4,
		.need_session = true, .need_tree = true,
	},
	[SMB2_CREATE] = {
		.fn = cmd_create, .body_size = 57,
		.need_session = true, .need_tree = true,
		.replayable = true, /* 3.3.5.9.10: a durable v2 CREATE replayed */
	},
	[SMB2_CLOSE] = {
		.fn = cmd_close, .body_size = 24,
		.need_session = true, .need_tree = true, .fid_off = 8,
	},
	[SMB2_FLUSH] = {
		.fn = cmd_flush, .body_size = 24,
		.need_session = true, .need_tree = true, .fid_off = 8,
	},
	[SMB2_READ] = {
		.fn = cmd_read, .body_size = 49,
		.need_session = true, .need_tree = true, .fid_off = 16,
	},
	[SMB2_WRITE] = {
		.fn = cmd_write, .body_size = 49,
		.need_session = true, .need_tree = true, .fid_off = 16,
		.chan_seq = true, .replayable = true, .replay_key = cmd_write_replay_key,
	},
	[SMB2_LOCK] = {
		/* Resilient and durable opens replay a LOCK by its LockSequence
		 * (3.3.5.14), not by the REPLAY flag. */
		.fn = cmd_lock, .body_size = 48,
		.need_session = true, .need_tree = true, .fid_off = 8,
	},
	[SMB2_IOCTL] = {
		/* FSCTLs of the server (VALIDATE_NEGOTIATE_INFO,
		 * QUERY_NETWORK_INTERFACE_INFO, DFS referrals, PIPE_WAIT) come
		 * with the FileId all ones: the handler gets req->open NULL and
		 * answers FILE_CLOSED itself for the FSCTLs of a file.  The
		 * FSCTL table (cmd/ioctl.c) may let one run without a session
		 * or a tree connect (.needs). */
		.fn = cmd_ioctl, .body_size = 57,
		.need_session = true, .need_tree = true, .fid_off = 8, .fid_optional = true,
		.needs = cmd_ioctl_needs,
		.chan_seq = true, .replayable = true, .replay_key = cmd_ioctl_replay_key,
	},
	[SMB2_CANCEL] = {
		.fn = cmd_cancel, .body_size = 4,
	},
	[SMB2_ECHO] = {
		.fn = cmd_echo, .body_size = 4,
	},
	[SMB2_QUERY_DIRECTORY] = {
		.fn = cmd_query_directory, .body_size = 33,
		.need_session = true, .need_tree = true, .fid_off = 8,
	},
	[SMB2_CHANGE_NOTIFY] = {
		.fn = cmd_change_notify, .body_size = 32,
		.need_session = true, .need_tree = true, .fid_off = 8,
	},
	[SMB2_QUERY_INFO] = {
		.fn = cmd_query_info, .body_size = 41,
		.need_session = true, .need_tree = true, .fid_off = 24,
	},
	[SMB2_SET_INFO] = {
		.fn = cmd_set_info, .body_size = 33,
		.need_session = true, .need_tree = true, .fid_off = 16,
		.chan_seq = true, .replayable = true, .replay_key = cmd_set_info_replay_key,
	},
	[SMB2_OPLOCK_BREAK] = {
		/* body_size 0: an oplock acknowledgment (24, with a FileId) or a
		 * lease acknowledgment (36, with a LeaseKey instead): the
		 * handler checks which (2.2.24). */
		.fn = cmd_oplock_break, .body_size = 0,
		.need_session = true, .need_tree = true, .fid_off = 8, .fid_form = 24,
	},
};

void cmd_init(void)
{
	smb_dispatch_init(cmd_table, cmd_smb1_negotiate); /* proto dispatches to the handlers */
	oplock_init(smb_send_oplock_break);                /* mc decides on breaks, proto sends them */
	oplock_init_lease(smb_send_lease_break);
	fileops_init();                                    /* state closes a tree's opens through cmd */
	lease_watch_init();                                /* vfs hears other programs' changes for the leases */
}
