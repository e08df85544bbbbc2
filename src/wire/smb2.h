/* SMB2 header, transform header and constants ([MS-SMB2] 2.2.1, 2.2.41).
 *
 * Codec conventions for every src/wire/<command>.c:
 *  - a request decoder takes `struct rd *r` whose `base` is the start of the
 *    SMB2 header of this message (offsets in the PDU are relative to it) and
 *    whose `p` is at the start of the command body (header + 64) and whose
 *    `end` is the end of this message (compound element);
 *  - it fills a host-order struct, returns 0 or a negative NTSTATUS-class
 *    error: -EINVAL -> the handler answers STATUS_INVALID_PARAMETER;
 *  - pointers in decoded structs point into the receive buffer (valid while
 *    the request lives), never copies;
 *  - a response encoder takes `struct wr *w` whose `base` is the start of the
 *    response's SMB2 header and `p` the start of the body, so a buffer offset
 *    written into the body is simply wr_pos(w) at the point the buffer starts.
 */
#ifndef SMB3D_WIRE_SMB2_H
#define SMB3D_WIRE_SMB2_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/cursor.h"

#define SMB2_HDR_SIZE 64
#define SMB2_TF_HDR_SIZE 52
#define SMB2_PROTOCOL_ID 0x424D53FEu   /* 0xFE 'S' 'M' 'B' read as LE32 */
#define SMB2_TF_PROTOCOL_ID 0x424D53FDu
#define SMB2_COMP_PROTOCOL_ID 0x424D53FCu
#define SMB1_PROTOCOL_ID 0x424D53FFu

enum smb2_command {
	SMB2_NEGOTIATE = 0x0000,
	SMB2_SESSION_SETUP = 0x0001,
	SMB2_LOGOFF = 0x0002,
	SMB2_TREE_CONNECT = 0x0003,
	SMB2_TREE_DISCONNECT = 0x0004,
	SMB2_CREATE = 0x0005,
	SMB2_CLOSE = 0x0006,
	SMB2_FLUSH = 0x0007,
	SMB2_READ = 0x0008,
	SMB2_WRITE = 0x0009,
	SMB2_LOCK = 0x000A,
	SMB2_IOCTL = 0x000B,
	SMB2_CANCEL = 0x000C,
	SMB2_ECHO = 0x000D,
	SMB2_QUERY_DIRECTORY = 0x000E,
	SMB2_CHANGE_NOTIFY = 0x000F,
	SMB2_QUERY_INFO = 0x0010,
	SMB2_SET_INFO = 0x0011,
	SMB2_OPLOCK_BREAK = 0x0012,
	SMB2_N_COMMANDS = 0x0013,
};

/* Header flags */
#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMB2_FLAGS_ASYNC_COMMAND 0x00000002u
#define SMB2_FLAGS_RELATED_OPERATIONS 0x00000004u
#define SMB2_FLAGS_SIGNED 0x00000008u
#define SMB2_FLAGS_PRIORITY_MASK 0x00000070u
#define SMB2_FLAGS_DFS_OPERATIONS 0x10000000u
#define SMB2_FLAGS_REPLAY_OPERATION 0x20000000u

/* Dialects */
#define SMB2_DIALECT_202 0x0202
#define SMB2_DIALECT_210 0x0210
#define SMB2_DIALECT_300 0x0300
#define SMB2_DIALECT_302 0x0302
#define SMB2_DIALECT_311 0x0311
#define SMB2_DIALECT_WILDCARD 0x02FF

/* Global capabilities (2.2.4) */
#define SMB2_GLOBAL_CAP_DFS 0x00000001u
#define SMB2_GLOBAL_CAP_LEASING 0x00000002u
#define SMB2_GLOBAL_CAP_LARGE_MTU 0x00000004u
#define SMB2_GLOBAL_CAP_MULTI_CHANNEL 0x00000008u
#define SMB2_GLOBAL_CAP_PERSISTENT_HANDLES 0x00000010u
#define SMB2_GLOBAL_CAP_DIRECTORY_LEASING 0x00000020u
#define SMB2_GLOBAL_CAP_ENCRYPTION 0x00000040u

/* Security mode */
#define SMB2_NEGOTIATE_SIGNING_ENABLED 0x0001
#define SMB2_NEGOTIATE_SIGNING_REQUIRED 0x0002

/* Session flags */
#define SMB2_SESSION_FLAG_IS_GUEST 0x0001
#define SMB2_SESSION_FLAG_IS_NULL 0x0002
#define SMB2_SESSION_FLAG_ENCRYPT_DATA 0x0004
#define SMB2_SESSION_FLAG_BINDING 0x01

/* Share types / flags / capabilities (2.2.10) */
#define SMB2_SHARE_TYPE_DISK 0x01
#define SMB2_SHARE_TYPE_PIPE 0x02
#define SMB2_SHAREFLAG_ENCRYPT_DATA 0x00008000u
#define SMB2_SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM 0x00000800u
#define SMB2_SHARE_CAP_DFS 0x00000008u

/* The 64-byte SMB2 header decoded (sync and async forms share it). */
struct smb2_hdr {
	uint16_t credit_charge;
	uint32_t status;          /* ChannelSequence (+Reserved) in requests of 3.x */
	uint16_t command;
	uint16_t credits;         /* CreditRequest / CreditResponse */
	uint32_t flags;
	uint32_t next_command;
	uint64_t message_id;
	uint64_t async_id;        /* when SMB2_FLAGS_ASYNC_COMMAND */
	uint32_t process_id;      /* sync: Reserved(ProcessId) */
	uint32_t tree_id;         /* sync only */
	uint64_t session_id;
	uint8_t signature[16];
};

/* Decode the header at r->p (must be the message start); -EINVAL when short
 * or not an SMB2 header.  Leaves r->p at the body. */
int smb2_hdr_decode(struct rd *r, struct smb2_hdr *h);
/* Encode a header at w->p. */
void smb2_hdr_encode(struct wr *w, const struct smb2_hdr *h);

/* Transform header (2.2.41). */
struct smb2_tf_hdr {
	uint8_t signature[16];
	uint8_t nonce[16];
	uint32_t orig_size;
	uint16_t flags;           /* Flags (3.1.1) / EncryptionAlgorithm (3.0.x): 0x0001 */
	uint64_t session_id;
};
int smb2_tf_hdr_decode(struct rd *r, struct smb2_tf_hdr *t);
void smb2_tf_hdr_encode(struct wr *w, const struct smb2_tf_hdr *t);

/* One element of a compound request (MS-SMB2 3.3.5.2.7). */
struct smb2_elem {
	struct smb2_hdr hdr;
	size_t off, len;          /* of the element within the message */
};
/* Split a (possibly compound) message into its elements: every NextCommand
 * is 8-byte aligned, at least a header long and inside the message.
 * Returns the number of elements, or -EINVAL (a broken stream: the caller
 * disconnects), or -E2BIG for more than `max` elements. */
int smb2_compound_split(const uint8_t *msg, size_t len, struct smb2_elem *out, unsigned max);

/* Error response body (2.2.2): StructureSize 9, no error contexts. */
void smb2_error_encode(struct wr *w, const uint8_t *data, uint32_t len);

const char *smb2_command_name(uint16_t cmd);

#endif
