/* Server-wide values the protocol layer needs: identity, start time, the
 * user database snapshot and connection counters. */
#ifndef SMB3D_PROTO_SRV_H
#define SMB3D_PROTO_SRV_H

#include <stdatomic.h>
#include <stdint.h>

#include "auth/passdb.h"

struct srv_passdb {
	atomic_int refs;
	struct passdb *db;
};

struct srv_globals {
	uint8_t server_guid[16];
	uint64_t start_time;          /* NT time */
	atomic_int n_conns;
	atomic_int n_workers;         /* set at start */
	char hostname[64];
};
extern struct srv_globals srv;

void srv_init(void);
/* (Re)load the smbpasswd file; a missing file is an empty database. */
int srv_passdb_load(const char *path);
struct srv_passdb *srv_passdb_get(void);
void srv_passdb_put(struct srv_passdb *p);
void srv_passdb_fini(void);

#endif
