/* The semaphore kind (named semaphore_ops.h so that it cannot shadow the
 * system's <semaphore.h>): a counter of permits (lb_prim_cfg.permits initially,
 * which may be 0).  acquire() takes one, waiting while there are none;
 * try_acquire() takes one only if one is free now and never waits;
 * release() returns one and lets a waiter in.  Never more holders than
 * permits. */
#ifndef LB_SEMAPHORE_OPS_H
#define LB_SEMAPHORE_OPS_H

#include "prim.h"

struct lb_semaphore_ops {
	struct lb_prim_ops base;
	void (*acquire)(void *obj, void *tctx);
	bool (*try_acquire)(void *obj, void *tctx);
	void (*release)(void *obj, void *tctx);
};

/* Whether an implementation has try_acquire (LB_CAP_TRYLOCK; registry.h). */
static inline bool lb_semaphore_can_try(const struct lb_prim_ops *ops)
{
	return ((const struct lb_semaphore_ops *)(const void *)ops)->try_acquire != NULL;
}

#endif
