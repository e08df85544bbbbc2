/* Fuzz NEGOTIATE request bodies with negotiate contexts (the input is the
 * body; a fixed header is put in front so context offsets work). */
#include <stdlib.h>
#include <string.h>

#include "wire/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(SMB2_HDR_SIZE + size + 1);
	if (!buf)
		return 0;
	memset(buf, 0, SMB2_HDR_SIZE);
	memcpy(buf + SMB2_HDR_SIZE, data, size);
	struct rd r = rd_init(buf, SMB2_HDR_SIZE + size);
	r.p += SMB2_HDR_SIZE;
	struct neg_req q;
	if (neg_req_decode(&r, &q) == 0) {
		/* encode a response from what was decoded */
		uint8_t out[1024];
		struct wr w = wr_init(out, sizeof(out));
		struct neg_resp p = { 0 };
		p.dialect = q.n_dialects ? q.dialects[0] : 0x0311;
		p.ctx_preauth = q.n_preauth_ctx > 0;
		p.ctx_encrypt = q.n_encrypt_ctx > 0;
		p.ctx_signing = q.n_signing_ctx > 0;
		neg_resp_encode(&w, &p);
	}
	free(buf);
	return 0;
}
