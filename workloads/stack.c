/* stack: every thread pushes an item of its own and pops one, in a loop:
 * the stack kind alone, as the concurrent data-structure benchmarks
 * (Synchrobench, ASCYLIB) run their stacks.
 *
 * An op is one push and one pop (the sampled latency is the pair's).
 * --param prefill=N pushes N items first (from the setup thread), so the
 * pops work on a deep stack instead of the few items in flight.
 *
 * Items: thread t's i-th item (i from 1) is t << 40 | i; the prefill's are
 * tagged as thread nthreads's.  Each thread keeps, of what it pops, the
 * count, sum and xor and a count per source; after the run check() pops
 * what is left (the drain) with thread 0's context.
 *
 * Check, after every repetition: a pop never finds the stack empty (each
 * popping thread's own push is in it: the stack holds prefill + pushes -
 * pops >= 1 item at every pop's linearization point), the drain empties
 * the stack within as many pops as items were pushed, and every pushed
 * item was popped exactly once (prodcons' judge: per-source counts, sum
 * and xor of the items).  lost_updates = items pushed - items popped.
 * test-treiber-aba, a Treiber stack without ABA protection, fails it.
 *
 * Own columns: prefill, empty_pops (pops that found the stack empty: 0
 * unless broken) and left (items the drain found after the run: the
 * prefill, unless broken).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

#define STACK_MAX_PREFILL 1000000
#define STACK_SEQ_MASK ((UINT64_C(1) << LB_PC_SEQ_BITS) - 1)

/* One per thread, on its own cache lines: written by its thread only. */
struct stack_thread {
	alignas(LB_CACHELINE) uint64_t pushed;
	uint64_t empty_pops;
	struct lb_pc_consumer pops; /* what it popped; .from is from[] below */
	uint64_t *from;             /* [nthreads + 1] */
};

struct stack_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	unsigned nthreads;
	uint64_t prefill;
	struct stack_thread *th; /* [nthreads] */
};

static inline __attribute__((always_inline)) void stack_take(struct stack_thread *th,
							     unsigned nsrc, uint64_t item)
{
	uint64_t src = item >> LB_PC_SEQ_BITS;
	if (__builtin_expect(src >= nsrc || (item & STACK_SEQ_MASK) == 0, 0)) {
		if (!th->pops.alien++)
			th->pops.alien_item = item;
		return;
	}
	th->from[src]++;
	th->pops.items++;
	th->pops.sum += item;
	th->pops.xor_ ^= item;
}

static inline __attribute__((always_inline)) void
stack_loop(struct lb_worker *w, const struct lb_stack_ops *ops)
{
	struct stack_state *s = w->state;
	struct stack_thread *th = &s->th[w->tid];
	void *l = s->prim, *t = w->tctx;
	const uint64_t tag = (uint64_t)w->tid << LB_PC_SEQ_BITS;
	const unsigned nsrc = s->nthreads + 1;
	uint64_t seq = 0, empty = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n), item;
		if (__builtin_expect(!ops->push(l, t, tag | (seq + 1)), 0))
			break; /* unbounded: never (stack_setup asks for no bound) */
		seq++;
		lb_busy(h.cs_iters);
		if (ops->pop(l, t, &item))
			stack_take(th, nsrc, item);
		else
			empty++;
		lb_sample_end(w, t0);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	th->pushed = seq;
	th->empty_pops = empty;
	lb_finish(w, n);
}

#define STACK_LOOP(sym, id, be, caps, sum) \
	static void stack_loop_##sym(struct lb_worker *w) \
	{ stack_loop(w, &lb_##sym##_ops); }
LB_STACK_IMPLS(STACK_LOOP)

#define STACK_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = stack_loop_##sym,
static const lb_loop_fn stack_loops[LB_IMPL_COUNT] = {
	LB_STACK_IMPLS(STACK_ENTRY)
};

static void stack_free(struct stack_state *s)
{
	for (unsigned i = 0; s->th && i <= s->nthreads; i++)
		free(s->th[i].from);
	free(s->th);
	free(s);
}

/* The setup thread's (and the drain's) context: thread 0's, attached
 * while no worker runs. */
static int stack_attach0(struct lb_wctx *c, void **t)
{
	struct lb_thread_info ti = { .tid = 0, .cpu = -1, .cluster = 0 };
	return lb_prim_thread_attach(c->impl, ((struct stack_state *)c->state)->prim, &ti, t);
}

static int stack_setup(struct lb_wctx *c)
{
	struct stack_state *s = lb_cache_alloc(sizeof(*s));
	int ret;
	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	s->nthreads = c->nthreads;
	s->prefill = c->param[0];
	/* th[nthreads] is the drain's */
	s->th = lb_shared_aligned_alloc(LB_CACHELINE, (c->nthreads + 1) * sizeof(*s->th));
	if (!s->th) {
		free(s);
		return ENOMEM;
	}
	memset(s->th, 0, (c->nthreads + 1) * sizeof(*s->th));
	for (unsigned i = 0; i <= c->nthreads; i++)
		if (!(s->th[i].from = calloc(c->nthreads + 1, sizeof(uint64_t)))) {
			stack_free(s);
			return ENOMEM;
		}
	c->cfg.permits = 0; /* unbounded (stack.h) */
	if ((ret = lb_prim_create(c->impl, &c->cfg, &s->prim)) != 0) {
		stack_free(s);
		return ret;
	}
	c->state = s;
	void *t;
	if ((ret = stack_attach0(c, &t)) != 0) {
		lb_prim_destroy(c->impl, s->prim);
		stack_free(s);
		c->state = NULL;
		return ret;
	}
	const struct lb_stack_ops *ops = lb_ops_stack(c->impl);
	uint64_t tag = (uint64_t)c->nthreads << LB_PC_SEQ_BITS;
	for (uint64_t i = 1; i <= s->prefill; i++)
		ops->push(s->prim, t, tag | i);
	lb_prim_thread_detach(c->impl, s->prim, t);
	return 0;
}

static void stack_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct stack_state *s = c->state;
	const unsigned n = s->nthreads;
	struct stack_thread *drain = &s->th[n];
	uint64_t total = s->prefill, empty = 0, left = 0;
	uint64_t *pushed = calloc(n + 1, sizeof(*pushed));
	struct lb_pc_consumer *cons = calloc(n + 1, sizeof(*cons));
	(void)ws;
	if (!pushed || !cons) {
		free(pushed);
		free(cons);
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "out of memory checking the run");
		return;
	}

	for (unsigned i = 0; i < n; i++) {
		pushed[i] = s->th[i].pushed;
		total += pushed[i];
		empty += s->th[i].empty_pops;
	}
	pushed[n] = s->prefill;
	/* The drain: at most one pop more than items were pushed, so that a
	 * stack broken into a cycle cannot keep it going. */
	void *t;
	int drained = 0;
	if (stack_attach0(c, &t) == 0) {
		const struct lb_stack_ops *ops = lb_ops_stack(c->impl);
		uint64_t item;
		while (left <= total && ops->pop(s->prim, t, &item)) {
			stack_take(drain, n + 1, item);
			left++;
		}
		drained = left <= total;
		lb_prim_thread_detach(c->impl, s->prim, t);
	}
	for (unsigned i = 0; i <= n; i++) {
		cons[i] = s->th[i].pops;
		cons[i].from = s->th[i].from;
	}
	lb_judge_prodcons(out, n + 1, n + 1, pushed, cons);
	free(pushed);
	free(cons);
	out->extra[0] = (double)s->prefill;
	out->extra[1] = (double)empty;
	out->extra[2] = (double)left;
	if (out->verdict != LB_OK)
		return;
	if (empty)
		snprintf(out->msg, sizeof(out->msg), "%llu pops found the stack empty while it "
			 "held at least the popper's own item", (unsigned long long)empty);
	else if (!drained)
		snprintf(out->msg, sizeof(out->msg), "after the run the stack did not run empty "
			 "within %llu pops (as many as items were pushed): it is broken into a "
			 "cycle", (unsigned long long)total + 1);
	else
		return;
	out->verdict = LB_FAIL;
}

static void stack_teardown(struct lb_wctx *c)
{
	struct stack_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	stack_free(s);
	c->state = NULL;
}

static const struct lb_param_spec stack_params[] = {
	{ "prefill", "0", "items pushed before the threads start, 0-1000000", "an item count",
	  0, STACK_MAX_PREFILL, NULL, NULL },
	{ NULL },
};

static const char *const stack_extra[] = { "prefill", "empty_pops", "left", NULL };

const struct lb_workload lb_wl_stack = {
	.name = "stack",
	.summary = "each thread pushes an item and pops one, in a loop (an op is the pair); "
		   "--param prefill=N items first",
	.checks = "every item popped exactly once (per-thread counts, sum and xor), no pop "
		  "finds the stack empty, the stack drains",
	.extra_cols = stack_extra,
	.params = stack_params,
	.loops = stack_loops,
	.setup = stack_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = stack_check,
	.teardown = stack_teardown,
};
