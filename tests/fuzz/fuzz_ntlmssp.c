/* Fuzz the NTLMSSP decoders and the server's AUTHENTICATE check: the
 * input is decoded as each message type, then fed as the AUTHENTICATE
 * of an exchange started with a fixed NEGOTIATE. */
#include <stdint.h>
#include <stdlib.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "wire/ntlmssp.h"

static struct passdb_entry user = { .name = "user", .uid = 1000, .has_nt_hash = true };
static struct passdb db = { &user, 1 };
static const struct auth_config cfg = { .netbios_name = "FUZZ", .domain = "WORKGROUP", .db = &db,
					.guest_account = "nobody", .anonymous_allowed = true };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		crypto_init();
		init = 1;
	}
	struct ntlmssp_negotiate n;
	struct ntlmssp_challenge c;
	struct ntlmssp_authenticate m;
	const uint8_t *v;
	size_t vl;
	(void)ntlmssp_message_type(data, size);
	(void)ntlmssp_decode_negotiate(data, size, &n, NULL);
	if (ntlmssp_decode_challenge(data, size, &c, NULL) == 0 && c.target_info)
		(void)ntlmssp_av_find(c.target_info, c.target_info_len, MSV_AV_TIMESTAMP, &v, &vl);
	if (ntlmssp_decode_authenticate(data, size, &m, NULL) == 0 && m.nt_response_len > 44)
		(void)ntlmssp_av_find(m.nt_response + 44, m.nt_response_len - 44, MSV_AV_FLAGS, &v, &vl);

	struct ntlmssp_negotiate neg = { .flags = 0xe2088297 };
	uint8_t *negm, *out;
	size_t negl, outl;
	struct auth_ctx *a = auth_start(&cfg);
	if (!a || ntlmssp_encode_negotiate(&neg, &negm, &negl)) {
		auth_free(a);
		return 0;
	}
	if (auth_step(a, negm, negl, &out, &outl) == AUTH_CONTINUE) {
		free(out);
		(void)auth_step(a, data, size, &out, &outl);
		free(out);
	}
	free(negm);
	auth_free(a);
	return 0;
}
