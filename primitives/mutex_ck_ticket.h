/* ck-ticket: FIFO ticket lock: take a ticket with
 * fetch-and-add, spin until 'now serving' reaches it.  Fair, so under
 * oversubscription a preempted next-in-line stalls everyone behind it.
 * Concurrency Kit's ck_spinlock_ticket, used as CK ships it. */
#ifndef LB_MUTEX_CK_TICKET_H
#define LB_MUTEX_CK_TICKET_H

#include <ck_spinlock.h>

#include "mutex.h"

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
}

static inline bool lb_ck_ticket_trylock(void *obj, void *t)
{
	(void)t;
	return ck_spinlock_ticket_trylock(obj);
}

static inline void lb_ck_ticket_unlock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_ticket_unlock(obj);
}

static const struct lb_mutex_ops lb_ck_ticket_ops = {
	.base = { .size = sizeof(ck_spinlock_ticket_t), .init = lb_ck_ticket_init },
	.lock = lb_ck_ticket_lock,
	.trylock = lb_ck_ticket_trylock,
	.unlock = lb_ck_ticket_unlock,
};

#endif
