/* The recursive kind (the tutorial's RLock).
 *
 * The owner may lock again without deadlocking and must unlock as many
 * times as it locked; the lock is free only after the last unlock.
 * unlock() by a thread that does not own the lock returns EPERM and changes
 * nothing (where the backend can tell, which all of ours can); 0 otherwise.
 * trylock() acquires (or re-enters) only without waiting.
 */
#ifndef LB_RECURSIVE_H
#define LB_RECURSIVE_H

#include "prim.h"

struct lb_recursive_ops {
	struct lb_prim_ops base;
	void (*lock)(void *obj, void *tctx);
	bool (*trylock)(void *obj, void *tctx);
	int (*unlock)(void *obj, void *tctx);
};

/* Whether an implementation has trylock (LB_CAP_TRYLOCK; registry.h). */
static inline bool lb_recursive_can_try(const struct lb_prim_ops *ops)
{
	return ((const struct lb_recursive_ops *)(const void *)ops)->trylock != NULL;
}

#endif
