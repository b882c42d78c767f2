/* ck-anderson: Anderson's array lock.  A waiter takes a slot index with
 * fetch-and-add and spins on its own slot's flag; unlock clears the next
 * slot's flag.  FIFO-fair; no trylock in CK.  The array needs at least as
 * many slots as threads (we round up to a power of two, so CK can mask
 * instead of divide); the slot taken by lock is carried to unlock in the
 * thread context.  CK's slots are 8 bytes, unpadded, so neighbours share a
 * cache line: measured as CK ships it. */
#ifndef LB_MUTEX_CK_ANDERSON_H
#define LB_MUTEX_CK_ANDERSON_H

#include <stdlib.h>

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

struct lb_ck_anderson {
	ck_spinlock_anderson_t lock;
	ck_spinlock_anderson_thread_t *slots;
};

struct lb_ck_anderson_tctx {
	ck_spinlock_anderson_thread_t *slot;
};

static inline int lb_ck_anderson_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_anderson *l = obj;
	unsigned n = 2;
	while (n < cfg->nthreads)
		n *= 2;
	l->slots = lb_shared_aligned_alloc(LB_CACHELINE, LB_CACHELINE * ((n * sizeof(*l->slots) +
					LB_CACHELINE - 1) / LB_CACHELINE));
	if (!l->slots)
		return ENOMEM;
	ck_spinlock_anderson_init(&l->lock, l->slots, n);
	return 0;
}

static inline void lb_ck_anderson_fini(void *obj)
{
	free(((struct lb_ck_anderson *)obj)->slots);
}

static inline void lb_ck_anderson_lock(void *obj, void *t)
{
	ck_spinlock_anderson_lock(&((struct lb_ck_anderson *)obj)->lock,
				  &((struct lb_ck_anderson_tctx *)t)->slot);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline void lb_ck_anderson_unlock(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* before the next slot's flag is cleared */
	ck_spinlock_anderson_unlock(&((struct lb_ck_anderson *)obj)->lock,
				    ((struct lb_ck_anderson_tctx *)t)->slot);
}

static const struct lb_mutex_ops lb_ck_anderson_ops = {
	.base = { .size = sizeof(struct lb_ck_anderson),
		  .tctx_size = sizeof(struct lb_ck_anderson_tctx),
		  .init = lb_ck_anderson_init, .fini = lb_ck_anderson_fini },
	.lock = lb_ck_anderson_lock,
	.unlock = lb_ck_anderson_unlock,
};

#endif
