/* Fuzz target for src/rpc: opens a srvsvc pipe and writes the input as a
 * byte stream of PDUs, in pieces whose sizes come from the first input byte
 * (so partial-PDU buffering is exercised), then reads every response back
 * with a small buffer, as a message-mode pipe client would. */
#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"

static const struct rpc_share shares[] = {
	{ "data", RPC_STYPE_DISKTREE, "Team data", "/srv/data" },
	{ "public", RPC_STYPE_DISKTREE, NULL, "/srv/public" },
	{ "IPC$", RPC_STYPE_IPC | RPC_STYPE_SPECIAL, "IPC Service", NULL },
};

static const struct rpc_server_info info = {
	"SMB3D", "WORKGROUP", "smb3d", shares, 3, RPC_PLATFORM_ID_NT, 6, 1, 0x8003,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_pipe *p = rpc_pipe_open("\\PIPE\\srvsvc", &info);
	if (!p)
		return 0;
	/* Input byte 0 picks the write size: 0 means everything at once. */
	size_t piece = size ? data[0] : 0;
	if (size) {
		data++;
		size--;
	}
	if (!piece)
		piece = size ? size : 1;
	uint8_t buf[97];
	for (size_t off = 0; off < size;) {
		size_t n = size - off < piece ? size - off : piece;
		if (rpc_pipe_write(p, data + off, n) < 0)
			break;
		off += n;
		while (rpc_pipe_read(p, buf, sizeof(buf)))
			;
	}
	while (rpc_pipe_read(p, buf, sizeof(buf)))
		;
	rpc_pipe_close(p);
	return 0;
}
