#ifndef SMB3D_SERVER_H
#define SMB3D_SERVER_H

#include "conf/conf.h"

/* Run the server with configuration `cf` (ownership passes) until SIGTERM
 * or SIGINT.  Returns the process exit code. */
int server_run(struct conf *cf, const char *conf_path);

/* Load the configuration: errors on stderr (and `reply`, after an "error:"
 * line), warnings on stderr (and `reply`), each distinct warning only the
 * first time it is seen in this process. */
struct conf *server_conf_load(const char *path, FILE *reply);

#endif
