/* liburcu's concurrent data structures through the queue kind (queue.h).
 *
 * urcu-wfcqueue  cds_wfcq, the wait-free concurrent queue: enqueue is one
 *                exchange on the tail and a store linking the old tail to
 *                the node (wait-free); dequeue needs mutual exclusion among
 *                dequeuers, here the queue's own mutex
 *                (cds_wfcq_dequeue_blocking: a pthread mutex), and may
 *                wait for an enqueuer between its exchange and its link
 *                ("blocking": liburcu spins 10 times, then sleeps 10 ms).
 * urcu-lfstack   cds_lfs, the lock-free stack: push is a CAS loop on the
 *                head; pop takes the stack's mutex (cds_lfs_pop_blocking),
 *                which is what makes node reuse ABA-safe without RCU.  A
 *                stack: items come out newest first, so only exactly-once
 *                holds, not FIFO order.
 *
 * Both are unbounded and carry items in caller-provided nodes: bounded and
 * recycled through queue_pool.h.  A dequeued wfcq node or popped lfs node
 * is no longer referenced by the structure (liburcu: "it is valid to reuse
 * and free a dequeued node immediately"), so it goes back to its pool at
 * once.
 *
 * pop() first checks emptiness without the lock (cds_wfcq_empty,
 * cds_lfs_empty: plain loads), so that consumers polling an empty queue do
 * not queue up on the mutex.
 *
 * ThreadSanitizer (tsan.h): a push releases on its node before it links
 * it, the pop that takes that node acquires on it: exactly the edge
 * queue.h promises, per item (a dequeued node is the pushed one).  Nodes
 * are never freed before fini, so each keeps its sync address; a reused
 * node's clock also carries its earlier trips, which happened-before its
 * reuse anyway (queue_pool.h's release/acquire on the way home).
 *
 * liburcu's static inline versions are what runs (urcu_inline.h defines
 * _LGPL_SOURCE for every liburcu header alike); they are called by their
 * _cds_ names to say so.  One exception: the stack's push is
 * _cds_lfs_push() restated (lb_urcu_lfs_push_node), because the inline
 * original forms &head->node from a NULL head on its first try: harmless,
 * but undefined behaviour that UBSan reports, and the out-of-line
 * cds_lfs_push() lives in liburcu-cds, which the build does not link.
 */
#ifndef LB_QUEUE_URCU_H
#define LB_QUEUE_URCU_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "urcu_inline.h"

#include "queue.h"
#include "queue_pool.h"
#include "tsan.h"

/* ---- wfcqueue ---- */

struct lb_urcu_wfcq_node {
	struct lbq_pnode p;
	struct cds_wfcq_node n;
	uint64_t item;
};

struct lb_urcu_wfcq {
	struct cds_wfcq_head head; /* dequeue side: head node + mutex */
	alignas(LB_CACHELINE) struct cds_wfcq_tail tail; /* enqueue side */
	struct lbq_pool pool;
};

static inline int lb_urcu_wfcq_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_urcu_wfcq *q = obj;
	int ret = lbq_pool_init(&q->pool, cfg, sizeof(struct lb_urcu_wfcq_node));
	if (ret)
		return ret;
	_cds_wfcq_init(&q->head, &q->tail);
	return 0;
}

static inline void lb_urcu_wfcq_fini(void *obj)
{
	struct lb_urcu_wfcq *q = obj;
	_cds_wfcq_destroy(&q->head, &q->tail);
	lbq_pool_fini(&q->pool);
}

static inline int lb_urcu_wfcq_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lb_urcu_wfcq *)obj)->pool, t, ti);
}

static inline uint64_t lb_urcu_wfcq_capacity(void *obj)
{
	return ((struct lb_urcu_wfcq *)obj)->pool.cap;
}

static inline bool lb_urcu_wfcq_push(void *obj, void *t, uint64_t item)
{
	struct lb_urcu_wfcq *q = obj;
	struct lbq_tctx *tc = t;
	if (!lbq_reserve(&q->pool))
		return false;
	struct lb_urcu_wfcq_node *n = (struct lb_urcu_wfcq_node *)lbq_get(&q->pool, tc->home,
									    tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	_cds_wfcq_node_init(&n->n);
	n->item = item;
	LB_TSAN_RELEASE(&n->n); /* pairs with pop's acquire on the node */
	_cds_wfcq_enqueue(&q->head, &q->tail, &n->n);
	return true;
}

static inline bool lb_urcu_wfcq_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_urcu_wfcq *q = obj;
	(void)t;
	if (_cds_wfcq_empty(&q->head, &q->tail))
		return false;
	struct cds_wfcq_node *cn = _cds_wfcq_dequeue_blocking(&q->head, &q->tail);
	if (!cn)
		return false;
	LB_TSAN_ACQUIRE(cn); /* pairs with push's release on the node */
	struct lb_urcu_wfcq_node *n = (struct lb_urcu_wfcq_node *)((char *)cn -
		offsetof(struct lb_urcu_wfcq_node, n));
	*item = n->item;
	lbq_put(&q->pool, &n->p);
	lbq_unreserve(&q->pool);
	return true;
}

static const struct lb_queue_ops lb_urcu_wfcqueue_ops = {
	.base = { .size = sizeof(struct lb_urcu_wfcq), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_urcu_wfcq_init, .fini = lb_urcu_wfcq_fini,
		  .thread_init = lb_urcu_wfcq_thread_init },
	.push = lb_urcu_wfcq_push,
	.pop = lb_urcu_wfcq_pop,
	.capacity = lb_urcu_wfcq_capacity,
};

/* ---- lfstack ---- */

struct lb_urcu_lfs_node {
	struct lbq_pnode p;
	struct cds_lfs_node n;
	uint64_t item;
};

struct lb_urcu_lfs {
	struct cds_lfs_stack s; /* head + pop mutex */
	struct lbq_pool pool;
};

static inline int lb_urcu_lfs_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_urcu_lfs *q = obj;
	int ret = lbq_pool_init(&q->pool, cfg, sizeof(struct lb_urcu_lfs_node));
	if (ret)
		return ret;
	_cds_lfs_init(&q->s);
	return 0;
}

static inline void lb_urcu_lfs_fini(void *obj)
{
	struct lb_urcu_lfs *q = obj;
	_cds_lfs_destroy(&q->s);
	lbq_pool_fini(&q->pool);
}

static inline int lb_urcu_lfs_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lb_urcu_lfs *)obj)->pool, t, ti);
}

static inline uint64_t lb_urcu_lfs_capacity(void *obj)
{
	return ((struct lb_urcu_lfs *)obj)->pool.cap;
}

/* _cds_lfs_push's algorithm: the first try assumes an empty stack (one
 * exclusive access to the head line instead of a read, then a CAS), and
 * uatomic_cmpxchg's full barrier publishes the node's contents. */
static inline void lb_urcu_lfs_push_node(struct cds_lfs_stack *s, struct cds_lfs_node *node)
{
	struct cds_lfs_head *head = NULL;
	struct cds_lfs_head *new_head = caa_container_of(node, struct cds_lfs_head, node);
	for (;;) {
		struct cds_lfs_head *old_head = head;
		node->next = old_head ? &old_head->node : NULL;
		head = uatomic_cmpxchg(&s->head, old_head, new_head);
		if (head == old_head)
			return;
	}
}

static inline bool lb_urcu_lfs_push(void *obj, void *t, uint64_t item)
{
	struct lb_urcu_lfs *q = obj;
	struct lbq_tctx *tc = t;
	if (!lbq_reserve(&q->pool))
		return false;
	struct lb_urcu_lfs_node *n = (struct lb_urcu_lfs_node *)lbq_get(&q->pool, tc->home,
									  tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	_cds_lfs_node_init(&n->n);
	n->item = item;
	LB_TSAN_RELEASE(&n->n); /* pairs with pop's acquire on the node */
	lb_urcu_lfs_push_node(&q->s, &n->n);
	return true;
}

static inline bool lb_urcu_lfs_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_urcu_lfs *q = obj;
	(void)t;
	if (_cds_lfs_empty(&q->s))
		return false;
	struct cds_lfs_node *cn = _cds_lfs_pop_blocking(&q->s);
	if (!cn)
		return false;
	LB_TSAN_ACQUIRE(cn); /* pairs with push's release on the node */
	struct lb_urcu_lfs_node *n = (struct lb_urcu_lfs_node *)((char *)cn -
		offsetof(struct lb_urcu_lfs_node, n));
	*item = n->item;
	lbq_put(&q->pool, &n->p);
	lbq_unreserve(&q->pool);
	return true;
}

static const struct lb_queue_ops lb_urcu_lfstack_ops = {
	.base = { .size = sizeof(struct lb_urcu_lfs), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_urcu_lfs_init, .fini = lb_urcu_lfs_fini,
		  .thread_init = lb_urcu_lfs_thread_init },
	.push = lb_urcu_lfs_push,
	.pop = lb_urcu_lfs_pop,
	.capacity = lb_urcu_lfs_capacity,
};

#endif
