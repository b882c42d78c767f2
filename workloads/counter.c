/* counter: the tutorial's shared counter.
 *
 * Each op: acquire, increment the shared counter, --cs work, release,
 * --think work.  It drives every exclusive primitive:
 *   mutex       lock / unlock
 *   recursive   lock depth times (--param depth=D), unlock depth times
 *   rwlock      write_lock / write_unlock (RCU is not exclusive: its
 *               readers never wait, so it is left to read-mostly workloads)
 *   semaphore   acquire / release with one permit
 * For lock-free counters the op is the counter's own add, followed by the
 * same --cs and --think work (there is no section to hold).  The latency
 * sample is the time to acquire (the first, outermost acquisition).
 *
 * --param data=shared (the default) increments one counter every thread
 * shares, so the protected data moves between CPUs with the lock, as in
 * real code; data=local gives each thread its own counter on its own cache
 * line, still incremented holding the lock, so only the lock's line moves:
 * the workload the libraries' own lock benchmarks measure (CK's
 * regressions/ck_spinlock/benchmark, liburcu's test_mutex), for side-by-
 * side comparison.  (Lock-free counters are their own data: data does not
 * apply to them.)
 *
 * Check, after every repetition: the counter (the sum of the per-thread
 * counters, for data=local) equals the sum of every thread's ops (warm-up
 * included, since the counter counts those too).
 * The difference is lost_updates.  Any loss fails a correct implementation;
 * none-racy is expected to lose and is reported as racy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

struct counter_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	unsigned depth;
	/* The counter a lock protects, on its own line.  Relaxed atomic load
	 * and store, not ++ on a plain word: with a correct lock they compile
	 * to the same plain moves, and a broken lock (test-busted) then loses
	 * updates without undefined behaviour. */
	alignas(LB_CACHELINE) _Atomic uint64_t value;
	/* data=local: one counter per thread, each on its own line; NULL for
	 * data=shared. */
	struct { alignas(LB_CACHELINE) _Atomic uint64_t v; } *local;
};

/* The counter this thread increments under the lock. */
static inline _Atomic uint64_t *counter_of(struct counter_state *s, unsigned tid)
{
	return s->local ? &s->local[tid].v : &s->value;
}

/* What an exclusive kind's acquire and release act on: the kind's ops
 * (in each instantiation below a pointer to a constant object, so the
 * compiler resolves every call through it), the object, the thread's
 * context and, for recursive locks, the nesting depth. */
struct counter_excl {
	const void *ops;
	void *l, *t;
	unsigned depth;
};
typedef void (*counter_step_fn)(const struct counter_excl *x);

/* The loop of every exclusive kind.  acquire and release are the kind's
 * helpers below: always_inline functions passed as constants, which the
 * compiler inlines exactly as it inlines the ops they call. */
static inline __attribute__((always_inline)) void
counter_exclusive_loop(struct lb_worker *w, const void *ops, counter_step_fn acquire,
		       counter_step_fn release)
{
	struct counter_state *s = w->state;
	const struct counter_excl x = { ops, s->prim, w->tctx, s->depth };
	_Atomic uint64_t *ctr = counter_of(s, w->tid);
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		acquire(&x);
		lb_sample_end(w, t0);
		atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		lb_busy(h.cs_iters);
		release(&x);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void counter_mutex_lock(const struct counter_excl *x)
{
	((const struct lb_mutex_ops *)x->ops)->lock(x->l, x->t);
}

static inline __attribute__((always_inline)) void counter_mutex_unlock(const struct counter_excl *x)
{
	((const struct lb_mutex_ops *)x->ops)->unlock(x->l, x->t);
}

/* Recursive: depth nested acquisitions per op, and as many releases (their
 * error status is the recursive workload's business, not this one's). */
static inline __attribute__((always_inline)) void
counter_recursive_lock(const struct counter_excl *x)
{
	const struct lb_recursive_ops *ops = x->ops;
	for (unsigned d = 0; d < x->depth; d++)
		ops->lock(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_recursive_unlock(const struct counter_excl *x)
{
	const struct lb_recursive_ops *ops = x->ops;
	for (unsigned d = 0; d < x->depth; d++)
		(void)ops->unlock(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_rwlock_write_lock(const struct counter_excl *x)
{
	((const struct lb_rwlock_ops *)x->ops)->write_lock(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_rwlock_write_unlock(const struct counter_excl *x)
{
	((const struct lb_rwlock_ops *)x->ops)->write_unlock(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_semaphore_acquire(const struct counter_excl *x)
{
	((const struct lb_semaphore_ops *)x->ops)->acquire(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_semaphore_release(const struct counter_excl *x)
{
	((const struct lb_semaphore_ops *)x->ops)->release(x->l, x->t);
}

static inline __attribute__((always_inline)) void
counter_lockfree_loop(struct lb_worker *w, const struct lb_counter_ops *ops)
{
	struct counter_state *s = w->state;
	void *c = s->prim, *t = w->tctx;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		ops->add(c, t);
		lb_sample_end(w, t0);
		lb_busy(h.cs_iters);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	lb_finish(w, n);
}

/* One loop per implementation, with its ops as compile-time constants. */
#define COUNTER_EXCLUSIVE(sym, acquire, release) \
	static void counter_loop_##sym(struct lb_worker *w) \
	{ counter_exclusive_loop(w, &lb_##sym##_ops, acquire, release); }
#define COUNTER_MUTEX(sym, id, be, caps, sum) \
	COUNTER_EXCLUSIVE(sym, counter_mutex_lock, counter_mutex_unlock)
#define COUNTER_RECURSIVE(sym, id, be, caps, sum) \
	COUNTER_EXCLUSIVE(sym, counter_recursive_lock, counter_recursive_unlock)
#define COUNTER_SEMAPHORE(sym, id, be, caps, sum) \
	COUNTER_EXCLUSIVE(sym, counter_semaphore_acquire, counter_semaphore_release)
/* RCU rwlocks get a loop too (uniformity of the X-macro) but no table
 * entry: see counter_entry_rw below. */
#define COUNTER_RWLOCK(sym, id, be, caps, sum) \
	COUNTER_EXCLUSIVE(sym, counter_rwlock_write_lock, counter_rwlock_write_unlock)
#define COUNTER_LOCKFREE(sym, id, be, caps, sum) \
	static void counter_loop_##sym(struct lb_worker *w) \
	{ counter_lockfree_loop(w, &lb_##sym##_ops); }
LB_MUTEX_IMPLS(COUNTER_MUTEX)
LB_RECURSIVE_IMPLS(COUNTER_RECURSIVE)
LB_SEMAPHORE_IMPLS(COUNTER_SEMAPHORE)
LB_RWLOCK_IMPLS(COUNTER_RWLOCK)
LB_COUNTER_IMPLS(COUNTER_LOCKFREE)
LB_NONE_IMPLS(COUNTER_LOCKFREE)

#define COUNTER_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = counter_loop_##sym,
#define COUNTER_ENTRY_RW(sym, id, be, caps, sum) \
	[LB_IMPL_##sym] = ((caps) & LB_CAP_RCU) ? NULL : counter_loop_##sym,
static const lb_loop_fn counter_loops[LB_IMPL_COUNT] = {
	LB_MUTEX_IMPLS(COUNTER_ENTRY)
	LB_RECURSIVE_IMPLS(COUNTER_ENTRY)
	LB_SEMAPHORE_IMPLS(COUNTER_ENTRY)
	LB_RWLOCK_IMPLS(COUNTER_ENTRY_RW)
	LB_COUNTER_IMPLS(COUNTER_ENTRY)
	LB_NONE_IMPLS(COUNTER_ENTRY)
};

enum { COUNTER_DEPTH, COUNTER_DATA };
enum { COUNTER_SHARED, COUNTER_LOCAL }; /* the words of data= */
static const char *const counter_data_words[] = { "shared", "local", NULL };
static const struct lb_param_spec counter_params[] = {
	[COUNTER_DEPTH] = { "depth", "1", "recursive locks: nested acquisitions per op, 1-1000",
			    "a nesting depth", 1, 1000, NULL, NULL },
	[COUNTER_DATA] = { "data", "shared", "shared (one counter for all) or local (one per "
			   "thread, its own cache line, as the libraries' own lock benchmarks do)",
			   "a data layout", 0, 0, NULL, counter_data_words },
	{ NULL },
};

static int counter_setup(struct lb_wctx *c)
{
	struct counter_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	atomic_init(&s->value, 0);
	s->depth = (unsigned)c->param[COUNTER_DEPTH];
	s->local = NULL;
	if (c->param[COUNTER_DATA] == COUNTER_LOCAL) {
		s->local = lb_cache_alloc(c->nthreads * sizeof(*s->local));
		if (!s->local) {
			free(s);
			return ENOMEM;
		}
		for (unsigned i = 0; i < c->nthreads; i++)
			atomic_init(&s->local[i].v, 0);
	}
	c->cfg.permits = 1; /* a semaphore used as a lock */
	int ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
	if (ret) {
		free(s->local);
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

static void counter_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct counter_state *s = c->state;
	uint64_t expected = 0, observed = 0;

	for (unsigned i = 0; i < c->nthreads; i++)
		expected += ws[i].ops_total;
	if (lb_impl_kind(c->impl) == LB_KIND_COUNTER || lb_impl_kind(c->impl) == LB_KIND_NONE)
		observed = lb_ops_counter(c->impl)->total(s->prim);
	else if (s->local)
		for (unsigned i = 0; i < c->nthreads; i++)
			observed += atomic_load_explicit(&s->local[i].v, memory_order_relaxed);
	else
		observed = atomic_load_explicit(&s->value, memory_order_relaxed);
	lb_judge_count(out, expected, observed, c->impl->caps & LB_CAP_RACY, "increments");
}

static void counter_teardown(struct lb_wctx *c)
{
	struct counter_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s->local);
	free(s);
	c->state = NULL;
}


const struct lb_workload lb_wl_counter = {
	.name = "counter",
	.summary = "shared counter: acquire, increment, --cs work, release, --think work",
	.checks = "counter == sum of per-thread ops (lost_updates = difference); data=local "
		  "counts only: nothing is shared to lose, so mutual exclusion is checked by "
		  "data=shared",
	.params = counter_params,
	.loops = counter_loops,
	.setup = counter_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = counter_check,
	.teardown = counter_teardown,
};
