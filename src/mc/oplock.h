/* Oplocks (MS-SMB2 3.3.5.9 step "oplock", 3.3.4.6 breaks, 3.3.5.22.1 acks;
 * the grant and break rules of [MS-FSA] 2.1.5.17, simplified to the
 * classic SMB2 levels).  Leases come with multichannel part 2 and reuse the
 * same waiting and delivery machinery.
 *
 * A CREATE that conflicts with another open's exclusive or batch oplock
 * goes async, sends a break to that open's session over one of its live
 * channels, and waits until the holder acknowledges, closes, or the break
 * times out (OplockBreakAckTimeout, 35 s).  Level II oplocks are broken to
 * none without waiting when somebody writes. */
#ifndef SMB3D_MC_OPLOCK_H
#define SMB3D_MC_OPLOCK_H

#include <stdint.h>

#include "proto/smb.h"
#include "state/open.h"

/* Before the share-mode check of a CREATE on file f: break the oplocks the
 * new open conflicts with and wait for them.  `overwrite`: the disposition
 * replaces the data.  Called without f->lock held. */
void oplock_break_for_create(struct smb2_req *req, struct file *f, uint32_t access, uint32_t share, bool overwrite,
			     bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share));
/* After the open joined its file: the level it gets for `requested`. */
uint8_t oplock_grant(struct open *o, uint8_t requested);
/* A write, truncation or lock: every level II holder drops to none, the
 * writer's own open included ([MS-FSA] 2.1.5.17). */
void oplock_break_level2(struct file *f, const struct open *by);
/* The open is closing: wake whoever waits for its break. */
void oplock_open_closed(struct open *o);
/* OPLOCK_BREAK acknowledgment from the client. */
NTSTATUS oplock_ack(struct smb2_req *req, struct open *o, uint8_t level);

#endif
