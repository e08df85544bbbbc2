#include "util/bufpool.h"

#include <stdint.h>
#include <stdlib.h>

#define MIN_SHIFT 16 /* 64 KiB */
#define MAX_SHIFT 24 /* 16 MiB */
#define HDR 64       /* keeps the payload 64-byte aligned */

size_t bufpool_limit = 64u << 20;

struct hdr {
	uint32_t cls;        /* shift, or 0 for a plain malloc */
	struct hdr *next;
};

static __thread struct hdr *free_list[MAX_SHIFT + 1];
static __thread size_t kept;

static unsigned class_of(size_t len)
{
	unsigned s = MIN_SHIFT;
	while (s <= MAX_SHIFT && ((size_t)1 << s) < len)
		s++;
	return s;
}

void *bufpool_get(size_t len)
{
	unsigned cls = class_of(len);
	if (cls > MAX_SHIFT || len < ((size_t)1 << (MIN_SHIFT - 1))) {
		struct hdr *h = malloc(HDR + len);
		if (!h)
			return NULL;
		h->cls = 0;
		return (char *)h + HDR;
	}
	struct hdr *h = free_list[cls];
	if (h) {
		free_list[cls] = h->next;
		kept -= (size_t)1 << cls;
	} else {
		h = malloc(HDR + ((size_t)1 << cls));
		if (!h)
			return NULL;
		h->cls = cls;
	}
	return (char *)h + HDR;
}

void bufpool_put(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)((char *)p - HDR);
	size_t size = h->cls ? (size_t)1 << h->cls : 0;
	if (!h->cls || kept + size > bufpool_limit) {
		free(h);
		return;
	}
	h->next = free_list[h->cls];
	free_list[h->cls] = h;
	kept += size;
}
