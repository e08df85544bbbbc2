/* A CREATE waits for the oplock breaks its open needs (MS-SMB2 3.3.4.6,
 * 3.3.5.9): mc/oplock.c decides which opens to break and wakes the waiter;
 * the waiting itself (going async, parking the coroutine) is the request's. */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_LOCKING /* log lines of Samba's "locking" class */

#include "cmd/fileops.h"
#include "mc/oplock.h"
#include "proto/pipeline.h"
#include "util/log.h"

static void wake_req(void *arg)
{
	req_wake(arg);
}

void oplock_break_for_create(struct smb2_req *req, struct file *f, uint32_t access, uint32_t share, bool overwrite,
			     bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
			     const struct lease *self)
{
	for (int round = 0; round < 4; round++) {
		struct oplock_wait w = { .wake = wake_req, .arg = req };
		if (!oplock_break_start(&w, f, access, share, overwrite, conflicts,
					(unsigned)req_conf(req)->oplock_break_timeout, self))
			return;
		/* Wait async: the client may cancel, and it gets STATUS_PENDING
		 * a moment later, behind the breaks (proto/async.c). */
		if (req_go_async(req) != STATUS_SUCCESS) {
			/* Not the last element of a compound: it cannot go async
			 * (MS-SMB2 3.3.4.2), so it waits for the break without an
			 * interim answer; the elements after it wait too. */
			log_debug("CREATE (message %llu) waits for an oplock break inside a compound",
				  (unsigned long long)req->hdr.message_id);
		}
		req_wait(req); /* exactly one wake: whoever disarmed w */
		oplock_wait_done(&w);
	}
}
