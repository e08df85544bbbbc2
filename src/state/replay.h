/* Create replay detection ([MS-SMB2] 3.3.5.9.10, 3.3.1.x GlobalOpenTable by
 * CreateGuid): a durable v2 CREATE a client resends with
 * SMB2_FLAGS_REPLAY_OPERATION after a channel failure gets the open the
 * first one made, not a second open.
 *
 * A table keyed by (ClientGUID, CreateGuid).  An entry is reserved by the
 * CREATE that first carries the CreateGuid (pending: no open yet), becomes
 * the open when that CREATE succeeds, and goes with the open (open_unregister)
 * or when the CREATE fails.  So an entry lives as long as its open and no
 * longer, and the table is bounded by the opens and the CREATEs running.
 *
 * Lock: replay_lock (state/replay.c), a leaf taken under open_table_lock
 * (open_unregister) and alone otherwise.  An entry's open pointer is weak:
 * open_unregister removes the entry before it drops the table's reference,
 * so an open found under the lock is alive and a reference can be taken. */
#ifndef SMB3D_STATE_REPLAY_H
#define SMB3D_STATE_REPLAY_H

#include <stdint.h>

struct open;

enum replay_state {
	REPLAY_NEW,        /* not known: reserved for the caller, who must complete or abandon it */
	REPLAY_PENDING,    /* the first CREATE still runs (or its open is closing) */
	REPLAY_FOUND,      /* *found: the open (a reference) */
	REPLAY_NOMEM,
};

enum replay_state replay_reserve(const uint8_t client_guid[16], const uint8_t create_guid[16], struct open **found);
/* The reserving CREATE succeeded with open o (which records its entry);
 * an o closed meanwhile takes no entry.  The caller holds a reference. */
void replay_complete(const uint8_t client_guid[16], const uint8_t create_guid[16], struct open *o);
/* The reserving CREATE failed: forget the reservation. */
void replay_abandon(const uint8_t client_guid[16], const uint8_t create_guid[16]);
/* Open o goes (open_unregister): its entry, if any, goes with it. */
void replay_forget(struct open *o);
/* Entries in the table (tests, status). */
unsigned replay_count(void);

#endif
