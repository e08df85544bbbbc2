#ifndef SMB3D_PROTO_CREDITS_H
#define SMB3D_PROTO_CREDITS_H

#include <stdint.h>

struct smb_conn;

int credits_init(struct smb_conn *sc, uint32_t max_credits);
/* Consume MessageIds [mid, mid + charge).  -ERANGE outside the window,
 * -EEXIST when one was used already: either way the connection is broken. */
int credits_consume(struct smb_conn *sc, uint64_t mid, uint16_t charge);
/* Grant credits in a response; returns CreditResponse. */
uint16_t credits_grant(struct smb_conn *sc, uint16_t requested);
uint32_t credits_outstanding(const struct smb_conn *sc);

#endif
