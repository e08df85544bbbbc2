#ifndef SMB3D_PROTO_PIPELINE_H
#define SMB3D_PROTO_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct smb_conn;
struct session;

/* A whole PDU from the net layer (buffer ownership passes). */
void smb_pdu(struct conn *c, uint8_t *pdu, size_t len);
/* Send one self-contained SMB2 message (buf is malloc'd; ownership passes). */
int smb_send_standalone(struct smb_conn *sc, uint8_t *buf, size_t len, struct session *seal_with);
/* Send an OPLOCK_BREAK notification (MS-SMB2 2.2.23.1) on this connection
 * (its worker's thread only); sealed when the session encrypts. */
int smb_send_oplock_break(struct smb_conn *sc, struct session *s, uint64_t persistent, uint64_t volatile_id,
			  uint8_t level);
/* SMB1 multi-protocol negotiate (src/cmd/negotiate.c). */
void smb_smb1_negotiate(struct smb_conn *sc, const uint8_t *pdu, size_t len);

#endif
