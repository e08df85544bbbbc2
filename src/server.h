#ifndef SMB3D_SERVER_H
#define SMB3D_SERVER_H

#include "conf/conf.h"

/* Run the server with configuration `cf` (ownership passes) until SIGTERM
 * or SIGINT.  Returns the process exit code. */
int server_run(struct conf *cf, const char *conf_path);

#endif
