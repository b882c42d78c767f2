/* ck-clh: Craig, Landin and Hagersten's queue lock.  A waiter swaps its node
 * into the tail and spins on its predecessor's node; on unlock it clears its
 * own node's flag and adopts the predecessor's node for next time, so nodes
 * migrate between threads.  FIFO-fair; no trylock in CK.
 *
 * Nodes therefore cannot belong to a thread: the lock owns a pool of
 * nthreads + 1 cache-line-sized nodes (one starts as the unowned tail), and
 * each thread's context holds a pointer to whichever node it has now. */
#ifndef LB_MUTEX_CK_CLH_H
#define LB_MUTEX_CK_CLH_H

#include <stdlib.h>

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

union lb_clh_node {
	ck_spinlock_clh_t n;
	char pad[LB_CACHELINE];
};

struct lb_ck_clh {
	ck_spinlock_clh_t *tail;
	union lb_clh_node *pool;
};

struct lb_ck_clh_tctx {
	ck_spinlock_clh_t *node;
};

static inline int lb_ck_clh_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_clh *l = obj;
	l->pool = lb_shared_aligned_alloc(LB_CACHELINE, (cfg->nthreads + 1) * sizeof(*l->pool));
	if (!l->pool)
		return ENOMEM;
	ck_spinlock_clh_init(&l->tail, &l->pool[0].n);
	return 0;
}

static inline void lb_ck_clh_fini(void *obj)
{
	free(((struct lb_ck_clh *)obj)->pool);
}

static inline int lb_ck_clh_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	((struct lb_ck_clh_tctx *)t)->node = &((struct lb_ck_clh *)obj)->pool[ti->tid + 1].n;
	return 0;
}

static inline void lb_ck_clh_lock(void *obj, void *t)
{
	ck_spinlock_clh_lock(&((struct lb_ck_clh *)obj)->tail,
			     ((struct lb_ck_clh_tctx *)t)->node);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline void lb_ck_clh_unlock(void *obj, void *t)
{
	/* On the lock, not the node: the successor spins on our node, but
	 * the next holder may be anyone (tsan.h). */
	LB_TSAN_RELEASE(obj);
	ck_spinlock_clh_unlock(&((struct lb_ck_clh_tctx *)t)->node);
}

static const struct lb_mutex_ops lb_ck_clh_ops = {
	.base = { .size = sizeof(struct lb_ck_clh),
		  .tctx_size = sizeof(struct lb_ck_clh_tctx),
		  .init = lb_ck_clh_init, .fini = lb_ck_clh_fini,
		  .thread_init = lb_ck_clh_thread_init },
	.lock = lb_ck_clh_lock,
	.unlock = lb_ck_clh_unlock,
};

#endif
