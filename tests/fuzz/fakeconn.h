/* An smb3d inside the fuzz process: one worker thread, the vfs engine, a
 * scratch share, a user database with one test user; and a fake client
 * connection to it.
 *
 * The seam is the net layer's own entry: a loopback TCP socket handed to
 * conn_new() on the worker thread, exactly as the listener does, so every
 * PDU goes through net/conn.c framing, proto/pipeline.c and the command
 * handlers.  Nothing in src/ knows about this harness: the test user logs on
 * with real NTLMv2 (its password is in the scratch smbpasswd), so the
 * release server has no test-only authentication path at all. */
#ifndef SMB3D_TESTS_FAKECONN_H
#define SMB3D_TESTS_FAKECONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_USER "fuzzuser"
#define FAKE_PASS "Fuzz-Passw0rd"
#define FAKE_DOMAIN "SMB3D"

/* Start the server once per process (idempotent); exits on failure.  The
 * share is `share` (read only = no) and the scratch directory is removed at
 * exit.  The process's file size limit is lowered so no request can fill the
 * disk. */
void fake_server_init(void);
const char *fake_share_path(void);

/* Open a connection: returns the client's socket (blocking), or -1. */
int fake_connect(void);
/* Wait until the server has consumed every byte written so far to each
 * client socket fds[i] (sent[i] counts them, framing included, keep-alives
 * not; a connection the server closed counts as done), has nothing running
 * but requests parked asynchronously, and nothing left to send; give up
 * after `max_ms`.  Returns true when quiet. */
bool fake_quiet(const int *fds, const uint64_t *sent, unsigned n, unsigned max_ms);
/* After the client shut `fd` down: wait until the server no longer holds
 * a live connection for it (at most `max_ms`), so what its end does (a
 * session losing its last channel, durable opens kept) has happened. */
void fake_wait_gone(int fd, unsigned max_ms);
/* Close the client side and wait until the server has released every
 * connection (aborts after `max_ms`: a connection that is never released
 * is a hang the fuzzer must report).  Then empties the share. */
void fake_close(int fd, unsigned max_ms);

#endif
