/* The mutex kind (the tutorial's Lock) and its non-blocking acquire.
 *
 * lock() returns holding the lock; unlock() releases it; trylock() acquires
 * only if the lock is free right now and never waits (NULL when the
 * algorithm has none: CLH, Anderson and HCLH queue unconditionally).  All
 * three give acquire/release semantics: what the previous holder wrote
 * before unlock() is visible after lock().
 *
 * Every function takes the object and the calling thread's context (NULL
 * when the algorithm has none).  Algorithms are header-only with static
 * inline functions so that a workload's loop, instantiated once per
 * implementation, inlines them.
 */
#ifndef LB_MUTEX_H
#define LB_MUTEX_H

#include "prim.h"

struct lb_mutex_ops {
	struct lb_prim_ops base;
	void (*lock)(void *obj, void *tctx);
	bool (*trylock)(void *obj, void *tctx);
	void (*unlock)(void *obj, void *tctx);
};

/* Whether an implementation has trylock (LB_CAP_TRYLOCK; registry.h). */
static inline bool lb_mutex_can_try(const struct lb_prim_ops *ops)
{
	return ((const struct lb_mutex_ops *)(const void *)ops)->trylock != NULL;
}

#endif
