/* Fuzz the SMB2 framing: transform header, compound split, header decode
 * and every core request decoder on each element. */
#include <stddef.h>
#include <stdint.h>

#include "wire/negotiate.h"
#include "wire/session_setup.h"
#include "wire/smb2.h"
#include "wire/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_init(data, size);
	struct smb2_tf_hdr tf;
	if (smb2_tf_hdr_decode(&r, &tf) == 0)
		return 0;
	smb1_negotiate_smb2_offer(data, size);
	struct smb2_elem el[16];
	int n = smb2_compound_split(data, size, el, 16);
	for (int i = 0; i < n; i++) {
		struct rd b = rd_init(data + el[i].off, el[i].len);
		b.p += SMB2_HDR_SIZE;
		struct neg_req nq;
		struct sess_setup_req sq;
		struct tree_connect_req tq;
		struct rd c = b;
		switch (el[i].hdr.command) {
		case SMB2_NEGOTIATE: neg_req_decode(&c, &nq); break;
		case SMB2_SESSION_SETUP: sess_setup_req_decode(&c, &sq); break;
		case SMB2_TREE_CONNECT: tree_connect_req_decode(&c, &tq); break;
		default: smb2_small_req_decode(&c, 4); break;
		}
	}
	return 0;
}
