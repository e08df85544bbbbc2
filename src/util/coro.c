#include "util/coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#define CORO_STACK (512 * 1024)
#else
#define CORO_STACK (128 * 1024)
#endif
#define CORO_POOL_MAX 256

struct coro {
	ucontext_t ctx;
	ucontext_t *caller;
	void *stack;        /* mmap'd, with a guard page below */
	coro_fn fn;
	void *arg;
	bool done;
	struct coro *next_free;
#ifdef CORO_ASAN
	void *fake_stack;
	const void *caller_bottom;
	size_t caller_size;
#endif
};

static __thread struct coro *cur;
static __thread ucontext_t *thread_ctx;
static __thread struct coro *pool;
static __thread int pool_n;

void coro_thread_init(void)
{
	if (!thread_ctx)
		thread_ctx = calloc(1, sizeof(*thread_ctx));
}

void coro_thread_fini(void)
{
	while (pool) {
		struct coro *c = pool;
		pool = c->next_free;
		munmap((char *)c->stack - 4096, CORO_STACK + 4096);
		free(c);
	}
	pool_n = 0;
	free(thread_ctx);
	thread_ctx = NULL;
}

static void coro_entry(unsigned lo, unsigned hi)
{
	struct coro *co = (struct coro *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &co->caller_bottom, &co->caller_size);
#endif
	co->fn(co->arg);
	co->done = true;
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(NULL, co->caller_bottom, co->caller_size);
#endif
	/* Switch back explicitly: uc_link is fixed when makecontext runs, but
	 * the resumer's context differs on every resume. */
	setcontext(co->caller);
}

struct coro *coro_new(coro_fn fn, void *arg)
{
	struct coro *co = pool;
	if (co) {
		pool = co->next_free;
		pool_n--;
	} else {
		co = calloc(1, sizeof(*co));
		if (!co)
			return NULL;
		char *m = mmap(NULL, CORO_STACK + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED) {
			free(co);
			return NULL;
		}
		mprotect(m, 4096, PROT_NONE); /* guard page: a stack overflow faults, never corrupts */
		co->stack = m + 4096;
	}
	co->fn = fn;
	co->arg = arg;
	co->done = false;
	getcontext(&co->ctx);
	co->ctx.uc_stack.ss_sp = co->stack;
	co->ctx.uc_stack.ss_size = CORO_STACK;
	co->ctx.uc_link = NULL; /* set on each resume */
	uintptr_t p = (uintptr_t)co;
	makecontext(&co->ctx, (void (*)(void))coro_entry, 2, (unsigned)(p & 0xffffffffu), (unsigned)(p >> 32));
	return co;
}

static void coro_release(struct coro *co)
{
	if (pool_n < CORO_POOL_MAX) {
		co->next_free = pool;
		pool = co;
		pool_n++;
		return;
	}
	munmap((char *)co->stack - 4096, CORO_STACK + 4096);
	free(co);
}

bool coro_resume(struct coro *co)
{
	BUG_ON(cur != NULL); /* no nesting: only the loop resumes coroutines */
	ucontext_t here;
	co->caller = &here;
	cur = co;
#ifdef CORO_ASAN
	void *thread_fake = NULL;
	__sanitizer_start_switch_fiber(&thread_fake, co->stack, CORO_STACK);
#endif
	swapcontext(&here, &co->ctx);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(thread_fake, NULL, NULL);
#endif
	cur = NULL;
	if (co->done) {
		coro_release(co);
		return true;
	}
	return false;
}

void coro_yield(void)
{
	struct coro *co = cur;
	BUG_ON(co == NULL);
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(&co->fake_stack, co->caller_bottom, co->caller_size);
#endif
	swapcontext(&co->ctx, co->caller);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(co->fake_stack, &co->caller_bottom, &co->caller_size);
#endif
}

struct coro *coro_self(void)
{
	return cur;
}
