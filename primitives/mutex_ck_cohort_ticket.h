/* ck-cohort-ticket: a cohort lock (cohort.h) of ticket locks, C-TKT-TKT in
 * the cohorting paper: a global ck_spinlock_ticket over one local
 * ck_spinlock_ticket per cluster, composed by ck_cohort.h.  FIFO within a
 * cluster, batches of up to 10 per cluster across them. */
#ifndef LB_MUTEX_CK_COHORT_TICKET_H
#define LB_MUTEX_CK_COHORT_TICKET_H

#include "cohort.h"
#include "mutex.h"

CK_COHORT_TRYLOCK_PROTOTYPE(lb_tkt_tkt, lb_coh_ticket_lock, lb_coh_ticket_unlock,
			    lb_coh_ticket_locked, lb_coh_ticket_trylock, lb_coh_ticket_lock,
			    lb_coh_ticket_unlock, lb_coh_ticket_locked, lb_coh_ticket_trylock)

struct lb_tkt_tkt_slot {
	CK_COHORT_INSTANCE(lb_tkt_tkt) cohort;
	ck_spinlock_ticket_t local;
};

struct lb_ck_cohort_ticket {
	_Alignas(LB_CACHELINE) ck_spinlock_ticket_t global;
	_Alignas(LB_CACHELINE) void *slots; /* nclusters slots of lb_cohort_slot_size */
	unsigned nclusters;
};

#define LB_TKT_TKT_SLOT lb_cohort_slot_size(sizeof(struct lb_tkt_tkt_slot))

static inline int lb_ck_cohort_ticket_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_cohort_ticket *l = obj;
	l->nclusters = cfg->nclusters ? cfg->nclusters : 1;
	ck_spinlock_ticket_init(&l->global);
	l->slots = lb_shared_aligned_alloc(LB_CACHELINE, l->nclusters * LB_TKT_TKT_SLOT);
	if (!l->slots)
		return ENOMEM;
	for (unsigned c = 0; c < l->nclusters; c++) {
		struct lb_tkt_tkt_slot *s = lb_cohort_slot(l->slots, LB_TKT_TKT_SLOT, c);
		ck_spinlock_ticket_init(&s->local);
		CK_COHORT_INIT(lb_tkt_tkt, &s->cohort, &l->global, &s->local,
			       CK_COHORT_DEFAULT_LOCAL_PASS_LIMIT);
	}
	return 0;
}

static inline void lb_ck_cohort_ticket_fini(void *obj)
{
	free(((struct lb_ck_cohort_ticket *)obj)->slots);
}

/* The context: the thread's cohort. */
static inline int lb_ck_cohort_ticket_thread_init(void *obj, void *t,
						  const struct lb_thread_info *ti)
{
	struct lb_ck_cohort_ticket *l = obj;
	*(struct lb_tkt_tkt_slot **)t =
		lb_cohort_slot(l->slots, LB_TKT_TKT_SLOT, lb_cohort_of(l->nclusters, ti));
	return 0;
}

static inline void lb_ck_cohort_ticket_lock(void *obj, void *t)
{
	(void)obj;
	CK_COHORT_LOCK(lb_tkt_tkt, &(*(struct lb_tkt_tkt_slot **)t)->cohort, NULL, NULL);
}

static inline bool lb_ck_cohort_ticket_trylock(void *obj, void *t)
{
	(void)obj;
	return CK_COHORT_TRYLOCK(lb_tkt_tkt, &(*(struct lb_tkt_tkt_slot **)t)->cohort, NULL, NULL,
				 NULL);
}

static inline void lb_ck_cohort_ticket_unlock(void *obj, void *t)
{
	(void)obj;
	CK_COHORT_UNLOCK(lb_tkt_tkt, &(*(struct lb_tkt_tkt_slot **)t)->cohort, NULL, NULL);
}

static const struct lb_mutex_ops lb_ck_cohort_ticket_ops = {
	.base = { .size = sizeof(struct lb_ck_cohort_ticket),
		  .tctx_size = sizeof(struct lb_tkt_tkt_slot *),
		  .init = lb_ck_cohort_ticket_init, .fini = lb_ck_cohort_ticket_fini,
		  .thread_init = lb_ck_cohort_ticket_thread_init },
	.lock = lb_ck_cohort_ticket_lock,
	.trylock = lb_ck_cohort_ticket_trylock,
	.unlock = lb_ck_cohort_ticket_unlock,
};

#endif
