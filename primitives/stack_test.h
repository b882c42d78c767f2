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
 * "under oversubscription").  To make every run that moves show it, one
 * pop in LB_TREIBER_STALL_EVERY stalls in the window, yielding the CPU,
 * until what makes ABA has happened: A was pushed again since it read it
 * (each node counts its pushes), is on top once more, and B is no longer
 * under it; or until LB_TREIBER_STALL_MAX yields have passed, or a yield
 * went by without the top moving (nobody else runs, as in the drain).  It is the preemption
 * the issue describes, on demand (one thread at a time, so that the
 * others run): the CAS that follows is the textbook one.  Nodes are type-stable, so a stale read is wrong, never a crash.
 */
#ifndef LB_STACK_TEST_H
#define LB_STACK_TEST_H

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "queue_pool.h"
#include "stack.h"

#define LB_TREIBER_STALL_EVERY 64
#define LB_TREIBER_STALL_MAX 20000

struct lb_treiber_node {
	struct lbq_pnode p;
	struct lb_treiber_node *_Atomic next;
	_Atomic uint64_t pushes; /* incarnations: the stall's witness of reuse */
	uint64_t item;
};

struct lb_treiber {
	alignas(LB_CACHELINE) struct lb_treiber_node *_Atomic top;
	_Atomic int stalling; /* one stalled pop at a time: the others run */
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
	atomic_init(&s->stalling, 0);
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
	atomic_fetch_add_explicit(&n->pushes, 1, memory_order_relaxed);
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
		int idle = 0;
		if (++tc->pops % LB_TREIBER_STALL_EVERY == 0 && next &&
		    atomic_compare_exchange_strong_explicit(&s->stalling, &idle, 1,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			/* The preemption that opens the ABA window: stall
			 * until A was popped and pushed again, is on top,
			 * and no longer has B under it. */
			uint64_t a = atomic_load_explicit(&top->pushes, memory_order_relaxed);
			struct lb_treiber_node *seen = NULL;
			for (unsigned i = 0; i < LB_TREIBER_STALL_MAX; i++) {
				struct lb_treiber_node *now =
					atomic_load_explicit(&s->top, memory_order_relaxed);
				if (i > 0 && now == seen)
					break; /* nobody else runs (the drain): no ABA to wait for */
				seen = now;
				if (atomic_load_explicit(&top->pushes, memory_order_relaxed) != a &&
				    atomic_load_explicit(&s->top, memory_order_relaxed) == top &&
				    atomic_load_explicit(&top->next, memory_order_relaxed) != next)
					break;
				sched_yield();
			}
			atomic_store_explicit(&s->stalling, 0, memory_order_relaxed);
		}
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
