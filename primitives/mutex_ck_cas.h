/* ck-cas: test-and-set by compare-and-swap; waiters spin
 * reading the word and CAS again when it reads free.  Unfair.
 * Concurrency Kit's ck_spinlock_cas, used as CK ships it. */
#ifndef LB_MUTEX_CK_CAS_H
#define LB_MUTEX_CK_CAS_H

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

static inline int lb_ck_cas_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_spinlock_cas_init(obj);
	return 0;
}

static inline void lb_ck_cas_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_cas_lock(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline bool lb_ck_cas_trylock(void *obj, void *t)
{
	(void)t;
	bool ok = ck_spinlock_cas_trylock(obj);
	if (ok)
		LB_TSAN_ACQUIRE(obj);
	return ok;
}

static inline void lb_ck_cas_unlock(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(obj); /* before the store that frees it */
	ck_spinlock_cas_unlock(obj);
}

static const struct lb_mutex_ops lb_ck_cas_ops = {
	.base = { .size = sizeof(ck_spinlock_cas_t), .init = lb_ck_cas_init },
	.lock = lb_ck_cas_lock,
	.trylock = lb_ck_cas_trylock,
	.unlock = lb_ck_cas_unlock,
};

#endif
