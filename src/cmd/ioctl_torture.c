/* Samba's smbtorture test FSCTLs: test hooks, not protocol.  The FSCTL
 * table (cmd/ioctl.c) knows them only with "smbd:FSCTL_SMBTORTURE = yes"
 * (off by default); without it they are unknown FSCTLs like any other.
 * Codes and behaviour as Samba's smbd answers them, so smbtorture's tests
 * that use them run against smb3d. */
#include <string.h>

#include "cmd/ioctl_int.h"
#include "net/conn.h"
#include "proto/smb.h"
#include "util/log.h"

/* FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: smbtorture "cuts" a channel (when
 * it does not use iptables) by sending this on it, with no session and no
 * tree.  From then on nothing sent on the connection counts as
 * acknowledged, so a break sent there times out (mc/break_retry.h) as on a
 * cut link.  No input, as Samba. */
NTSTATUS fsctl_force_unacked(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	struct conn *conn = c->req->sc->conn;
	conn->force_unacked = true;
	log_info("connection %llu: FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: nothing sent on it counts as acknowledged",
		 (unsigned long long)conn->id);
	return ioctl_rsp_empty(c);
}

/* FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8 (Samba bug 14607: a client
 * that assumed the output right after the 48-byte body): the response
 * carries 8 zero bytes after its body, OutputOffset points past them, and
 * the output is MaxOutputResponse bytes of the value 8 (bounded like every
 * FSCTL's output by the negotiated maximum, ioctl_sizes_ok).  No input. */
NTSTATUS fsctl_torture_body_padding(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	uint32_t n = c->q.max_output_response;
	c->body_pad = 8;
	uint8_t *b = ioctl_rsp_begin(c, n);
	uint8_t *out = b ? wr_reserve(&c->req->out, n) : NULL;
	if (out)
		memset(out, 8, n);
	return ioctl_rsp_end(c, out ? b : NULL, STATUS_SUCCESS);
}

/* FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8 (the READ side of
 * Samba bug 14607): every READ response on this connection from now on
 * has 8 zero bytes after its body, DataOffset 0x58 instead of 0x50.  No
 * input, no output; the connection keeps it until it ends. */
NTSTATUS fsctl_torture_read_padding(struct ioctl_ctx *c)
{
	if (c->q.in_len != 0)
		return STATUS_INVALID_PARAMETER;
	c->req->sc->read_body_pad = 8;
	return ioctl_rsp_empty(c);
}
