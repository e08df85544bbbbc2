/* Where the pipeline finds the handlers.  They live in the layer above
 * (src/cmd/dispatch.c), which installs them at start-up (cmd_init(), from
 * server.c): a call from proto/ into cmd/ by name would fail to link
 * (docs/ARCHITECTURE.md "Layers"). */
#include "proto/smb.h"

const struct smb2_cmd_desc *smb2_cmds;
smb1_negotiate_fn smb1_negotiate;

void smb_dispatch_init(const struct smb2_cmd_desc table[SMB2_N_COMMANDS], smb1_negotiate_fn smb1)
{
	smb2_cmds = table;
	smb1_negotiate = smb1;
}
