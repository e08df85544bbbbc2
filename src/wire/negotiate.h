/* NEGOTIATE request/response ([MS-SMB2] 2.2.3, 2.2.4) and the SMB1
 * multi-protocol negotiate that upgrades to SMB2 ([MS-SMB2] 3.3.5.3). */
#ifndef SMB3D_WIRE_NEGOTIATE_H
#define SMB3D_WIRE_NEGOTIATE_H

#include "wire/smb2.h"

#define SMB2_PREAUTH_INTEGRITY_CAPABILITIES 0x0001
#define SMB2_ENCRYPTION_CAPABILITIES 0x0002
#define SMB2_COMPRESSION_CAPABILITIES 0x0003
#define SMB2_NETNAME_NEGOTIATE_CONTEXT_ID 0x0005
#define SMB2_TRANSPORT_CAPABILITIES 0x0006
#define SMB2_RDMA_TRANSFORM_CAPABILITIES 0x0007
#define SMB2_SIGNING_CAPABILITIES 0x0008
#define SMB2_POSIX_EXTENSIONS_AVAILABLE 0x0100

#define SMB2_PREAUTH_SHA512 0x0001
#define NEG_MAX_DIALECTS 64
#define NEG_MAX_ALGS 16

struct neg_req {
	uint16_t security_mode;
	uint32_t capabilities;
	uint8_t client_guid[16];
	uint16_t dialects[NEG_MAX_DIALECTS];
	unsigned n_dialects;
	/* negotiate contexts (only when 3.1.1 is offered) */
	unsigned n_contexts;
	unsigned n_preauth_ctx, n_encrypt_ctx, n_signing_ctx, n_compress_ctx;
	uint16_t hash_algs[NEG_MAX_ALGS];
	unsigned n_hash_algs;
	uint16_t ciphers[NEG_MAX_ALGS];
	unsigned n_ciphers;
	uint16_t sign_algs[NEG_MAX_ALGS];
	unsigned n_sign_algs;
	bool bad_context;        /* a context is malformed (count 0, short data) */
	bool posix;
};

/* Decode a NEGOTIATE request body.  Contexts are parsed only when 3.1.1
 * is among the dialects (they are ignored otherwise, MS-SMB2 3.3.5.4).
 * -EINVAL for a malformed body. */
int neg_req_decode(struct rd *r, struct neg_req *q);

struct neg_resp {
	uint16_t security_mode;
	uint16_t dialect;
	uint8_t server_guid[16];
	uint32_t capabilities;
	uint32_t max_transact, max_read, max_write;
	uint64_t system_time, start_time;
	const uint8_t *sec_buf;
	uint16_t sec_len;
	/* 3.1.1 contexts to send */
	bool ctx_preauth;
	uint8_t salt[32];
	bool ctx_encrypt;
	uint16_t cipher;         /* 0 = no common cipher */
	bool ctx_signing;
	uint16_t sign_alg;
	bool ctx_posix;
};
void neg_resp_encode(struct wr *w, const struct neg_resp *p);

/* SMB1 NEGOTIATE: does the dialect list (MS-CIFS 2.2.4.52.1) contain
 * "SMB 2.???" (returns 2), "SMB 2.002" only (returns 1), or neither (0)?
 * -EINVAL when it is not a well-formed SMB1 negotiate. */
int smb1_negotiate_smb2_offer(const uint8_t *pdu, size_t len);

#endif
