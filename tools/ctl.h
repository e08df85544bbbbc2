/* Subcommands of smb3ctl.  Each takes argv with argv[0] = the subcommand
 * name and returns the process exit status. */
#ifndef SMB3D_TOOLS_CTL_H
#define SMB3D_TOOLS_CTL_H

#include <stdbool.h>

/* smb3ctl user add NAME [--uid N] [-s] | del NAME | passwd NAME [-s] | list
 * on the smbpasswd file at passdb_path. */
int ctl_user_main(int argc, char **argv, const char *passdb_path);
/* smb3ctl config ... (tools/ctl_config.c) */
int ctl_config_main(int argc, char **argv, const char *config_path);

/* `smb3ctl status` / `smb3ctl reload`: talk to the running server over its
 * control socket (the `control socket` option of the config file). */
int ctl_control_main(int argc, char **argv, const char *config_path, bool explicit_config);

#endif
