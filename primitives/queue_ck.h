/* Concurrency Kit's queues through the queue kind (queue.h).
 *
 * ck-ring-spsc  ck_ring in its single-producer single-consumer mode
 *               (ck_ring_enqueue_spsc / ck_ring_dequeue_spsc): no atomic
 *               RMW at all, a load and a store on each side.  One pushing
 *               and one popping thread per object (ops.spsc).
 * ck-ring-mpmc  the same ring, multi-producer multi-consumer
 *               (ck_ring_enqueue_mpmc / ck_ring_dequeue_mpmc): producers
 *               reserve a slot by CAS on p_head, then wait for earlier
 *               producers to publish (p_tail, in order: a preempted producer
 *               holds up the ones behind it); consumers CAS c_head.
 * ck-fifo-mpmc  ck_fifo_mpmc, the Michael-Scott linked queue with
 *               generation-tagged pointers (double-width CAS): unbounded,
 *               so bounded here by queue_pool.h's count, with nodes
 *               recycled through its pool; dequeue hands back the old stub
 *               node ("garbage"), which is what gets recycled, once no
 *               thread can still hold it (below).
 *
 * ck_fifo_mpmc needs safe memory reclamation.  Its tags protect the head
 * and tail, but a node's own `next` generation is reset to 0 by every
 * enqueue of that node.  An enqueuer that read tail node X and X->next =
 * {NULL, 0}, then was preempted before its link CAS, finds the same
 * {NULL, 0} if X has meanwhile been dequeued, recycled and is being
 * enqueued again (reset, not yet linked): its CAS succeeds and hangs its
 * item off a node that is not in the queue yet.  The item then comes out
 * behind X, after items its producer pushed later: FIFO order broken by a
 * correct library used without reclamation.  tests/test_prim_fifo.c shows
 * it: with nodes reused at once, and a yield injected before each link
 * CAS, every run broke FIFO order; plain runs of minutes on 2 CPUs never
 * did (the window is a few instructions), which is why it went unseen.
 *
 * So, as CK intends, nodes go through ck_epoch (ck_epoch_pool.h): every
 * push and pop runs inside an epoch section, a dequeued stub is retired,
 * and it returns to its home in the pool only after every thread that was
 * inside a section when it was unlinked has left it, so a stale
 * enqueuer's X is never reset under it.
 *
 * ThreadSanitizer (tsan.h): a push releases on the object before it
 * enqueues, a pop that took an item acquires on it, so what a producer
 * wrote before push() happens-before the pop (queue.h).  On the object,
 * not per item: ck_ring copies items by value and ck_fifo_mpmc hands back
 * a different node than the one pushed, so no per-item address survives
 * the trip; a pop thus also acquires the pushes of items it did not take.
 * A ring push that finds the ring full has released for nothing (nothing
 * says in advance that it will fail): both can only hide a race, never
 * report a false one.  ck_epoch needs nothing: our code touches a node
 * only before its push and after its grace period (lbq_get, lbq_put),
 * never inside a section.
 *
 * ck_ring's size must be a power of two and it holds size - 1 items, so
 * the rings hold the requested capacity rounded up to 2^n - 1 (capacity()
 * says how many; give 2^n - 1 for an exact match).  Items travel as the
 * ring's void * entries, hence 64-bit pointers only.
 */
#ifndef LB_QUEUE_CK_H
#define LB_QUEUE_CK_H

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ck_fifo.h>
#include <ck_ring.h>
#include <ck_stack.h>

#include "ck_epoch_pool.h"
#include "queue.h"
#include "queue_pool.h"
#include "smr_msq.h"
#include "tsan.h"

_Static_assert(sizeof(void *) == sizeof(uint64_t), "ck_ring entries carry 64-bit items");

#ifndef CK_F_FIFO_MPMC
#error "ck_fifo_mpmc needs a double-width CAS (CK_F_PR_CAS_PTR_2) on this machine"
#endif

/* ---- ck_ring ---- */

struct lb_ck_ring {
	struct ck_ring ring;
	struct ck_ring_buffer *buf;
};

static inline int lb_ck_ring_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_ring *r = obj;
	uint64_t want = (cfg->permits ? cfg->permits : 1) + (uint64_t)1;
	unsigned size = 2;
	if (want > (1u << 30))
		return EINVAL;
	while (size < want)
		size *= 2;
	size_t bytes = (size * sizeof(*r->buf) + LB_CACHELINE - 1) / LB_CACHELINE * LB_CACHELINE;
	r->buf = lb_shared_aligned_alloc(LB_CACHELINE, bytes);
	if (!r->buf)
		return ENOMEM;
	memset(r->buf, 0, bytes);
	ck_ring_init(&r->ring, size);
	return 0;
}

static inline void lb_ck_ring_fini(void *obj)
{
	free(((struct lb_ck_ring *)obj)->buf);
}

static inline uint64_t lb_ck_ring_capacity(void *obj)
{
	return ck_ring_capacity(&((struct lb_ck_ring *)obj)->ring) - 1;
}

static inline bool lb_ck_ring_spsc_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_ring *r = obj;
	(void)t;
	LB_TSAN_RELEASE(r); /* pairs with pop's acquire */
	return ck_ring_enqueue_spsc(&r->ring, r->buf, (void *)(uintptr_t)item);
}

static inline bool lb_ck_ring_spsc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_ring *r = obj;
	void *v;
	(void)t;
	if (!ck_ring_dequeue_spsc(&r->ring, r->buf, &v))
		return false;
	LB_TSAN_ACQUIRE(r); /* pairs with push's release */
	*item = (uintptr_t)v;
	return true;
}

static inline bool lb_ck_ring_mpmc_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_ring *r = obj;
	(void)t;
	LB_TSAN_RELEASE(r); /* pairs with pop's acquire */
	return ck_ring_enqueue_mpmc(&r->ring, r->buf, (void *)(uintptr_t)item);
}

static inline bool lb_ck_ring_mpmc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_ring *r = obj;
	void *v;
	(void)t;
	if (!ck_ring_dequeue_mpmc(&r->ring, r->buf, &v))
		return false;
	LB_TSAN_ACQUIRE(r); /* pairs with push's release */
	*item = (uintptr_t)v;
	return true;
}

static const struct lb_queue_ops lb_ck_ring_spsc_ops = {
	.base = { .size = sizeof(struct lb_ck_ring), .init = lb_ck_ring_init,
		  .fini = lb_ck_ring_fini },
	.push = lb_ck_ring_spsc_push,
	.pop = lb_ck_ring_spsc_pop,
	.capacity = lb_ck_ring_capacity,
	.spsc = true,
};

static const struct lb_queue_ops lb_ck_ring_mpmc_ops = {
	.base = { .size = sizeof(struct lb_ck_ring), .init = lb_ck_ring_init,
		  .fini = lb_ck_ring_fini },
	.push = lb_ck_ring_mpmc_push,
	.pop = lb_ck_ring_mpmc_pop,
	.capacity = lb_ck_ring_capacity,
};

/* ---- ck_fifo_mpmc ---- */

struct lb_ck_fifo_node {
	struct lbq_pnode p;
	ck_fifo_mpmc_entry_t e;   /* 16-byte aligned: its next is CAS'd double-width */
	ck_epoch_entry_t retire; /* waiting out its grace period */
};

struct lb_ck_fifo {
	struct ck_fifo_mpmc q;
	struct lbq_pool pool;
	struct lbe ep;
};

struct lb_ck_fifo_tctx {
	struct lbq_tctx pool;
	struct lbe_tctx ep;
};

static inline struct lb_ck_fifo_node *lb_ck_fifo_node_of(ck_fifo_mpmc_entry_t *e)
{
	return (struct lb_ck_fifo_node *)((char *)e - offsetof(struct lb_ck_fifo_node, e));
}

static inline int lb_ck_fifo_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_fifo *f = obj;
	int ret = lbq_pool_init(&f->pool, cfg, sizeof(struct lb_ck_fifo_node));
	if (ret)
		return ret;
	if (lbe_init(&f->ep, f->pool.nhomes, offsetof(struct lb_ck_fifo_node, retire)) != 0) {
		lbq_pool_fini(&f->pool);
		return ENOMEM;
	}
	/* The stub comes from home 0's pool like any node (this runs before
	 * the threads start), so fini frees it with the rest. */
	struct lbq_pnode *stub = lbq_get(&f->pool, &f->pool.homes[0], 0);
	if (!stub) {
		lbe_fini(&f->ep);
		lbq_pool_fini(&f->pool);
		return ENOMEM;
	}
	ck_fifo_mpmc_init(&f->q, &((struct lb_ck_fifo_node *)stub)->e);
	return 0;
}

static inline void lb_ck_fifo_fini(void *obj)
{
	struct lb_ck_fifo *f = obj;
	/* Nodes still waiting in the records are pool memory: freed here. */
	lbq_pool_fini(&f->pool);
	lbe_fini(&f->ep);
}

static inline int lb_ck_fifo_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct lb_ck_fifo *f = obj;
	struct lb_ck_fifo_tctx *tc = t;
	int ret = lbq_thread_init(&f->pool, &tc->pool, ti);
	if (ret)
		return ret;
	lbe_thread_init(&f->ep, &tc->ep, ti->tid);
	return 0;
}

static inline void lb_ck_fifo_thread_fini(void *obj, void *t)
{
	/* Hand back what is ready; the record stays registered, inactive. */
	struct lb_ck_fifo *f = obj;
	lbe_poll(&f->ep, &f->pool, &((struct lb_ck_fifo_tctx *)t)->ep);
}

static inline uint64_t lb_ck_fifo_capacity(void *obj)
{
	return ((struct lb_ck_fifo *)obj)->pool.cap;
}

static inline bool lb_ck_fifo_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_fifo *f = obj;
	struct lb_ck_fifo_tctx *tc = t;
	if (!lbq_reserve(&f->pool))
		return false;
	struct lbq_pnode *n = lbq_get(&f->pool, tc->pool.home, tc->pool.id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	/* Inside a section: the tail node we read cannot be recycled (and
	 * its next reset) before our link CAS. */
	LB_TSAN_RELEASE(f); /* pairs with pop's acquire */
	lbe_enter(&tc->ep);
	ck_fifo_mpmc_enqueue(&f->q, &((struct lb_ck_fifo_node *)n)->e, (void *)(uintptr_t)item);
	lbe_exit(&tc->ep);
	return true;
}

static inline bool lb_ck_fifo_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_fifo *f = obj;
	struct lb_ck_fifo_tctx *tc = t;
	ck_fifo_mpmc_entry_t *garbage;
	void *v;

	lbe_enter(&tc->ep);
	bool ok = ck_fifo_mpmc_dequeue(&f->q, &v, &garbage);
	lbe_exit(&tc->ep);
	if (!ok)
		return false;
	LB_TSAN_ACQUIRE(f); /* pairs with push's release */
	*item = (uintptr_t)v;
	lbq_unreserve(&f->pool);
	/* The dequeue's head CAS unlinked garbage. */
	lbe_retire(&f->ep, &f->pool, &tc->ep, &lb_ck_fifo_node_of(garbage)->p);
	return true;
}

static const struct lb_queue_ops lb_ck_fifo_mpmc_ops = {
	.base = { .size = sizeof(struct lb_ck_fifo), .tctx_size = sizeof(struct lb_ck_fifo_tctx),
		  .init = lb_ck_fifo_init, .fini = lb_ck_fifo_fini,
		  .thread_init = lb_ck_fifo_thread_init, .thread_fini = lb_ck_fifo_thread_fini },
	.push = lb_ck_fifo_push,
	.pop = lb_ck_fifo_pop,
	.capacity = lb_ck_fifo_capacity,
};

/* The reclamation axis (smr_msq.h): the Michael-Scott queue freeing its
 * nodes through ck_epoch (ck-msq-epoch) and through ck_hp (ck-msq-hp). */
LB_MSQ(ck_msq_epoch, LB_SMR_EPOCH)
LB_MSQ(ck_msq_hp, LB_SMR_HP)

#endif
