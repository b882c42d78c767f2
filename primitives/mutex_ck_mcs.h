/* ck-mcs: Mellor-Crummey and Scott's queue lock.  Each waiter enqueues its
 * own node with one swap on the tail and spins on a flag in that node, so
 * waiters do not bounce a shared line; the holder hands over by clearing its
 * successor's flag.  FIFO-fair.  The node is the per-thread context. */
#ifndef LB_MUTEX_CK_MCS_H
#define LB_MUTEX_CK_MCS_H

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

static inline int lb_ck_mcs_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_spinlock_mcs_init(obj);
	return 0;
}

static inline void lb_ck_mcs_lock(void *obj, void *t)
{
	ck_spinlock_mcs_lock(obj, t);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline bool lb_ck_mcs_trylock(void *obj, void *t)
{
	bool ok = ck_spinlock_mcs_trylock(obj, t);
	if (ok)
		LB_TSAN_ACQUIRE(obj);
	return ok;
}

static inline void lb_ck_mcs_unlock(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* before the hand-over to the successor */
	ck_spinlock_mcs_unlock(obj, t);
}

static const struct lb_mutex_ops lb_ck_mcs_ops = {
	.base = { .size = sizeof(ck_spinlock_mcs_t),
		  .tctx_size = sizeof(ck_spinlock_mcs_context_t),
		  .init = lb_ck_mcs_init },
	.lock = lb_ck_mcs_lock,
	.trylock = lb_ck_mcs_trylock,
	.unlock = lb_ck_mcs_unlock,
};

#endif
