/* Concurrency Kit's stacks (stack.h), each with its own answer to ABA.
 *
 * The ABA problem of a Treiber stack (Treiber, IBM RJ 5118, 1986): a pop
 * reads top node A and its next B, and is delayed; meanwhile A is popped,
 * B is popped, and A's node is pushed again.  The delayed pop's CAS finds
 * A on top, succeeds, and installs B, a node no longer in the stack.
 *
 * ck-stack-mpmc  ck_stack_push_mpmc / ck_stack_pop_mpmc: the top pointer
 *                travels with a generation count, and pop swings both with
 *                one double-width CAS (cmpxchg16b), so the delayed CAS sees
 *                the generation moved and fails.  Nodes may be reused at
 *                once; a stale pop may still read a reused node's next,
 *                which the type-stable pool (queue_pool.h) makes harmless.
 * ck-stack-upmc  ck_stack_push_upmc / ck_stack_pop_upmc: a plain CAS on
 *                the top pointer, correct only while no node comes back
 *                while a pop may hold it ("unique producers": CK's
 *                precondition).  Here a popped node waits out a ck_epoch
 *                grace period before its pool may hand it out again
 *                (ck_epoch_pool.h); pops run inside an epoch section.
 * ck-hp-stack    ck_hp_stack_push_mpmc / ck_hp_stack_pop_mpmc: the popper
 *                publishes the top node in a hazard pointer (Michael,
 *                "Hazard pointers", IEEE TPDS 2004) before reading its
 *                next; a popped node is retired with ck_hp_free and goes
 *                back to the pool only once no hazard pointer names it.
 * ck-fas-stack   the locked stack (stack_locked.h) behind ck_spinlock_fas.
 *
 * Memory order: CK's push orders the node's contents before the CAS that
 * publishes it (ck_pr_fence_store, then a locked CAS), and its pops read a
 * node's next after a load fence; the item is written before the push.
 *
 * ThreadSanitizer (tsan.h): CK's atomics are inline assembly, invisible to
 * it, so a push releases on its node before it links it and the pop that
 * takes the node acquires on it (the edge stack.h promises).  The pops'
 * plain read of a node's next races, by design, with a re-push of that
 * node (it is what the generation, the grace period or the hazard pointer
 * makes harmless); tests/tsan.supp names the three pop functions.
 */
#ifndef LB_STACK_CK_H
#define LB_STACK_CK_H

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ck_hp.h>
#include <ck_hp_stack.h>
#include <ck_stack.h>

#include "ck_epoch_pool.h"
#include "mutex_ck_fas.h"
#include "queue_pool.h"
#include "stack.h"
#include "stack_locked.h"
#include "tsan.h"

#ifndef CK_F_STACK_POP_MPMC
#error "ck_stack_pop_mpmc needs a double-width CAS (CK_F_PR_CAS_PTR_2) on this machine"
#endif

struct lb_ck_stack_node {
	struct lbq_pnode p;
	ck_stack_entry_t e;
	uint64_t item;
	ck_epoch_entry_t retire; /* ck-stack-upmc: waiting out its grace period */
};

static inline struct lb_ck_stack_node *lb_ck_stack_node_of(ck_stack_entry_t *e)
{
	return (struct lb_ck_stack_node *)((char *)e - offsetof(struct lb_ck_stack_node, e));
}

/* The node for a push: reserved, from the caller's home, carrying item and
 * released for TSan (pairs with the taking pop's acquire). */
static inline struct lbq_pnode *lb_ck_stack_node_for(struct lbq_pool *pool,
						     struct lbq_tctx *tc, size_t item_off,
						     uint64_t item)
{
	if (!lbq_reserve(pool))
		return NULL;
	struct lbq_pnode *n = lbq_get(pool, tc->home, tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	*(uint64_t *)(void *)((char *)n + item_off) = item;
	LB_TSAN_RELEASE(n);
	return n;
}

/* ---- ck-stack-mpmc ---- */

struct lb_ck_stack {
	alignas(16) struct ck_stack s; /* head + generation: CAS'd double-width */
	struct lbq_pool pool;
};

static inline int lb_ck_stack_mpmc_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_stack *q = obj;
	ck_stack_init(&q->s);
	return lbq_pool_init_stack(&q->pool, cfg, sizeof(struct lb_ck_stack_node));
}

static inline void lb_ck_stack_mpmc_fini(void *obj)
{
	lbq_pool_fini(&((struct lb_ck_stack *)obj)->pool);
}

static inline int lb_ck_stack_mpmc_thread_init(void *obj, void *t,
					       const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lb_ck_stack *)obj)->pool, t, ti);
}

static inline uint64_t lb_ck_stack_mpmc_capacity(void *obj)
{
	return ((struct lb_ck_stack *)obj)->pool.cap;
}

static inline bool lb_ck_stack_mpmc_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_stack *q = obj;
	struct lbq_pnode *n = lb_ck_stack_node_for(&q->pool, t,
						   offsetof(struct lb_ck_stack_node, item), item);
	if (!n)
		return false;
	ck_stack_push_mpmc(&q->s, &((struct lb_ck_stack_node *)n)->e);
	return true;
}

static inline bool lb_ck_stack_mpmc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_stack *q = obj;
	(void)t;
	ck_stack_entry_t *e = ck_stack_pop_mpmc(&q->s);
	if (!e)
		return false;
	struct lb_ck_stack_node *n = lb_ck_stack_node_of(e);
	LB_TSAN_ACQUIRE(&n->p); /* pairs with push's release on the node */
	*item = n->item;
	lbq_put(&q->pool, &n->p);
	lbq_unreserve(&q->pool);
	return true;
}

static const struct lb_stack_ops lb_ck_stack_mpmc_ops = {
	.base = { .size = sizeof(struct lb_ck_stack), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_ck_stack_mpmc_init, .fini = lb_ck_stack_mpmc_fini,
		  .thread_init = lb_ck_stack_mpmc_thread_init },
	.push = lb_ck_stack_mpmc_push,
	.pop = lb_ck_stack_mpmc_pop,
	.capacity = lb_ck_stack_mpmc_capacity,
};

/* ---- ck-stack-upmc ---- */

struct lb_ck_stack_ep {
	struct ck_stack s;
	struct lbq_pool pool;
	struct lbe ep;
};

struct lb_ck_stack_ep_tctx {
	struct lbq_tctx pool;
	struct lbe_tctx ep;
};

static inline int lb_ck_stack_upmc_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_stack_ep *q = obj;
	ck_stack_init(&q->s);
	int ret = lbq_pool_init_stack(&q->pool, cfg, sizeof(struct lb_ck_stack_node));
	if (ret)
		return ret;
	if (lbe_init(&q->ep, q->pool.nhomes, offsetof(struct lb_ck_stack_node, retire)) != 0) {
		lbq_pool_fini(&q->pool);
		return ENOMEM;
	}
	return 0;
}

static inline void lb_ck_stack_upmc_fini(void *obj)
{
	struct lb_ck_stack_ep *q = obj;
	lbq_pool_fini(&q->pool); /* nodes still waiting are pool memory */
	lbe_fini(&q->ep);
}

static inline int lb_ck_stack_upmc_thread_init(void *obj, void *t,
					       const struct lb_thread_info *ti)
{
	struct lb_ck_stack_ep *q = obj;
	struct lb_ck_stack_ep_tctx *tc = t;
	int ret = lbq_thread_init(&q->pool, &tc->pool, ti);
	if (ret)
		return ret;
	lbe_thread_init(&q->ep, &tc->ep, ti->tid);
	return 0;
}

static inline void lb_ck_stack_upmc_thread_fini(void *obj, void *t)
{
	struct lb_ck_stack_ep *q = obj;
	lbe_poll(&q->ep, &q->pool, &((struct lb_ck_stack_ep_tctx *)t)->ep);
}

static inline uint64_t lb_ck_stack_upmc_capacity(void *obj)
{
	return ((struct lb_ck_stack_ep *)obj)->pool.cap;
}

static inline bool lb_ck_stack_upmc_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_stack_ep *q = obj;
	struct lb_ck_stack_ep_tctx *tc = t;
	struct lbq_pnode *n = lb_ck_stack_node_for(&q->pool, &tc->pool,
						   offsetof(struct lb_ck_stack_node, item), item);
	if (!n)
		return false;
	/* A push reads no node, so it needs no section. */
	ck_stack_push_upmc(&q->s, &((struct lb_ck_stack_node *)n)->e);
	return true;
}

static inline bool lb_ck_stack_upmc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_stack_ep *q = obj;
	struct lb_ck_stack_ep_tctx *tc = t;
	lbe_enter(&tc->ep);
	ck_stack_entry_t *e = ck_stack_pop_upmc(&q->s);
	lbe_exit(&tc->ep);
	if (!e)
		return false;
	struct lb_ck_stack_node *n = lb_ck_stack_node_of(e);
	LB_TSAN_ACQUIRE(&n->p); /* pairs with push's release on the node */
	*item = n->item;
	lbq_unreserve(&q->pool);
	lbe_retire(&q->ep, &q->pool, &tc->ep, &n->p); /* our CAS unlinked it */
	return true;
}

static const struct lb_stack_ops lb_ck_stack_upmc_ops = {
	.base = { .size = sizeof(struct lb_ck_stack_ep),
		  .tctx_size = sizeof(struct lb_ck_stack_ep_tctx),
		  .init = lb_ck_stack_upmc_init, .fini = lb_ck_stack_upmc_fini,
		  .thread_init = lb_ck_stack_upmc_thread_init,
		  .thread_fini = lb_ck_stack_upmc_thread_fini },
	.push = lb_ck_stack_upmc_push,
	.pop = lb_ck_stack_upmc_pop,
	.capacity = lb_ck_stack_upmc_capacity,
};

/* ---- ck-hp-stack ---- */

/* Retired nodes a thread holds before it scans the hazard pointers (CK's
 * regression uses 64 too); the scan reads every thread's slot. */
#define LB_CK_HP_THRESHOLD 64

struct lb_ck_hp_node {
	struct lbq_pnode p;
	ck_stack_entry_t e;
	uint64_t item;
	struct lbq_pool *pool; /* for the destructor, which gets only the node */
	ck_hp_hazard_t hazard; /* while retired */
};

/* One per thread id, registered on first attach and kept (as the epoch
 * records are): its one hazard slot beside it. */
struct lb_ck_hp_rec {
	ck_hp_record_t r; /* cache-line aligned itself */
	void *slot[1];
	bool registered;
};

struct lb_ck_hp {
	struct ck_stack s;
	struct lbq_pool pool;
	struct lb_ck_hp_rec *recs; /* [pool.nhomes] */
	ck_hp_t hp;
};

struct lb_ck_hp_tctx {
	struct lbq_tctx pool;
	ck_hp_record_t *rec;
};

/* ck_hp's destructor: no hazard pointer names the node any more. */
static void lb_ck_hp_reclaimed(void *data)
{
	struct lb_ck_hp_node *n = data;
	lbq_put(n->pool, &n->p);
}

static inline int lb_ck_hp_stack_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_hp *q = obj;
	ck_stack_init(&q->s);
	int ret = lbq_pool_init_stack(&q->pool, cfg, sizeof(struct lb_ck_hp_node));
	if (ret)
		return ret;
	size_t bytes = q->pool.nhomes * sizeof(*q->recs);
	q->recs = lb_shared_aligned_alloc(LB_CACHELINE, (bytes + LB_CACHELINE - 1) /
							     LB_CACHELINE * LB_CACHELINE);
	if (!q->recs) {
		lbq_pool_fini(&q->pool);
		return ENOMEM;
	}
	memset(q->recs, 0, bytes);
	ck_hp_init(&q->hp, CK_HP_STACK_SLOTS_COUNT, LB_CK_HP_THRESHOLD, lb_ck_hp_reclaimed);
	return 0;
}

static inline void lb_ck_hp_stack_fini(void *obj)
{
	struct lb_ck_hp *q = obj;
	lbq_pool_fini(&q->pool); /* retired nodes are pool memory */
	free(q->recs);
}

static inline int lb_ck_hp_stack_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct lb_ck_hp *q = obj;
	struct lb_ck_hp_tctx *tc = t;
	int ret = lbq_thread_init(&q->pool, &tc->pool, ti);
	if (ret)
		return ret;
	struct lb_ck_hp_rec *r = &q->recs[ti->tid];
	if (!r->registered) {
		ck_hp_register(&q->hp, &r->r, r->slot);
		r->registered = true;
	}
	tc->rec = &r->r;
	return 0;
}

static inline void lb_ck_hp_stack_thread_fini(void *obj, void *t)
{
	struct lb_ck_hp_tctx *tc = t;
	(void)obj;
	ck_hp_clear(tc->rec);
	ck_hp_reclaim(tc->rec); /* hand back what no one names */
}

static inline uint64_t lb_ck_hp_stack_capacity(void *obj)
{
	return ((struct lb_ck_hp *)obj)->pool.cap;
}

static inline bool lb_ck_hp_stack_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_hp *q = obj;
	struct lb_ck_hp_tctx *tc = t;
	struct lbq_pnode *n = lb_ck_stack_node_for(&q->pool, &tc->pool,
						   offsetof(struct lb_ck_hp_node, item), item);
	if (!n)
		return false;
	((struct lb_ck_hp_node *)n)->pool = &q->pool;
	LB_TSAN_RELEASE(n); /* again: the pool pointer too (the destructor reads it) */
	ck_hp_stack_push_mpmc(&q->s, &((struct lb_ck_hp_node *)n)->e);
	return true;
}

static inline bool lb_ck_hp_stack_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_hp *q = obj;
	struct lb_ck_hp_tctx *tc = t;
	ck_stack_entry_t *e = ck_hp_stack_pop_mpmc(tc->rec, &q->s);
	if (!e)
		return false;
	struct lb_ck_hp_node *n = (struct lb_ck_hp_node *)((char *)e -
		offsetof(struct lb_ck_hp_node, e));
	LB_TSAN_ACQUIRE(&n->p); /* pairs with push's release on the node */
	*item = n->item;
	lbq_unreserve(&q->pool);
	ck_hp_set(tc->rec, 0, NULL); /* our own slot must not keep it alive */
	ck_hp_free(tc->rec, &n->hazard, n, e);
	return true;
}

static const struct lb_stack_ops lb_ck_hp_stack_ops = {
	.base = { .size = sizeof(struct lb_ck_hp), .tctx_size = sizeof(struct lb_ck_hp_tctx),
		  .init = lb_ck_hp_stack_init, .fini = lb_ck_hp_stack_fini,
		  .thread_init = lb_ck_hp_stack_thread_init,
		  .thread_fini = lb_ck_hp_stack_thread_fini },
	.push = lb_ck_hp_stack_push,
	.pop = lb_ck_hp_stack_pop,
	.capacity = lb_ck_hp_stack_capacity,
};

/* ---- ck-fas-stack ---- */

LB_LOCKED_STACK(ck_fas_stack, lb_ck_fas_ops)

#endif
