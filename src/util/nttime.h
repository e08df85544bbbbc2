/* NT time: 100 ns intervals since 1601-01-01 UTC. */
#ifndef SMB3D_NTTIME_H
#define SMB3D_NTTIME_H

#include <stdint.h>
#include <time.h>

#define NTTIME_EPOCH_DELTA 11644473600ULL /* seconds from 1601 to 1970 */

static inline uint64_t nttime_from_timespec(const struct timespec *ts)
{
	if (ts->tv_sec < -(int64_t)NTTIME_EPOCH_DELTA)
		return 0;
	return ((uint64_t)(ts->tv_sec + (int64_t)NTTIME_EPOCH_DELTA)) * 10000000ULL + (uint64_t)ts->tv_nsec / 100;
}

static inline struct timespec nttime_to_timespec(uint64_t nt)
{
	struct timespec ts;
	ts.tv_sec = (time_t)(nt / 10000000ULL) - (time_t)NTTIME_EPOCH_DELTA;
	ts.tv_nsec = (long)(nt % 10000000ULL) * 100;
	return ts;
}

uint64_t nttime_now(void);

#endif
