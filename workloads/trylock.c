/* trylock: non-blocking acquire, one attempt per op.
 *
 * Each op is one attempt on every implementation with a try op (the
 * workload requires LB_CAP_TRYLOCK):
 *   mutex       trylock / unlock
 *   recursive   trylock / unlock (never nested here)
 *   semaphore   try_acquire / release with one permit
 * On success: increment the shared counter, --cs work, release.  On
 * failure: --param backoff_ns of busy work (default 100; 0 retries at
 * once).  After either, --think work.  ops counts attempts, so ops_per_sec
 * is attempts per second; the latency sample is the time of one attempt,
 * successful or not.
 *
 * Own columns: success_ratio (successful attempts / attempts inside the
 * timed window, 0..1; empty if no attempt fell in it) and successes_per_sec
 * (successful attempts inside the window / the window's length).  Each
 * thread snapshots its successes where it sees the window open and close,
 * exactly where the harness counts ops.
 *
 * Check, after every repetition: the counter equals the successful
 * attempts of all threads (warm-up included); the difference is
 * lost_updates.  A recursive unlock that returns an error also fails.  A
 * trylock that fails on a free lock fails too: with one thread every
 * attempt must succeed, and after the run one more try (from the main
 * thread, with every worker gone) must take the lock.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

#define TRYLOCK_MAX_BACKOFF_NS 100000000u /* 0.1 s: anything longer is not a spin */

/* What each thread leaves behind, written once as it leaves its loop. */
struct trylock_result {
	uint64_t successes;     /* whole run: what the counter must show */
	uint64_t attempts;      /* whole run */
	uint64_t successes_win; /* inside the timed window */
	uint64_t attempts_win;
	uint64_t bad_unlocks;   /* recursive unlock returned an error */
};

struct trylock_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	uint64_t backoff_iters;
	struct trylock_result *res; /* [nthreads] */
	/* The counter the lock protects, on its own line; relaxed load and
	 * store as in counter.c, so a broken lock loses updates without
	 * undefined behaviour. */
	alignas(LB_CACHELINE) _Atomic uint64_t value;
};

/* What a kind's attempt and release act on: the kind's ops (a pointer to a
 * constant object in each instantiation below), the object and the
 * thread's context. */
struct trylock_excl {
	const void *ops;
	void *l, *t;
};
/* The attempt: true if it took the lock. */
typedef bool (*trylock_try_fn)(const struct trylock_excl *x);
/* The release: 1 if it failed (a recursive unlock's error), else 0. */
typedef unsigned (*trylock_release_fn)(const struct trylock_excl *x);

/* The loop of every kind.  try and release are the kind's helpers below:
 * always_inline functions passed as constants, which the compiler inlines
 * exactly as it inlines the ops they call. */
static inline __attribute__((always_inline)) void
trylock_loop(struct lb_worker *w, const void *ops, trylock_try_fn try, trylock_release_fn release)
{
	struct trylock_state *s = w->state;
	const struct trylock_excl x = { ops, s->prim, w->tctx };
	const uint64_t backoff = s->backoff_iters;
	struct trylock_result r = { 0 };
	uint64_t ok_m = 0, n_m = 0;
	unsigned seen = w->seen;
	int in_window = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		if (__builtin_expect(h.seen != seen, 0)) {
			/* The window just opened. */
			seen = h.seen;
			ok_m = r.successes;
			n_m = n;
			in_window = 1;
		}
		uint64_t t0 = lb_sample_begin(w, &h, n);
		bool got = try(&x);
		lb_sample_end(w, t0);
		if (got) {
			atomic_store_explicit(&s->value,
					      atomic_load_explicit(&s->value, memory_order_relaxed) + 1,
					      memory_order_relaxed);
			lb_busy(h.cs_iters);
			r.bad_unlocks += release(&x);
			r.successes++;
		} else {
			lb_busy(backoff);
		}
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	if (!in_window) { /* stopped before the window opened */
		ok_m = r.successes;
		n_m = n;
	}
	r.attempts = n;
	r.successes_win = r.successes - ok_m;
	r.attempts_win = n - n_m;
	s->res[w->tid] = r;
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) bool trylock_mutex_try(const struct trylock_excl *x)
{
	return ((const struct lb_mutex_ops *)x->ops)->trylock(x->l, x->t);
}

static inline __attribute__((always_inline)) unsigned
trylock_mutex_unlock(const struct trylock_excl *x)
{
	((const struct lb_mutex_ops *)x->ops)->unlock(x->l, x->t);
	return 0;
}

static inline __attribute__((always_inline)) bool
trylock_recursive_try(const struct trylock_excl *x)
{
	return ((const struct lb_recursive_ops *)x->ops)->trylock(x->l, x->t);
}

static inline __attribute__((always_inline)) unsigned
trylock_recursive_unlock(const struct trylock_excl *x)
{
	return ((const struct lb_recursive_ops *)x->ops)->unlock(x->l, x->t) != 0;
}

static inline __attribute__((always_inline)) bool
trylock_semaphore_try(const struct trylock_excl *x)
{
	return ((const struct lb_semaphore_ops *)x->ops)->try_acquire(x->l, x->t);
}

static inline __attribute__((always_inline)) unsigned
trylock_semaphore_release(const struct trylock_excl *x)
{
	((const struct lb_semaphore_ops *)x->ops)->release(x->l, x->t);
	return 0;
}

/* One loop per implementation, with its ops as compile-time constants.
 * Those without a trylock (CLH, Anderson, HCLH) get a loop that does
 * nothing: requires_caps leaves them out. */
#define TRYLOCK_MUTEX(sym, id, be, caps, sum) \
	static void trylock_loop_##sym(struct lb_worker *w) \
	{ \
		if (lb_##sym##_ops.trylock) \
			trylock_loop(w, &lb_##sym##_ops, trylock_mutex_try, trylock_mutex_unlock); \
		else \
			lb_finish(w, 0); \
	}
#define TRYLOCK_RECURSIVE(sym, id, be, caps, sum) \
	static void trylock_loop_##sym(struct lb_worker *w) \
	{ trylock_loop(w, &lb_##sym##_ops, trylock_recursive_try, trylock_recursive_unlock); }
#define TRYLOCK_SEMAPHORE(sym, id, be, caps, sum) \
	static void trylock_loop_##sym(struct lb_worker *w) \
	{ trylock_loop(w, &lb_##sym##_ops, trylock_semaphore_try, trylock_semaphore_release); }
LB_MUTEX_IMPLS(TRYLOCK_MUTEX)
LB_RECURSIVE_IMPLS(TRYLOCK_RECURSIVE)
LB_SEMAPHORE_IMPLS(TRYLOCK_SEMAPHORE)

/* Hidden test locks are driven too (test-busted must fail here as well). */
#define TRYLOCK_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = trylock_loop_##sym,
static const lb_loop_fn trylock_loops[LB_IMPL_COUNT] = {
	LB_MUTEX_IMPLS(TRYLOCK_ENTRY)
	LB_RECURSIVE_IMPLS(TRYLOCK_ENTRY)
	LB_SEMAPHORE_IMPLS(TRYLOCK_ENTRY)
};

static int trylock_setup(struct lb_wctx *c)
{
	struct trylock_state *s = lb_cache_alloc(sizeof(*s));
	int ret;

	if (!s)
		return ENOMEM;
	atomic_init(&s->value, 0);
	s->backoff_iters = lb_busy_iters(c->param[0]);
	s->res = calloc(c->nthreads, sizeof(*s->res));
	if (!s->res) {
		free(s);
		return ENOMEM;
	}
	c->cfg.permits = 1; /* a semaphore used as a lock */
	if ((ret = lb_prim_create(c->impl, &c->cfg, &s->prim)) != 0) {
		free(s->res);
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

/* With every thread gone the lock is free: one try from here must take it
 * (then it is given back).  The main thread attaches like a worker, for
 * the algorithms with per-thread context (MCS nodes, owner ids). */
static bool trylock_free_lock(struct lb_wctx *c, void *prim)
{
	const struct lb_impl *im = c->impl;
	struct lb_thread_info ti = { .tid = 0, .cpu = -1, .cluster = 0 };
	void *t = NULL;
	bool got = false;

	if (lb_prim_thread_attach(im, prim, &ti, &t) != 0)
		return false;
	switch (lb_impl_kind(im)) {
	case LB_KIND_MUTEX:
		if ((got = lb_ops_mutex(im)->trylock(prim, t)))
			lb_ops_mutex(im)->unlock(prim, t);
		break;
	case LB_KIND_RECURSIVE:
		if ((got = lb_ops_recursive(im)->trylock(prim, t)))
			got = lb_ops_recursive(im)->unlock(prim, t) == 0;
		break;
	case LB_KIND_SEMAPHORE:
		if ((got = lb_ops_semaphore(im)->try_acquire(prim, t)))
			lb_ops_semaphore(im)->release(prim, t);
		break;
	default:
		break;
	}
	lb_prim_thread_detach(im, prim, t);
	return got;
}

static void trylock_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct trylock_state *s = c->state;
	struct trylock_result sum = { 0 };
	(void)ws;

	for (unsigned i = 0; i < c->nthreads; i++) {
		const struct trylock_result *r = &s->res[i];
		sum.successes += r->successes;
		sum.attempts += r->attempts;
		sum.successes_win += r->successes_win;
		sum.attempts_win += r->attempts_win;
		sum.bad_unlocks += r->bad_unlocks;
	}
	struct lb_try_evidence e = {
		.nthreads = c->nthreads, .successes = sum.successes, .attempts = sum.attempts,
		.observed = atomic_load_explicit(&s->value, memory_order_relaxed),
		.bad_unlocks = sum.bad_unlocks, .free_try_ok = trylock_free_lock(c, s->prim),
	};
	lb_judge_trylock(out, &e);
	out->extra[0] = sum.attempts_win ? (double)sum.successes_win / (double)sum.attempts_win
					 : NAN;
	out->extra[1] = c->window_s > 0 ? (double)sum.successes_win / c->window_s : NAN;
}

static void trylock_teardown(struct lb_wctx *c)
{
	struct trylock_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s->res);
	free(s);
	c->state = NULL;
}

static const struct lb_param_spec trylock_params[] = {
	{ "backoff_ns", "100", "busy work after a failed attempt, 0-100000000 ns",
	  "a back-off time", 0, TRYLOCK_MAX_BACKOFF_NS, "0 to 100000000 (nanoseconds)", NULL },
	{ NULL },
};

static const char *const trylock_extra[] = { "success_ratio", "successes_per_sec", NULL };

const struct lb_workload lb_wl_trylock = {
	.name = "trylock",
	.summary = "non-blocking acquire: one try per op; success: increment, --cs work, "
		   "release; failure: --param backoff_ns",
	.checks = "counter == successful attempts (lost_updates = difference)",
	.extra_cols = trylock_extra,
	.params = trylock_params,
	.loops = trylock_loops,
	.requires_caps = LB_CAP_TRYLOCK,
	.setup = trylock_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = trylock_check,
	.teardown = trylock_teardown,
};
