/* Server counters for the Prometheus endpoint (`metrics port`).  Plain
 * relaxed atomics: cheap enough for every request, readable from the
 * endpoint thread at any time.  Lowest layer, so any layer may count. */
#ifndef SMB3D_METRICS_H
#define SMB3D_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#define METRICS_COMMANDS 20   /* SMB2 commands 0..18, 19 = unknown */
#define METRICS_STATUSES 8    /* status classes, see metrics_status_class() */
#define METRICS_BUCKETS 14    /* latency buckets: 50us * 2^i, last = +Inf */

/* What became of a replayed request (SMB2_FLAGS_REPLAY_OPERATION, or a
 * LOCK whose lock sequence was seen before): */
enum metrics_replay {
	METRICS_REPLAY_EXECUTED,  /* run again: the first never arrived, or it is safe */
	METRICS_REPLAY_ANSWERED,  /* answered with the first one's outcome (CREATE, LOCK) */
	METRICS_REPLAY_RETRY,     /* STATUS_FILE_NOT_AVAILABLE: the first still runs, or stale */
	METRICS_REPLAY_REFUSED,   /* refused otherwise (DUPLICATE_OBJECTID, ACCESS_DENIED) */
	METRICS_REPLAY_RECORDED,  /* answered with the outcome kept when the first one's channel died
	                             (WRITE, SET_INFO, IOCTL; state/outcome.h) */
	METRICS_REPLAY_OUTCOMES
};

struct metrics {
	atomic_ullong requests[METRICS_COMMANDS][METRICS_STATUSES];
	atomic_ullong latency_bucket[METRICS_COMMANDS][METRICS_BUCKETS];
	atomic_ullong latency_sum_us[METRICS_COMMANDS];
	atomic_ullong bytes_read, bytes_written;      /* file data moved by READ / WRITE */
	atomic_ullong net_bytes_in, net_bytes_out;
	atomic_ullong connections_total;
	atomic_ullong vfs_uring_ops, vfs_pool_ops;    /* operations per engine */
	atomic_ullong vfs_uring_fixed_ops;            /* reads/writes on registered buffers */
	atomic_ullong auth_failures;
	atomic_ullong chanseq_stale;                  /* requests refused for a stale ChannelSequence */
	atomic_ullong replays[METRICS_COMMANDS][METRICS_REPLAY_OUTCOMES]; /* see enum metrics_replay */
	/* durable opens (cmd/durable.c): kept detached at a disconnect,
	 * reconnected, closed by the scavenger at their timeout, closed early
	 * because another open broke their oplock (purged) */
	atomic_ullong durable_kept, durable_reconnected, durable_scavenged, durable_purged;
	atomic_ullong leases_granted, leases_broken;  /* grants and upgrades; break notifications */
	atomic_ullong leases_acked, leases_timed_out; /* breaks acknowledged; breaks the timer ended */
	/* break notifications (mc/break_deliver.c): sends (each channel tried
	 * counts), acknowledged by the peer's TCP, sent again on another
	 * channel, channels given up for no acknowledgment */
	atomic_ullong breaks_sent, breaks_acked, breaks_retried, breaks_timed_out;
	atomic_ullong breaks_reasked;   /* lease breaks sent again: the answer overdue, maybe on a cut channel */
};
extern struct metrics metrics;

static inline void metrics_add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Status classes: 0 success, 1 pending(interim), 2 more-processing,
 * 3 buffer-overflow/warnings, 4 access-denied, 5 not-found, 6 other errors,
 * 7 cancelled. */
unsigned metrics_status_class(uint32_t status);
extern const char *const metrics_status_names[METRICS_STATUSES];
void metrics_request(unsigned command, uint32_t status, uint64_t usec);
void metrics_replay(unsigned command, enum metrics_replay outcome);
extern const char *const metrics_replay_names[METRICS_REPLAY_OUTCOMES];

#endif
