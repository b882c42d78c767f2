/* futex-recursive: owner tid + depth (recursive_owner.h) over futex-mutex.
 *
 * State encoding:
 *   m.word   futex-mutex's word (mutex_futex.h): 0 free, 1 locked, 2 locked
 *            with maybe sleepers; the futex word, sleepers wait on it
 *   o.owner  kernel tid of the holder, 0 when free (written only by the
 *            holder, inside the inner lock)
 *   o.depth  nested acquisitions by the holder (the holder's alone)
 * Transitions:
 *   lock     owner == my tid: depth + 1, no atomic RMW, no syscall.  Else
 *            lock m (futex-mutex's transitions), then owner = tid, depth 1.
 *   trylock  as lock, with m's trylock; false if m is taken.
 *   unlock   owner != my tid: EPERM, nothing changes.  Else depth - 1; at 0,
 *            owner = 0 and then unlock m.
 * Who wakes whom: only m's unlock wakes (one sleeper, as futex-mutex).
 * Orders: recursive_owner.h's "Orders checked" (every return of lock
 * acquires through m or is a re-entry; the last unlock releases through m,
 * and m's word is never touched after that release: glibc's rule).
 */
#ifndef LB_RECURSIVE_FUTEX_H
#define LB_RECURSIVE_FUTEX_H

#include "mutex_futex.h"
#include "recursive_owner.h"

struct lb_futex_recursive {
	struct lb_futex_mutex m;
	struct lb_owner o;
};

static inline int lb_futex_recursive_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_recursive *r = obj;
	atomic_init(&r->o.owner, 0);
	r->o.depth = 0;
	return lb_futex_mutex_init(&r->m, cfg);
}

static inline void lb_futex_recursive_lock(void *obj, void *t)
{
	struct lb_futex_recursive *r = obj;
	if (lb_owner_reenter(&r->o, t))
		return;
	lb_futex_mutex_lock(&r->m, NULL);
	lb_owner_take(&r->o, t);
}

static inline bool lb_futex_recursive_trylock(void *obj, void *t)
{
	struct lb_futex_recursive *r = obj;
	if (lb_owner_reenter(&r->o, t))
		return true;
	if (!lb_futex_mutex_trylock(&r->m, NULL))
		return false;
	lb_owner_take(&r->o, t);
	return true;
}

static inline int lb_futex_recursive_unlock(void *obj, void *t)
{
	struct lb_futex_recursive *r = obj;
	int last, ret = lb_owner_drop(&r->o, t, &last);
	if (last)
		lb_futex_mutex_unlock(&r->m, NULL);
	return ret;
}

static const struct lb_recursive_ops lb_futex_recursive_ops = {
	.base = { .size = sizeof(struct lb_futex_recursive),
		  .tctx_size = sizeof(struct lb_owner_tctx),
		  .init = lb_futex_recursive_init, .thread_init = lb_owner_thread_init },
	.lock = lb_futex_recursive_lock,
	.trylock = lb_futex_recursive_trylock,
	.unlock = lb_futex_recursive_unlock,
};

#endif
