/* prodcons: a bounded buffer between P producer and C consumer threads.
 *
 * Threads 0..P-1 produce, threads P..P+C-1 consume.  One op is one item:
 * a producer's op is a push, a consumer's a pop, each including any wait
 * for room or for an item (that is the latency sample too: time to push,
 * or time to pop).  ops_per_sec counts both sides; items_per_sec is the
 * consumers' side alone.  --cs is work done holding the buffer lock (for
 * the lock-free queues, right after the push or pop); --think is work
 * after each op.
 *
 * It drives four kinds:
 *   condition  a ring buffer of capacity K under the condition's lock;
 *              producers wait while it is full, consumers while it is
 *              empty.  Both wait on the one condition, so a wake-up may
 *              reach the wrong side: the waker notifies one waiter only
 *              when every waiter is of the side it wants (the counts of
 *              waiting producers and consumers are kept under the lock),
 *              otherwise it notifies all.
 *   semaphore  the textbook solution: empty (K permits) and full (0
 *              permits) semaphores around a ring buffer.  The buffer's
 *              own lock is futex-mutex (mutex_futex.h) for every
 *              semaphore, so that only the semaphores differ between rows.
 *   queue      the lock-free queues (queue.h): push and pop never wait, so
 *              producers spin while the queue is full and consumers while
 *              it is empty, with lb_cpu_relax() and a sched_yield() every
 *              PRODCONS_YIELD_EVERY failed tries (a spinning thread must let a
 *              preempted partner run when threads outnumber CPUs).  An
 *              spsc queue allows one producer and one consumer: at other
 *              thread counts each producer-consumer pair gets its own
 *              queue (a P x C mesh; producers deal items round-robin over
 *              their C queues, consumers poll their P queues round-robin),
 *              and the capacity K is split evenly over the P x C queues.
 *   stack      the stacks (stack.h), through the same ops and loop as a
 *              non-spsc queue: they only promise exactly-once.
 *
 * Items: producer p's i-th item (i from 1) is p << 40 | i.  Consumers keep
 * the sum and xor of what they pop, a count per producer, and for FIFO
 * buffers (condition, semaphore, queues flagged LB_CAP_FIFO) the last
 * sequence number seen from each producer: in a FIFO queue the items of
 * one producer reach any one consumer in push order, whatever the other
 * threads do.
 *
 * Exit: producers stop at the stop signal and leave (the last one to
 * leave wakes the consumers: notify_all, or one extra "full" permit per
 * consumer, a poison token that finds the buffer empty).  Consumers keep
 * popping until every producer has left and the buffer is empty, so a
 * producer blocked on a full buffer is always released and nothing is
 * left unconsumed.
 *
 * Reclamation (the queues of smr.h's schemes: queue.h's unreclaimed()):
 * the bytes of popped nodes not yet freed, sampled by the harness's main
 * thread every 10 ms through the whole run and once after it, give the
 * unreclaimed_peak_bytes and unreclaimed_mean_bytes columns (empty for
 * every other buffer).  --param stall_ms=N: when the window opens, the
 * first consumer stays N ms inside one read-side section (queue.h's
 * hold()), or, where the queue has none, sleeps N ms between two pops.
 *
 * Check, after every repetition, over the whole run (warm-up and drain
 * included): every producer's item count was popped exactly, the popped
 * items' sum and xor equal those of the items pushed (computed from each
 * producer's count), no popped item is one no producer made, and FIFO
 * buffers kept each producer's order.  lost_updates = items pushed - items
 * popped.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

#define PRODCONS_SEQ_BITS LB_PC_SEQ_BITS
#define PRODCONS_SEQ_MASK ((UINT64_C(1) << PRODCONS_SEQ_BITS) - 1)
#define PRODCONS_MAX_CAPACITY 1000000
/* Failed tries between sched_yield() calls of a spinning producer or
 * consumer: a few microseconds of polling (a try is a cache miss on the
 * partner's line plus a pause), short next to a scheduler time slice. */
#define PRODCONS_YIELD_EVERY 128

enum prodcons_mode { PRODCONS_COND, PRODCONS_SEM, PRODCONS_QUEUE, PRODCONS_MESH };

/* One per thread, on its own cache lines; the counters are written by
 * their thread only and read by check() after the join. */
struct prodcons_thread {
	alignas(LB_CACHELINE) uint64_t items; /* pushed, or popped, in the whole run */
	uint64_t sum, xor_;           /* consumers: of the items popped */
	uint64_t order_bad;           /* consumers: items that came out of order */
	uint64_t bad_item, bad_prev;  /* the first of them, after which seq */
	uint64_t alien, alien_item;   /* consumers: items no producer pushed */
	uint64_t t_measure, t_stop;   /* ticks when it saw the window open, close */
	uint64_t *last;               /* consumers: [P] last seq from each producer */
	uint64_t *from;               /* consumers: [P] items from each producer */
	void *tctx[2];                /* its contexts: queue/condition/empty, full */
	void **ring_tctx;             /* mesh: one per queue it uses */
	unsigned rr;                  /* mesh: where the round-robin goes next */
	unsigned nrings;              /* mesh: queues attached */
};

struct prodcons_state {
	enum prodcons_mode mode;
	unsigned P, C, K, nthreads;
	unsigned stall_ms;         /* --param stall_ms */
	struct lb_mem_samples mem; /* the main thread's (prodcons_sample) */
	uint64_t capacity;   /* what the buffer holds at most, as built */
	void *prim;          /* condition or queue */
	void *sem_empty, *sem_full;
	void **rings;        /* mesh: queue of producer p to consumer c at [p * C + c] */
	uint64_t *buf;       /* condition, semaphore: the ring buffer [K] */
	struct prodcons_thread *th;
	uint64_t *arrays;    /* the consumers' last and from arrays */

	/* condition: all under the condition's lock; semaphore: head, count
	 * under buf_lock. */
	alignas(LB_CACHELINE) unsigned head, count;
	unsigned prod_waiting, cons_waiting, producers_in;
	struct lb_futex_mutex buf_lock;

	/* semaphore, queue: producers that have not left yet. */
	alignas(LB_CACHELINE) _Atomic unsigned producers_left;
};

/* ---- the hot loops ---- */

static inline void prodcons_backoff(unsigned *spins)
{
	if (++*spins % PRODCONS_YIELD_EVERY)
		lb_cpu_relax();
	else
		sched_yield();
}

/* Note the tick when this thread enters the window (for items_per_sec). */
static inline void prodcons_stamp(unsigned now, struct prodcons_thread *th, unsigned *seen)
{
	if (__builtin_expect(now != *seen, 0)) {
		*seen = now;
		if (*seen == LB_CTL_MEASURE)
			th->t_measure = lb_ticks();
	}
}

static inline __attribute__((always_inline)) void
prodcons_consume(const struct prodcons_state *s, struct prodcons_thread *th, uint64_t item,
		 bool fifo)
{
	uint64_t p = item >> PRODCONS_SEQ_BITS, seq = item & PRODCONS_SEQ_MASK;
	th->sum += item;
	th->xor_ ^= item;
	if (__builtin_expect(p >= s->P || seq == 0, 0)) {
		if (!th->alien++)
			th->alien_item = item;
		return;
	}
	th->from[p]++;
	if (fifo) {
		if (__builtin_expect(seq <= th->last[p], 0) && !th->order_bad++) {
			th->bad_item = item;
			th->bad_prev = th->last[p];
		}
		th->last[p] = seq;
	}
}

/* What a thread's put, get and leave act on: the kind's ops (a pointer to
 * a constant object in each instantiation below, so the compiler resolves
 * every call through it), the shared state, the thread's own record and
 * its context for the primitive. */
struct prodcons_side {
	struct lb_worker *w;
	struct prodcons_state *s;
	struct prodcons_thread *th;
	const void *ops;
	void *t;
};
/* put pushes item, waiting as long as it takes. */
typedef void (*prodcons_put_fn)(struct prodcons_side x, uint64_t item);
/* get pops into *item and is true, or false once every producer has left
 * and the buffer is empty; after false it is not called again. */
typedef bool (*prodcons_get_fn)(struct prodcons_side x, uint64_t *item);
/* leave tells the consumers this producer is gone. */
typedef void (*prodcons_leave_fn)(struct prodcons_side x);

static inline __attribute__((always_inline)) struct prodcons_side
prodcons_side(struct lb_worker *w, const void *ops)
{
	struct prodcons_state *s = w->state;
	return (struct prodcons_side){ w, s, &s->th[w->tid], ops, w->tctx };
}

/* The producers' loop of every kind, and the consumers' below: put, get
 * and leave are the kind's helpers, always_inline functions passed as
 * constants, which the compiler inlines exactly as it inlines the ops
 * they call. */
static inline __attribute__((always_inline)) void
prodcons_producer(struct lb_worker *w, const void *ops, prodcons_put_fn put,
		  prodcons_leave_fn leave)
{
	const struct prodcons_side x = prodcons_side(w, ops);
	struct prodcons_thread *th = x.th;
	const uint64_t base = (uint64_t)w->tid << PRODCONS_SEQ_BITS;
	unsigned seen = w->seen;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		prodcons_stamp(h.seen, th, &seen);
		uint64_t t0 = lb_sample_begin(w, &h, n);
		put(x, base | (n + 1));
		lb_sample_end(w, t0);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	th->t_stop = lb_ticks();
	th->items = n;
	leave(x);
	lb_finish(w, n);
}

/* --param stall_ms: the first consumer stops inside one read-side
 * section of the queue, where it has one to stall in (queue.h's hold()),
 * else between two pops. */
static __attribute__((noinline, cold)) void prodcons_stall(struct prodcons_side x, unsigned ms)
{
	const struct lb_queue_ops *q = x.ops;
	if (x.s->mode == PRODCONS_QUEUE && q->hold)
		q->hold(x.s->prim, x.t, lb_smr_sleep_ms, &ms);
	else
		lb_smr_sleep_ms(&ms);
}

static inline __attribute__((always_inline)) void
prodcons_consumer(struct lb_worker *w, const void *ops, prodcons_get_fn get, bool fifo)
{
	const struct prodcons_side x = prodcons_side(w, ops);
	struct prodcons_state *s = x.s;
	struct prodcons_thread *th = x.th;
	unsigned seen = w->seen;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, item = 0;
	bool more = true;

	while (lb_running(w, &h, n)) {
		unsigned before = seen;
		prodcons_stamp(h.seen, th, &seen);
		if (__builtin_expect(seen != before, 0) && seen == LB_CTL_MEASURE && s->stall_ms &&
		    w->tid == s->P)
			prodcons_stall(x, s->stall_ms);
		uint64_t t0 = lb_sample_begin(w, &h, n);
		if (!get(x, &item)) {
			more = false;
			break;
		}
		lb_sample_end(w, t0);
		prodcons_consume(s, th, item, fifo);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	/* Producers leave only after the stop, so the stop is visible by
	 * now: let lb_running() record it. */
	if (!more)
		while (lb_running(w, &h, n))
			lb_cpu_relax();
	th->t_stop = lb_ticks();
	/* Drain: what the producers pushed before they left. */
	while (more && get(x, &item)) {
		prodcons_consume(s, th, item, fifo);
		lb_publish(w, ++n);
	}
	th->items = n;
	lb_finish(w, n);
}

/* -- condition -- */

static inline __attribute__((always_inline)) void
prodcons_cond_put(struct prodcons_side x, uint64_t item)
{
	const struct lb_condition_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	void *c = s->prim, *t = x.t;
	ops->lock(c, t);
	while (s->count == s->K) {
		s->prod_waiting++;
		ops->wait(c, t);
		s->prod_waiting--;
	}
	unsigned tail = s->head + s->count;
	s->buf[tail >= s->K ? tail - s->K : tail] = item;
	s->count++;
	lb_busy(x.w->cs_iters);
	/* Wake a consumer; notify() might reach a waiting producer instead,
	 * so it is used only when no producer waits. */
	if (s->cons_waiting) {
		if (s->prod_waiting)
			ops->notify_all(c);
		else
			ops->notify(c);
	}
	ops->unlock(c, t);
}

static inline __attribute__((always_inline)) bool
prodcons_cond_get(struct prodcons_side x, uint64_t *item)
{
	const struct lb_condition_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	void *c = s->prim, *t = x.t;
	ops->lock(c, t);
	while (s->count == 0) {
		if (s->producers_in == 0) {
			ops->unlock(c, t);
			return false;
		}
		s->cons_waiting++;
		ops->wait(c, t);
		s->cons_waiting--;
	}
	*item = s->buf[s->head];
	if (++s->head == s->K)
		s->head = 0;
	s->count--;
	lb_busy(x.w->cs_iters);
	if (s->prod_waiting) {
		if (s->cons_waiting)
			ops->notify_all(c);
		else
			ops->notify(c);
	}
	ops->unlock(c, t);
	return true;
}

static inline __attribute__((always_inline)) void
prodcons_cond_leave(struct prodcons_side x)
{
	const struct lb_condition_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	void *t = x.t;

	ops->lock(s->prim, t);
	if (--s->producers_in == 0 && s->cons_waiting)
		ops->notify_all(s->prim);
	ops->unlock(s->prim, t);
}

/* -- semaphore -- */

static inline __attribute__((always_inline)) void
prodcons_sem_put(struct prodcons_side x, uint64_t item)
{
	const struct lb_semaphore_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	struct prodcons_thread *th = x.th;

	ops->acquire(s->sem_empty, th->tctx[0]);
	lb_futex_mutex_lock(&s->buf_lock, NULL);
	unsigned tail = s->head + s->count;
	s->buf[tail >= s->K ? tail - s->K : tail] = item;
	s->count++;
	lb_busy(x.w->cs_iters);
	lb_futex_mutex_unlock(&s->buf_lock, NULL);
	ops->release(s->sem_full, th->tctx[1]);
}

/* A "full" permit with an empty buffer is a poison token: it is only
 * possible after the last producer left (before that, every permit was
 * posted after its item went in, and each permit takes out one item). */
static inline __attribute__((always_inline)) bool
prodcons_sem_get(struct prodcons_side x, uint64_t *item)
{
	const struct lb_semaphore_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	struct prodcons_thread *th = x.th;

	ops->acquire(s->sem_full, th->tctx[1]);
	lb_futex_mutex_lock(&s->buf_lock, NULL);
	if (s->count == 0) {
		lb_futex_mutex_unlock(&s->buf_lock, NULL);
		return false;
	}
	*item = s->buf[s->head];
	if (++s->head == s->K)
		s->head = 0;
	s->count--;
	lb_busy(x.w->cs_iters);
	lb_futex_mutex_unlock(&s->buf_lock, NULL);
	ops->release(s->sem_empty, th->tctx[0]);
	return true;
}

static inline __attribute__((always_inline)) void
prodcons_sem_leave(struct prodcons_side x)
{
	const struct lb_semaphore_ops *ops = x.ops;
	struct prodcons_state *s = x.s;

	/* acq_rel: the last producer's poison permits come after every
	 * producer's last push. */
	if (atomic_fetch_sub_explicit(&s->producers_left, 1, memory_order_acq_rel) == 1)
		for (unsigned c = 0; c < s->C; c++)
			ops->release(s->sem_full, x.th->tctx[1]);
}

/* -- lock-free queue, one shared object -- */

static inline __attribute__((always_inline)) void
prodcons_queue_put(struct prodcons_side x, uint64_t item)
{
	const struct lb_queue_ops *ops = x.ops;
	unsigned spins = 0;
	while (!ops->push(x.s->prim, x.t, item))
		prodcons_backoff(&spins);
	lb_busy(x.w->cs_iters);
}

static inline __attribute__((always_inline)) bool
prodcons_queue_get(struct prodcons_side x, uint64_t *item)
{
	const struct lb_queue_ops *ops = x.ops;
	struct prodcons_state *s = x.s;
	void *t = x.t;
	unsigned spins = 0;
	for (;;) {
		if (ops->pop(s->prim, t, item))
			break;
		/* acquire: pairs with the producers' release decrement, so
		 * their last pushes are complete: one more pop is final. */
		if (atomic_load_explicit(&s->producers_left, memory_order_acquire) == 0) {
			if (ops->pop(s->prim, t, item))
				break;
			return false;
		}
		prodcons_backoff(&spins);
	}
	lb_busy(x.w->cs_iters);
	return true;
}

static inline void prodcons_queue_leave(struct prodcons_side x)
{
	/* release: our pushes happen before a consumer's final pop. */
	atomic_fetch_sub_explicit(&x.s->producers_left, 1, memory_order_release);
}

/* -- spsc queues: one per producer-consumer pair -- */

static inline __attribute__((always_inline)) void
prodcons_mesh_put(struct prodcons_side x, uint64_t item)
{
	const struct lb_queue_ops *ops = x.ops;
	struct lb_worker *w = x.w;
	struct prodcons_state *s = x.s;
	struct prodcons_thread *th = x.th;
	const unsigned C = s->C;
	void **rings = &s->rings[w->tid * C];
	unsigned c = th->rr, tried = 0, spins = 0;
	while (!ops->push(rings[c], th->ring_tctx[c], item)) {
		if (++c == C)
			c = 0;
		if (++tried == C) {
			tried = 0;
			prodcons_backoff(&spins);
		}
	}
	th->rr = c + 1 == C ? 0 : c + 1;
	lb_busy(w->cs_iters);
}

static inline __attribute__((always_inline)) bool
prodcons_mesh_get(struct prodcons_side x, uint64_t *item)
{
	const struct lb_queue_ops *ops = x.ops;
	struct lb_worker *w = x.w;
	struct prodcons_state *s = x.s;
	struct prodcons_thread *th = x.th;
	const unsigned P = s->P, C = s->C, me = w->tid - s->P;
	unsigned p = th->rr, tried = 0, spins = 0, final = 0;
	while (!ops->pop(s->rings[p * C + me], th->ring_tctx[p], item)) {
		if (++p == P)
			p = 0;
		if (++tried < P)
			continue;
		tried = 0;
		if (final)
			return false; /* a whole round after every producer left */
		/* acquire: pairs with the producers' release decrement; one
		 * more round over the queues is then final. */
		if (atomic_load_explicit(&s->producers_left, memory_order_acquire) == 0)
			final = 1;
		else
			prodcons_backoff(&spins);
	}
	th->rr = p + 1 == P ? 0 : p + 1;
	lb_busy(w->cs_iters);
	return true;
}

/* One loop per implementation; the thread's role picks the half. */
static inline bool prodcons_is_producer(const struct lb_worker *w)
{
	return w->tid < ((const struct prodcons_state *)w->state)->P;
}

#define PRODCONS_COND(sym, id, be, caps, sum)                                              \
	static void prodcons_loop_##sym(struct lb_worker *w)                               \
	{                                                                                  \
		if (prodcons_is_producer(w))                                               \
			prodcons_producer(w, &lb_##sym##_ops, prodcons_cond_put,           \
					  prodcons_cond_leave);                            \
		else                                                                       \
			prodcons_consumer(w, &lb_##sym##_ops, prodcons_cond_get, true);    \
	}
#define PRODCONS_SEM(sym, id, be, caps, sum)                                               \
	static void prodcons_loop_##sym(struct lb_worker *w)                               \
	{                                                                                  \
		if (prodcons_is_producer(w))                                               \
			prodcons_producer(w, &lb_##sym##_ops, prodcons_sem_put,            \
					  prodcons_sem_leave);                             \
		else                                                                       \
			prodcons_consumer(w, &lb_##sym##_ops, prodcons_sem_get, true);     \
	}
#define PRODCONS_QUEUE(sym, id, be, caps, sum)                                             \
	static void prodcons_loop_##sym(struct lb_worker *w)                               \
	{                                                                                  \
		const bool fifo = ((caps) & LB_CAP_FIFO) != 0;                             \
		if (lb_##sym##_ops.spsc) {                                                 \
			if (prodcons_is_producer(w))                                       \
				prodcons_producer(w, &lb_##sym##_ops, prodcons_mesh_put,   \
						  prodcons_queue_leave);                   \
			else                                                               \
				prodcons_consumer(w, &lb_##sym##_ops, prodcons_mesh_get,   \
						  fifo);                                   \
		} else if (prodcons_is_producer(w)) {                                      \
			prodcons_producer(w, &lb_##sym##_ops, prodcons_queue_put,          \
					  prodcons_queue_leave);                           \
		} else {                                                                   \
			prodcons_consumer(w, &lb_##sym##_ops, prodcons_queue_get, fifo);   \
		}                                                                          \
	}
LB_CONDITION_IMPLS(PRODCONS_COND)
LB_SEMAPHORE_IMPLS(PRODCONS_SEM)
LB_QUEUE_IMPLS(PRODCONS_QUEUE)
LB_STACK_IMPLS(PRODCONS_QUEUE)

#define PRODCONS_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = prodcons_loop_##sym,
static const lb_loop_fn prodcons_loops[LB_IMPL_COUNT] = {
	LB_CONDITION_IMPLS(PRODCONS_ENTRY)
	LB_SEMAPHORE_IMPLS(PRODCONS_ENTRY)
	LB_QUEUE_IMPLS(PRODCONS_ENTRY)
	LB_STACK_IMPLS(PRODCONS_ENTRY)
};

/* ---- parameters ---- */

_Static_assert(LB_MAX_THREADS - 1 == 1023, "the producers/consumers range text says 1023");
static const struct lb_param_spec prodcons_params[] = {
	{ "producers", "0", "producer threads; 0: half of --threads", "a thread count", 0,
	  LB_MAX_THREADS - 1, "1 to 1023, or 0 for half of --threads", NULL },
	{ "consumers", "0", "consumer threads; 0: the rest of --threads", "a thread count", 0,
	  LB_MAX_THREADS - 1, "1 to 1023, or 0 for the rest of --threads", NULL },
	{ "capacity", "64", "items the buffer holds, 1-1000000; ck rings round up to 2^n-1",
	  "a buffer size", 1, PRODCONS_MAX_CAPACITY, NULL, NULL },
	{ "stall_ms", "0", "the first consumer stops this long once, when the window opens, "
	  "inside a read-side section (where the queue has one), 0-5000",
	  "a stall in milliseconds", 0, 5000, NULL, NULL },
	{ NULL },
};

/* The producer and consumer counts for nthreads threads, and K; -1 with a
 * one-line message. */
static int prodcons_resolve(const uint64_t *vals, unsigned nthreads, unsigned *P, unsigned *C,
			    unsigned *K, char *err, size_t len)
{
	uint64_t p = vals[0], c = vals[1], k = vals[2]; /* in range: the specs */
	if (nthreads < 2) {
		snprintf(err, len, "prodcons needs at least 2 threads (a producer and a consumer); "
			 "got %u", nthreads);
		return -1;
	}
	if (p && c && p + c != nthreads) {
		snprintf(err, len, "--param producers=%llu and consumers=%llu make %llu threads, "
			 "not %u; give --threads %llu", (unsigned long long)p,
			 (unsigned long long)c, (unsigned long long)(p + c), nthreads,
			 (unsigned long long)(p + c));
		return -1;
	}
	if ((p && p >= nthreads) || (c && c >= nthreads)) {
		snprintf(err, len, "--param %s=%llu leaves no %s with %u threads; give fewer "
			 "than %u, or more threads", p ? "producers" : "consumers",
			 (unsigned long long)(p ? p : c), p ? "consumer" : "producer", nthreads,
			 nthreads);
		return -1;
	}
	if (!p && !c)
		p = nthreads / 2;
	else if (!p)
		p = nthreads - c;
	*P = (unsigned)p;
	*C = nthreads - (unsigned)p;
	*K = (unsigned)k;
	return 0;
}

static int prodcons_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	unsigned p, c, k;
	return prodcons_resolve(vals, nthreads, &p, &c, &k, err, len);
}

/* ---- setup and teardown ---- */

static void prodcons_teardown(struct lb_wctx *c)
{
	struct prodcons_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	lb_prim_destroy(c->impl, s->sem_empty);
	lb_prim_destroy(c->impl, s->sem_full);
	if (s->rings)
		for (unsigned i = 0; i < s->P * s->C; i++)
			lb_prim_destroy(c->impl, s->rings[i]);
	if (s->th)
		for (unsigned i = 0; i < s->nthreads; i++)
			free(s->th[i].ring_tctx);
	free(s->rings);
	free(s->buf);
	free(s->th);
	free(s->arrays);
	free(s);
	c->state = NULL;
}

static int prodcons_setup(struct lb_wctx *c)
{
	char err[256];
	unsigned P, C, K, n = c->nthreads;
	if (prodcons_resolve(c->param, n, &P, &C, &K, err, sizeof(err)))
		return EINVAL; /* validated already */

	struct prodcons_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	c->state = s;
	s->P = P;
	s->C = C;
	s->K = K;
	s->nthreads = n;
	s->stall_ms = (unsigned)c->param[3];
	s->producers_in = P;
	atomic_init(&s->producers_left, P);
	lb_futex_mutex_init(&s->buf_lock, &c->cfg);

	s->th = lb_cache_alloc(n * sizeof(*s->th));
	s->arrays = lb_shared_calloc((size_t)C * P * 2, sizeof(uint64_t));
	if (!s->th || !s->arrays)
		goto nomem;
	memset(s->th, 0, n * sizeof(*s->th));
	for (unsigned i = P; i < n; i++) {
		s->th[i].last = s->arrays + (size_t)(i - P) * P * 2;
		s->th[i].from = s->th[i].last + P;
	}

	int ret = 0;
	switch (lb_impl_kind(c->impl)) {
	case LB_KIND_CONDITION:
		s->mode = PRODCONS_COND;
		s->capacity = K;
		if (!(s->buf = lb_shared_calloc(K, sizeof(uint64_t))))
			goto nomem;
		ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
		break;
	case LB_KIND_SEMAPHORE:
		s->mode = PRODCONS_SEM;
		s->capacity = K;
		if (!(s->buf = lb_shared_calloc(K, sizeof(uint64_t))))
			goto nomem;
		c->cfg.permits = K;
		if ((ret = lb_prim_create(c->impl, &c->cfg, &s->sem_empty)) != 0)
			break;
		c->cfg.permits = 0;
		ret = lb_prim_create(c->impl, &c->cfg, &s->sem_full);
		break;
	case LB_KIND_QUEUE:
	case LB_KIND_STACK: /* a stack's ops are a queue's (stack.h) */
		if (!lb_ops_queue(c->impl)->spsc) {
			s->mode = PRODCONS_QUEUE;
			c->cfg.permits = K;
			if ((ret = lb_prim_create(c->impl, &c->cfg, &s->prim)) == 0)
				s->capacity = lb_ops_queue(c->impl)->capacity(s->prim);
			break;
		}
		s->mode = PRODCONS_MESH;
		/* K split over the P x C queues, at least 1 each. */
		c->cfg.permits = (unsigned)((K + (uint64_t)P * C - 1) / ((uint64_t)P * C));
		if (!(s->rings = calloc((size_t)P * C, sizeof(void *))))
			goto nomem;
		for (unsigned i = 0; i < P * C && !ret; i++)
			if ((ret = lb_prim_create(c->impl, &c->cfg, &s->rings[i])) == 0)
				s->capacity += lb_ops_queue(c->impl)->capacity(s->rings[i]);
		for (unsigned i = 0; i < n && !ret; i++) {
			s->th[i].nrings = i < P ? C : P;
			if (!(s->th[i].ring_tctx = calloc(s->th[i].nrings, sizeof(void *))))
				goto nomem;
		}
		break;
	default:
		ret = EINVAL;
		break;
	}
	if (ret) {
		prodcons_teardown(c);
		return ret;
	}
	return 0;
nomem:
	prodcons_teardown(c);
	return ENOMEM;
}

/* ---- threads ---- */

static void prodcons_detach_rings(struct lb_wctx *c, struct prodcons_state *s, unsigned tid,
				  unsigned upto)
{
	struct prodcons_thread *th = &s->th[tid];
	for (unsigned j = 0; j < upto; j++) {
		unsigned r = tid < s->P ? tid * s->C + j : j * s->C + (tid - s->P);
		lb_prim_thread_detach(c->impl, s->rings[r], th->ring_tctx[j]);
		th->ring_tctx[j] = NULL;
	}
}

static int prodcons_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct prodcons_state *s = c->state;
	struct prodcons_thread *th = &s->th[w->tid];
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	int ret = 0;

	w->state = s;
	switch (s->mode) {
	case PRODCONS_COND:
	case PRODCONS_QUEUE:
		ret = lb_prim_thread_attach(c->impl, s->prim, &ti, &th->tctx[0]);
		break;
	case PRODCONS_SEM:
		if ((ret = lb_prim_thread_attach(c->impl, s->sem_empty, &ti, &th->tctx[0])) != 0)
			break;
		if ((ret = lb_prim_thread_attach(c->impl, s->sem_full, &ti, &th->tctx[1])) != 0) {
			lb_prim_thread_detach(c->impl, s->sem_empty, th->tctx[0]);
			th->tctx[0] = NULL;
		}
		break;
	case PRODCONS_MESH:
		for (unsigned j = 0; j < th->nrings; j++) {
			unsigned r = w->tid < s->P ? w->tid * s->C + j : j * s->C + (w->tid - s->P);
			if ((ret = lb_prim_thread_attach(c->impl, s->rings[r], &ti,
							 &th->ring_tctx[j])) != 0) {
				prodcons_detach_rings(c, s, w->tid, j);
				break;
			}
		}
		break;
	}
	w->tctx = th->tctx[0];
	return ret;
}

static void prodcons_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	struct prodcons_state *s = c->state;
	struct prodcons_thread *th = &s->th[w->tid];
	switch (s->mode) {
	case PRODCONS_COND:
	case PRODCONS_QUEUE:
		lb_prim_thread_detach(c->impl, s->prim, th->tctx[0]);
		break;
	case PRODCONS_SEM:
		lb_prim_thread_detach(c->impl, s->sem_empty, th->tctx[0]);
		lb_prim_thread_detach(c->impl, s->sem_full, th->tctx[1]);
		break;
	case PRODCONS_MESH:
		prodcons_detach_rings(c, s, w->tid, th->nrings);
		break;
	}
	th->tctx[0] = th->tctx[1] = NULL;
	w->tctx = NULL;
}

/* ---- unreclaimed memory ---- */

/* The queue's ops where it reports unreclaimed memory (queue.h), else
 * NULL. */
static const struct lb_queue_ops *prodcons_reclaims(const struct lb_wctx *c)
{
	const struct prodcons_state *s = c->state;
	if (!s || s->mode != PRODCONS_QUEUE)
		return NULL;
	const struct lb_queue_ops *q = lb_ops_queue(c->impl);
	return q->unreclaimed ? q : NULL;
}

static void prodcons_sample(struct lb_wctx *c)
{
	const struct lb_queue_ops *q = prodcons_reclaims(c);
	if (q) {
		struct prodcons_state *s = c->state;
		lb_mem_sample(&s->mem, q->unreclaimed(s->prim));
	}
}

/* ---- check ---- */

static void prodcons_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct prodcons_state *s = c->state;
	const unsigned P = s->P, C = s->C, n = s->nthreads;
	uint64_t win_items = 0, t0 = UINT64_MAX, t1 = UINT64_MAX;
	uint64_t *pushed = calloc(P ? P : 1, sizeof(*pushed));
	struct lb_pc_consumer *cons = calloc(C ? C : 1, sizeof(*cons));

	for (unsigned i = P; i < n; i++)
		win_items += ws[i].ops_at_stop - ws[i].ops_at_measure;
	for (unsigned i = 0; i < n; i++) {
		if (!s->th[i].t_measure)
			continue; /* never saw the window open */
		if (s->th[i].t_measure < t0)
			t0 = s->th[i].t_measure;
		if (s->th[i].t_stop < t1)
			t1 = s->th[i].t_stop;
	}
	if (!pushed || !cons) {
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "out of memory for the check");
	} else {
		for (unsigned p = 0; p < P; p++)
			pushed[p] = s->th[p].items;
		for (unsigned i = P; i < n; i++) {
			const struct prodcons_thread *th = &s->th[i];
			cons[i - P] = (struct lb_pc_consumer){
				.items = th->items, .sum = th->sum, .xor_ = th->xor_,
				.order_bad = th->order_bad, .bad_item = th->bad_item,
				.bad_prev = th->bad_prev, .alien = th->alien,
				.alien_item = th->alien_item, .from = th->from,
			};
		}
		lb_judge_prodcons(out, P, C, pushed, cons);
	}
	free(pushed);
	free(cons);
	const struct lb_queue_ops *q = prodcons_reclaims(c);
	if (q) /* the last word: the run is over */
		lb_mem_sample(&s->mem, q->unreclaimed(s->prim));
	out->extra[4] = q ? (double)s->mem.peak : NAN;
	out->extra[5] = q ? (double)s->mem.sum / (double)s->mem.n : NAN;
	out->extra[0] = P;
	out->extra[1] = C;
	out->extra[2] = (double)s->capacity;
	/* The harness's window; the threads' own stamps only if it is unknown. */
	out->extra[3] = c->window_s > 0 ? (double)win_items / c->window_s
		: t0 < t1 && t1 != UINT64_MAX
		? (double)win_items / ((double)(t1 - t0) * ws[0].ns_per_tick / 1e9) : NAN;
}

static const char *const prodcons_extra[] = {
	"producers", "consumers", "capacity", "items_per_sec", "unreclaimed_peak_bytes",
	"unreclaimed_mean_bytes", NULL,
};

static const char *const prodcons_groups[] = { "producer", "consumer", NULL };

/* Threads 0..P-1 produce, P..n-1 consume (prodcons_resolve's split). */
static unsigned prodcons_group_of(const uint64_t *vals, unsigned tid, unsigned nthreads)
{
	unsigned P, C, K;
	char err[256];
	if (prodcons_resolve(vals, nthreads, &P, &C, &K, err, sizeof(err)) != 0)
		return 0;
	return tid < P ? 0 : 1;
}

const struct lb_workload lb_wl_prodcons = {
	.name = "prodcons",
	.summary = "bounded buffer: P producers push items, C consumers pop them "
		   "(condition, semaphore, lock-free queues, stacks)",
	.checks = "every item popped exactly once (per-producer counts, sum and xor), "
		  "per-producer FIFO order where the buffer is FIFO",
	.extra_cols = prodcons_extra,
	.params = prodcons_params,
	.validate = prodcons_validate,
	.loops = prodcons_loops,
	.setup = prodcons_setup,
	.thread_init = prodcons_thread_init,
	.thread_fini = prodcons_thread_fini,
	.check = prodcons_check,
	.sample = prodcons_sample,
	.teardown = prodcons_teardown,
	.groups = prodcons_groups,
	.group_of = prodcons_group_of,
};
