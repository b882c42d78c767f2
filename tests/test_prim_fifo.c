/* Stress test of the queue kind: many producers and consumers on few
 * CPUs, a small capacity and fast node reuse.  TAP output, one line per
 * implementation.
 *
 * P producers each push N items (producer p's i-th item is (p + 1) << 40 |
 * i), spinning while the queue is full; C consumers pop until every
 * producer has finished and a pop finds the queue empty (queue.h: a failed
 * pop with no push in progress means empty).  Checks, exact:
 *   exactly once  every item popped once: a bit per item, set with an
 *                 atomic fetch-or, so a second pop of it is seen at once;
 *                 after the run every bit must be set (nothing lost), and
 *                 no item may be one no producer pushed;
 *   FIFO          for queues flagged LB_CAP_FIFO, each consumer sees each
 *                 producer's items in increasing order (queue.h's
 *                 promise; a stack only promises exactly once).
 * SPSC queues (ops.spsc) run with one producer and one consumer.
 *
 * Churn: the capacity is QCAP items and the linked queues' node pools
 * (queue_pool.h) are built here with LBQ_CHUNK_NODES = 2 instead of 64,
 * so that a dequeued node goes back to its producer and into the queue
 * again after a few operations rather than after 64: the same code, with
 * every recycling race made far more frequent.  That is why this file
 * uses the ops compiled in it (lb_<sym>_ops) rather than the registry's.
 * With 8 threads on 2 CPUs, and NPREEMPT threads that wake every
 * PREEMPT_NS to preempt whatever runs, threads are stopped anywhere,
 * including between reading a node and CAS-ing it, which is the window
 * ck_fifo_mpmc needs safe memory reclamation for (queue_ck.h).  That window
 * is a few instructions, so ck-fifo-mpmc also runs a second case that
 * yields the CPU right there (fault injection, below): against nodes
 * reused at once it broke FIFO order in every run (plain runs of minutes
 * never did).
 *
 * The hidden broken queues (test-queue-dup, test-queue-drop) must be
 * caught: they show that the checks work.  Each case is one case of
 * lbtap's runner: a child process under its hang guard (lbtap.h), so a
 * hung or crashed case is reported as such and the others still run.
 *
 * usage: test_prim_fifo [--backend NAME]... [--impl ID]...  (default: all)
 * LB_TEST_FIFO_ITEMS=N items per producer (default 50000, 10000 under TSan);
 * LB_TEST_FIFO_THREADS=T producers and as many consumers (default 4);
 * LB_TEST_GUARD_S the hang guard (lbtap.h).
 */
#define LBQ_CHUNK_NODES 2

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lbtap.h"

/* Fault injection: every double-width CAS in ck_fifo.h (and nothing else
 * in CK uses ck_pr_cas_ptr_2) goes through cas2_hook.  When injection is
 * on, the hook yields the CPU before each CAS on a node (the enqueuer's
 * link of its node after the tail node), not before those on the queue
 * object itself (its head and tail).  That stops an enqueuer exactly
 * between reading the tail node and CAS-ing its next pointer, the window
 * in which a recycled node is fatal, as a preemption there would, only
 * thousands of times more often. */
#include <ck_pr.h>
static bool cas2_hook(void *target, void *compare, void *set);
#define ck_pr_cas_ptr_2(t, c, s) cas2_hook(t, c, s)
#include "registry.h"
#undef ck_pr_cas_ptr_2

/* Set before the threads start, read-only while they run. */
static int inject;
static uintptr_t inject_lo, inject_hi; /* the queue object's bytes */

static bool cas2_hook(void *target, void *compare, void *set)
{
	uintptr_t t = (uintptr_t)target;
	if (inject && (t < inject_lo || t >= inject_hi))
		sched_yield();
	return ck_pr_cas_ptr_2(target, compare, set);
}

#define QCAP 16
#define QCAP_INJECTED 32 /* more enqueues in flight at once (see main) */
#define NPREEMPT 2
#define PREEMPT_NS 20000
#define MAXT 32
#define SEQ_BITS 40
#define SEQ_MASK ((1ull << SEQ_BITS) - 1)

/* This file's own ops, with the small node chunk (see above). */
#define X_OPS(sym, id, be, caps, sum) [LB_IMPL_##sym] = &lb_##sym##_ops,
static const struct lb_queue_ops *const local_ops[LB_IMPL_COUNT] = {
	LB_QUEUE_IMPLS(X_OPS)
};
#undef X_OPS

/* Items per producer.  Under ThreadSanitizer (about 10x slower) a fifth:
 * there the point is the ordering of each push before its pop, which
 * every item exercises, and 4 x 10,000 items a case still took a minute
 * on 2 CPUs; the release and ASan trees run the full count. */
#if defined(__SANITIZE_THREAD__)
#define DEFAULT_ITEMS 10000
#else
#define DEFAULT_ITEMS 50000
#endif
static unsigned long items = DEFAULT_ITEMS; /* set before the cases fork */

struct fifo_shared {
	const struct lb_impl *im;
	const struct lb_queue_ops *ops;
	void *q;
	unsigned P, C;
	uint64_t N;
	int fifo;
	_Atomic unsigned attached, producers_done;
	_Atomic int go, attach_err, stop_preempt;
	_Atomic uint64_t *seen; /* [P][words]: a bit per item */
	uint64_t words;
	_Atomic uint64_t popped, dups, aliens, order;
};

struct fifo_thread {
	struct fifo_shared *sh;
	unsigned tid;
};

/* Wakes every PREEMPT_NS: each wake-up may preempt a queue thread
 * wherever it is (CFS favours a thread that slept), which is how a
 * producer gets stopped between reading the tail node and its CAS far
 * more often than timer ticks alone would manage. */
static void *preemptor(void *arg)
{
	struct fifo_shared *sh = arg;
	struct timespec ts = { 0, PREEMPT_NS };
	while (atomic_load_explicit(&sh->stop_preempt, memory_order_relaxed) == 0)
		nanosleep(&ts, NULL);
	return NULL;
}

static void backoff(unsigned *fails)
{
	if ((++*fails & 63) == 0)
		sched_yield(); /* oversubscribed: let the other side run */
	else
		lb_cpu_relax();
}

static int attach_and_start(struct fifo_shared *sh, unsigned tid, void **t)
{
	struct lb_thread_info ti = { .tid = tid, .cpu = -1 };
	int err = 0;

	*t = NULL;
	if (sh->ops->base.tctx_size) {
		*t = aligned_alloc(LB_CACHELINE, (sh->ops->base.tctx_size + LB_CACHELINE - 1) /
					     LB_CACHELINE * LB_CACHELINE);
		if (!*t)
			err = ENOMEM;
		else
			memset(*t, 0, sh->ops->base.tctx_size);
	}
	if (!err && sh->ops->base.thread_init)
		err = sh->ops->base.thread_init(sh->q, *t, &ti);
	if (err)
		atomic_store(&sh->attach_err, err);
	atomic_fetch_add(&sh->attached, 1);
	while (!atomic_load(&sh->go))
		sched_yield();
	return err || atomic_load(&sh->go) < 0 ? -1 : 0;
}

static void detach(struct fifo_shared *sh, void *t)
{
	if (sh->ops->base.thread_fini)
		sh->ops->base.thread_fini(sh->q, t);
	free(t);
}

static void *producer(void *arg)
{
	struct fifo_thread *a = arg;
	struct fifo_shared *sh = a->sh;
	void *t;

	if (attach_and_start(sh, a->tid, &t) == 0) {
		uint64_t base = (uint64_t)(a->tid + 1) << SEQ_BITS;
		for (uint64_t i = 1; i <= sh->N; i++) {
			unsigned fails = 0;
			while (!sh->ops->push(sh->q, t, base | i))
				backoff(&fails);
		}
	}
	/* release: our pushes happen before a consumer's final, empty pop
	 * (pairs with its acquire load). */
	atomic_fetch_add_explicit(&sh->producers_done, 1, memory_order_release);
	detach(sh, t);
	return NULL;
}

static void *consumer(void *arg)
{
	struct fifo_thread *a = arg;
	struct fifo_shared *sh = a->sh;
	uint64_t last[MAXT] = { 0 }, popped = 0, dups = 0, aliens = 0, order = 0;
	void *t;

	if (attach_and_start(sh, a->tid, &t) == 0) {
		unsigned fails = 0;
		for (;;) {
			uint64_t item;
			if (!sh->ops->pop(sh->q, t, &item)) {
				/* acquire: pairs with the producers' release; once
				 * all are done, a failed pop means empty. */
				int done = atomic_load_explicit(&sh->producers_done,
								memory_order_acquire) == sh->P;
				if (!sh->ops->pop(sh->q, t, &item)) {
					if (done)
						break;
					backoff(&fails);
					continue;
				}
			}
			uint64_t p = (item >> SEQ_BITS) - 1, i = item & SEQ_MASK;
			if ((item >> SEQ_BITS) == 0 || p >= sh->P || i == 0 || i > sh->N) {
				aliens++;
				continue;
			}
			uint64_t bit = 1ull << ((i - 1) % 64);
			_Atomic uint64_t *w = &sh->seen[p * sh->words + (i - 1) / 64];
			if (atomic_fetch_or_explicit(w, bit, memory_order_relaxed) & bit)
				dups++;
			if (sh->fifo && i <= last[p])
				order++;
			last[p] = i;
			popped++;
		}
	}
	atomic_fetch_add(&sh->popped, popped);
	atomic_fetch_add(&sh->dups, dups);
	atomic_fetch_add(&sh->aliens, aliens);
	atomic_fetch_add(&sh->order, order);
	detach(sh, t);
	return NULL;
}

/* One case, in lbtap's child: n producers and n consumers (1 and 1 for an
 * SPSC queue); inject: yield before every link CAS (ck-fifo-mpmc only). */
static void fifo_case(const struct lb_impl *im, unsigned n, unsigned inject_links)
{
	unsigned P = n, C = n;
	uint64_t N = inject_links ? (items + 1) / 2 : items;
	unsigned cap = inject_links ? QCAP_INJECTED : QCAP;
	int broken = (im->caps & LB_CAP_HIDDEN) != 0;
	struct fifo_shared *sh = tap_xcalloc(sizeof(*sh));
	struct fifo_thread th[2 * MAXT];
	pthread_t tid[2 * MAXT];

	sh->im = im;
	sh->ops = local_ops[im->index];
	sh->P = P;
	sh->C = C;
	sh->N = N;
	sh->fifo = (im->caps & LB_CAP_FIFO) != 0;
	sh->words = (N + 63) / 64;
	sh->seen = tap_xcalloc(P * sh->words * sizeof(*sh->seen));
	struct lb_prim_cfg cfg = { .nthreads = P + C, .nclusters = 1, .permits = cap };
	sh->q = aligned_alloc(LB_CACHELINE, (sh->ops->base.size + LB_CACHELINE - 1) /
					    LB_CACHELINE * LB_CACHELINE);
	if (!sh->q)
		tap_bail("%s: out of memory", im->id);
	memset(sh->q, 0, sh->ops->base.size);
	inject = (int)inject_links;
	inject_lo = (uintptr_t)sh->q;
	inject_hi = inject_lo + sh->ops->base.size;
	int err = sh->ops->base.init(sh->q, &cfg);
	if (err)
		tap_bail("%s: init: %s", im->id, strerror(err));

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < P + C; i++) {
		th[i] = (struct fifo_thread){ .sh = sh, .tid = i };
		tap_spawn(&tid[i], i < P ? producer : consumer, &th[i]);
	}
	while (atomic_load(&sh->attached) < P + C)
		sched_yield();
	atomic_store(&sh->go, atomic_load(&sh->attach_err) ? -1 : 1);
	pthread_t pre[NPREEMPT];
	for (unsigned i = 0; i < NPREEMPT; i++)
		tap_spawn(&pre[i], preemptor, sh);
	for (unsigned i = 0; i < P + C; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&sh->stop_preempt, 1);
	for (unsigned i = 0; i < NPREEMPT; i++)
		pthread_join(pre[i], NULL);
	if ((err = atomic_load(&sh->attach_err)) != 0)
		tap_bail("%s: attach: %s", im->id, strerror(err));

	uint64_t missing = 0;
	for (uint64_t p = 0; p < P; p++)
		for (uint64_t i = 1; i <= N; i++)
			if (!(atomic_load_explicit(&sh->seen[p * sh->words + (i - 1) / 64],
						   memory_order_relaxed) & (1ull << ((i - 1) % 64))))
				missing++;
	uint64_t dups = atomic_load(&sh->dups), aliens = atomic_load(&sh->aliens),
		 order = atomic_load(&sh->order), popped = atomic_load(&sh->popped);
	int good = dups == 0 && aliens == 0 && missing == 0 && order == 0 && popped == P * N;
	tap(broken ? !good : good,
	    "%s%s%s: %u producers x %llu items, %u consumers, capacity %u: %llu popped, "
	    "%llu popped twice, %llu lost, %llu alien, %llu out of %s order (%.1f s)",
	    im->id, broken ? " (broken on purpose: the checks must catch it)" : "",
	    inject_links ? ", yielding before every link CAS" : "", P, (unsigned long long)N, C,
	    cap, (unsigned long long)popped, (unsigned long long)dups,
	    (unsigned long long)missing, (unsigned long long)aliens, (unsigned long long)order,
	    sh->fifo ? "FIFO" : "(unchecked) FIFO",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (sh->ops->base.fini)
		sh->ops->base.fini(sh->q);
	free(sh->q);
	free(sh->seen);
	free(sh);
}

static int env_count(const char *name, unsigned long def, unsigned long max, unsigned long *out)
{
	const char *v = getenv(name);
	char *end;
	*out = def;
	if (!v || !*v)
		return 0;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno || *end || *out == 0 || *out > max) {
		fprintf(stderr, "test_prim_fifo: %s='%s' is not a count; give 1 to %lu\n", name,
			v, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long threads;

	tap_init(argc, argv);
	if (env_count("LB_TEST_FIFO_ITEMS", DEFAULT_ITEMS, SEQ_MASK, &items) ||
	    env_count("LB_TEST_FIFO_THREADS", 4, MAXT / 2, &threads))
		return 2;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (lb_impl_kind(im) != LB_KIND_QUEUE || !tap_selected(im))
			continue;
		unsigned n = lb_ops_queue(im)->spsc ? 1 : (unsigned)threads;
		tap_run(im, fifo_case, n, 0, "%u producers, %u consumers", n, n);
		/* The injection only reaches ck_fifo.h.  Twice the threads and
		 * twice the capacity: the reservation (queue_pool.h) lets only
		 * as many enqueues run at once as there is room, and the race
		 * needs several; half the items, since every enqueue now
		 * yields.  Measured on 2 busy CPUs against the reuse-at-once
		 * pool: FIFO broken 15 to 64 times per run, in 10 runs of 10. */
		if (strcmp(im->id, "ck-fifo-mpmc") == 0)
			tap_run(im, fifo_case, 2 * n, 1, "%u producers, %u consumers, yielding "
				"before every link CAS", 2 * n, 2 * n);
	}
	return tap_done();
}
