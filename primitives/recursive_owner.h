/* Owner + depth over any non-recursive lock: the shared part of
 * futex-recursive and ck-recursive.
 *
 * owner holds the kernel tid of the holding thread, 0 when free; depth
 * counts its nested acquisitions and is touched only by the owner.  A
 * thread tests "do I own it?" with a relaxed load of owner: only the owner
 * itself ever writes its own tid there and it writes 0 back before it
 * releases the inner lock, so a thread can never read its own tid unless it
 * holds the lock, whatever stale value it might see otherwise.  The inner
 * lock provides all acquire/release ordering.
 *
 * Orders checked:
 *   lock, trylock  return either through the inner lock's acquire
 *                  (futex-mutex: every path acquires, mutex_futex.h;
 *                  ck_spinlock_fas: an atomic swap and ck_pr_fence_lock), or
 *                  on re-entry, which needs none: this thread acquired the
 *                  inner lock itself earlier and still holds it.  A false
 *                  trylock orders nothing.
 *   unlock         the last one releases through the inner unlock; owner's
 *                  relaxed store of 0 is sequenced before it.  The inner
 *                  unlock is the last access to the inner lock's word
 *                  (glibc's rule, kept by mutex_futex.h).
 */
#ifndef LB_RECURSIVE_OWNER_H
#define LB_RECURSIVE_OWNER_H

#include <errno.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <unistd.h>

#include "recursive.h"

struct lb_owner {
	_Atomic pid_t owner;
	unsigned depth;
};

struct lb_owner_tctx {
	pid_t tid;
};

static inline int lb_owner_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)obj;
	(void)ti;
	((struct lb_owner_tctx *)t)->tid = gettid();
	return 0;
}

/* 1 if the calling thread already holds it (and re-entered), else 0. */
static inline int lb_owner_reenter(struct lb_owner *o, const struct lb_owner_tctx *t)
{
	if (atomic_load_explicit(&o->owner, memory_order_relaxed) != t->tid)
		return 0;
	o->depth++;
	return 1;
}

static inline void lb_owner_take(struct lb_owner *o, const struct lb_owner_tctx *t)
{
	atomic_store_explicit(&o->owner, t->tid, memory_order_relaxed);
	o->depth = 1;
}

/* EPERM for a non-owner; 0 with *last = 1 when the inner lock must now be
 * released (owner already cleared). */
static inline int lb_owner_drop(struct lb_owner *o, const struct lb_owner_tctx *t, int *last)
{
	*last = 0;
	if (atomic_load_explicit(&o->owner, memory_order_relaxed) != t->tid)
		return EPERM;
	if (--o->depth == 0) {
		atomic_store_explicit(&o->owner, 0, memory_order_relaxed);
		*last = 1;
	}
	return 0;
}

#endif
