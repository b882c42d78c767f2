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
 *               node ("garbage"), which is what gets recycled.
 *
 * ck_ring's size must be a power of two and it holds size - 1 items, so
 * the rings hold the requested capacity rounded up to 2^n - 1 (capacity()
 * says how many; give 2^n - 1 for an exact match).  Items travel as the
 * ring's void * entries, hence 64-bit pointers only.
 */
#ifndef LB_QUEUE_CK_H
#define LB_QUEUE_CK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ck_fifo.h>
#include <ck_ring.h>

#include "queue.h"
#include "queue_pool.h"

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
	r->buf = aligned_alloc(LB_CACHELINE, bytes);
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
	return ck_ring_enqueue_spsc(&r->ring, r->buf, (void *)(uintptr_t)item);
}

static inline bool lb_ck_ring_spsc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_ring *r = obj;
	void *v;
	(void)t;
	if (!ck_ring_dequeue_spsc(&r->ring, r->buf, &v))
		return false;
	*item = (uintptr_t)v;
	return true;
}

static inline bool lb_ck_ring_mpmc_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_ring *r = obj;
	(void)t;
	return ck_ring_enqueue_mpmc(&r->ring, r->buf, (void *)(uintptr_t)item);
}

static inline bool lb_ck_ring_mpmc_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_ring *r = obj;
	void *v;
	(void)t;
	if (!ck_ring_dequeue_mpmc(&r->ring, r->buf, &v))
		return false;
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
	ck_fifo_mpmc_entry_t e; /* 16-byte aligned: its next is CAS'd double-width */
};

struct lb_ck_fifo {
	struct ck_fifo_mpmc q;
	struct lbq_pool pool;
};

static inline int lb_ck_fifo_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_fifo *f = obj;
	int ret = lbq_pool_init(&f->pool, cfg, sizeof(struct lb_ck_fifo_node));
	if (ret)
		return ret;
	/* The stub comes from home 0's pool like any node (this runs before
	 * the threads start), so fini frees it with the rest. */
	struct lbq_pnode *stub = lbq_get(&f->pool, &f->pool.homes[0], 0);
	if (!stub) {
		lbq_pool_fini(&f->pool);
		return ENOMEM;
	}
	ck_fifo_mpmc_init(&f->q, &((struct lb_ck_fifo_node *)stub)->e);
	return 0;
}

static inline void lb_ck_fifo_fini(void *obj)
{
	lbq_pool_fini(&((struct lb_ck_fifo *)obj)->pool);
}

static inline int lb_ck_fifo_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lb_ck_fifo *)obj)->pool, t, ti);
}

static inline uint64_t lb_ck_fifo_capacity(void *obj)
{
	return ((struct lb_ck_fifo *)obj)->pool.cap;
}

static inline bool lb_ck_fifo_push(void *obj, void *t, uint64_t item)
{
	struct lb_ck_fifo *f = obj;
	struct lbq_tctx *tc = t;
	if (!lbq_reserve(&f->pool))
		return false;
	struct lbq_pnode *n = lbq_get(&f->pool, tc->home, tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	ck_fifo_mpmc_enqueue(&f->q, &((struct lb_ck_fifo_node *)n)->e, (void *)(uintptr_t)item);
	return true;
}

static inline bool lb_ck_fifo_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_ck_fifo *f = obj;
	ck_fifo_mpmc_entry_t *garbage;
	void *v;
	(void)t;
	if (!ck_fifo_mpmc_dequeue(&f->q, &v, &garbage))
		return false;
	*item = (uintptr_t)v;
	lbq_put(&f->pool, (struct lbq_pnode *)((char *)garbage -
					       offsetof(struct lb_ck_fifo_node, e)));
	lbq_unreserve(&f->pool);
	return true;
}

static const struct lb_queue_ops lb_ck_fifo_mpmc_ops = {
	.base = { .size = sizeof(struct lb_ck_fifo), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_ck_fifo_init, .fini = lb_ck_fifo_fini,
		  .thread_init = lb_ck_fifo_thread_init },
	.push = lb_ck_fifo_push,
	.pop = lb_ck_fifo_pop,
	.capacity = lb_ck_fifo_capacity,
};

#endif
