/* NDR20 (transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2),
 * little-endian only, and the stub-level interface between dcerpc.c and the
 * services (srvsvc.c, wkssvc.c).  Internal to src/rpc/.
 *
 * Alignment is relative to the start of the stub data ([C706] 14.2.2), so a
 * reader's cursor has its base at the first stub byte and a writer's buffer
 * holds only stub data. */
#ifndef SMB3D_RPC_NDR_H
#define SMB3D_RPC_NDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"
#include "wire/cursor.h"

/* ---- reading (errors latch in r->err, like the cursor) ---- */

void ndr_align(struct rd *r, size_t a);
uint16_t ndr_u16(struct rd *r);
uint32_t ndr_u32(struct rd *r);
/* A unique/full pointer's referent id; 0 is NULL ([C706] 14.3.10/14.3.11). */
static inline uint32_t ndr_ptr(struct rd *r) { return ndr_u32(r); }

/* A conformant varying string of 16-bit chars ([string] wchar_t*):
 * max_count, offset, actual_count, chars.  [C706] 14.3.4: offset + actual
 * must not exceed max_count.  Returns the chars (actual_count of them, the
 * terminating NUL included if sent) or NULL with r->err set. */
const uint8_t *ndr_wstring(struct rd *r, uint32_t *count);
/* The same, converted to a malloc'd UTF-8 string without the trailing NUL. */
char *ndr_wstring_utf8(struct rd *r);

/* Skip a conformant array of `count` flat structures described by `layout`
 * (one char per 4-byte field: 'd' a DWORD, 's' a unique [string] wchar_t*,
 * 'b' a unique pointer to a conformant byte array), including the deferred
 * pointees that follow all fixed parts ([C706] 14.3.12.3). */
void ndr_skip_struct_array(struct rd *r, const char *layout, uint32_t count);

/* ---- writing into a growable buffer, bounded by `limit` ---- */

struct ndr_out {
	uint8_t *buf;
	size_t len, cap, limit;
	uint32_t next_ref;
	bool err;
};

void ndr_out_init(struct ndr_out *o, size_t limit);
void ndr_out_free(struct ndr_out *o);
void ndr_put_align(struct ndr_out *o, size_t a);
void ndr_put_u16(struct ndr_out *o, uint16_t v);
void ndr_put_u32(struct ndr_out *o, uint32_t v);
/* Emit a unique pointer: a fresh referent id when `nonnull`, else 0. */
void ndr_put_ptr(struct ndr_out *o, bool nonnull);
/* Conformant varying wchar string of UTF-8 `s` with its NUL ("" when NULL). */
void ndr_put_wstring(struct ndr_out *o, const char *s);

/* One field of a flat structure: kind 'd' (DWORD d) or 's' (unique
 * [string] wchar_t*, NULL pointer when s is NULL). */
struct ndr_field {
	char kind;
	uint32_t d;
	const char *s;
};

/* The fixed part of a structure, then (separately, after all fixed parts of
 * an array) its deferred pointees. */
void ndr_put_fields(struct ndr_out *o, const struct ndr_field *f, size_t n);
void ndr_put_fields_deferred(struct ndr_out *o, const struct ndr_field *f, size_t n);

/* ---- services ---- */

/* Fault statuses ([C706] appendix E, [MS-RPCE] 2.2.2.11). */
#define RPC_NCA_S_OP_RNG_ERROR     0x1c010002u
#define RPC_NCA_S_UNK_IF           0x1c010003u
#define RPC_NCA_S_PROTO_ERROR      0x1c01000bu
#define RPC_NCA_S_FAULT_INVALID_TAG 0x1c000006u
#define RPC_NCA_S_FAULT_REMOTE_NO_MEMORY 0x1c00001bu
#define RPC_NCA_S_UNSUPPORTED_TYPE 0x1c010017u
#define RPC_S_ACCESS_DENIED        0x00000005u
#define RPC_X_BAD_STUB_DATA        0x000006f7u

/* Win32 / LAN Manager results returned in stubs. */
#define RPC_ERR_SUCCESS          0u
#define RPC_ERR_INVALID_LEVEL    124u
#define RPC_ERR_MORE_DATA        234u
#define RPC_NERR_NETNAMENOTFOUND 2310u

/* A service call: decode `in`, encode the reply stub into `out`.
 * Returns 0, or a fault status (RPC_NCA_* / RPC_X_*) to answer instead. */
typedef uint32_t (*rpc_call_fn)(const struct rpc_server_info *info, uint16_t opnum,
				const uint8_t *in, size_t in_len, struct ndr_out *out);

uint32_t rpc_srvsvc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out);
uint32_t rpc_wkssvc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out);
uint32_t rpc_lsarpc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out);

#endif
