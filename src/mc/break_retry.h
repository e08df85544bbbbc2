/* The retry state machine of one break notification (issue 15; Samba 4.13
 * "oplock break retry", seed parts 2 and 3): which channel gets the break,
 * whether its peer acknowledged it at the TCP level, and when to give up on
 * a channel and try the next one.  Pure logic, no I/O: mc/break_deliver.c
 * feeds it channel ids, send completions and acknowledged byte counts.
 *
 * A break that sits in the send queue of a dead TCP connection is useless,
 * and TCP takes seconds to minutes to call a connection broken.  So a break
 * counts as delivered only once the peer has acknowledged the byte where it
 * ends in the stream (`stream_end`, from the send completion).  When it has
 * not, and the peer acknowledged nothing more at all, for 6 x RTO (the RTO
 * without its exponential backoff, conn_rto_ms, clamped to 0.2-1.0 s),
 * the channel is taken for broken: it is torn down and the break goes to
 * the next channel.  For an oplock break the
 * channel the open was created on comes first (MS-SMB2 3.3.4.6:
 * Open.Connection); then the others oldest first (by connection id, which
 * grows with age); each channel at most once.
 *
 * With "smb2 disable oplock break retry = yes" the break goes once to the
 * newest channel and is never retried, as Windows does (smbtorture
 * smb2.multichannel.oplocks.test3_windows). */
#ifndef SMB3D_MC_BREAK_RETRY_H
#define SMB3D_MC_BREAK_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define BREAK_RTO_MIN_MS 200u
#define BREAK_RTO_MAX_MS 1000u
#define BREAK_RTO_FACTOR 6u

struct break_retry {
	bool once;             /* no retry: the newest channel, one try */
	uint64_t first;        /* the open's own channel (connection id), tried first; 0: none */
	uint64_t cur_id;       /* the channel being tried, 0 before the first */
	uint64_t last_id;      /* the last one tried in the oldest-first walk */
	uint64_t stream_end;   /* where the break ends in that channel's stream */
	uint64_t acked_seen;   /* that channel's acknowledged bytes at the last look */
	unsigned tries;        /* channels tried */
};

enum break_verdict {
	BREAK_ACKED,    /* the peer has the whole break */
	BREAK_WAIT,     /* not yet, but the peer is acknowledging: look again later */
	BREAK_FAILED,   /* the channel is dead or stuck: give it up */
};

void break_retry_init(struct break_retry *br, bool once, uint64_t first);
/* Of the live channels ids[0..n) (any order), the one to try
 * next: `first` if it is live and nothing was tried, else the oldest not
 * tried yet; with `once` the newest on the first try and none after.  0
 * when none is left. */
uint64_t break_retry_next(const struct break_retry *br, const uint64_t *ids, unsigned n);
/* The same choice made one channel at a time (a list of unbounded length
 * read under its lock): the better of the candidate `best` (0: none yet)
 * and channel `id`.  Folding every live channel through it gives what
 * break_retry_next gives for the whole set. */
uint64_t break_retry_better(const struct break_retry *br, uint64_t best, uint64_t id);
/* Walk the channels again from the oldest, as for a new break, keeping
 * the count of tries: a break sent again because the client's answer to
 * it may have been lost (mc/break_deliver.c). */
void break_retry_restart(struct break_retry *br);
/* The break went to channel `id` (before its send completes). */
void break_retry_tried(struct break_retry *br, uint64_t id);
/* Its send completed: the break ends at `stream_end`; `acked` is what the
 * peer had acknowledged of that stream at this moment. */
void break_retry_sent(struct break_retry *br, uint64_t stream_end, uint64_t acked);
/* A look at the channel after the timeout: `alive` false when the
 * connection died; `acked` its acknowledged bytes now. */
enum break_verdict break_retry_check(struct break_retry *br, bool alive, uint64_t acked);
/* How long to wait for the acknowledgment on a socket whose RTO is
 * rto_ms (0: unknown, taken as the minimum). */
unsigned break_retry_timeout_ms(unsigned rto_ms);

#endif
