/* ck-fas-eb: ck-fas whose waiters, on a failed swap, back off
 * exponentially (ck_backoff_eb: 2^9 iterations of an empty loop, no PAUSE,
 * doubling per failure up to 2^20) instead of spinning on a read, so fewer
 * threads hammer the line.  Concurrency Kit's ck_spinlock_fas_lock_eb, used
 * as CK ships it; trylock, unlock and init are ck-fas's (the same word). */
#ifndef LB_MUTEX_CK_FAS_EB_H
#define LB_MUTEX_CK_FAS_EB_H

#include "mutex_ck_fas.h"

static inline void lb_ck_fas_eb_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_fas_lock_eb(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static const struct lb_mutex_ops lb_ck_fas_eb_ops = {
	.base = { .size = sizeof(ck_spinlock_fas_t), .init = lb_ck_fas_init },
	.lock = lb_ck_fas_eb_lock,
	.trylock = lb_ck_fas_trylock,
	.unlock = lb_ck_fas_unlock,
};

#endif
