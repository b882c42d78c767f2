/* ck-dec-eb: ck-dec with exponential backoff after a failed
 * decrement (ck_backoff_eb: 2^9 iterations of an empty loop, no PAUSE,
 * doubling per failure up to 2^20).
 * Concurrency Kit's ck_spinlock_dec_lock_eb(obj), used as CK ships it;
 * trylock, unlock and init are ck-dec's (the same word). */
#ifndef LB_MUTEX_CK_DEC_EB_H
#define LB_MUTEX_CK_DEC_EB_H

#include "mutex_ck_dec.h"

static inline void lb_ck_dec_eb_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_dec_lock_eb(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static const struct lb_mutex_ops lb_ck_dec_eb_ops = {
	.base = { .size = sizeof(ck_spinlock_dec_t), .init = lb_ck_dec_init },
	.lock = lb_ck_dec_eb_lock,
	.trylock = lb_ck_dec_trylock,
	.unlock = lb_ck_dec_unlock,
};

#endif
