/* SMB2 OPLOCK_BREAK bodies ([MS-SMB2] 2.2.23, 2.2.24, 2.2.25): the break
 * notifications the server sends, the acknowledgments the client answers
 * with and the server's responses to those, for oplocks and for leases.
 * The command has two forms, told apart by their StructureSize. */
#ifndef SMB3D_WIRE_OPLOCK_H
#define SMB3D_WIRE_OPLOCK_H

#include "wire/file_common.h"

#define WIRE_OPLOCK_BREAK_SIZE 24       /* oplock notification, ack, response */
#define WIRE_LEASE_ACK_SIZE 36          /* lease ack and response */
#define WIRE_LEASE_BREAK_SIZE 44        /* lease break notification */

/* 2.2.23.2 / 2.2.24.2 Flags */
#define SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED 0x01u

/* The StructureSize of an OPLOCK_BREAK request body (which form it is);
 * 0 when the body is shorter than 2 bytes.  Leaves r where it was. */
uint16_t wire_oplock_break_form(const struct rd *r);

/* Oplock Break Acknowledgment (2.2.24.1) and its response (2.2.25.1). */
struct wire_oplock_ack {
	uint8_t level;            /* SMB2_OPLOCK_LEVEL_* */
	struct wire_fileid fid;
};
/* Returns 0 or -EINVAL (short, or not the 24-byte form). */
int wire_oplock_ack_decode(struct rd *r, struct wire_oplock_ack *q);
/* The 24-byte body of an oplock break notification (2.2.23.1) or of the
 * response to an acknowledgment (2.2.25.1): the same layout. */
void wire_oplock_break_encode(struct wr *w, uint8_t level, const struct wire_fileid *fid);

/* Lease Break Acknowledgment (2.2.24.2) and its response (2.2.25.2). */
struct wire_lease_ack {
	uint32_t flags;
	uint8_t key[16];
	uint32_t state;           /* SMB2_LEASE_* */
	uint64_t duration;
};
/* Returns 0 or -EINVAL (short, or not the 36-byte form). */
int wire_lease_ack_decode(struct rd *r, struct wire_lease_ack *q);
/* The 36-byte response body (2.2.25.2); LeaseDuration is zero. */
void wire_lease_ack_encode_rsp(struct wr *w, const uint8_t key[16], uint32_t state);

/* Lease Break Notification (2.2.23.2). */
struct wire_lease_break {
	uint16_t new_epoch;
	uint32_t flags;           /* SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED */
	uint8_t key[16];
	uint32_t current_state, new_state;
};
/* The 44-byte body; BreakReason, AccessMaskHint and ShareMaskHint are
 * zero, as 2.2.23.2 requires. */
void wire_lease_break_encode(struct wr *w, const struct wire_lease_break *n);

#endif
