/* ck-cas-eb: ck-cas with exponential backoff after a failed CAS
 * (ck_backoff_eb: 2^9 iterations of an empty loop, no PAUSE,
 * doubling per failure up to 2^20).
 * Concurrency Kit's ck_spinlock_cas_lock_eb(obj), used as CK ships it;
 * trylock, unlock and init are ck-cas's (the same word). */
#ifndef LB_MUTEX_CK_CAS_EB_H
#define LB_MUTEX_CK_CAS_EB_H

#include "mutex_ck_cas.h"

static inline void lb_ck_cas_eb_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_cas_lock_eb(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static const struct lb_mutex_ops lb_ck_cas_eb_ops = {
	.base = { .size = sizeof(ck_spinlock_cas_t), .init = lb_ck_cas_init },
	.lock = lb_ck_cas_eb_lock,
	.trylock = lb_ck_cas_trylock,
	.unlock = lb_ck_cas_unlock,
};

#endif
