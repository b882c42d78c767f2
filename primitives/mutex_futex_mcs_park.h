/* futex-mcs-park: Mellor-Crummey and Scott's queue lock ("Algorithms for
 * Scalable Synchronization on Shared-Memory Multiprocessors", 1991) whose
 * waiters spin on their own node for a while and then sleep on a futex
 * word in that node; our code.  The queue keeps it FIFO, and a waiter
 * whose turn is far off gives its CPU away instead of burning its time
 * slice, so an oversubscribed run does not collapse into a convoy of
 * spinning threads that the scheduler must run in queue order.  (The
 * spin-then-park queue lock of Dice, "Malthusian Locks", 2017, and of
 * the Linux kernel's qspinlock with paravirt waits follow the same idea.)
 *
 * State encoding:
 *   tail          the last node in the queue, NULL when the lock is free
 *   node.next     the successor's node, NULL until it links itself
 *   node.state    32-bit futex word, one per waiter:
 *                   0  WAITING   queued, spinning
 *                   1  SLEEPING  queued, asleep on the word (or about to be)
 *                   2  GRANTED   the predecessor handed the lock over
 * Transitions:
 *   lock    node = {next NULL, WAITING}; swap tail to node.  Old tail NULL:
 *           ours.  Else link pred.next = node, poll node.state up to
 *           LB_MCS_PARK_SPINS times for GRANTED, then CAS WAITING ->
 *           SLEEPING and sleep while it reads SLEEPING.  A failed CAS read
 *           GRANTED.
 *   unlock  successor = node.next.  None: CAS tail node -> NULL (free; done),
 *           else wait for the successor to link itself.  Swap GRANTED into
 *           the successor's state; if it was SLEEPING, FUTEX_WAKE it.
 *   trylock read tail; only if NULL, CAS tail NULL -> node: ours only if
 *           the lock was free (a failing try leaves the line shared, as
 *           mutex_futex.h).
 * Who wakes whom: each unlock wakes (or lets spin on) exactly its
 * successor: FIFO.  After the swap to GRANTED the successor may return,
 * unlock and reuse or free its node; the waker passes only the word's
 * address to FUTEX_WAKE then (harmless, futex.h) and never reads or writes
 * it again.  Our own node is not read after the hand-over either.
 *
 * Orders checked.  lock returns on (a) a swap of tail that read NULL:
 * acq_rel, so it synchronizes with the release CAS of tail (node -> NULL)
 * of the unlock that freed the lock; or (b) GRANTED, read by an acquire
 * load (the poll or the loop after a sleep) or by the acquire failure of
 * the WAITING -> SLEEPING CAS, each pairing with the release swap of
 * GRANTED in the predecessor's unlock.  A return from FUTEX_WAIT decides
 * nothing: the load after it does.  The link pred.next = node is a
 * release store, read by unlock's acquire load, so the predecessor sees
 * our initialised node.  trylock is true only on its acquire CAS.
 */
#ifndef LB_MUTEX_FUTEX_MCS_PARK_H
#define LB_MUTEX_FUTEX_MCS_PARK_H

#include "futex.h"
#include "mutex.h"

/* Polls before sleeping: a few microseconds of PAUSE, the order of a
 * futex sleep and wake (as futex-spin-then-park's 128, longer because a
 * queued waiter's turn comes only after its predecessors'). */
#define LB_MCS_PARK_SPINS 512

enum { LB_MCSP_WAITING = 0, LB_MCSP_SLEEPING = 1, LB_MCSP_GRANTED = 2 };

struct lb_mcs_park_node {
	struct lb_mcs_park_node *_Atomic next;
	_Atomic uint32_t state;
};

struct lb_futex_mcs_park {
	struct lb_mcs_park_node *_Atomic tail;
};

static inline int lb_futex_mcs_park_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_mcs_park *)obj)->tail, NULL);
	return 0;
}

static void lb_futex_mcs_park_wait(struct lb_mcs_park_node *n)
{
	for (int i = 0; i < LB_MCS_PARK_SPINS; i++) {
		/* acquire: (b), pairs with the release swap in unlock. */
		if (atomic_load_explicit(&n->state, memory_order_acquire) == LB_MCSP_GRANTED)
			return;
		lb_cpu_relax();
	}
	uint32_t w = LB_MCSP_WAITING;
	/* acquire on failure: it read GRANTED, (b).  (C11 wants success at
	 * least as strong; going to sleep needs no order.) */
	if (!atomic_compare_exchange_strong_explicit(&n->state, &w, LB_MCSP_SLEEPING,
						     memory_order_acquire, memory_order_acquire))
		return;
	/* acquire: (b), the load that decides after every wake-up. */
	while (atomic_load_explicit(&n->state, memory_order_acquire) != LB_MCSP_GRANTED)
		lb_futex_wait(&n->state, LB_MCSP_SLEEPING, NULL);
}

static inline void lb_futex_mcs_park_lock(void *obj, void *t)
{
	struct lb_futex_mcs_park *m = obj;
	struct lb_mcs_park_node *n = t, *pred;

	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&n->state, LB_MCSP_WAITING, memory_order_relaxed);
	/* acq_rel: acquire for (a); the node's initialisation reaches the
	 * predecessor through the release link below. */
	pred = atomic_exchange_explicit(&m->tail, n, memory_order_acq_rel);
	if (__builtin_expect(pred == NULL, 1))
		return;
	/* release: pairs with unlock's acquire load of next. */
	atomic_store_explicit(&pred->next, n, memory_order_release);
	lb_futex_mcs_park_wait(n);
}

static inline bool lb_futex_mcs_park_trylock(void *obj, void *t)
{
	struct lb_futex_mcs_park *m = obj;
	struct lb_mcs_park_node *n = t, *free = NULL;

	/* relaxed: a held lock fails the try, which orders nothing. */
	if (atomic_load_explicit(&m->tail, memory_order_relaxed) != NULL)
		return false;
	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	/* acquire: pairs with the release CAS that freed the lock; release:
	 * next's initialisation, for a successor that reads tail. */
	return atomic_compare_exchange_strong_explicit(&m->tail, &free, n, memory_order_acq_rel,
						       memory_order_relaxed);
}

/* No successor linked yet: free the lock if none is queued (NULL), else
 * wait for the one that swapped tail to link itself. */
static struct lb_mcs_park_node *lb_futex_mcs_park_successor(struct lb_futex_mcs_park *m,
							     struct lb_mcs_park_node *n)
{
	struct lb_mcs_park_node *succ, *self = n;
	/* release: pairs with the next locker's acquire swap that reads NULL. */
	if (atomic_compare_exchange_strong_explicit(&m->tail, &self, NULL, memory_order_release,
						    memory_order_relaxed))
		return NULL;
	/* acquire: pairs with the successor's release link. */
	while ((succ = atomic_load_explicit(&n->next, memory_order_acquire)) == NULL)
		lb_cpu_relax();
	return succ;
}

/* Hand the lock to a queued node, waking it if it sleeps. */
static inline void lb_mcs_park_grant(struct lb_mcs_park_node *succ)
{
	_Atomic uint32_t *w = &succ->state;
	/* release: (b)'s pair.  The successor's node is not ours after it:
	 * only the word's address goes to FUTEX_WAKE. */
	if (atomic_exchange_explicit(w, LB_MCSP_GRANTED, memory_order_release) ==
	    LB_MCSP_SLEEPING)
		lb_futex_wake(w, 1);
}

static inline void lb_futex_mcs_park_unlock(void *obj, void *t)
{
	struct lb_futex_mcs_park *m = obj;
	struct lb_mcs_park_node *n = t;
	/* acquire: pairs with the successor's release link. */
	struct lb_mcs_park_node *succ = atomic_load_explicit(&n->next, memory_order_acquire);
	if (succ == NULL && (succ = lb_futex_mcs_park_successor(m, n)) == NULL)
		return;
	lb_mcs_park_grant(succ);
}

static const struct lb_mutex_ops lb_futex_mcs_park_ops = {
	.base = { .size = sizeof(struct lb_futex_mcs_park),
		  .tctx_size = sizeof(struct lb_mcs_park_node),
		  .init = lb_futex_mcs_park_init },
	.lock = lb_futex_mcs_park_lock,
	.trylock = lb_futex_mcs_park_trylock,
	.unlock = lb_futex_mcs_park_unlock,
};

#endif
