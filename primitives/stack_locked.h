/* A stack behind a mutex: the baseline every lock-free stack must beat.
 *
 * A singly linked list of pool nodes (queue_pool.h) and its top pointer,
 * beside the mutex on the mutex's cache line, as a real locked stack lays
 * them out: push and pop take the mutex, link or unlink one node, and let
 * go.  No ABA question arises, since no one reads the list without the
 * mutex.  LB_LOCKED_STACK(sym, mutex_ops) makes the stack implementation
 * lb_<sym>_ops over any mutex whose ops need no per-thread context
 * (pthread-mutex, futex-mutex, ck-fas: stack_pthread.h, stack_futex.h,
 * stack_ck.h); the mutex ops are compile-time constants, so the compiler
 * inlines their lock and unlock here as it does in the counter workload.
 *
 * Memory order: the mutex orders everything.  Push writes the item into
 * its node before its unlock, and the pop that takes the node reads it
 * after its lock.
 */
#ifndef LB_STACK_LOCKED_H
#define LB_STACK_LOCKED_H

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>

#include "mutex.h"
#include "queue_pool.h"
#include "stack.h"

#define LBS_MUTEX_BYTES 48 /* pthread_mutex_t is 40 on x86-64 glibc */

struct lbs_node {
	struct lbq_pnode p;
	struct lbs_node *next;
	uint64_t item;
};

struct lbs_locked {
	alignas(LB_CACHELINE) unsigned char mutex[LBS_MUTEX_BYTES];
	struct lbs_node *top; /* under the mutex */
	struct lbq_pool pool;
};

static inline __attribute__((always_inline)) int
lbs_locked_init(void *obj, const struct lb_prim_cfg *cfg, const struct lb_mutex_ops *m)
{
	struct lbs_locked *s = obj;
	if (m->base.size > LBS_MUTEX_BYTES || m->base.tctx_size)
		return EINVAL;
	int ret = lbq_pool_init_stack(&s->pool, cfg, sizeof(struct lbs_node));
	if (ret)
		return ret;
	struct lb_prim_cfg mcfg = { .nthreads = cfg->nthreads, .nclusters = cfg->nclusters };
	if ((ret = m->base.init(s->mutex, &mcfg)) != 0) {
		lbq_pool_fini(&s->pool);
		return ret;
	}
	s->top = NULL;
	return 0;
}

static inline __attribute__((always_inline)) void
lbs_locked_fini(void *obj, const struct lb_mutex_ops *m)
{
	struct lbs_locked *s = obj;
	if (m->base.fini)
		m->base.fini(s->mutex);
	lbq_pool_fini(&s->pool);
}

static inline int lbs_locked_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lbq_thread_init(&((struct lbs_locked *)obj)->pool, t, ti);
}

static inline uint64_t lbs_locked_capacity(void *obj)
{
	return ((struct lbs_locked *)obj)->pool.cap;
}

static inline __attribute__((always_inline)) bool
lbs_locked_push(void *obj, void *t, uint64_t item, const struct lb_mutex_ops *m)
{
	struct lbs_locked *s = obj;
	struct lbq_tctx *tc = t;
	if (!lbq_reserve(&s->pool))
		return false;
	struct lbs_node *n = (struct lbs_node *)lbq_get(&s->pool, tc->home, tc->id);
	if (__builtin_expect(!n, 0))
		lbq_oom();
	n->item = item;
	m->lock(s->mutex, NULL);
	n->next = s->top;
	s->top = n;
	m->unlock(s->mutex, NULL);
	return true;
}

static inline __attribute__((always_inline)) bool
lbs_locked_pop(void *obj, void *t, uint64_t *item, const struct lb_mutex_ops *m)
{
	struct lbs_locked *s = obj;
	(void)t;
	m->lock(s->mutex, NULL);
	struct lbs_node *n = s->top;
	if (n)
		s->top = n->next;
	m->unlock(s->mutex, NULL);
	if (!n)
		return false;
	*item = n->item;
	lbq_put(&s->pool, &n->p);
	lbq_unreserve(&s->pool);
	return true;
}

#define LB_LOCKED_STACK(sym, mops)                                                          \
	static inline int lb_##sym##_init(void *obj, const struct lb_prim_cfg *cfg)         \
	{                                                                                   \
		return lbs_locked_init(obj, cfg, &mops);                                    \
	}                                                                                   \
	static inline void lb_##sym##_fini(void *obj) { lbs_locked_fini(obj, &mops); }      \
	static inline bool lb_##sym##_push(void *obj, void *t, uint64_t item)               \
	{                                                                                   \
		return lbs_locked_push(obj, t, item, &mops);                                \
	}                                                                                   \
	static inline bool lb_##sym##_pop(void *obj, void *t, uint64_t *item)               \
	{                                                                                   \
		return lbs_locked_pop(obj, t, item, &mops);                                 \
	}                                                                                   \
	static const struct lb_stack_ops lb_##sym##_ops = {                                 \
		.base = { .size = sizeof(struct lbs_locked),                                \
			  .tctx_size = sizeof(struct lbq_tctx), .init = lb_##sym##_init,    \
			  .fini = lb_##sym##_fini, .thread_init = lbs_locked_thread_init }, \
		.push = lb_##sym##_push,                                                    \
		.pop = lb_##sym##_pop,                                                      \
		.capacity = lbs_locked_capacity,                                            \
	};

#endif
