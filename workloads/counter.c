/* counter: the tutorial's shared counter.
 *
 * Each op: acquire, increment the shared counter, --cs work, release,
 * --think work.  For lock-free counters the op is the counter's own add,
 * followed by the same --cs and --think work (there is no section to hold).
 *
 * Check, after every repetition: the counter equals the sum of every
 * thread's ops (warm-up included, since the counter counts those too).
 * The difference is lost_updates.  Any loss fails a correct implementation;
 * none-racy is expected to lose and is reported as racy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

struct counter_state {
	void *prim;
	/* The counter a lock protects, on its own line.  Relaxed atomic load
	 * and store, not ++ on a plain word: with a correct lock they compile
	 * to the same plain moves, and a broken lock (test-busted) then loses
	 * updates without undefined behaviour. */
	alignas(LB_CACHELINE) _Atomic uint64_t value;
};

static inline __attribute__((always_inline)) void
counter_mutex_loop(struct lb_worker *w, const struct lb_mutex_ops *ops)
{
	struct counter_state *s = w->state;
	void *l = s->prim, *t = w->tctx;
	uint64_t n = 0;

	while (lb_running(w, n)) {
		uint64_t t0 = lb_sample_begin(w, n);
		ops->lock(l, t);
		lb_sample_end(w, t0);
		atomic_store_explicit(&s->value,
			atomic_load_explicit(&s->value, memory_order_relaxed) + 1,
			memory_order_relaxed);
		lb_busy(w->cs_iters);
		ops->unlock(l, t);
		lb_busy(w->think_iters);
		lb_publish(w, ++n);
	}
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void
counter_lockfree_loop(struct lb_worker *w, const struct lb_counter_ops *ops)
{
	struct counter_state *s = w->state;
	void *c = s->prim, *t = w->tctx;
	uint64_t n = 0;

	while (lb_running(w, n)) {
		uint64_t t0 = lb_sample_begin(w, n);
		ops->add(c, t);
		lb_sample_end(w, t0);
		lb_busy(w->cs_iters);
		lb_busy(w->think_iters);
		lb_publish(w, ++n);
	}
	lb_finish(w, n);
}

/* One loop per implementation, with its ops as compile-time constants. */
#define COUNTER_MUTEX(sym, id, be, caps, sum) \
	static void counter_loop_##sym(struct lb_worker *w) \
	{ counter_mutex_loop(w, &lb_##sym##_ops); }
#define COUNTER_LOCKFREE(sym, id, be, caps, sum) \
	static void counter_loop_##sym(struct lb_worker *w) \
	{ counter_lockfree_loop(w, &lb_##sym##_ops); }
LB_MUTEX_IMPLS(COUNTER_MUTEX)
LB_COUNTER_IMPLS(COUNTER_LOCKFREE)
LB_NONE_IMPLS(COUNTER_LOCKFREE)

#define COUNTER_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = counter_loop_##sym,
static const lb_loop_fn counter_loops[LB_IMPL_COUNT] = {
	LB_MUTEX_IMPLS(COUNTER_ENTRY)
	LB_COUNTER_IMPLS(COUNTER_ENTRY)
	LB_NONE_IMPLS(COUNTER_ENTRY)
};

static int counter_setup(struct lb_wctx *c)
{
	struct counter_state *s = aligned_alloc(LB_CACHELINE, sizeof(*s));
	if (!s)
		return ENOMEM;
	atomic_init(&s->value, 0);
	int ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
	if (ret) {
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

static int counter_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct counter_state *s = c->state;
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	w->state = s;
	return lb_prim_thread_attach(c->impl, s->prim, &ti, &w->tctx);
}

static void counter_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	lb_prim_thread_detach(c->impl, ((struct counter_state *)c->state)->prim, w->tctx);
	w->tctx = NULL;
}

static void counter_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct counter_state *s = c->state;
	uint64_t expected = 0, observed;

	for (unsigned i = 0; i < c->nthreads; i++)
		expected += ws[i].ops_total;
	if (c->impl->kind == LB_KIND_MUTEX)
		observed = atomic_load_explicit(&s->value, memory_order_relaxed);
	else
		observed = c->impl->ops.counter->total(s->prim);

	out->has_lost = 1;
	out->lost_updates = (int64_t)(expected - observed);
	if (observed == expected)
		out->verdict = LB_OK;
	else if (c->impl->caps & LB_CAP_RACY)
		out->verdict = LB_RACY;
	else
		out->verdict = LB_FAIL;
	if (observed != expected)
		snprintf(out->msg, sizeof(out->msg),
			 "counter is %llu but the threads did %llu increments (%lld lost)",
			 (unsigned long long)observed, (unsigned long long)expected,
			 (long long)out->lost_updates);
}

static void counter_teardown(struct lb_wctx *c)
{
	struct counter_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s);
	c->state = NULL;
}

const struct lb_workload lb_wl_counter = {
	.name = "counter",
	.summary = "shared counter: acquire, increment, --cs work, release, --think work",
	.checks = "counter == sum of per-thread ops (lost_updates = difference)",
	.params = NULL,
	.loops = counter_loops,
	.setup = counter_setup,
	.thread_init = counter_thread_init,
	.thread_fini = counter_thread_fini,
	.check = counter_check,
	.teardown = counter_teardown,
};
