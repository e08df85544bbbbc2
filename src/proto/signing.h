/* Signing, verification and sealing of SMB2 messages (MS-SMB2 3.1.4.1,
 * 3.1.4.3, 3.3.4.1.1, 3.3.5.2.4).  Thin: the crypto is in src/crypto/. */
#ifndef SMB3D_PROTO_SIGNING_H
#define SMB3D_PROTO_SIGNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Sign the message whose header starts iov[0] (zeroes and fills the
 * Signature field, sets SMB2_FLAGS_SIGNED). */
int smb_sign(int alg, const uint8_t key[16], struct iovec *iov, int n);
/* Verify a received message in place (its signature field is restored). */
bool smb_verify(int alg, const uint8_t key[16], uint8_t *msg, size_t len);

/* Derive the session keys for a dialect (MS-SMB2 3.3.5.5.3). `preauth`
 * is the session's preauth hash (3.1.1) or NULL. */
struct session;
void smb_derive_keys(struct session *s, uint16_t dialect, int cipher, const uint8_t *preauth);
/* The signing key of one channel (3.1.1 binding uses that channel's
 * preauth hash; otherwise it is the session's signing key). */
void smb_derive_signing_key(const uint8_t session_key[16], uint16_t dialect, const uint8_t *preauth, uint8_t out[16]);

#endif
