/* The worker side of the harness: what a workload's hot loop sees.
 *
 * A workload loop is about ten lines:
 *
 *	struct lb_hot h = lb_hot(w);
 *	uint64_t n = 0;
 *	while (lb_running(w, &h, n)) {
 *		uint64_t t0 = lb_sample_begin(w, &h, n);
 *		ops->lock(l, t);
 *		lb_sample_end(w, t0);
 *		...critical section..., lb_busy(h.cs_iters);
 *		ops->unlock(l, t);
 *		lb_busy(h.think_iters);
 *		lb_publish(w, ++n);
 *	}
 *	lb_finish(w, n);
 *
 * The harness owns the threads, their placement, the start barrier, the
 * warm-up and the timed window: lb_running() notices the phase changes
 * (one relaxed load per op) and snapshots the op count, rusage and the
 * histogram there, out of line.
 *
 * struct lb_hot is what the loop reads on every op, copied into a local
 * so that it stays in registers.  Read through w, each field would be a
 * load after every lock operation: the primitives' atomics and inline
 * assembly clobber memory, and w escapes, so the compiler must reload it.
 * Those loads wait behind a locked instruction; with them, ck-cas at one
 * thread ran at 0.56x of CK's own benchmark, without them at about 0.75x
 * (results/README.md, "Agreement with the libraries' own benchmarks").
 */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "hist.h"
#include "prim.h"
#include "timer.h"

enum lb_ctl { LB_CTL_WARMUP = 0, LB_CTL_MEASURE = 1, LB_CTL_STOP = 2 };

enum lb_phase {
	LB_PH_STARTING, LB_PH_READY, LB_PH_WARMUP, LB_PH_MEASURE, LB_PH_STOPPING,
	LB_PH_DONE, LB_PH_FAILED,
};

/* Event counters (counters.c): per-thread perf_event_open groups. */
enum {
	LB_EV_CYCLES, LB_EV_INSTRUCTIONS, LB_EV_CACHE_MISSES, LB_EV_C2C, /* hardware */
	LB_EV_CTX, LB_EV_MIGRATIONS, LB_EV_FAULTS,            /* software */
	LB_NEV
};
struct lb_counters {
	int fd[LB_NEV];   /* -1: not counted */
	int leader[2];    /* the hardware and the software group */
};

struct lb_worker {
	/* Set by the harness before the thread starts; read-only after. */
	unsigned tid;
	int cpu;                  /* pinned PU (OS index), -1 if unpinned */
	unsigned cluster;
	const _Atomic unsigned *ctl;
	void *state;              /* the workload's shared state */
	void *tctx;               /* the primitive's per-thread context */
	uint64_t cs_iters, think_iters;
	uint64_t sample_mask;     /* sample op n when (n & mask) == 0 */
	uint64_t sample_mask_max; /* the configured period - 1 */
	uint64_t sample_weight;   /* ops the sample in flight stands for */
	double ns_per_tick;
	double sample_budget_ns;  /* adapt so that timing costs <= 1% of an op */

	/* Owned by the worker thread while it runs; read after join. */
	unsigned seen;            /* last ctl value acted on */
	uint64_t ops_at_measure, ops_at_stop, ops_total;
	struct rusage ru_measure, ru_stop;
	/* Event counts at the window's edges; ev_ok 0 where not read. */
	struct lb_counters counters;
	uint64_t ev_measure[LB_NEV], ev_stop[LB_NEV];
	int ev_ok_measure[LB_NEV], ev_ok_stop[LB_NEV];
	uint64_t ev_en_measure[2], ev_run_measure[2], ev_en_stop[2], ev_run_stop[2];
	/* The kernel's schedstat (run time, time runnable but waiting for a
	 * CPU), read at the window's edges; sched_ok 0 where the kernel keeps
	 * none (then the row's cpu_wait_share is empty). */
	int sched_fd, sched_ok;
	/* /proc/thread-self/stat, for the watchdog (run.c): whether the
	 * thread is runnable; -1 where it could not be opened. */
	int stat_fd;
	/* The watchdog's: this thread's schedstat run and wait times at its
	 * previous idle poll, and when (CLOCK_MONOTONIC) the watchdog last saw
	 * it run or not runnable.  Written and read by the main thread only. */
	uint64_t watch_run_ns, watch_wait_ns, watch_seen_ns;
	int os_tid;
	uint64_t run_ns_measure, wait_ns_measure, run_ns_stop, wait_ns_stop;
	/* CLOCK_MONOTONIC when this thread saw the window open and close: its
	 * own view of the window, over which its CPU time and waits count. */
	uint64_t ns_measure, ns_stop;
	/* CLOCK_THREAD_CPUTIME_ID at the same moments: CPU time read after
	 * the window's opening and before its close, so that it never
	 * exceeds the thread's own window. */
	uint64_t cpu_ns_measure, cpu_ns_stop;
	struct lb_hist *hist;     /* acquire latency, measured window only */
	int cpu_at_end;           /* sched_getcpu() when the window closed */
	uint64_t wl[4];           /* workload-specific per-thread counters */
	uint64_t last_sample_tick, last_sample_n;

	/* Published for the watchdog: its own cache line, written only by the
	 * worker, read (relaxed) by the main thread. */
	alignas(LB_CACHELINE) _Atomic uint64_t pub_ops;
	_Atomic uint64_t pub_attempts; /* busy-but-failing work (livelock) */
	_Atomic int phase;
};

bool lb_worker_transition(struct lb_worker *w, uint64_t n, unsigned c);

/* A worker's own counters (counters.c): none (all -1), open in the
 * thread (the events lb_counters_probe allowed), read, close. */
void lb_counters_none(struct lb_counters *c);
void lb_counters_open(struct lb_counters *c);
void lb_counters_read(struct lb_counters *c, uint64_t v[LB_NEV], int valid[LB_NEV],
		      uint64_t en[2], uint64_t run[2]);
/* Event ev's count between two reads, scaled where multiplexed; NaN if
 * it went backwards or never ran. */
double lb_counters_delta(int ev, const uint64_t v0[LB_NEV], const uint64_t v1[LB_NEV],
			 const uint64_t en0[2], const uint64_t run0[2], const uint64_t en1[2],
			 const uint64_t run1[2]);
void lb_counters_close(struct lb_counters *c);

/* The worker fields a loop reads on every op, in a local (see the top of
 * this file).  seen and sample_mask change only in the out-of-line calls
 * below, which refresh them; the others never change. */
struct lb_hot {
	const _Atomic unsigned *ctl;
	unsigned seen;            /* w->seen: the phase last acted on */
	uint64_t sample_mask;     /* w->sample_mask */
	uint64_t cs_iters, think_iters;
};

static inline struct lb_hot lb_hot(const struct lb_worker *w)
{
	return (struct lb_hot){ .ctl = w->ctl, .seen = w->seen, .sample_mask = w->sample_mask,
				.cs_iters = w->cs_iters, .think_iters = w->think_iters };
}

/* One relaxed load per op: the control word only announces phase changes;
 * what the worker records at a change is its own data, so nothing needs to
 * be ordered with the main thread's store (and the join orders the rest).
 * After a change h->seen is the new phase. */
static inline bool lb_running(struct lb_worker *w, struct lb_hot *h, uint64_t n)
{
	unsigned c = atomic_load_explicit(h->ctl, memory_order_relaxed);
	if (__builtin_expect(c == h->seen, 1))
		return true;
	bool more = lb_worker_transition(w, n, c);
	h->seen = w->seen;
	h->sample_mask = w->sample_mask;
	return more;
}

uint64_t lb_sample_take(struct lb_worker *w, uint64_t n);

/* The next op sampled after op n under mask is (n | mask) + 1: the sample
 * of op n stands for the ops from n up to that one. */
static inline uint64_t lb_sample_weight(uint64_t n, uint64_t mask)
{
	return (n | mask) + 1 - n;
}

/* Start timing op n if it is a sampled one; returns 0 if not.  The period
 * adapts (out of line, on sampled ops only): fast ops are sampled one in
 * sample_mask_max + 1, slow ones (a collapsed spinlock at a few hundred
 * ops/s) down to every op, so they still get a latency distribution while
 * the timer stays under 1% of an op's cost.  Each sample is recorded with
 * the weight of the period in force (lb_sample_weight), so the merged
 * histogram describes every op, whatever each thread's period was. */
static inline uint64_t lb_sample_begin(struct lb_worker *w, struct lb_hot *h, uint64_t n)
{
	if (__builtin_expect((n & h->sample_mask) != 0, 1))
		return 0;
	uint64_t t0 = lb_sample_take(w, n);
	h->sample_mask = w->sample_mask;
	return t0;
}

static inline void lb_sample_end(struct lb_worker *w, uint64_t t0)
{
	if (t0) {
		uint64_t dt = lb_ticks() - t0;
		lb_hist_record_w(w->hist, (uint64_t)((double)dt * w->ns_per_tick),
				 w->sample_weight);
	}
}

/* Progress for the watchdog: a relaxed store to the worker's own line. */
static inline void lb_publish(struct lb_worker *w, uint64_t n)
{
	atomic_store_explicit(&w->pub_ops, n, memory_order_relaxed);
}

/* Activity that is not progress (a failed trylock round): lets the
 * watchdog tell a livelock (busy, no progress) from a deadlock. */
static inline void lb_publish_attempt(struct lb_worker *w, uint64_t attempts)
{
	atomic_store_explicit(&w->pub_attempts, attempts, memory_order_relaxed);
}

void lb_finish(struct lb_worker *w, uint64_t n);

/* This thread's schedstat: ns on a CPU and ns runnable but waiting for
 * one.  0 on success; -1 where the kernel keeps none. */
int lb_schedstat_read(int fd, uint64_t *run_ns, uint64_t *wait_ns);

#endif
