/* lit-partitioned-ticket: Dice's partitioned ticket lock ("Brief
 * announcement: a partitioned ticket lock", SPAA 2011).  Written here in
 * C11 atomics.
 *
 * State: a ticket counter `next` (fetch-and-add gives each arrival its
 * ticket t) and LB_PTL_SLOTS grant words, each on its own cache line;
 * ticket t is served when grant[t % LB_PTL_SLOTS] == t.  The holder keeps
 * its ticket in `owner` (only the holder touches it).  Unlock stores t + 1
 * into grant[(t + 1) % LB_PTL_SLOTS].
 *
 * A plain ticket lock has every waiter polling one "now serving" word, so
 * each release invalidates every waiter's copy.  Here waiters spread over
 * the slots: a release touches the line of the one slot whose turn comes,
 * shared by about waiters / LB_PTL_SLOTS threads.  FIFO, like the ticket
 * lock, and as exposed to a preempted next-in-line.
 *
 * Initially grant[0] = 0 (ticket 0 may enter) and grant[i] = i - SLOTS
 * (mod 2^32) for the other slots: congruent to i, so it is an earlier
 * turn of slot i, never ticket i itself. */
#ifndef LB_MUTEX_LIT_PARTITIONED_TICKET_H
#define LB_MUTEX_LIT_PARTITIONED_TICKET_H

#include <stdatomic.h>
#include <stdint.h>

#include "mutex.h"

#define LB_PTL_SLOTS 8u

struct lb_ptl {
	_Alignas(LB_CACHELINE) _Atomic uint32_t next;
	uint32_t owner; /* the holder's ticket: written after lock, read in unlock */
	struct {
		_Alignas(LB_CACHELINE) _Atomic uint32_t v;
	} grant[LB_PTL_SLOTS];
};

static inline int lb_lit_partitioned_ticket_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	struct lb_ptl *l = obj;
	atomic_init(&l->next, 0);
	l->owner = 0;
	for (uint32_t i = 0; i < LB_PTL_SLOTS; i++)
		atomic_init(&l->grant[i].v, i - LB_PTL_SLOTS);
	atomic_init(&l->grant[0].v, 0);
	return 0;
}

static inline void lb_lit_partitioned_ticket_lock(void *obj, void *t)
{
	(void)t;
	struct lb_ptl *l = obj;
	uint32_t me = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed);
	_Atomic uint32_t *g = &l->grant[me % LB_PTL_SLOTS].v;
	/* acquire pairs with the previous holder's release store of `me` */
	while (atomic_load_explicit(g, memory_order_acquire) != me)
		lb_cpu_relax();
	l->owner = me;
}

static inline bool lb_lit_partitioned_ticket_trylock(void *obj, void *t)
{
	(void)t;
	struct lb_ptl *l = obj;
	uint32_t me = atomic_load_explicit(&l->next, memory_order_relaxed);
	/* Free now exactly when ticket `me` is already granted: then no one
	 * holds it and no one waits.  The acquire load pairs with the release
	 * that granted it; the CAS takes the ticket only if nobody else has. */
	if (atomic_load_explicit(&l->grant[me % LB_PTL_SLOTS].v, memory_order_acquire) != me ||
	    !atomic_compare_exchange_strong_explicit(&l->next, &me, me + 1, memory_order_relaxed,
						     memory_order_relaxed))
		return false;
	l->owner = me;
	return true;
}

static inline void lb_lit_partitioned_ticket_unlock(void *obj, void *t)
{
	(void)t;
	struct lb_ptl *l = obj;
	uint32_t next = l->owner + 1;
	/* release pairs with the next ticket's acquire load in lock */
	atomic_store_explicit(&l->grant[next % LB_PTL_SLOTS].v, next, memory_order_release);
}

static const struct lb_mutex_ops lb_lit_partitioned_ticket_ops = {
	.base = { .size = sizeof(struct lb_ptl), .init = lb_lit_partitioned_ticket_init },
	.lock = lb_lit_partitioned_ticket_lock,
	.trylock = lb_lit_partitioned_ticket_trylock,
	.unlock = lb_lit_partitioned_ticket_unlock,
};

#endif
