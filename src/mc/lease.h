/* Leases ([MS-SMB2] 3.3.1.4 Lease, 3.3.5.9.8 and 3.3.5.9.11 grant,
 * 3.3.4.7 break, 3.3.5.22.2 acknowledgment, 3.3.2.5 the break timer;
 * [MS-FSA] 2.1.5.17-18 for which caching a second open leaves standing).
 *
 * One lease per (ClientGUID, LeaseKey): every open a client makes with the
 * same key on the same file shares it; the key on another file is
 * refused while the lease lives.  A lease lives as long as one open holds
 * it (struct open .lease is a counted reference) and is one file's for
 * good (a reference to the file).
 *
 * Locks: the table (ClientGUID, LeaseKey -> lease) has its own mutex,
 * leases_lock; a lease's state (state, breaking, breaking_to, epoch,
 * n_opens) is under its file's lock, the lock that already guards the
 * file's opens and oplocks, so one critical section sees every open,
 * oplock and lease of a file.  Order: leases_lock -> file->lock
 * (docs/ARCHITECTURE.md "Locks").
 *
 * Breaks: mc/oplock.c decides when (a conflicting CREATE, a write, a
 * lock ...), calls lease_break_plan() for each open of the file and
 * lease_break_commit() once, under the file's lock; the notification goes
 * out through the oplock delivery path to a live channel of the client. */
#ifndef SMB3D_MC_LEASE_H
#define SMB3D_MC_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "state/open.h"
#include "wire/create.h"
#include "wire/ntstatus.h"
#include "wire/oplock.h"

struct lease;

#define LEASE_R SMB2_LEASE_READ_CACHING
#define LEASE_H SMB2_LEASE_HANDLE_CACHING
#define LEASE_W SMB2_LEASE_WRITE_CACHING

/* The lease of (guid, key) with a reference, or NULL. */
struct lease *lease_find(const uint8_t guid[16], const uint8_t key[16]);
void lease_put(struct lease *l);
/* Is l the lease of file f?  (l->file never changes: no lock.) */
bool lease_is_for(const struct lease *l, const struct file *f);
bool lease_is_for_inode(const struct lease *l, dev_t dev, ino_t ino);
/* Is l's key `key` (NULL: no)? */
bool lease_has_key(const struct lease *l, const uint8_t *key);
/* Copies of the key of o's lease and of the ParentLeaseKey it came with
 * (v2, *has_parent); false when o holds no lease.  Takes o->file->lock. */
bool lease_keys_of(const struct open *o, uint8_t key[16], uint8_t parent[16], bool *has_parent);
/* Does any directory hold a lease now (cheap; a hint)? */
bool lease_dirs_leased(void);

/* For the durable handles: the R/H/W bits the open's lease holds now
 * (SMB2_LEASE_*_CACHING; the pre-break state while a break is not yet
 * acknowledged), 0 when the open has no lease.  Takes o->file->lock. */
uint32_t lease_state_of(const struct open *o);
/* The response context of the open's lease as it stands (a replayed
 * CREATE, cmd/create_replay.c; a durable reconnect, cmd/durable.c); false
 * when the open has no lease.  Takes
 * o->file->lock. */
bool lease_describe(const struct open *o, struct wire_ctx_lease *rsp);
/* Does the open hold a lease with this key (a DHnC/DH2C reconnect must
 * name the same key, MS-SMB2 3.3.5.9.7/.12)? */
bool lease_key_matches(const struct open *o, const uint8_t key[16]);

/* After the open joined its file and was registered: attach it to the
 * lease (guid, rq->key), creating the lease or upgrading it by the rules
 * of 3.3.5.9.8, and fill the response context.  `dir_ok`: a directory may
 * be leased (R/H only).  STATUS_INVALID_PARAMETER when the key is another
 * file's lease; STATUS_SUCCESS with rsp->version == 0 when no lease is
 * given (a directory without directory leases). */
NTSTATUS lease_grant(struct open *o, const uint8_t guid[16], const struct wire_ctx_lease *rq, bool dir_ok,
		     struct wire_ctx_lease *rsp);
/* The open is closing (after it left its file's open list): it drops its
 * share of the lease, and the lease leaves the table with its last open
 * (then true: whoever waited for its break may go on). */
bool lease_open_closed(struct open *o);
/* LEASE_BREAK acknowledgment (3.3.5.22.2) from client guid; on success
 * *state is the state now held (and waiting CREATEs are woken). */
NTSTATUS lease_ack(const uint8_t guid[16], const struct wire_lease_ack *a, uint32_t *state);

/* ---- for mc/oplock.c, under f->lock ---- */
/* An open with only this access breaks no lease (a "stat" open). */
bool lease_stat_access(uint32_t access);
/* The lease of open e must keep at most `keep` (several calls for one
 * lease, from its several opens, intersect); the caller waits for the ack
 * when it takes away one of the bits of `delay`. */
void lease_break_plan(struct open *e, uint32_t keep, uint32_t delay);
/* Send the planned breaks of file f; true when one needs an ack that the
 * caller (a CREATE) should wait for. */
bool lease_break_commit(struct file *f);
/* The break timer fired: every breaking lease of f takes its break-to
 * state (3.3.2.5, 3.3.6.? Lease Break Acknowledgment Timer). */
void lease_break_timeout(struct file *f);
/* May another open of f get an oplock (level II at most) next to e's lease? */
uint32_t lease_state_locked(const struct open *e);
bool lease_breaking_locked(const struct open *e);

#endif
