/* ck-event: an event on one ck_ec64 event count.
 *
 * State encoding: the event count's value; odd means set, even clear.
 *   set    if even, increment (to odd): wakes every sleeper.
 *   clear  if odd, increment (to even).
 *   wait   read the value v; if odd return; else ck_ec64_wait() until the
 *          value differs from v (ck_ec spins briefly, then sleeps on a
 *          futex: ck_ec_futex.h).  It returns once a set happened, even if
 *          a clear already followed it (the value moved twice).
 * set and clear are serialised by a ck_spinlock_fas so that "test the
 * parity, then increment" is one step; flag and generation live in the one
 * word, so a waiter can never see a set's flag without its generation (a
 * flag and a separate counter let a late increment wake a wait() that
 * began after the following clear).  ck_ec makes no syscall when its own
 * waiter bit says nobody sleeps.
 */
#ifndef LB_EVENT_CK_H
#define LB_EVENT_CK_H

#include <ck_pr.h>
#include <ck_spinlock.h>

#include "ck_ec_futex.h"
#include "event.h"
#include "tsan.h"

struct lb_ck_event {
	ck_spinlock_fas_t lock; /* serialises set and clear */
	struct ck_ec64 gen;     /* odd: set */
};

static inline int lb_ck_event_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_event *e = obj;
	(void)cfg;
	ck_spinlock_fas_init(&e->lock);
	ck_ec64_init(&e->gen, 0);
	return 0;
}

static inline void lb_ck_event_set(void *obj)
{
	struct lb_ck_event *e = obj;
	/* What the setter wrote before set() happens-before the return of
	 * a wait() or is_set() that follows (tsan.h); before the lock, as
	 * the increment that lets a waiter go is under it. */
	LB_TSAN_RELEASE(e);
	ck_spinlock_fas_lock(&e->lock);
	if (!(ck_ec64_value(&e->gen) & 1)) {
		/* release: what the setter wrote before set() is visible to a
		 * waiter that sees the new value (pairs with its acquire). */
		ck_pr_fence_release();
		ck_ec64_inc(&e->gen, &lb_ck_ec_mode);
	}
	ck_spinlock_fas_unlock(&e->lock);
}

static inline void lb_ck_event_clear(void *obj)
{
	struct lb_ck_event *e = obj;
	ck_spinlock_fas_lock(&e->lock);
	if (ck_ec64_value(&e->gen) & 1)
		ck_ec64_inc(&e->gen, &lb_ck_ec_mode);
	ck_spinlock_fas_unlock(&e->lock);
}

static inline void lb_ck_event_wait(void *obj, void *t)
{
	struct lb_ck_event *e = obj;
	(void)t;
	uint64_t g = ck_ec64_value(&e->gen);
	if (!(g & 1))
		ck_ec64_wait(&e->gen, &lb_ck_ec_mode, g, NULL);
	ck_pr_fence_acquire(); /* pairs with set()'s release fence */
	LB_TSAN_ACQUIRE(e);    /* and with its LB_TSAN_RELEASE */
}

static inline bool lb_ck_event_is_set(void *obj)
{
	bool r = ck_ec64_value(&((struct lb_ck_event *)obj)->gen) & 1;
	ck_pr_fence_acquire();
	/* Whatever it returns, as the fence above (and futex-event's
	 * acquire load) */
	LB_TSAN_ACQUIRE(obj);
	return r;
}

static const struct lb_event_ops lb_ck_event_ops = {
	.base = { .size = sizeof(struct lb_ck_event), .init = lb_ck_event_init },
	.set = lb_ck_event_set,
	.clear = lb_ck_event_clear,
	.wait = lb_ck_event_wait,
	.is_set = lb_ck_event_is_set,
};

#endif
