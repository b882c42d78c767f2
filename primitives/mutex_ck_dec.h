/* ck-dec: the word starts at 1 and lock is an atomic
 * decrement that succeeds on reaching 0 (Linux's old x86 spinlock).  Unfair.
 * Concurrency Kit's ck_spinlock_dec, used as CK ships it. */
#ifndef LB_MUTEX_CK_DEC_H
#define LB_MUTEX_CK_DEC_H

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

static inline int lb_ck_dec_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_spinlock_dec_init(obj);
	return 0;
}

static inline void lb_ck_dec_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_dec_lock(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline bool lb_ck_dec_trylock(void *obj, void *t)
{
	(void)t;
	bool ok = ck_spinlock_dec_trylock(obj);
	if (ok)
		LB_TSAN_ACQUIRE(obj);
	return ok;
}

static inline void lb_ck_dec_unlock(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(obj); /* before the store that frees it */
	ck_spinlock_dec_unlock(obj);
}

static const struct lb_mutex_ops lb_ck_dec_ops = {
	.base = { .size = sizeof(ck_spinlock_dec_t), .init = lb_ck_dec_init },
	.lock = lb_ck_dec_lock,
	.trylock = lb_ck_dec_trylock,
	.unlock = lb_ck_dec_unlock,
};

#endif
