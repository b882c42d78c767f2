/* ck-ticket: FIFO ticket lock: take a ticket with
 * fetch-and-add, spin until 'now serving' reaches it.  Fair, so under
 * oversubscription a preempted next-in-line stalls everyone behind it.
 * Concurrency Kit's ck_spinlock_ticket, used as CK ships it. */
#ifndef LB_MUTEX_CK_TICKET_H
#define LB_MUTEX_CK_TICKET_H

#include <ck_spinlock.h>

#include "mutex.h"
#include "tsan.h"

static inline int lb_ck_ticket_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_spinlock_ticket_init(obj);
	return 0;
}

static inline void lb_ck_ticket_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_ticket_lock(obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline bool lb_ck_ticket_trylock(void *obj, void *t)
{
	(void)t;
	bool ok = ck_spinlock_ticket_trylock(obj);
	if (ok)
		LB_TSAN_ACQUIRE(obj);
	return ok;
}

static inline void lb_ck_ticket_unlock(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(obj); /* before the store that frees it */
	ck_spinlock_ticket_unlock(obj);
}

static const struct lb_mutex_ops lb_ck_ticket_ops = {
	.base = { .size = sizeof(ck_spinlock_ticket_t), .init = lb_ck_ticket_init },
	.lock = lb_ck_ticket_lock,
	.trylock = lb_ck_ticket_trylock,
	.unlock = lb_ck_ticket_unlock,
};

#endif
