/* The dispatch table (CONVENTIONS rule 4): for each command, its handler,
 * its StructureSize, whether it needs a session and a tree connect, and
 * whether it changes state (for channel sequence and replay checks).
 *
 * It lives with the handlers, above the pipeline: proto/ gets it from
 * cmd_init(), which also installs the other calls a lower layer makes
 * upwards (docs/ARCHITECTURE.md "Layers"). */
#include "cmd/cmd.h"
#include "cmd/fileops.h"
#include "mc/oplock.h"
#include "proto/pipeline.h"
#include "proto/smb.h"

#define CMD(id, fn_, size, sess, tree, inprog, changes) \
	[id] = { #id, fn_, size, sess, tree, inprog, changes }

static const struct smb2_cmd_desc cmd_table[SMB2_N_COMMANDS] = {
	CMD(SMB2_NEGOTIATE,       cmd_negotiate,       36, false, false, false, false),
	CMD(SMB2_SESSION_SETUP,   cmd_session_setup,   25, false, false, true,  false),
	CMD(SMB2_LOGOFF,          cmd_logoff,           4, true,  false, true,  false),
	CMD(SMB2_TREE_CONNECT,    cmd_tree_connect,     9, true,  false, false, false),
	CMD(SMB2_TREE_DISCONNECT, cmd_tree_disconnect,  4, true,  true,  false, false),
	CMD(SMB2_CREATE,          cmd_create,          57, true,  true,  false, true),
	CMD(SMB2_CLOSE,           cmd_close,           24, true,  true,  false, false),
	CMD(SMB2_FLUSH,           cmd_flush,           24, true,  true,  false, false),
	CMD(SMB2_READ,            cmd_read,            49, true,  true,  false, false),
	CMD(SMB2_WRITE,           cmd_write,           49, true,  true,  false, true),
	CMD(SMB2_LOCK,            cmd_lock,            48, true,  true,  false, true),
	CMD(SMB2_IOCTL,           cmd_ioctl,           57, true,  true,  false, true),
	CMD(SMB2_CANCEL,          cmd_cancel,           4, false, false, false, false),
	CMD(SMB2_ECHO,            cmd_echo,             4, false, false, false, false),
	CMD(SMB2_QUERY_DIRECTORY, cmd_query_directory, 33, true,  true,  false, false),
	CMD(SMB2_CHANGE_NOTIFY,   cmd_change_notify,   32, true,  true,  false, false),
	CMD(SMB2_QUERY_INFO,      cmd_query_info,      41, true,  true,  false, false),
	CMD(SMB2_SET_INFO,        cmd_set_info,        33, true,  true,  false, true),
	CMD(SMB2_OPLOCK_BREAK,    cmd_oplock_break,     0, true,  true,  false, false),
};

void cmd_init(void)
{
	smb_dispatch_init(cmd_table, cmd_smb1_negotiate); /* proto dispatches to the handlers */
	oplock_init(smb_send_oplock_break);                /* mc decides on breaks, proto sends them */
	fileops_init();                                    /* state closes a tree's opens through cmd */
}
