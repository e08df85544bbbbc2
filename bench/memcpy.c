/* bench/memcpy.c -- single-thread memcpy bandwidth (reference for bench/physical.sh).
 * usage: memcpy [MiB per buffer, default 256] [seconds, default 2]; prints MiB/s copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	size_t n = mib << 20;
	char *a = malloc(n), *b = malloc(n);
	if (!a || !b)
		return 1;
	memset(a, 1, n);
	memset(b, 2, n);
	double t0 = now(), t;
	size_t copied = 0;
	do {
		memcpy(b, a, n);
		copied += n;
		a[copied % n] ^= b[(copied / 7) % n]; /* keep the copy observable */
		t = now();
	} while (t - t0 < secs);
	printf("%.1f\n", copied / 1048576.0 / (t - t0));
	return a[0] == 42;
}
