/* SPNEGO tokens (RFC 4178, MS-SPNG) in DER, and the GSS-API
 * InitialContextToken framing around them (RFC 2743 section 3.1).
 *
 * Decoded tokens point into the caller's buffer; nothing is allocated.
 * Object identifiers are kept as their DER content bytes (no 0x06 tag and
 * length), which is what spnego_oid_eq() compares. */
#ifndef SMB3D_WIRE_SPNEGO_H
#define SMB3D_WIRE_SPNEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPNEGO_MAX_MECHS 16

/* negState values of NegTokenResp (RFC 4178 section 4.2.2). */
enum spnego_neg_state {
	SPNEGO_STATE_ABSENT = -1,
	SPNEGO_ACCEPT_COMPLETED = 0,
	SPNEGO_ACCEPT_INCOMPLETE = 1,
	SPNEGO_REJECT = 2,
	SPNEGO_REQUEST_MIC = 3,
};

struct spnego_oid {
	const uint8_t *der; /* content octets of the OBJECT IDENTIFIER */
	size_t len;
};

/* 1.3.6.1.4.1.311.2.2.10 and 1.3.6.1.5.5.2 */
extern const struct spnego_oid spnego_oid_ntlmssp;
extern const struct spnego_oid spnego_oid_spnego;

struct spnego_init {
	struct spnego_oid mechs[SPNEGO_MAX_MECHS];
	size_t n_mechs;
	/* The whole MechTypeList (SEQUENCE tag, length and content) as
	 * received: mechListMIC is computed over exactly these bytes
	 * (RFC 4178 section 5). */
	const uint8_t *mech_types_der;
	size_t mech_types_der_len;
	const uint8_t *mech_token;   /* NULL when absent */
	size_t mech_token_len;
	const uint8_t *mech_list_mic; /* NULL when absent */
	size_t mech_list_mic_len;
	const char *hint_name;       /* encode only: NegTokenInit2 negHints.hintName, or NULL */
};

struct spnego_resp {
	int neg_state;               /* enum spnego_neg_state */
	struct spnego_oid supported_mech; /* der NULL when absent */
	const uint8_t *response_token;
	size_t response_token_len;
	const uint8_t *mech_list_mic;
	size_t mech_list_mic_len;
};

enum spnego_kind { SPNEGO_KIND_INIT, SPNEGO_KIND_RESP };

struct spnego_token {
	enum spnego_kind kind;
	struct spnego_init init;
	struct spnego_resp resp;
};

bool spnego_oid_eq(const struct spnego_oid *a, const struct spnego_oid *b);

/* Decode a token from a client: either an InitialContextToken (0x60, the
 * SPNEGO OID, then negTokenInit or negTokenResp) or a bare negTokenInit
 * [0] / negTokenResp [1].  Returns 0, or -EINVAL for anything malformed
 * (truncation, bad lengths, indefinite lengths, wrong tags, trailing
 * bytes); *why (if not NULL) then names the reason. */
int spnego_decode(const uint8_t *buf, size_t len, struct spnego_token *out, const char **why);

/* Encoders; the result is malloc'd.  0 or -ENOMEM / -EINVAL. */
/* InitialContextToken carrying a NegTokenInit (mechTypes, mechToken,
 * mechListMIC), or NegTokenInit2 with negHints when init->hint_name is set
 * (MS-SPNG 2.2.1).  Only mechs/n_mechs are used for mechTypes. */
int spnego_encode_init(const struct spnego_init *init, uint8_t **out, size_t *out_len);
/* negTokenResp [1], without the InitialContextToken framing (RFC 4178 4.2). */
int spnego_encode_resp(const struct spnego_resp *resp, uint8_t **out, size_t *out_len);
/* The DER MechTypeList for a list of OIDs (what a client's mechListMIC
 * covers), malloc'd. */
int spnego_encode_mech_types(const struct spnego_oid *mechs, size_t n, uint8_t **out, size_t *out_len);

#endif
