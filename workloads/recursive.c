/* recursive: nested acquisitions of a recursive lock (the tutorial's RLock).
 *
 * Each op: lock --param depth times (default 4; the first, outermost
 * acquisition is the timed one: the later ones are re-entries and never
 * wait), increment the shared counter, --cs work, then check re-entry from
 * inside: trylock must succeed (the owner re-enters without waiting) and
 * is undone with one unlock; then unlock depth times, --think work.  Every
 * unlock must return 0.  Drives every recursive implementation.  Unlock by
 * a thread that does not own the lock is left to the unit tests.
 *
 * Check, after every repetition: the counter equals the sum of every
 * thread's ops (warm-up included; the difference is lost_updates), every
 * unlock returned 0 and every re-entering trylock succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

#define RECURSIVE_MAX_DEPTH 1000

struct recursive_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	unsigned depth;
	/* The counter the lock protects, on its own line; relaxed load and
	 * store as in counter.c. */
	alignas(LB_CACHELINE) _Atomic uint64_t value;
};

static inline __attribute__((always_inline)) void
recursive_loop(struct lb_worker *w, const struct lb_recursive_ops *ops)
{
	struct recursive_state *s = w->state;
	void *l = s->prim, *t = w->tctx;
	const unsigned depth = s->depth;
	uint64_t bad_unlocks = 0, bad_reentries = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		ops->lock(l, t);
		lb_sample_end(w, t0);
		for (unsigned d = 1; d < depth; d++)
			ops->lock(l, t);
		atomic_store_explicit(&s->value,
			atomic_load_explicit(&s->value, memory_order_relaxed) + 1,
			memory_order_relaxed);
		lb_busy(h.cs_iters);
		if (ops->trylock) {
			if (ops->trylock(l, t))
				bad_unlocks += ops->unlock(l, t) != 0;
			else
				bad_reentries++;
		}
		for (unsigned d = 0; d < depth; d++)
			bad_unlocks += ops->unlock(l, t) != 0;
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	w->wl[0] = bad_unlocks;
	w->wl[1] = bad_reentries;
	lb_finish(w, n);
}

#define RECURSIVE_LOOP(sym, id, be, caps, sum) \
	static void recursive_loop_##sym(struct lb_worker *w) \
	{ recursive_loop(w, &lb_##sym##_ops); }
LB_RECURSIVE_IMPLS(RECURSIVE_LOOP)

#define RECURSIVE_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = recursive_loop_##sym,
static const lb_loop_fn recursive_loops[LB_IMPL_COUNT] = {
	LB_RECURSIVE_IMPLS(RECURSIVE_ENTRY)
};

static int recursive_setup(struct lb_wctx *c)
{
	struct recursive_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	atomic_init(&s->value, 0);
	s->depth = (unsigned)c->param[0];
	int ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
	if (ret) {
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

static void recursive_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct recursive_state *s = c->state;
	uint64_t expected = 0, bad_unlocks = 0, bad_reentries = 0;

	for (unsigned i = 0; i < c->nthreads; i++) {
		expected += ws[i].ops_total;
		bad_unlocks += ws[i].wl[0];
		bad_reentries += ws[i].wl[1];
	}
	lb_judge_recursive(out, expected, atomic_load_explicit(&s->value, memory_order_relaxed),
			   bad_unlocks, bad_reentries, s->depth);
}

static void recursive_teardown(struct lb_wctx *c)
{
	struct recursive_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s);
	c->state = NULL;
}

static const struct lb_param_spec recursive_params[] = {
	{ "depth", "4", "nested acquisitions per op, 1-1000", "a nesting depth", 1,
	  RECURSIVE_MAX_DEPTH, NULL, NULL },
	{ NULL },
};

const struct lb_workload lb_wl_recursive = {
	.name = "recursive",
	.summary = "nested locking: lock --param depth times, increment, --cs work, "
		   "re-enter with trylock, unlock depth times",
	.checks = "counter == sum of ops; every unlock returned 0; the owner's trylock "
		  "re-entered",
	.params = recursive_params,
	.loops = recursive_loops,
	.setup = recursive_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = recursive_check,
	.teardown = recursive_teardown,
};
