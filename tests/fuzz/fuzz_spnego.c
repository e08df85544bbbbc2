/* Fuzz the SPNEGO decoder, re-encode what decodes, and run the token
 * through a fresh server exchange. */
#include <stdint.h>
#include <stdlib.h>

#include "auth/auth.h"
#include "wire/spnego.h"

static const struct auth_config cfg = { .netbios_name = "FUZZ", .domain = "WORKGROUP", .guest_account = "nobody" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spnego_token t;
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (spnego_decode(data, size, &t, NULL) == 0) {
		int rc = t.kind == SPNEGO_KIND_INIT ? spnego_encode_init(&t.init, &out, &out_len)
						    : spnego_encode_resp(&t.resp, &out, &out_len);
		if (rc == 0) {
			struct spnego_token again;
			if (spnego_decode(out, out_len, &again, NULL) != 0 || again.kind != t.kind)
				abort();
			free(out);
		}
	}
	struct auth_ctx *a = auth_start(&cfg);
	if (a) {
		(void)auth_step(a, data, size, &out, &out_len);
		free(out);
		auth_free(a);
	}
	return 0;
}
