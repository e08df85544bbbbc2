#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int log_level_current = LOG_WARN;

void log_set_level(int level)
{
	log_level_current = level;
}

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug", "trace" };

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_level_current)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level < 0) level = 0;
	if (level > LOG_TRACE) level = LOG_TRACE;
	/* One fprintf per line so lines from several threads do not interleave. */
	fprintf(stderr, "smb3d[%s]: %s\n", level_names[level], line);
}
