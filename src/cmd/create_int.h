/* CREATE, split in three (cmd/create.c: the request, its checks and the
 * name; cmd/create_open.c: opening an existing object or creating a new
 * one, and attaching the open to its file; cmd/create_stream.c: named
 * streams).  What the three share. */
#ifndef SMB3D_CMD_CREATE_INT_H
#define SMB3D_CMD_CREATE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/durable.h"
#include "state/open.h"
#include "wire/create.h"
#include "wire/fscc.h"

/* Attributes stored on create ([MS-FSA] 2.1.5.1.2.1) */
#define ATTRS_SETTABLE (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
			FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE | \
			FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)

struct create_state {
	struct smb2_req *req;
	const struct wire_create_req *q;
	const struct vfs_ident *id;
	int root;
	char *path;               /* on disk, relative to the root */
	bool trailing_slash;
	uint32_t want;            /* requested access, generic mapped */
	bool max_allowed;
	uint64_t alloc;           /* AlSi */
	const uint8_t *eas;       /* ExtA: a checked FILE_FULL_EA_INFORMATION list */
	size_t eas_len;
	const uint8_t *sd;        /* SecD: a validated self-relative descriptor for a new object */
	size_t sd_len;
	const struct durable_req *dur; /* DHnQ / DH2Q / AppInstanceId (cmd/durable.h) */
	bool retry;               /* create_attach: the name went away meanwhile, start again */
	bool want_lease;          /* RqLs with RequestedOplockLevel LEASE, leases on */
	struct wire_ctx_lease lease_rq;
	struct lease *lease_self; /* reference: the lease (client, key) names already, or NULL */
	/* results */
	struct open *o;
	uint32_t action;
	uint32_t max_access;
};

/* cmd/create_open.c */
char *create_parent_of(const char *path);
/* An open that never reached the tables (closes its fd, drops its refs). */
void create_open_free(struct open *o);
struct open *create_open_new(struct create_state *cs);
NTSTATUS create_attach(struct create_state *cs, struct open *o, const struct statx *st);
/* Undo an open that was attached (registered) but must fail. */
void create_open_abort(struct open *o);
void create_undo(struct open *o);
NTSTATUS create_alloc(struct create_state *cs, struct open *o, int fd);
/* Open an existing object.  *again: it changed under us, start again. */
NTSTATUS create_open_existing(struct create_state *cs, const struct statx *st, int *again);
NTSTATUS create_new(struct create_state *cs, int *again);
/* cmd/create_stream.c */
NTSTATUS create_open_stream(struct create_state *cs, const char *stream);
/* OVERWRITE / SUPERSEDE of a file (fd): its named streams are removed
 * (smbtorture smb2.streams.create-disposition, as Windows). */
void create_drop_streams(struct create_state *cs, int fd);
/* SET_INFO FileRenameInformation of a named stream's open, at path
 * ("base:stream", the open's path when the rename began), to ":NAME" or
 * ":NAME:$DATA" ([MS-FSA] 2.1.5.14.11): the stream gets the new name (an
 * empty stream of that name is replaced when `replace`); *newpath is the
 * open's new path "base:NAME" (malloc'd). */
NTSTATUS create_stream_rename(struct smb2_req *req, const char *path, const uint8_t *name16, size_t len,
			      bool replace, char **newpath);

#endif
