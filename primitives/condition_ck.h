/* ck-cond: a ck_ec64 event count as the sequence, ck_spinlock_fas as the
 * lock.  wait reads the count while holding the lock, releases it and
 * ck_ec64_wait()s for the count to move (spin, then futex sleep:
 * ck_ec_futex.h); notify and notify_all both ck_ec64_inc(), which wakes
 * every sleeper (ck_ec has no wake-one; "at least one" is satisfied) and
 * makes no syscall when ck_ec's own flag says nobody sleeps. */
#ifndef LB_CONDITION_CK_H
#define LB_CONDITION_CK_H

#include <ck_spinlock.h>

#include "ck_ec_futex.h"
#include "condition.h"
#include "tsan.h"

struct lb_ck_cond {
	ck_spinlock_fas_t l;
	struct ck_ec64 seq;
};

static inline int lb_ck_cond_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_cond *c = obj;
	(void)cfg;
	ck_spinlock_fas_init(&c->l);
	ck_ec64_init(&c->seq, 0);
	return 0;
}

static inline void lb_ck_cond_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_fas_lock(&((struct lb_ck_cond *)obj)->l);
	LB_TSAN_ACQUIRE(obj); /* the lock's edges, as a mutex (tsan.h) */
}

static inline void lb_ck_cond_unlock(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(obj);
	ck_spinlock_fas_unlock(&((struct lb_ck_cond *)obj)->l);
}

static inline void lb_ck_cond_wait(void *obj, void *t)
{
	struct lb_ck_cond *c = obj;
	(void)t;
	uint64_t s = ck_ec64_value(&c->seq);
	LB_TSAN_RELEASE(c);
	ck_spinlock_fas_unlock(&c->l);
	ck_ec64_wait(&c->seq, &lb_ck_ec_mode, s, NULL);
	ck_spinlock_fas_lock(&c->l);
	LB_TSAN_ACQUIRE(c);
}

/* Orders nothing by itself (TSan is told nothing): a waiter sees what the
 * notifier wrote under the lock, through the lock, as with POSIX. */
static inline void lb_ck_cond_notify(void *obj)
{
	ck_ec64_inc(&((struct lb_ck_cond *)obj)->seq, &lb_ck_ec_mode);
}

static const struct lb_condition_ops lb_ck_cond_ops = {
	.base = { .size = sizeof(struct lb_ck_cond), .init = lb_ck_cond_init },
	.lock = lb_ck_cond_lock,
	.unlock = lb_ck_cond_unlock,
	.wait = lb_ck_cond_wait,
	.notify = lb_ck_cond_notify,
	.notify_all = lb_ck_cond_notify,
};

#endif
