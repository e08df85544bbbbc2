/* DCE/RPC over SMB named pipes: the srvsvc and wkssvc services that let
 * `smbclient -L` and Explorer list shares, and lsarpc, which binds but
 * answers every call with a fault (lsarpc.c).
 *
 * Pure code: no sockets, no SMB.  The SMB layer opens a pipe when a client
 * creates \PIPE\srvsvc, \PIPE\wkssvc or \PIPE\lsarpc on IPC$, then forwards its WRITEs,
 * READs and FSCTL_PIPE_TRANSCEIVEs here.  The pipe behaves like a Windows
 * message-mode pipe: each response PDU (fragment) is one message.
 *
 * Errors are -errno (CONVENTIONS.md rule 7); the SMB layer maps them. */
#ifndef SMB3D_RPC_H
#define SMB3D_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [MS-SRVS] 2.2.2.4 share types */
#define RPC_STYPE_DISKTREE 0x00000000u
#define RPC_STYPE_PRINTQ   0x00000001u
#define RPC_STYPE_DEVICE   0x00000002u
#define RPC_STYPE_IPC      0x00000003u
#define RPC_STYPE_SPECIAL  0x80000000u /* hidden admin shares, IPC$ */

/* [MS-SRVS] 2.2.2.7 server types (subset) */
#define RPC_SV_TYPE_WORKSTATION 0x00000001u
#define RPC_SV_TYPE_SERVER      0x00000002u
#define RPC_SV_TYPE_SERVER_NT   0x00008000u

#define RPC_PLATFORM_ID_NT 500u

struct rpc_share {
	const char *name;    /* UTF-8 */
	uint32_t type;       /* RPC_STYPE_*, IPC$ is RPC_STYPE_IPC | RPC_STYPE_SPECIAL */
	const char *comment; /* may be NULL (sent as "") */
	const char *path;    /* unix path, for levels 2 and 502; may be NULL */
};

struct rpc_server_info {
	const char *netbios_name;  /* UTF-8; may be NULL */
	const char *domain;        /* workgroup; may be NULL */
	const char *server_string; /* comment; may be NULL */
	const struct rpc_share *shares; /* only the browseable ones, plus IPC$ */
	size_t n_shares;
	uint32_t platform_id; /* RPC_PLATFORM_ID_NT (0 means 500) */
	uint32_t ver_major, ver_minor;
	uint32_t server_type; /* RPC_SV_TYPE_* */
};

/* Limits on what a pipe buffers ([C706] 12.6.3.1 frag_length is 16 bits). */
#define RPC_MAX_FRAG        65535u
#define RPC_MAX_REQUEST     (4u << 20) /* reassembled request stub */
#define RPC_MAX_PENDING_OUT (8u << 20) /* unread response bytes */

struct rpc_pipe;

/* Open a pipe.  `pipe_name` is "srvsvc", "wkssvc" or "lsarpc", case-insensitive, with
 * or without a "\PIPE\" prefix.  `info` is copied deep, so the caller may
 * free it afterwards.  Returns NULL for an unknown pipe name (the caller
 * answers STATUS_OBJECT_NAME_NOT_FOUND) or when out of memory (errno is
 * then ENOMEM, otherwise ENOENT). */
struct rpc_pipe *rpc_pipe_open(const char *pipe_name, const struct rpc_server_info *info);

/* Client -> server bytes.  `data` may hold part of a PDU (kept until it is
 * complete) or several PDUs.  Returns `len` (all consumed), -EINVAL when the
 * stream is broken (a frag_length below the common header size; the pipe
 * stays broken and the caller answers an error), -ENOBUFS when the client
 * let more than RPC_MAX_PENDING_OUT response bytes pile up unread, -ENOMEM.
 * Protocol errors inside a well-framed PDU are answered in-band with a
 * FAULT or BIND_NAK PDU, not with an error return. */
int rpc_pipe_write(struct rpc_pipe *p, const uint8_t *data, size_t len);

/* Bytes of response waiting, over all queued PDUs. */
size_t rpc_pipe_pending(const struct rpc_pipe *p);

/* Bytes left of the current message (the first queued PDU); 0 when none.
 * A READ that returns less than this must be answered with
 * STATUS_BUFFER_OVERFLOW, as Windows does for message-mode pipes. */
size_t rpc_pipe_msg_pending(const struct rpc_pipe *p);

/* Take up to `cap` bytes of the current message.  A read never spans two
 * PDUs: when `cap` is smaller than the PDU, the rest of it is returned by the
 * next read.  Returns the number of bytes copied (0 when nothing is pending). */
size_t rpc_pipe_read(struct rpc_pipe *p, uint8_t *buf, size_t cap);

/* FSCTL_PIPE_TRANSCEIVE: write `in`, then read one message into `out`.
 * *more is set when the message did not fit (STATUS_BUFFER_OVERFLOW).
 * Returns 0 or a negative errno from rpc_pipe_write. */
int rpc_pipe_transceive(struct rpc_pipe *p, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t cap, size_t *out_len, bool *more);

void rpc_pipe_close(struct rpc_pipe *p);

#endif
