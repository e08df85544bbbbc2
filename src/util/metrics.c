#include "util/metrics.h"

struct metrics metrics;

const char *const metrics_status_names[METRICS_STATUSES] = {
	"success", "pending", "more_processing", "warning", "access_denied", "not_found", "error", "cancelled",
};

unsigned metrics_status_class(uint32_t s)
{
	switch (s) {
	case 0x00000000: return 0;
	case 0x00000103: return 1;
	case 0xC0000016: return 2;
	case 0xC0000022: return 4;
	case 0xC0000034: case 0xC000003A: case 0xC000000F: return 5;
	case 0xC0000120: return 7;
	default: return (s >> 30) == 3 ? 6 : 3;
	}
}

void metrics_request(unsigned command, uint32_t status, uint64_t usec)
{
	if (command >= METRICS_COMMANDS)
		command = METRICS_COMMANDS - 1;
	metrics_add(&metrics.requests[command][metrics_status_class(status)], 1);
	unsigned b = 0;
	uint64_t limit = 50;
	while (b < METRICS_BUCKETS - 1 && usec > limit) {
		b++;
		limit *= 2;
	}
	metrics_add(&metrics.latency_bucket[command][b], 1);
	metrics_add(&metrics.latency_sum_us[command], usec);
}

const char *const metrics_replay_names[METRICS_REPLAY_OUTCOMES] = {
	"executed", "answered", "retry", "refused", "recorded",
};

void metrics_replay(unsigned command, enum metrics_replay outcome)
{
	if (command >= METRICS_COMMANDS)
		command = METRICS_COMMANDS - 1;
	metrics_add(&metrics.replays[command][outcome], 1);
}
