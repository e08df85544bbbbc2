/* Test driver for rpc_impacket_check.py: binds a pipe, sends one request
 * whose stub is given in hex, and prints the reassembled response stub in
 * hex (or "FAULT <status>").  Not a test by itself.
 *
 *   rpc_dump <pipe> <opnum> <stub-hex> [max_frag]
 *
 * The server info is fixed: three shares plus IPC$. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "wire/cursor.h"

static const struct rpc_share shares[] = {
	{ "data", RPC_STYPE_DISKTREE, "Team data", "/srv/data" },
	{ "public", RPC_STYPE_DISKTREE, "", "/srv/public" },
	{ "m\xc3\xbcsic", RPC_STYPE_DISKTREE, "UTF-8 name", "/srv/music" },
	{ "IPC$", RPC_STYPE_IPC | RPC_STYPE_SPECIAL, "IPC Service", NULL },
};

static const struct rpc_server_info info = {
	"SMB3D", "WORKGROUP", "smb3d server", shares, 4,
	RPC_PLATFORM_ID_NT, 6, 1, RPC_SV_TYPE_WORKSTATION | RPC_SV_TYPE_SERVER | RPC_SV_TYPE_SERVER_NT,
};

static const uint8_t srvsvc[16] = { 0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
				    0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 };
static const uint8_t wkssvc[16] = { 0x98, 0xd0, 0xff, 0x6b, 0x12, 0xa1, 0x10, 0x36,
				    0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a };
static const uint8_t ndr20[16] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
				   0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };

static void hdr(struct wr *w, uint8_t ptype, uint32_t call_id)
{
	static const uint8_t drep[4] = { 0x10, 0, 0, 0 };
	wr_u8(w, 5);
	wr_u8(w, 0);
	wr_u8(w, ptype);
	wr_u8(w, 3);
	wr_bytes(w, drep, 4);
	wr_le32(w, 0);
	wr_le32(w, call_id);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s pipe opnum stub-hex [max_frag]\n", argv[0]);
		return 2;
	}
	bool wk = strstr(argv[1], "wks") != NULL;
	uint16_t frag = argc > 4 ? (uint16_t)atoi(argv[4]) : 4280;
	struct rpc_pipe *p = rpc_pipe_open(argv[1], &info);
	if (!p)
		return 2;
	static uint8_t buf[1 << 20], stub[1 << 16];
	size_t sl = strlen(argv[3]) / 2;
	for (size_t i = 0; i < sl && i < sizeof(stub); i++) {
		unsigned v;
		sscanf(argv[3] + 2 * i, "%2x", &v);
		stub[i] = (uint8_t)v;
	}

	struct wr w = wr_init(buf, sizeof(buf));
	hdr(&w, 11, 1);
	wr_le16(&w, frag);
	wr_le16(&w, frag);
	wr_le32(&w, 0);
	wr_le32(&w, 1);
	wr_le16(&w, 0);
	wr_le16(&w, 1);
	wr_bytes(&w, wk ? wkssvc : srvsvc, 16);
	wr_le32(&w, wk ? 1 : 3);
	wr_bytes(&w, ndr20, 16);
	wr_le32(&w, 2);
	put_le16(buf + 8, (uint16_t)wr_pos(&w));
	size_t start = wr_pos(&w);
	hdr(&w, 0, 2);
	wr_le32(&w, (uint32_t)sl);
	wr_le16(&w, 0);
	wr_le16(&w, (uint16_t)atoi(argv[2]));
	wr_bytes(&w, stub, sl);
	put_le16(buf + start + 8, (uint16_t)(wr_pos(&w) - start));
	if (!wr_ok(&w) || rpc_pipe_write(p, buf, wr_pos(&w)) < 0)
		return 2;

	int rc = 0;
	while (rpc_pipe_pending(p)) {
		size_t n = rpc_pipe_read(p, buf, sizeof(buf));
		if (n < 24)
			return 2;
		if (buf[2] == 3) {
			printf("FAULT %08x\n", get_le32(buf + 24));
			rc = 1;
		} else if (buf[2] == 2) {
			for (size_t i = 24; i < n; i++)
				printf("%02x", buf[i]);
		}
	}
	printf("\n");
	rpc_pipe_close(p);
	return rc;
}
