/* Large I/O buffers (READ data, received WRITE payloads) reused per thread
 * instead of malloc/free each time: a fresh megabyte from the allocator is
 * page-faulted in on every request (and trimmed back on free), which cost
 * more than the copy it holds.  Power-of-two classes from 64 KiB to 16 MiB;
 * each thread keeps at most `bufpool_limit` bytes ("buffer pool size"). */
#ifndef SMB3D_BUFPOOL_H
#define SMB3D_BUFPOOL_H

#include <stddef.h>

extern size_t bufpool_limit;     /* bytes kept per thread; 0 = no pooling */

/* A buffer of at least len bytes (malloc'd for small ones); NULL if out of memory. */
void *bufpool_get(size_t len);
/* Give it back (any thread may). */
void bufpool_put(void *p);

#endif
