/* ck-hclh: hierarchical CLH (Luchangco, Nussbaum, Shavit).  Threads first
 * queue on their cluster's local CLH queue; the local queue's head splices
 * the whole local queue into the global queue at once, so the lock tends to
 * stay within a cluster (a NUMA node by default) and crosses the interconnect less.
 * No trylock in CK.  As with CLH, nodes migrate: the lock owns a pool of
 * 1 + nclusters + nthreads cache-line-sized nodes (the unowned global and
 * local heads, then one per thread).  Cluster ids come from hwloc: the
 * --clusters domain (NUMA node, package or L3) of the PU a thread is
 * pinned to. */
#ifndef LB_MUTEX_CK_HCLH_H
#define LB_MUTEX_CK_HCLH_H

#include <stdlib.h>

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

union lb_hclh_node {
	ck_spinlock_hclh_t n;
	char pad[LB_CACHELINE];
};

struct lb_ck_hclh {
	ck_spinlock_hclh_t *glob;
	ck_spinlock_hclh_t **local; /* one queue per cluster */
	union lb_hclh_node *pool;
	unsigned nclusters;
};

struct lb_ck_hclh_tctx {
	ck_spinlock_hclh_t *node;
	ck_spinlock_hclh_t **local;
};

static inline int lb_ck_hclh_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_hclh *l = obj;
	unsigned nc = cfg->nclusters ? cfg->nclusters : 1;

	l->nclusters = nc;
	l->pool = lb_shared_aligned_alloc(LB_CACHELINE, (1 + nc + cfg->nthreads) * sizeof(*l->pool));
	l->local = lb_shared_calloc(nc, sizeof(*l->local));
	if (!l->pool || !l->local) {
		free(l->pool);
		free(l->local);
		return ENOMEM;
	}
	ck_spinlock_hclh_init(&l->glob, &l->pool[0].n, -1);
	for (unsigned c = 0; c < nc; c++)
		ck_spinlock_hclh_init(&l->local[c], &l->pool[1 + c].n, (int)c);
	return 0;
}

static inline void lb_ck_hclh_fini(void *obj)
{
	struct lb_ck_hclh *l = obj;
	free(l->pool);
	free(l->local);
}

static inline int lb_ck_hclh_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct lb_ck_hclh *l = obj;
	struct lb_ck_hclh_tctx *c = t;
	unsigned cl = ti->cluster < l->nclusters ? ti->cluster : 0;

	c->node = &l->pool[1 + l->nclusters + ti->tid].n;
	c->local = &l->local[cl];
	return 0;
}

static inline void lb_ck_hclh_lock(void *obj, void *t)
{
	struct lb_ck_hclh_tctx *c = t;
	ck_spinlock_hclh_lock(&((struct lb_ck_hclh *)obj)->glob, c->local, c->node);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline void lb_ck_hclh_unlock(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* on the lock, as CLH */
	ck_spinlock_hclh_unlock(&((struct lb_ck_hclh_tctx *)t)->node);
}

static const struct lb_mutex_ops lb_ck_hclh_ops = {
	.base = { .size = sizeof(struct lb_ck_hclh),
		  .tctx_size = sizeof(struct lb_ck_hclh_tctx),
		  .init = lb_ck_hclh_init, .fini = lb_ck_hclh_fini,
		  .thread_init = lb_ck_hclh_thread_init },
	.lock = lb_ck_hclh_lock,
	.unlock = lb_ck_hclh_unlock,
};

#endif
