/* liburcu's concurrent data structures through the queue kind (queue.h).
 *
 * urcu-wfcqueue  cds_wfcq, the wait-free concurrent queue: enqueue is one
 *                exchange on the tail and a store linking the old tail to
 *                the node (wait-free); dequeue needs mutual exclusion among
 *                dequeuers, here the queue's own mutex
 *                (cds_wfcq_dequeue_blocking: a pthread mutex), and may
 *                wait for an enqueuer between its exchange and its link
 *                ("blocking": liburcu spins 10 times, then sleeps 10 ms).
 *
 * (liburcu's stacks are the stack kind's: stack_urcu.h.)
 *
 * It is unbounded and carries items in caller-provided nodes: bounded and
 * recycled through queue_pool.h.  A dequeued node is no longer referenced
 * by the structure (liburcu: "it is valid to reuse and free a dequeued
 * node immediately"), so it goes back to its pool at once.
 *
 * pop() first checks emptiness without the lock (cds_wfcq_empty: plain
 * loads), so that consumers polling an empty queue do not queue up on the
 * mutex.
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
 * _cds_ names to say so.
 */
#ifndef LB_QUEUE_URCU_H
#define LB_QUEUE_URCU_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "urcu_inline.h"

#include "queue.h"
#include "queue_pool.h"
#include "smr_msq.h"
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

/* The reclamation axis (smr_msq.h): the Michael-Scott queue freeing its
 * nodes through each flavour's call_rcu (urcu-msq-<flavour>). */
LB_MSQ(urcu_msq_memb, LB_SMR_MEMB)
LB_MSQ(urcu_msq_mb, LB_SMR_MB)
LB_MSQ(urcu_msq_signal, LB_SMR_SIGNAL)
LB_MSQ(urcu_msq_qsbr, LB_SMR_QSBR)
LB_MSQ(urcu_msq_bp, LB_SMR_BP)

#endif
