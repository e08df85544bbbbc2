/* lsarpc: Local Security Authority (Domain Policy) Remote Protocol
 * [MS-LSAD] / [MS-LSAT], bound and served without operations.
 *
 * Windows serves \PIPE\lsarpc on IPC$ (its BIND_ACK names \PIPE\lsass).
 * smb3d accepts the bind, so a client that binds first and asks later
 * (smbtorture's smb2.credits ipc tests park READs on such a pipe) sees the
 * pipe Windows has; every call is answered with the nca_s_op_rng_error
 * fault, as for an operation the server does not implement: no policy
 * handle, no name or SID lookup is handed out. */
#include "rpc/ndr.h"

uint32_t rpc_lsarpc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out)
{
	(void)info;
	(void)opnum;
	(void)in;
	(void)in_len;
	(void)out;
	return RPC_NCA_S_OP_RNG_ERROR;
}
