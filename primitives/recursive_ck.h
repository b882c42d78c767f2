/* ck-recursive: owner tid + depth (recursive_owner.h) over
 * ck_spinlock_fas.  (CK's own ck_rwlock_recursive trusts callers to pass
 * their own id to unlock and cannot refuse a non-owner, so we keep the
 * owner ourselves.) */
#ifndef LB_RECURSIVE_CK_H
#define LB_RECURSIVE_CK_H

#include <ck_spinlock.h>

#include "recursive_owner.h"
#include "tsan.h"

struct lb_ck_recursive {
	ck_spinlock_fas_t l;
	struct lb_owner o;
};

static inline int lb_ck_recursive_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_recursive *r = obj;
	(void)cfg;
	ck_spinlock_fas_init(&r->l);
	atomic_init(&r->o.owner, 0);
	r->o.depth = 0;
	return 0;
}

static inline void lb_ck_recursive_lock(void *obj, void *t)
{
	struct lb_ck_recursive *r = obj;
	if (lb_owner_reenter(&r->o, t))
		return;
	ck_spinlock_fas_lock(&r->l);
	/* pairs with the last unlock's release (tsan.h); re-entry needs
	 * none, as recursive_owner.h says */
	LB_TSAN_ACQUIRE(&r->l);
	lb_owner_take(&r->o, t);
}

static inline bool lb_ck_recursive_trylock(void *obj, void *t)
{
	struct lb_ck_recursive *r = obj;
	if (lb_owner_reenter(&r->o, t))
		return true;
	if (!ck_spinlock_fas_trylock(&r->l))
		return false;
	LB_TSAN_ACQUIRE(&r->l);
	lb_owner_take(&r->o, t);
	return true;
}

static inline int lb_ck_recursive_unlock(void *obj, void *t)
{
	struct lb_ck_recursive *r = obj;
	int last, ret = lb_owner_drop(&r->o, t, &last);
	if (last) {
		LB_TSAN_RELEASE(&r->l);
		ck_spinlock_fas_unlock(&r->l);
	}
	return ret;
}

static const struct lb_recursive_ops lb_ck_recursive_ops = {
	.base = { .size = sizeof(struct lb_ck_recursive),
		  .tctx_size = sizeof(struct lb_owner_tctx),
		  .init = lb_ck_recursive_init, .thread_init = lb_owner_thread_init },
	.lock = lb_ck_recursive_lock,
	.trylock = lb_ck_recursive_trylock,
	.unlock = lb_ck_recursive_unlock,
};

#endif
