/* deadlock: the tutorial's two trains at a crossing.
 *
 * Two locks, A and B, of any mutex implementation.  Even threads take A
 * then B, odd threads B then A (--param order=opposite, the default); each
 * holds its first lock for --param hold_ns (default 20000) before reaching
 * for the second, so the trains meet in the crossing almost at once.  Once
 * thread 0 holds A and waits for B while thread 1 holds B and waits for A,
 * neither can move: the watchdog sees no progress for --watchdog seconds
 * (2 by default here), prints each thread's state and the wait-for cycle
 * ("thread 0 holds A, waits for B, held by thread 1; ..."), and the run
 * exits 1.
 *
 * --param order=fixed is the fix: every thread takes A before B, there is
 * no cycle, and the run completes and is verified like counter (the shared
 * counter, incremented holding both locks, equals the sum of ops).
 *
 * Each thread publishes what it holds and waits for in its own slot; the
 * watchdog reads them when it fires (relaxed: a report, not a check).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

enum { LOCK_A = 0, LOCK_B = 1, NLOCKS = 2, NONE = -1 };

struct dl_slot {
	alignas(LB_CACHELINE) _Atomic int holds[NLOCKS]; /* 1 if held */
	_Atomic int waits;                                /* lock or NONE */
};

struct dl_state {
	void *lock[NLOCKS];
	int fixed;
	uint64_t hold_iters;
	alignas(LB_CACHELINE) _Atomic uint64_t value;
	struct dl_slot *slot; /* [nthreads] */
};

struct dl_tctx {
	void *t[NLOCKS];
};

static inline __attribute__((always_inline)) void
deadlock_loop(struct lb_worker *w, const struct lb_mutex_ops *ops)
{
	struct dl_state *s = w->state;
	struct dl_tctx *c = w->tctx;
	struct dl_slot *me = &s->slot[w->tid];
	int first = (s->fixed || w->tid % 2 == 0) ? LOCK_A : LOCK_B, second = 1 - first;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		atomic_store_explicit(&me->waits, first, memory_order_relaxed);
		ops->lock(s->lock[first], c->t[first]);
		atomic_store_explicit(&me->holds[first], 1, memory_order_relaxed);
		lb_busy(s->hold_iters);
		atomic_store_explicit(&me->waits, second, memory_order_relaxed);
		ops->lock(s->lock[second], c->t[second]);
		atomic_store_explicit(&me->holds[second], 1, memory_order_relaxed);
		atomic_store_explicit(&me->waits, NONE, memory_order_relaxed);
		lb_sample_end(w, t0);
		atomic_store_explicit(&s->value,
			atomic_load_explicit(&s->value, memory_order_relaxed) + 1,
			memory_order_relaxed);
		lb_busy(h.cs_iters);
		atomic_store_explicit(&me->holds[second], 0, memory_order_relaxed);
		ops->unlock(s->lock[second], c->t[second]);
		atomic_store_explicit(&me->holds[first], 0, memory_order_relaxed);
		ops->unlock(s->lock[first], c->t[first]);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	lb_finish(w, n);
}

#define DL_LOOP(sym, id, be, caps, sum) \
	static void deadlock_loop_##sym(struct lb_worker *w) \
	{ deadlock_loop(w, &lb_##sym##_ops); }
LB_MUTEX_IMPLS(DL_LOOP)

#define DL_ENTRY(sym, id, be, caps, sum) \
	[LB_IMPL_##sym] = ((caps) & LB_CAP_HIDDEN) ? NULL : deadlock_loop_##sym,
static const lb_loop_fn deadlock_loops[LB_IMPL_COUNT] = {
	LB_MUTEX_IMPLS(DL_ENTRY)
};

enum { DEADLOCK_ORDER, DEADLOCK_HOLD_NS };
enum { DEADLOCK_OPPOSITE, DEADLOCK_FIXED }; /* the words of order= */
static const char *const deadlock_order_words[] = { "opposite", "fixed", NULL };
static const struct lb_param_spec deadlock_params[] = {
	[DEADLOCK_ORDER] = { "order", "opposite", "opposite (odd threads take B first: "
			     "deadlocks) or fixed (A then B)", "a lock order", 0, 0, NULL,
			     deadlock_order_words },
	[DEADLOCK_HOLD_NS] = { "hold_ns", "20000", "time holding the first lock before taking "
			       "the second, 0-1000000000", "a duration", 0, 1000000000u, NULL,
			       NULL },
	{ NULL },
};

static int deadlock_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	(void)vals;
	if (nthreads < 2) {
		snprintf(err, len, "deadlock needs at least 2 threads (two trains); got %u", nthreads);
		return -1;
	}
	return 0;
}

static int deadlock_setup(struct lb_wctx *c)
{
	struct dl_state *s = lb_cache_alloc(sizeof(*s));
	int ret;

	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	s->fixed = c->param[DEADLOCK_ORDER] == DEADLOCK_FIXED;
	s->hold_iters = lb_busy_iters(c->param[DEADLOCK_HOLD_NS]);
	atomic_init(&s->value, 0);
	s->slot = lb_cache_alloc(c->nthreads * sizeof(*s->slot));
	if (!s->slot) {
		free(s);
		return ENOMEM;
	}
	for (unsigned i = 0; i < c->nthreads; i++) {
		atomic_init(&s->slot[i].holds[0], 0);
		atomic_init(&s->slot[i].holds[1], 0);
		atomic_init(&s->slot[i].waits, NONE);
	}
	for (int l = 0; l < NLOCKS; l++) {
		if ((ret = lb_prim_create(c->impl, &c->cfg, &s->lock[l])) != 0) {
			if (l)
				lb_prim_destroy(c->impl, s->lock[0]);
			free(s->slot);
			free(s);
			return ret;
		}
	}
	c->state = s;
	return 0;
}

static int deadlock_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct dl_state *s = c->state;
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	struct dl_tctx *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return ENOMEM;
	for (int l = 0; l < NLOCKS; l++)
		if ((ret = lb_prim_thread_attach(c->impl, s->lock[l], &ti, &t->t[l])) != 0) {
			if (l)
				lb_prim_thread_detach(c->impl, s->lock[0], t->t[0]);
			free(t);
			return ret;
		}
	w->state = s;
	w->tctx = t;
	return 0;
}

static void deadlock_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	struct dl_state *s = c->state;
	struct dl_tctx *t = w->tctx;
	for (int l = 0; l < NLOCKS; l++)
		lb_prim_thread_detach(c->impl, s->lock[l], t->t[l]);
	free(t);
	w->tctx = NULL;
}

static void deadlock_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct dl_state *s = c->state;
	uint64_t expected = 0;
	for (unsigned i = 0; i < c->nthreads; i++)
		expected += ws[i].ops_total;
	lb_judge_count(out, expected, atomic_load(&s->value), false, "crossings");
}

static void deadlock_teardown(struct lb_wctx *c)
{
	struct dl_state *s = c->state;
	if (!s)
		return;
	for (int l = 0; l < NLOCKS; l++)
		lb_prim_destroy(c->impl, s->lock[l]);
	free(s->slot);
	free(s);
	c->state = NULL;
}

/* Who holds lock l, or -1. */
static int deadlock_holder_of(const struct dl_state *s, unsigned n, int l)
{
	for (unsigned i = 0; i < n; i++)
		if (atomic_load_explicit(&s->slot[i].holds[l], memory_order_relaxed))
			return (int)i;
	return -1;
}

static enum lb_diag_kind deadlock_describe(struct lb_wctx *c, struct lb_worker *ws, FILE *f)
{
	static const char name[NLOCKS] = { 'A', 'B' };
	struct dl_state *s = c->state;
	unsigned n = c->nthreads;
	(void)ws;

	fprintf(f, "  locks held and wanted:\n");
	for (unsigned i = 0; i < n; i++) {
		int wt = atomic_load_explicit(&s->slot[i].waits, memory_order_relaxed);
		int ha = atomic_load_explicit(&s->slot[i].holds[LOCK_A], memory_order_relaxed);
		int hb = atomic_load_explicit(&s->slot[i].holds[LOCK_B], memory_order_relaxed);
		fprintf(f, "    thread %u holds %s%s%s", i, ha ? "A" : "", ha && hb ? "," : "",
			hb ? "B" : (!ha ? "nothing" : ""));
		if (wt != NONE) {
			int h = deadlock_holder_of(s, n, wt);
			if (h >= 0)
				fprintf(f, ", waits for %c (held by thread %d)", name[wt], h);
			else
				fprintf(f, ", waits for %c", name[wt]);
		}
		fputc('\n', f);
	}
	/* Follow the wait-for graph from each thread; a revisit is a cycle. */
	for (unsigned start = 0; start < n; start++) {
		int seen[64] = { 0 }, t = (int)start, steps = 0;
		while (t >= 0 && t < 64 && !seen[t] && steps++ < 64) {
			seen[t] = 1;
			int wt = atomic_load_explicit(&s->slot[t].waits, memory_order_relaxed);
			t = wt == NONE ? -1 : deadlock_holder_of(s, n, wt);
		}
		if (t == (int)start) {
			fprintf(f, "  DEADLOCK: wait-for cycle: thread %u", start);
			int u = (int)start;
			do {
				int wt = atomic_load_explicit(&s->slot[u].waits, memory_order_relaxed);
				u = deadlock_holder_of(s, n, wt);
				fprintf(f, " -> (lock %c) -> thread %d", name[wt], u);
			} while (u != (int)start && u >= 0);
			fprintf(f, "\n  fix: take the locks in one global order "
				"(--param order=fixed)\n");
			return LB_DIAG_DEADLOCK;
		}
	}
	fprintf(f, "  no wait-for cycle among the locks: a stall, not a lock-order deadlock\n");
	return LB_DIAG_NONE;
}

const struct lb_workload lb_wl_deadlock = {
	.name = "deadlock",
	.summary = "two trains at a crossing: locks A and B taken in opposite orders",
	.checks = "the watchdog reports the wait-for cycle and exits 1; order=fixed runs clean "
		  "(counter == crossings)",
	.params = deadlock_params,
	.validate = deadlock_validate,
	.loops = deadlock_loops,
	.setup = deadlock_setup,
	.thread_init = deadlock_thread_init,
	.thread_fini = deadlock_thread_fini,
	.check = deadlock_check,
	.teardown = deadlock_teardown,
	.describe_stall = deadlock_describe,
	.watchdog_s = 2,
};
