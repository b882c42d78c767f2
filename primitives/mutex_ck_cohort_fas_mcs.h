/* ck-cohort-fas-mcs: a cohort lock (cohort.h): a global ck_spinlock_fas
 * (thread-oblivious, as a cohort's global lock must be) over one local
 * ck_spinlock_mcs queue per cluster, composed by ck_cohort.h.  Waiters
 * queue locally on their own MCS node; only the cluster's holder competes
 * for the global word. */
#ifndef LB_MUTEX_CK_COHORT_FAS_MCS_H
#define LB_MUTEX_CK_COHORT_FAS_MCS_H

#include "cohort.h"
#include "mutex.h"

CK_COHORT_TRYLOCK_PROTOTYPE(lb_fas_mcs, lb_coh_fas_lock, lb_coh_fas_unlock, lb_coh_fas_locked,
			    lb_coh_fas_trylock, lb_coh_mcs_lock, lb_coh_mcs_unlock,
			    lb_coh_mcs_locked, lb_coh_mcs_trylock)

struct lb_fas_mcs_slot {
	CK_COHORT_INSTANCE(lb_fas_mcs) cohort;
	ck_spinlock_mcs_t local; /* the queue's tail */
};

struct lb_ck_cohort_fas_mcs {
	_Alignas(LB_CACHELINE) ck_spinlock_fas_t global;
	_Alignas(LB_CACHELINE) void *slots;
	unsigned nclusters;
};

/* The context: the thread's cohort and its MCS node, on their own line. */
struct lb_fas_mcs_tctx {
	struct lb_fas_mcs_slot *slot;
	ck_spinlock_mcs_context_t node;
};

#define LB_FAS_MCS_SLOT lb_cohort_slot_size(sizeof(struct lb_fas_mcs_slot))

static inline int lb_ck_cohort_fas_mcs_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_cohort_fas_mcs *l = obj;
	l->nclusters = cfg->nclusters ? cfg->nclusters : 1;
	ck_spinlock_fas_init(&l->global);
	l->slots = lb_shared_aligned_alloc(LB_CACHELINE, l->nclusters * LB_FAS_MCS_SLOT);
	if (!l->slots)
		return ENOMEM;
	for (unsigned c = 0; c < l->nclusters; c++) {
		struct lb_fas_mcs_slot *s = lb_cohort_slot(l->slots, LB_FAS_MCS_SLOT, c);
		ck_spinlock_mcs_init(&s->local);
		CK_COHORT_INIT(lb_fas_mcs, &s->cohort, &l->global, &s->local,
			       CK_COHORT_DEFAULT_LOCAL_PASS_LIMIT);
	}
	return 0;
}

static inline void lb_ck_cohort_fas_mcs_fini(void *obj)
{
	free(((struct lb_ck_cohort_fas_mcs *)obj)->slots);
}

static inline int lb_ck_cohort_fas_mcs_thread_init(void *obj, void *t,
						   const struct lb_thread_info *ti)
{
	struct lb_ck_cohort_fas_mcs *l = obj;
	((struct lb_fas_mcs_tctx *)t)->slot =
		lb_cohort_slot(l->slots, LB_FAS_MCS_SLOT, lb_cohort_of(l->nclusters, ti));
	return 0;
}

static inline void lb_ck_cohort_fas_mcs_lock(void *obj, void *t)
{
	(void)obj;
	struct lb_fas_mcs_tctx *c = t;
	CK_COHORT_LOCK(lb_fas_mcs, &c->slot->cohort, NULL, &c->node);
}

static inline bool lb_ck_cohort_fas_mcs_trylock(void *obj, void *t)
{
	(void)obj;
	struct lb_fas_mcs_tctx *c = t;
	return CK_COHORT_TRYLOCK(lb_fas_mcs, &c->slot->cohort, NULL, &c->node, &c->node);
}

static inline void lb_ck_cohort_fas_mcs_unlock(void *obj, void *t)
{
	(void)obj;
	struct lb_fas_mcs_tctx *c = t;
	CK_COHORT_UNLOCK(lb_fas_mcs, &c->slot->cohort, NULL, &c->node);
}

static const struct lb_mutex_ops lb_ck_cohort_fas_mcs_ops = {
	.base = { .size = sizeof(struct lb_ck_cohort_fas_mcs),
		  .tctx_size = sizeof(struct lb_fas_mcs_tctx),
		  .init = lb_ck_cohort_fas_mcs_init, .fini = lb_ck_cohort_fas_mcs_fini,
		  .thread_init = lb_ck_cohort_fas_mcs_thread_init },
	.lock = lb_ck_cohort_fas_mcs_lock,
	.trylock = lb_ck_cohort_fas_mcs_trylock,
	.unlock = lb_ck_cohort_fas_mcs_unlock,
};

#endif
