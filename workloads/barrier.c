/* barrier: phases per second, and no thread ever passes early.
 *
 * Each op is one phase: a thread announces phase k (phase[tid] = k), waits
 * at the barrier, then checks that every thread has announced at least k:
 * anyone still below k means the barrier let this thread through before
 * all had arrived.  The latency sample is the time spent in the barrier.
 *
 * Stopping: a barrier needs every thread, so all must leave after the same
 * phase.  The first thread to notice the end of the window publishes
 * stop_phase = its phase + 2; every thread is then at most one phase
 * behind or ahead of it and sees stop_phase before its next wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

struct barrier_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	unsigned n;
	_Atomic uint64_t stop_phase; /* 0: not yet decided */
	_Atomic uint64_t violations;
	struct { alignas(LB_CACHELINE) _Atomic uint64_t v; } *phase; /* [n] */
};

static inline __attribute__((always_inline)) void
barrier_loop(struct lb_worker *w, const struct lb_barrier_ops *ops)
{
	struct barrier_state *s = w->state;
	void *b = s->prim, *t = w->tctx;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, bad = 0;

	for (;;) {
		if (!lb_running(w, &h, n)) {
			uint64_t none = 0;
			/* relaxed: the barrier itself orders everything after it. */
			atomic_compare_exchange_strong_explicit(&s->stop_phase, &none, n + 2,
				memory_order_relaxed, memory_order_relaxed);
		}
		uint64_t sp = atomic_load_explicit(&s->stop_phase, memory_order_relaxed);
		if (sp && n >= sp)
			break;
		/* relaxed: the barrier's own release/acquire publishes it. */
		atomic_store_explicit(&s->phase[w->tid].v, n + 1, memory_order_relaxed);
		/* The phases after the stop (up to stop_phase) are not
		 * measured: no latency sample for them. */
		uint64_t t0 = sp ? 0 : lb_sample_begin(w, &h, n);
		ops->wait(b, t);
		lb_sample_end(w, t0);
		for (unsigned j = 0; j < s->n; j++)
			if (atomic_load_explicit(&s->phase[j].v, memory_order_relaxed) < n + 1)
				bad++;
		lb_publish(w, ++n);
	}
	if (bad)
		atomic_fetch_add(&s->violations, bad);
	lb_finish(w, n);
}

#define BARRIER_LOOP(sym, id, be, caps, sum) \
	static void barrier_loop_##sym(struct lb_worker *w) \
	{ barrier_loop(w, &lb_##sym##_ops); }
LB_BARRIER_IMPLS(BARRIER_LOOP)

#define BARRIER_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = barrier_loop_##sym,
static const lb_loop_fn barrier_loops[LB_IMPL_COUNT] = {
	LB_BARRIER_IMPLS(BARRIER_ENTRY)
};

static int barrier_setup(struct lb_wctx *c)
{
	struct barrier_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	s->n = c->nthreads;
	atomic_init(&s->stop_phase, 0);
	atomic_init(&s->violations, 0);
	s->phase = lb_cache_alloc(c->nthreads * sizeof(*s->phase));
	if (!s->phase) {
		free(s);
		return ENOMEM;
	}
	for (unsigned i = 0; i < c->nthreads; i++)
		atomic_init(&s->phase[i].v, 0);
	int ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
	if (ret) {
		free(s->phase);
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

static void barrier_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct barrier_state *s = c->state;
	uint64_t *phases = calloc(c->nthreads, sizeof(*phases));

	if (!phases) {
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "out of memory for the check");
		return;
	}
	for (unsigned i = 0; i < c->nthreads; i++)
		phases[i] = ws[i].ops_total;
	lb_judge_barrier(out, atomic_load(&s->violations), phases, c->nthreads);
	free(phases);
}

static void barrier_teardown(struct lb_wctx *c)
{
	struct barrier_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s->phase);
	free(s);
	c->state = NULL;
}

static const char *const barrier_extra[] = { "phases_total", NULL };

const struct lb_workload lb_wl_barrier = {
	.name = "barrier",
	.summary = "phases per second through a barrier (ops/s per thread = phases/s)",
	.checks = "no thread leaves phase k before all arrived; all threads run the same phases",
	.extra_cols = barrier_extra,
	.loops = barrier_loops,
	.setup = barrier_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = barrier_check,
	.teardown = barrier_teardown,
};
