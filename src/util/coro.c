/* Coroutines: see coro.h.
 *
 * On x86-64 a coroutine switch saves the callee-saved registers, MXCSR and
 * the x87 control word on the stack and swaps stack pointers (coro_switch
 * below): no system call, unlike swapcontext(3), which saves the signal
 * mask with rt_sigprocmask on every switch and would cost two syscalls per
 * wait of every request.  Elsewhere ucontext is used. */
#include "util/coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

/* ThreadSanitizer must be told about every stack switch, or it reads one
 * coroutine's frames as another's and reports races that are not there. */
#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#define CORO_STACK (512 * 1024)
#else
#define CORO_STACK (128 * 1024)
#endif
#define CORO_POOL_MAX 256
#define GUARD 4096

#if defined(__x86_64__)
#define CORO_ASM 1
#else
#include <ucontext.h>
#endif

struct coro {
#ifdef CORO_ASM
	void *sp;           /* saved stack pointer while suspended */
	void *caller_sp;    /* the resumer's, while running */
#else
	ucontext_t ctx;
	ucontext_t *caller;
#endif
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
#ifdef CORO_TSAN
	void *tsan_fiber;   /* this coroutine's */
	void *tsan_caller;  /* the resumer's, while running */
#endif
};

static __thread struct coro *cur;
static __thread struct coro *pool;
static __thread int pool_n;

#ifdef CORO_ASM
/* void coro_switch(void **save_sp, void *load_sp) */
void coro_switch(void **save_sp, void *load_sp);
__asm__(".text\n"
	".globl coro_switch\n"
	".type coro_switch,@function\n"
	"coro_switch:\n"
	"\tpushq %rbp\n"
	"\tpushq %rbx\n"
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tpushq %r14\n"
	"\tpushq %r15\n"
	"\tsubq $8, %rsp\n"
	"\tstmxcsr (%rsp)\n"
	"\tfnstcw 4(%rsp)\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq %rsi, %rsp\n"
	"\tldmxcsr (%rsp)\n"
	"\tfldcw 4(%rsp)\n"
	"\taddq $8, %rsp\n"
	"\tpopq %r15\n"
	"\tpopq %r14\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tpopq %rbp\n"
	"\tret\n"
	".size coro_switch, .-coro_switch\n");
#endif

void coro_thread_init(void)
{
}

void coro_thread_fini(void)
{
	while (pool) {
		struct coro *c = pool;
		pool = c->next_free;
#ifdef CORO_TSAN
		__tsan_destroy_fiber(c->tsan_fiber);
#endif
		munmap((char *)c->stack - GUARD, CORO_STACK + GUARD);
		free(c);
	}
	pool_n = 0;
}

static void coro_body(struct coro *co)
{
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &co->caller_bottom, &co->caller_size);
#endif
	co->fn(co->arg);
	co->done = true;
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(NULL, co->caller_bottom, co->caller_size);
#endif
}

#ifdef CORO_ASM
/* Entered by coro_switch's `ret` on a fresh stack; never returns. */
static void coro_trampoline(void)
{
	struct coro *co = cur;
	coro_body(co);
	void *dead;
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(co->tsan_caller, 0);
#endif
	coro_switch(&dead, co->caller_sp);
	__builtin_unreachable();
}
#else
static void coro_entry(unsigned lo, unsigned hi)
{
	struct coro *co = (struct coro *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
	coro_body(co);
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(co->tsan_caller, 0);
#endif
	/* Switch back explicitly: uc_link is fixed when makecontext runs, but
	 * the resumer's context differs on every resume. */
	setcontext(co->caller);
}
#endif

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
		char *m = mmap(NULL, CORO_STACK + GUARD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (m == MAP_FAILED) {
			free(co);
			return NULL;
		}
		mprotect(m, GUARD, PROT_NONE); /* guard page: a stack overflow faults, never corrupts */
		co->stack = m + GUARD;
#ifdef CORO_TSAN
		co->tsan_fiber = __tsan_create_fiber(0);
#endif
	}
	co->fn = fn;
	co->arg = arg;
	co->done = false;
#ifdef CORO_ASAN
	/* a reused stack may carry the poison of its last user's frames */
	ASAN_UNPOISON_MEMORY_REGION(co->stack, CORO_STACK);
#endif
#ifdef CORO_ASM
	/* Build the frame coro_switch pops: FPU control words, six registers,
	 * then the trampoline as return address; the slot above it keeps the
	 * stack aligned as at a function entry (rsp % 16 == 8). */
	uint64_t *sp = (uint64_t *)((char *)co->stack + CORO_STACK);
	*--sp = 0;                          /* alignment slot / fake return address */
	*--sp = (uint64_t)(uintptr_t)coro_trampoline;
	for (int i = 0; i < 6; i++)
		*--sp = 0;                  /* rbp rbx r12 r13 r14 r15 */
	uint32_t fpu[2];
	__asm__ volatile("stmxcsr %0" : "=m"(fpu[0]));
	__asm__ volatile("fnstcw %0" : "=m"(fpu[1]));
	--sp;
	memcpy(sp, fpu, 8);
	co->sp = sp;
#else
	getcontext(&co->ctx);
	co->ctx.uc_stack.ss_sp = co->stack;
	co->ctx.uc_stack.ss_size = CORO_STACK;
	co->ctx.uc_link = NULL;
	uintptr_t p = (uintptr_t)co;
	makecontext(&co->ctx, (void (*)(void))coro_entry, 2, (unsigned)(p & 0xffffffffu), (unsigned)(p >> 32));
#endif
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
#ifdef CORO_TSAN
	__tsan_destroy_fiber(co->tsan_fiber);
#endif
	munmap((char *)co->stack - GUARD, CORO_STACK + GUARD);
	free(co);
}

bool coro_resume(struct coro *co)
{
	BUG_ON(cur != NULL); /* no nesting: only the loop resumes coroutines */
	cur = co;
#ifdef CORO_ASAN
	void *thread_fake = NULL;
	__sanitizer_start_switch_fiber(&thread_fake, co->stack, CORO_STACK);
#endif
#ifdef CORO_TSAN
	co->tsan_caller = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(co->tsan_fiber, 0);
#endif
#ifdef CORO_ASM
	coro_switch(&co->caller_sp, co->sp);
#else
	ucontext_t here;
	co->caller = &here;
	swapcontext(&here, &co->ctx);
#endif
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
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(co->tsan_caller, 0);
#endif
#ifdef CORO_ASM
	coro_switch(&co->sp, co->caller_sp);
#else
	swapcontext(&co->ctx, co->caller);
#endif
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(co->fake_stack, &co->caller_bottom, &co->caller_size);
#endif
}

struct coro *coro_self(void)
{
	return cur;
}
