/* futex-malthusian: Dice's Malthusian MCS lock, MCSCR ("Malthusian Locks",
 * EuroSys 2017); our code, over futex-mcs-park's queue, nodes and
 * spin-then-sleep wait.  Concurrency restriction: a lock needs only its
 * holder and one waiter ready to take over; more waiters only crowd the
 * CPUs and caches.  So unlock culls: with at least three waiters queued,
 * it cuts the one behind the successor out of the queue into a passive
 * list, where it soon sleeps on its node's futex word (futex-mcs-park's
 * wait), costing nothing.  Passive waiters come back when the queue runs
 * dry (before the lock would be freed) and, for long-term fairness, the
 * eldest once every LB_MALTHUS_FAIR hand-overs.  The queue stays FIFO;
 * the passive list is FIFO too, but culled waiters overtaken by later
 * arrivals: not FIFO overall, as the paper says.
 *
 * State encoding:
 *   q         futex-mcs-park's lock (tail) and node states: WAITING,
 *             SLEEPING, GRANTED (mutex_futex_mcs_park.h)
 *   passive   the passive list: head, tail and count, linked through
 *             node.next; only the lock holder reads or writes it, so plain
 *             fields, on their own line
 *   handovers count of hand-overs while the passive list is non-empty
 * Transitions (unlock; lock and trylock are futex-mcs-park's):
 *   succ linked: if succ.next = X and X.next = Y are linked, succ.next = Y
 *           and X goes to the passive list's tail.  Fairness turn: grant the
 *           passive head P with P.next = succ.  Else grant succ.
 *   no succ, passive non-empty: P = passive head, P.next = NULL, CAS tail
 *           from our node to P and grant P; the CAS failing means someone
 *           arrived: wait for its link, P.next = it, grant P.
 *   no succ, passive empty: futex-mcs-park's (free the lock or wait).
 * A node X is cut out only when X.next is linked, so X is not the tail and
 * no arrival will write X.next; succ.next was written by X only, long ago.
 *
 * Orders checked: every grant is futex-mcs-park's release exchange, read by
 * the waiter's acquire loads (its (b)); the passive list and the next
 * fields of passive nodes travel with the lock (the holder's release
 * grant, the next holder's acquire).  The CAS of tail to P is acq_rel: its
 * release publishes P.next = NULL to the next arrival.
 */
#ifndef LB_MUTEX_FUTEX_MALTHUSIAN_H
#define LB_MUTEX_FUTEX_MALTHUSIAN_H

#include "mutex_futex_mcs_park.h"

#define LB_MALTHUS_FAIR 1024u

struct lb_futex_malthusian {
	struct lb_futex_mcs_park q; /* first: futex-mcs-park's functions take it */
	_Alignas(LB_CACHELINE) struct lb_mcs_park_node *phead, *ptail;
	unsigned pcount, handovers;
};

static inline int lb_futex_malthusian_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_malthusian *m = obj;
	m->phead = m->ptail = NULL;
	m->pcount = m->handovers = 0;
	return lb_futex_mcs_park_init(&m->q, cfg);
}

static inline struct lb_mcs_park_node *lb_malthus_pop(struct lb_futex_malthusian *m)
{
	struct lb_mcs_park_node *p = m->phead;
	m->phead = atomic_load_explicit(&p->next, memory_order_relaxed);
	if (!m->phead)
		m->ptail = NULL;
	m->pcount--;
	return p;
}

static void lb_futex_malthusian_unlock_slow(struct lb_futex_malthusian *m,
					    struct lb_mcs_park_node *n)
{
	struct lb_mcs_park_node *p = lb_malthus_pop(m), *self = n, *succ;
	atomic_store_explicit(&p->next, NULL, memory_order_relaxed);
	/* acq_rel: release publishes P's next to the arrival that swaps tail
	 * next; acquire is not needed (we hold the lock) but C11 wants the
	 * failure order no stronger than success's */
	if (!atomic_compare_exchange_strong_explicit(&m->q.tail, &self, p, memory_order_acq_rel,
						     memory_order_relaxed)) {
		/* acquire: pairs with the arrival's release link */
		while ((succ = atomic_load_explicit(&n->next, memory_order_acquire)) == NULL)
			lb_cpu_relax();
		atomic_store_explicit(&p->next, succ, memory_order_relaxed);
	}
	lb_mcs_park_grant(p);
}

static inline void lb_futex_malthusian_unlock(void *obj, void *t)
{
	struct lb_futex_malthusian *m = obj;
	struct lb_mcs_park_node *n = t;
	/* acquire: pairs with the successor's release link */
	struct lb_mcs_park_node *succ = atomic_load_explicit(&n->next, memory_order_acquire);
	if (!succ) {
		if (m->phead) {
			lb_futex_malthusian_unlock_slow(m, n);
			return;
		}
		if ((succ = lb_futex_mcs_park_successor(&m->q, n)) == NULL)
			return;
	}
	/* Cull: keep the successor, move the waiter behind it aside if
	 * another is linked behind that one (acquire: their links). */
	struct lb_mcs_park_node *x = atomic_load_explicit(&succ->next, memory_order_acquire), *y;
	if (x && (y = atomic_load_explicit(&x->next, memory_order_acquire)) != NULL) {
		atomic_store_explicit(&succ->next, y, memory_order_relaxed);
		atomic_store_explicit(&x->next, NULL, memory_order_relaxed);
		if (m->ptail)
			atomic_store_explicit(&m->ptail->next, x, memory_order_relaxed);
		else
			m->phead = x;
		m->ptail = x;
		m->pcount++;
	}
	if (m->phead && ++m->handovers % LB_MALTHUS_FAIR == 0) {
		struct lb_mcs_park_node *p = lb_malthus_pop(m);
		atomic_store_explicit(&p->next, succ, memory_order_relaxed);
		succ = p; /* the eldest passive waiter goes first */
	}
	lb_mcs_park_grant(succ);
}

static inline void lb_futex_malthusian_lock(void *obj, void *t)
{
	lb_futex_mcs_park_lock(obj, t);
}

static inline bool lb_futex_malthusian_trylock(void *obj, void *t)
{
	/* the lock is free only with the queue and the passive list empty */
	return lb_futex_mcs_park_trylock(obj, t);
}

static const struct lb_mutex_ops lb_futex_malthusian_ops = {
	.base = { .size = sizeof(struct lb_futex_malthusian),
		  .tctx_size = sizeof(struct lb_mcs_park_node),
		  .init = lb_futex_malthusian_init },
	.lock = lb_futex_malthusian_lock,
	.trylock = lb_futex_malthusian_trylock,
	.unlock = lb_futex_malthusian_unlock,
};

#endif
