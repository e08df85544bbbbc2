#include "loop/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/coro.h"
#include "util/log.h"

struct mbox_item {
	void (*fn)(void *arg);
	void *arg;
	struct mbox_item *next;
};

static __thread struct worker *self;

struct worker *worker_self(void)
{
	return self;
}

struct io_uring_sqe *worker_sqe(struct worker *w, struct uring_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	while (!sqe) {
		/* SQ full: push what is queued to the kernel and retry. */
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	io_uring_sqe_set_data(sqe, op);
	w->in_flight++;
	return sqe;
}

/* ---- mailbox ---- */

static void mbox_arm(struct worker *w);

static void mbox_drain(struct worker *w)
{
	pthread_mutex_lock(&w->mbox_lock);
	struct mbox_item *it = w->mbox_head;
	w->mbox_head = w->mbox_tail = NULL;
	pthread_mutex_unlock(&w->mbox_lock);
	while (it) {
		struct mbox_item *next = it->next;
		it->fn(it->arg);
		free(it);
		it = next;
	}
}

static void mbox_done(struct uring_op *op, int res, unsigned flags)
{
	struct worker *w = (struct worker *)((char *)op - offsetof(struct worker, efd_op));
	mbox_drain(w);
	mbox_arm(w);
}

static void mbox_arm(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_sqe(w, &w->efd_op);
	io_uring_prep_read(sqe, w->efd, &w->efd_val, sizeof(w->efd_val), 0);
}

int worker_post(struct worker *w, void (*fn)(void *arg), void *arg)
{
	struct mbox_item *it = malloc(sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->fn = fn;
	it->arg = arg;
	it->next = NULL;
	pthread_mutex_lock(&w->mbox_lock);
	if (w->mbox_tail)
		w->mbox_tail->next = it;
	else
		w->mbox_head = it;
	w->mbox_tail = it;
	pthread_mutex_unlock(&w->mbox_lock);
	uint64_t one = 1;
	if (write(w->efd, &one, sizeof(one)) < 0)
		log_warn("worker %d: mailbox eventfd write: %s", w->id, strerror(errno));
	return 0;
}

/* ---- waiting from a coroutine ---- */

struct co_wait {
	struct uring_op op;
	struct coro *co;
	int res;
};

static void co_wait_done(struct uring_op *op, int res, unsigned flags)
{
	struct co_wait *cw = (struct co_wait *)op;
	cw->res = res;
	coro_resume(cw->co);
}

int worker_sqe_wait(struct worker *w, struct io_uring_sqe *sqe)
{
	/* The co_wait lives on the coroutine's stack, which stays valid until
	 * the CQE resumes us: in-flight I/O pins its memory (CONVENTIONS 9). */
	struct co_wait cw = { .op.cb = co_wait_done, .co = coro_self(), .res = 0 };
	BUG_ON(cw.co == NULL);
	io_uring_sqe_set_data(sqe, &cw.op);
	coro_yield();
	return cw.res;
}

/* ---- timers ---- */

/* Wait for at least one CQE, or until the earliest timer is due (`cap_ms`
 * bounds the wait further while stopping). */
static int wait_cqe(struct worker *w, uint64_t cap_ms)
{
	uint64_t next;
	bool have = timer_heap_next(&w->timers, &next);
	if (cap_ms && (!have || next > w->now_ms + cap_ms)) {
		next = w->now_ms + cap_ms;
		have = true;
	}
	if (!have)
		return io_uring_submit_and_wait(&w->ring, 1);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	uint64_t due_ns = next * 1000000u;
	uint64_t left = due_ns > now_ns ? due_ns - now_ns : 0;
	struct __kernel_timespec ts = { .tv_sec = (long long)(left / 1000000000u),
					.tv_nsec = (long long)(left % 1000000000u) };
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	return ret == -ETIME ? 0 : ret;
}

/* ---- registered buffers ---- */

static int fixed_reg(void *ctx, unsigned slot, void *base, size_t len)
{
	struct worker *w = ctx;
	struct iovec iov = { .iov_base = base, .iov_len = len };
	int r = io_uring_register_buffers_update_tag(&w->ring, slot, &iov, NULL, 1);
	return r == 1 ? 0 : (r < 0 ? r : -EIO);
}

static void fixed_unreg(void *ctx, unsigned slot)
{
	struct worker *w = ctx;
	struct iovec iov = { 0 };
	io_uring_register_buffers_update_tag(&w->ring, slot, &iov, NULL, 1);
}

static void fixed_start(struct worker *w)
{
	if (!w->fixed_buffers)
		return;
	int r = io_uring_register_buffers_sparse(&w->ring, BUFPOOL_SLOTS);
	if (r < 0) {
		log_warn("worker %d: io_uring registered buffers unavailable (%s): using plain buffers",
			 w->id, strerror(-r));
		return;
	}
	w->breg.ctx = w;
	w->breg.reg = fixed_reg;
	w->breg.unreg = fixed_unreg;
	bufpool_registrar_start(&w->breg);
	w->fixed_ok = true;
}

/* ---- the loop ---- */

static const struct worker_sockets *sockets; /* set before any worker starts */

void worker_set_sockets(const struct worker_sockets *ops)
{
	sockets = ops;
}


static void *worker_main(void *arg)
{
	struct worker *w = arg;
	self = w;
	coro_thread_init();
	w->now_ms = timer_now_ms();
	mbox_arm(w);
	if (sockets)
		sockets->start(w);
	fixed_start(w);
	uint64_t stop_deadline = 0;
	for (;;) {
		if (w->stopping && !stop_deadline) {
			/* Stop accepting; let running requests finish for a bounded time. */
			if (sockets)
				sockets->stop(w);
			stop_deadline = timer_now_ms() + 5000;
		}
		if (stop_deadline) {
			if (!sockets)
				break;
			if (sockets->idle(w) || timer_now_ms() >= stop_deadline) {
				/* Requests that never finish must not hold the
				 * process: give up five seconds later. */
				if (sockets->close_all(w) || timer_now_ms() >= stop_deadline + 5000)
					break;
			}
		}
		/* while stopping, look at the connections at least every 100 ms */
		int ret = wait_cqe(w, stop_deadline ? 100 : 0);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
			log_err("worker %d: io_uring_submit_and_wait: %s", w->id, strerror(-ret));
			break;
		}
		w->now_ms = timer_now_ms();
		struct io_uring_cqe *cqe;
		/* Copy each CQE and mark it seen before its callback runs: the
		 * callback may submit, wait in a coroutine, or post more work. */
		while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
			struct uring_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			unsigned flags = cqe->flags;
			io_uring_cqe_seen(&w->ring, cqe);
			if (!(flags & IORING_CQE_F_MORE))
				w->in_flight--;
			if (op && op->cb)
				op->cb(op, res, flags);
		}
		w->now_ms = timer_now_ms();
		timer_heap_run(&w->timers, w->now_ms);
	}
	if (w->fixed_ok)
		bufpool_registrar_stop(&w->breg);
	bufpool_thread_release();
	w->stopped = true;
	coro_thread_fini();
	return NULL;
}

int worker_init(struct worker *w, int id, unsigned ring_entries, bool sqpoll)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	pthread_mutex_init(&w->mbox_lock, NULL);
	w->efd_op.cb = mbox_done;
	timer_heap_init(&w->timers);
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	struct io_uring_params p = { 0 };
	p.flags = IORING_SETUP_SUBMIT_ALL;
	if (sqpoll) {
		/* a kernel thread polls the SQ: fewer syscalls, one more busy core */
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 50;
	} else {
		p.flags |= IORING_SETUP_COOP_TASKRUN;
	}
	int ret = io_uring_queue_init_params(ring_entries, &w->ring, &p);
	if (ret < 0) {
		/* Older kernels: retry without the optional flags. */
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(ring_entries, &w->ring, &p);
	}
	if (ret < 0) {
		close(w->efd);
		return ret;
	}
	w->ring_ok = true;
	return 0;
}

int worker_start(struct worker *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);
	return ret ? -ret : 0;
}

static void worker_stop_cb(void *arg)
{
	struct worker *w = arg;
	w->stopping = true;
}

void worker_stop(struct worker *w)
{
	worker_post(w, worker_stop_cb, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_fini(struct worker *w)
{
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	w->ring_ok = false;
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
	mbox_drain(w);
	timer_heap_fini(&w->timers); /* after the mailbox: a late remote add finds the loop gone */
	if (sockets)
		sockets->fini(w);
	pthread_mutex_destroy(&w->mbox_lock);
}
