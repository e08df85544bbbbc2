/* Listening sockets.  Every worker has its own SO_REUSEPORT socket for each
 * address, with a multishot accept on its ring, so the kernel spreads new
 * connections over the workers and no connection ever moves between
 * threads. */
#ifndef SMB3D_NET_LISTENER_H
#define SMB3D_NET_LISTENER_H

#include <sys/socket.h>

#include "net/conn.h"
#include "loop/worker.h"

/* Create a bound, listening socket; -errno.  IPv6 sockets are v6-only so an
 * IPv4 wildcard socket can sit beside them. */
int listener_socket(const struct sockaddr_storage *ss, socklen_t len);

/* Is the address free for us?  0, or -EADDRINUSE when another process
 * listens there -- another smb3d included: SO_REUSEPORT would let a second
 * server share the port silently, so the probe binds without it (a bind
 * conflicts with any listener unless both set SO_REUSEPORT). */
int listener_probe(const struct sockaddr_storage *ss, socklen_t len);

/* Give socket `fd` to worker w (before the worker starts). */
int listener_add(struct worker *w, int fd, const struct conn_ops *ops, size_t max_pdu);

/* Arm the accepts (called on w's thread when it starts) / close them. */
void listener_worker_start(struct worker *w);
void listener_worker_stop(struct worker *w);
/* Free them (after the worker's ring is gone). */
void listener_worker_free(struct worker *w);

/* Install the sockets on the worker loop (worker_set_sockets): the
 * listeners start and stop with their worker, and a stopping worker
 * drains and closes its connections.  Once, before any worker starts. */
void net_init(void);

#endif
