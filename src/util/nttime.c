#include "util/nttime.h"

uint64_t nttime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return nttime_from_timespec(&ts);
}
