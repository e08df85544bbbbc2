#ifndef SMB3D_ADMIN_METRICS_HTTP_H
#define SMB3D_ADMIN_METRICS_HTTP_H

/* Serve Prometheus text on address:port (port 0 = off). */
int metrics_http_start(const char *address, int port);
void metrics_http_stop(void);

#endif
