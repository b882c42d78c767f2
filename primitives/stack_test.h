/* test-treiber-aba: a Treiber stack (Treiber, IBM RJ 5118, 1986) with no
 * defence against ABA, broken on purpose: it proves that the stack
 * workload's exactly-once check catches ABA.  Hidden: never part of "all"
 * or a backend selection, listed only under --list --all.
 *
 * Push and pop are single-word CASes on the top pointer, as in every
 * textbook, and a popped node is the popper's next push's node (a
 * per-thread free list, before queue_pool.h's pool): reused at once,
 * exactly what stack_ck.h's generation count, grace period and hazard
 * pointers exist to prevent.  A pop that
 * read top A and its next B and is then delayed while A is popped, B is
 * popped and A pushed again succeeds with its stale B: B is handed out
 * twice, or the items pushed in between are lost.
 *
 * The window is a few instructions, which a preemption opens (hence
 * "under oversubscription"); to make every run that moves show it, one
 * pop in LB_TREIBER_YIELD_EVERY yields the CPU between reading next and
 * the CAS, the preemption the issue describes, on demand.  Nodes are
 * type-stable, so a stale read is wrong, never a crash.
 */
#ifndef LB_STACK_TEST_H
#define LB_STACK_TEST_H

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "queue_pool.h"
#include "stack.h"

#define LB_TREIBER_YIELD_EVERY 16

struct lb_treiber_node {
	struct lbq_pnode p;
	struct lb_treiber_node *_Atomic next;
	uint64_t item;
};

struct lb_treiber {
	alignas(LB_CACHELINE) struct lb_treiber_node *_Atomic top;
	struct lbq_pool pool;
};

struct lb_treiber_tctx {
	struct lbq_tctx pool;
	struct lb_treiber_node *spare; /* popped nodes, reused first (LIFO) */
	unsigned pops;
};

static inline int lb_test_treiber_aba_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_treiber *s = obj;
	atomic_init(&s->top, NULL);
	return lbq_pool_init_stack(&s->pool, cfg, sizeof(struct lb_treiber_node));
}

static inline void lb_test_treiber_aba_fini(void *obj)
{
	lbq_pool_fini(&((struct lb_treiber *)obj)->pool);
}

static inline int lb_test_treiber_aba_thread_init(void *obj, void *t,
						  const struct lb_thread_info *ti)
{
	((struct lb_treiber_tctx *)t)->pops = 0;
	((struct lb_treiber_tctx *)t)->spare = NULL;
	return lbq_thread_init(&((struct lb_treiber *)obj)->pool, t, ti);
}

static inline uint64_t lb_test_treiber_aba_capacity(void *obj)
{
	return ((struct lb_treiber *)obj)->pool.cap;
}

static inline bool lb_test_treiber_aba_push(void *obj, void *t, uint64_t item)
{
	struct lb_treiber *s = obj;
	struct lb_treiber_tctx *tc = t;
	if (!lbq_reserve(&s->pool))
		return false;
	struct lb_treiber_node *n = tc->spare;
	if (n)
		tc->spare = n->p.free_next ? (struct lb_treiber_node *)n->p.free_next : NULL;
	else if (!(n = (struct lb_treiber_node *)lbq_get(&s->pool, tc->pool.home, tc->pool.id)))
		lbq_oom();
	n->item = item;
	struct lb_treiber_node *top = atomic_load_explicit(&s->top, memory_order_relaxed);
	do
		atomic_store_explicit(&n->next, top, memory_order_relaxed);
	/* release: the node's item and next before it is seen on top; pairs
	 * with pop's acquire load of top. */
	while (!atomic_compare_exchange_weak_explicit(&s->top, &top, n, memory_order_release,
						      memory_order_relaxed));
	return true;
}

static inline bool lb_test_treiber_aba_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_treiber *s = obj;
	struct lb_treiber_tctx *tc = t;
	/* acquire: pairs with push's release CAS, so next and item are the
	 * pushed ones (of this incarnation of the node, at the time). */
	struct lb_treiber_node *top = atomic_load_explicit(&s->top, memory_order_acquire), *next;
	do {
		if (!top)
			return false;
		next = atomic_load_explicit(&top->next, memory_order_relaxed);
		if (++tc->pops % LB_TREIBER_YIELD_EVERY == 0)
			sched_yield(); /* the preemption that opens the ABA window */
	} while (!atomic_compare_exchange_weak_explicit(&s->top, &top, next, memory_order_acquire,
							memory_order_acquire));
	*item = top->item;
	top->p.free_next = tc->spare ? &tc->spare->p : NULL;
	tc->spare = top;
	lbq_unreserve(&s->pool);
	return true;
}

static const struct lb_stack_ops lb_test_treiber_aba_ops = {
	.base = { .size = sizeof(struct lb_treiber), .tctx_size = sizeof(struct lb_treiber_tctx),
		  .init = lb_test_treiber_aba_init, .fini = lb_test_treiber_aba_fini,
		  .thread_init = lb_test_treiber_aba_thread_init },
	.push = lb_test_treiber_aba_push,
	.pop = lb_test_treiber_aba_pop,
	.capacity = lb_test_treiber_aba_capacity,
};

#endif
