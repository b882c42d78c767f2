/* pool: a semaphore guarding a pool of --param permits identical resources.
 *
 * Each op: acquire a permit (timed: the latency is the wait to get in),
 * count ourselves in (holders = fetch_add(in, 1) + 1, keeping the peak),
 * --cs work holding the resource, count ourselves out, release, --think
 * work.  Drives every semaphore.
 *
 * The holder count is exact under a correct semaphore with relaxed RMWs:
 * a releaser's fetch_sub is sequenced before its release(), which
 * happens-before the acquire() that takes that permit, so the acquirer's
 * fetch_add comes later in the count's modification order.
 *
 * Own columns: peak_holders (the most threads seen inside at once over the
 * run, warm-up included) and permits (the configured size).
 *
 * Check, after every repetition: peak_holders <= permits, and once every
 * thread has left, the semaphore holds exactly permits again (try_acquire
 * succeeds permits times and then fails; they are given back).  With at
 * least as many threads as permits, a peak below permits is noted in the
 * check message but is not a failure: a short run may never fill the pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

#define POOL_MAX_PERMITS 1000

struct pool_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	unsigned permits;
	alignas(LB_CACHELINE) _Atomic unsigned in; /* threads holding a permit */
};

static inline __attribute__((always_inline)) void
pool_loop(struct lb_worker *w, const struct lb_semaphore_ops *ops)
{
	struct pool_state *s = w->state;
	void *l = s->prim, *t = w->tctx;
	unsigned peak = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		ops->acquire(l, t);
		lb_sample_end(w, t0);
		/* relaxed: see the file comment. */
		unsigned holders = atomic_fetch_add_explicit(&s->in, 1, memory_order_relaxed) + 1;
		if (holders > peak)
			peak = holders;
		lb_busy(h.cs_iters);
		atomic_fetch_sub_explicit(&s->in, 1, memory_order_relaxed);
		ops->release(l, t);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	w->wl[0] = peak;
	lb_finish(w, n);
}

#define POOL_LOOP(sym, id, be, caps, sum) \
	static void pool_loop_##sym(struct lb_worker *w) \
	{ pool_loop(w, &lb_##sym##_ops); }
LB_SEMAPHORE_IMPLS(POOL_LOOP)

#define POOL_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = pool_loop_##sym,
static const lb_loop_fn pool_loops[LB_IMPL_COUNT] = {
	LB_SEMAPHORE_IMPLS(POOL_ENTRY)
};

static int pool_setup(struct lb_wctx *c)
{
	struct pool_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	atomic_init(&s->in, 0);
	s->permits = (unsigned)c->param[0];
	c->cfg.permits = s->permits;
	int ret = lb_prim_create(c->impl, &c->cfg, &s->prim);
	if (ret) {
		free(s);
		return ret;
	}
	c->state = s;
	return 0;
}

/* Permits free now, with nobody else running: take them all with
 * try_acquire (at most permits + 1), then give back what was taken. */
static unsigned pool_count_free(const struct lb_impl *impl, void *prim, unsigned permits)
{
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(impl);
	unsigned got = 0;
	while (got <= permits && ops->try_acquire(prim, NULL))
		got++;
	for (unsigned i = 0; i < got; i++)
		ops->release(prim, NULL);
	return got;
}

static void pool_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct pool_state *s = c->state;
	uint64_t peak = 0;

	for (unsigned i = 0; i < c->nthreads; i++)
		if (ws[i].wl[0] > peak)
			peak = ws[i].wl[0];
	unsigned left = atomic_load_explicit(&s->in, memory_order_relaxed);
	/* The semaphores have no per-thread context: NULL is their tctx. */
	int can_count = lb_ops_semaphore(c->impl)->try_acquire && c->impl->prim->tctx_size == 0;
	unsigned free_now = can_count ? pool_count_free(c->impl, s->prim, s->permits) : s->permits;
	lb_judge_pool(out, peak, s->permits, left, free_now, c->nthreads);
}

static void pool_teardown(struct lb_wctx *c)
{
	struct pool_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(s);
	c->state = NULL;
}

static const struct lb_param_spec pool_params[] = {
	{ "permits", "2", "size of the pool: permits the semaphore starts with, 1-1000",
	  "a pool size", 1, POOL_MAX_PERMITS, NULL, NULL },
	{ NULL },
};

static const char *const pool_extra[] = { "peak_holders", "permits", NULL };

const struct lb_workload lb_wl_pool = {
	.name = "pool",
	.summary = "resource pool: acquire one of --param permits, --cs work holding it, "
		   "release, --think work",
	.checks = "peak holders <= permits; all permits back after the run",
	.extra_cols = pool_extra,
	.params = pool_params,
	.loops = pool_loops,
	.setup = pool_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = pool_check,
	.teardown = pool_teardown,
};
