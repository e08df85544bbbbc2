/* SMB2 CREATE ([MS-SMB2] 2.2.13, 2.2.14) and its create contexts
 * (2.2.13.2, 2.2.14.2). */
#ifndef SMB3D_WIRE_CREATE_H
#define SMB3D_WIRE_CREATE_H

#include "wire/file_common.h"

/* RequestedOplockLevel / OplockLevel */
#define SMB2_OPLOCK_LEVEL_NONE 0x00
#define SMB2_OPLOCK_LEVEL_II 0x01
#define SMB2_OPLOCK_LEVEL_EXCLUSIVE 0x08
#define SMB2_OPLOCK_LEVEL_BATCH 0x09
#define SMB2_OPLOCK_LEVEL_LEASE 0xFF

/* CreateDisposition */
#define FILE_SUPERSEDE 0u
#define FILE_OPEN 1u
#define FILE_CREATE 2u
#define FILE_OPEN_IF 3u
#define FILE_OVERWRITE 4u
#define FILE_OVERWRITE_IF 5u

/* CreateAction (2.2.14) */
#define FILE_SUPERSEDED 0u
#define FILE_OPENED 1u
#define FILE_CREATED 2u
#define FILE_OVERWRITTEN 3u

/* CreateOptions (subset used by the server) */
#define FILE_DIRECTORY_FILE 0x00000001u
#define FILE_WRITE_THROUGH 0x00000002u
#define FILE_SEQUENTIAL_ONLY 0x00000004u
#define FILE_NO_INTERMEDIATE_BUFFERING 0x00000008u
#define FILE_NON_DIRECTORY_FILE 0x00000040u
#define FILE_NO_EA_KNOWLEDGE 0x00000200u
#define FILE_RANDOM_ACCESS 0x00000800u
#define FILE_DELETE_ON_CLOSE 0x00001000u
#define FILE_OPEN_BY_FILE_ID 0x00002000u
#define FILE_OPEN_FOR_BACKUP_INTENT 0x00004000u
#define FILE_OPEN_REPARSE_POINT 0x00200000u

#define SMB2_CREATE_FLAG_REPARSEPOINT 0x01

/* Create context names (2.2.13.2) */
#define WIRE_CTX_EA_BUFFER "ExtA"
#define WIRE_CTX_SD_BUFFER "SecD"
#define WIRE_CTX_DURABLE_REQ "DHnQ"
#define WIRE_CTX_DURABLE_RECONNECT "DHnC"
#define WIRE_CTX_ALLOCATION_SIZE "AlSi"
#define WIRE_CTX_MAXIMAL_ACCESS "MxAc"
#define WIRE_CTX_TIMEWARP "TWrp"
#define WIRE_CTX_QUERY_ON_DISK_ID "QFid"
#define WIRE_CTX_LEASE "RqLs"
#define WIRE_CTX_DURABLE_REQ_V2 "DH2Q"
#define WIRE_CTX_DURABLE_RECONNECT_V2 "DH2C"
#define WIRE_CTX_AAPL "AAPL"
/* GUID-named (16 bytes): SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13) */
#define WIRE_CTX_APP_INSTANCE_ID "\x45\xBC\xA6\x6A\xEF\xA7\xF7\x4A\x90\x08\xFA\x46\x2E\x14\x4D\x74"

/* DH2Q / DH2C Flags */
#define SMB2_DHANDLE_FLAG_PERSISTENT 0x00000002u
/* Lease (2.2.13.2.8 / 2.2.13.2.10) */
#define SMB2_LEASE_READ_CACHING 0x01u
#define SMB2_LEASE_HANDLE_CACHING 0x02u
#define SMB2_LEASE_WRITE_CACHING 0x04u
#define SMB2_LEASE_FLAG_BREAK_IN_PROGRESS 0x02u
#define SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET 0x04u

#define WIRE_CREATE_MAX_CTX 32

struct wire_create_ctx {
	const uint8_t *name;      /* usually 4 ASCII bytes, or a 16-byte GUID */
	uint16_t name_len;
	const uint8_t *data;      /* NULL when data_len is 0 */
	uint32_t data_len;
};

struct wire_create_req {
	uint8_t security_flags;
	uint8_t oplock_level;     /* SMB2_OPLOCK_LEVEL_* */
	uint32_t impersonation;
	uint64_t smb_create_flags;
	uint32_t desired_access;
	uint32_t file_attributes;
	uint32_t share_access;
	uint32_t create_disposition;
	uint32_t create_options;
	const uint8_t *name;      /* UTF-16LE, no terminator; NULL when empty */
	uint16_t name_len;        /* bytes, even */
	unsigned n_ctx;
	struct wire_create_ctx ctx[WIRE_CREATE_MAX_CTX];
};

/* Decodes the fixed fields, the name and the whole create-context chain.
 * -EINVAL on any bad offset/length, a misaligned or looping chain, more
 * than WIRE_CREATE_MAX_CTX contexts, or an odd name length. */
int wire_create_decode_req(struct rd *r, struct wire_create_req *q);

/* The context whose name is exactly `name`/`len` bytes, or NULL.  (A
 * request with two contexts of one name is answered by the caller.) */
const struct wire_create_ctx *wire_create_ctx_find(const struct wire_create_req *q,
						   const void *name, size_t len);
#define WIRE_CREATE_CTX_FIND(q, tag) wire_create_ctx_find((q), (tag), 4)

/* --- payload decoders of the contexts clients send; -EINVAL on bad size */

/* DHnQ (2.2.13.2.3): 16 reserved bytes. */
int wire_ctx_dhnq_decode(const struct wire_create_ctx *c);
/* DHnC (2.2.13.2.4): the FileId to reconnect. */
int wire_ctx_dhnc_decode(const struct wire_create_ctx *c, struct wire_fileid *fid);

struct wire_ctx_dh2q {
	uint32_t timeout;         /* ms, 0 = server default */
	uint32_t flags;           /* SMB2_DHANDLE_FLAG_PERSISTENT */
	uint8_t create_guid[16];
};
int wire_ctx_dh2q_decode(const struct wire_create_ctx *c, struct wire_ctx_dh2q *d);

struct wire_ctx_dh2c {
	struct wire_fileid fid;
	uint8_t create_guid[16];
	uint32_t flags;
};
int wire_ctx_dh2c_decode(const struct wire_create_ctx *c, struct wire_ctx_dh2c *d);

/* AppInstanceId (2.2.13.2.13): StructureSize 20, Reserved, the 16-byte id. */
int wire_ctx_app_instance_decode(const struct wire_create_ctx *c, uint8_t id[16]);

/* MxAc (2.2.13.2.5): Timestamp is optional. */
struct wire_ctx_mxac {
	bool has_timestamp;
	uint64_t timestamp;
};
int wire_ctx_mxac_decode(const struct wire_create_ctx *c, struct wire_ctx_mxac *m);

/* QFid (2.2.13.2.9): no payload. */
int wire_ctx_qfid_decode(const struct wire_create_ctx *c);

/* RqLs (2.2.13.2.8 v1, 32 bytes; 2.2.13.2.10 v2, 52 bytes). */
struct wire_ctx_lease {
	int version;              /* 1 or 2 */
	uint8_t key[16];
	uint32_t state;           /* SMB2_LEASE_*_CACHING */
	uint32_t flags;
	uint64_t duration;
	uint8_t parent_key[16];   /* v2 */
	uint16_t epoch;           /* v2 */
};
int wire_ctx_lease_decode(const struct wire_create_ctx *c, struct wire_ctx_lease *l);

/* TWrp (2.2.13.2.7) and AlSi (2.2.13.2.6): one 8-byte value. */
int wire_ctx_twrp_decode(const struct wire_create_ctx *c, uint64_t *timestamp);
int wire_ctx_alsi_decode(const struct wire_create_ctx *c, uint64_t *alloc);
/* SecD (a self-relative security descriptor), ExtA (a
 * FILE_FULL_EA_INFORMATION list, see fscc_full_ea_next()) and AAPL are
 * used as the raw c->data / c->data_len. */

/* --- response */

struct wire_create_rsp {
	uint8_t oplock_level;
	uint8_t flags;            /* SMB2_CREATE_FLAG_REPARSEPOINT */
	uint32_t create_action;   /* FILE_OPENED ... */
	uint64_t create, access, write, change;
	uint64_t alloc, eof;
	uint32_t attrs;
	struct wire_fileid fid;
};

/* One response create context.  The payload is `ext` when set (for large
 * ones such as AAPL), else the inline `buf`. */
struct wire_create_rsp_ctx {
	uint8_t name[4];
	uint32_t len;
	const uint8_t *ext;
	uint8_t buf[56];
};

void wire_ctx_mxac_rsp(struct wire_create_rsp_ctx *c, uint32_t query_status, uint32_t maximal_access);
/* QFid response: DiskFileId (16 bytes: the inode number, then zeroes)
 * and VolumeId (16 bytes: the volume id, then zeroes). */
void wire_ctx_qfid_rsp(struct wire_create_rsp_ctx *c, uint64_t disk_file_id, uint64_t volume_id);
/* RqLs response: v1 (32 bytes) when l->version == 1, else v2 (52). */
void wire_ctx_lease_rsp(struct wire_create_rsp_ctx *c, const struct wire_ctx_lease *l);
void wire_ctx_dh2q_rsp(struct wire_create_rsp_ctx *c, uint32_t timeout, uint32_t flags);
void wire_ctx_dhnq_rsp(struct wire_create_rsp_ctx *c);

/* Writes the 88-byte body and the contexts, each 8-byte aligned (from
 * w->base), with CreateContextsOffset/Length set.  Without contexts one pad
 * byte follows (StructureSize 89).  Returns 0, -ENOSPC, or -EINVAL for an
 * inline context longer than its buf. */
int wire_create_encode_rsp(struct wr *w, const struct wire_create_rsp *s,
			   const struct wire_create_rsp_ctx *ctx, unsigned n_ctx);

#endif
