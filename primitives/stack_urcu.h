/* liburcu's stacks (stack.h).
 *
 * urcu-lfstack  cds_lfs, the lock-free stack: push is a CAS loop on the
 *               head; pop takes the stack's mutex (cds_lfs_pop_blocking),
 *               which is what makes node reuse ABA-safe without RCU: no
 *               other pop can hold a stale head while ours runs, and a
 *               push never reads a node's next.
 * urcu-wfstack  cds_wfs, the wait-free stack: push is one exchange on the
 *               head and then a store of the node's next (wait-free); pop
 *               takes the stack's mutex (cds_wfs_pop_blocking) and may
 *               wait for a pusher between its exchange and that store
 *               ("blocking": liburcu spins, then sleeps 10 ms).
 *
 * Both carry items in caller-provided nodes, recycled through
 * queue_pool.h.  A popped node is no longer referenced by the stack, so it
 * goes back to its pool at once.  pop() first checks emptiness without the
 * lock (plain loads), so that poppers of an empty stack do not queue up on
 * the mutex.
 *
 * ThreadSanitizer (tsan.h): a push releases on its node before it links
 * it, the pop that takes that node acquires on it (queue_urcu.h explains
 * why that is exactly the promised edge).
 *
 * liburcu's static inline versions run (urcu_inline.h).  Two exceptions,
 * the pushes: _cds_lfs_push() and _cds_wfs_push() are restated
 * (lb_urcu_lfs_push_node, lb_urcu_wfs_push_node), because the inline
 * originals form &head->node from a NULL head (lfs, on its first try) or
 * from the end marker CDS_WFS_END, the address 1 (wfs, on an empty
 * stack): harmless, but undefined behaviour that UBSan reports.  The node
 * is the head's first member, so a cast gives the same address.
 */
#ifndef LB_STACK_URCU_H
#define LB_STACK_URCU_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "urcu_inline.h"

#include "queue_pool.h"
#include "stack.h"
#include "tsan.h"

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
	int ret = lbq_pool_init_stack(&q->pool, cfg, sizeof(struct lb_urcu_lfs_node));
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

static const struct lb_stack_ops lb_urcu_lfstack_ops = {
	.base = { .size = sizeof(struct lb_urcu_lfs), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_urcu_lfs_init, .fini = lb_urcu_lfs_fini,
		  .thread_init = lb_urcu_lfs_thread_init },
	.push = lb_urcu_lfs_push,
	.pop = lb_urcu_lfs_pop,
	.capacity = lb_urcu_lfs_capacity,
};


/* ---- wfstack ---- */

struct lb_urcu_wfs_node {
	struct lbq_pnode p;
	struct cds_wfs_node n;
	uint64_t item;
};

struct lb_urcu_wfs {
	struct cds_wfs_stack s; /* head + pop mutex */
	struct lbq_pool pool;
};

static inline int lb_urcu_wfs_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_urcu_wfs *q = obj;
	int ret = lbq_pool_init_stack(&q->pool, cfg, sizeof(struct lb_urcu_wfs_node));
	if (ret)
		return ret;
	_cds_wfs_init(&q->s);
	return 0;
}

static inline void lb_urcu_wfs_fini(void *obj)
{
	struct lb_urcu_wfs *q = obj;
	_cds_wfs_destroy(&q->s);
	lbq_pool_fini(&q->pool);
}

static inline int lb_urcu_wfs_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lb_urcu_wfs *)obj)->pool, t, ti);
}

static inline uint64_t lb_urcu_wfs_capacity(void *obj)
{
	return ((struct lb_urcu_wfs *)obj)->pool.cap;
}

/* _cds_wfs_push's algorithm: one exchange on the head (its full barrier
 * publishes the node's NULL next and contents), then the link to the old
 * head, for which poppers wait. */
static inline void lb_urcu_wfs_push_node(struct cds_wfs_stack *s, struct cds_wfs_node *node)
{
	struct cds_wfs_head *new_head = caa_container_of(node, struct cds_wfs_head, node);
	struct cds_wfs_head *old_head = uatomic_xchg(&s->head, new_head);
	CMM_STORE_SHARED(node->next, (struct cds_wfs_node *)(void *)old_head);
}

static inline bool lb_urcu_wfs_push(void *obj, void *t, uint64_t item)
{
	struct lb_urcu_wfs *q = obj;
	struct lbq_tctx *tc = t;
	if (!lbq_reserve(&q->pool))
		return false;
	struct lb_urcu_wfs_node *n = (struct lb_urcu_wfs_node *)lbq_get(&q->pool, tc->home,
									  tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	_cds_wfs_node_init(&n->n);
	n->item = item;
	LB_TSAN_RELEASE(&n->n); /* pairs with pop's acquire on the node */
	lb_urcu_wfs_push_node(&q->s, &n->n);
	return true;
}

static inline bool lb_urcu_wfs_pop(void *obj, void *t, uint64_t *item)
{
	struct lb_urcu_wfs *q = obj;
	(void)t;
	if (_cds_wfs_empty(&q->s))
		return false;
	struct cds_wfs_node *cn = _cds_wfs_pop_blocking(&q->s);
	if (!cn)
		return false;
	LB_TSAN_ACQUIRE(cn); /* pairs with push's release on the node */
	struct lb_urcu_wfs_node *n = (struct lb_urcu_wfs_node *)((char *)cn -
		offsetof(struct lb_urcu_wfs_node, n));
	*item = n->item;
	lbq_put(&q->pool, &n->p);
	lbq_unreserve(&q->pool);
	return true;
}

static const struct lb_stack_ops lb_urcu_wfstack_ops = {
	.base = { .size = sizeof(struct lb_urcu_wfs), .tctx_size = sizeof(struct lbq_tctx),
		  .init = lb_urcu_wfs_init, .fini = lb_urcu_wfs_fini,
		  .thread_init = lb_urcu_wfs_thread_init },
	.push = lb_urcu_wfs_push,
	.pop = lb_urcu_wfs_pop,
	.capacity = lb_urcu_wfs_capacity,
};

#endif
