/* ck-ticket-pb: ck-ticket with proportional backoff: a waiter
 * n tickets from the head waits about n iterations between reads of the
 * 'now serving' word instead of re-reading it at once, so the holder's
 * release is not slowed by every waiter's read.  c = 0 (the backoff
 * is the distance itself), as CK's own regression runs it.
 * Concurrency Kit's ck_spinlock_ticket_lock_pb(obj, 0), used as CK ships it;
 * trylock, unlock and init are ck-ticket's (the same word). */
#ifndef LB_MUTEX_CK_TICKET_PB_H
#define LB_MUTEX_CK_TICKET_PB_H

#include "mutex_ck_ticket.h"

static inline void lb_ck_ticket_pb_lock(void *obj, void *t)
{
	(void)t;
	ck_spinlock_ticket_lock_pb(obj, 0);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static const struct lb_mutex_ops lb_ck_ticket_pb_ops = {
	.base = { .size = sizeof(ck_spinlock_ticket_t), .init = lb_ck_ticket_init },
	.lock = lb_ck_ticket_pb_lock,
	.trylock = lb_ck_ticket_trylock,
	.unlock = lb_ck_ticket_unlock,
};

#endif
