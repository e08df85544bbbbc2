#ifndef SMB3D_PROTO_PIPELINE_H
#define SMB3D_PROTO_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct smb_conn;
struct session;

/* A whole PDU from the net layer (buffer ownership passes). */
void smb_pdu(struct conn *c, uint8_t *pdu, size_t len);
/* conn_ops.busy: too many credits' worth of requests in flight. */
bool smb_conn_busy(struct conn *c);
/* The completion of a send, on the connection's worker, called exactly
 * once (possibly before the send function returns):
 *   err == 0: the kernel has taken every byte of the message, and
 *     `stream_end` is conn_bytes_sent_to_kernel() at its last byte: the
 *     peer has acknowledged the whole message once bytes_sent_to_kernel
 *     minus the socket's unacknowledged bytes (SIOCOUTQ) reaches it;
 *   err < 0: the message was not built, or the connection died before
 *     the kernel took all of it (what the peer got of it is unknown). */
typedef void (*smb_sent_fn)(void *arg, int err, uint64_t stream_end);

/* Send one self-contained SMB2 message (buf is malloc'd; ownership
 * passes): an interim response, an oplock break.  `done` may be NULL. */
int smb_send_standalone(struct smb_conn *sc, uint8_t *buf, size_t len, struct session *seal_with, smb_sent_fn done,
			void *done_arg);
/* Send an OPLOCK_BREAK notification (MS-SMB2 2.2.23.1) on this connection
 * (its worker's thread only); sealed when the session encrypts. */
int smb_send_oplock_break(struct smb_conn *sc, struct session *s, uint64_t persistent, uint64_t volatile_id,
			  uint8_t level, smb_sent_fn done, void *done_arg);
/* A lease break notification (MS-SMB2 2.2.23.2, 3.3.4.7); s NULL: not
 * sealed (c is no channel of a session of the lease's opens). */
struct wire_lease_break;
int smb_send_lease_break(struct smb_conn *sc, struct session *s, const struct wire_lease_break *n, smb_sent_fn done,
			 void *done_arg);

#endif
