/* lit-mcs-tp: time-published MCS (He, Scherer and Scott, "Preemption
 * Adaptivity in Time-Published Queue-Based Spin Locks", HiPC 2005); our
 * code, in C11 atomics.  A FIFO queue lock hands over to its successor,
 * and when the successor has been preempted every thread behind it waits
 * out a whole time slice: the oversubscription collapse that lockbench
 * shows for every FIFO spinlock.  Here each waiter publishes a timestamp
 * as it spins, and unlock skips a successor whose timestamp is older
 * than LB_TP_STALE_NS (it is not running): the skipped waiter finds
 * itself removed when it runs again and queues anew.
 *
 * Of the paper's protocol this keeps the part that answers the collapse:
 * the holder's skip of preempted waiters.  It leaves out the waiters'
 * timeout and abandonment (a waiter here never leaves on its own) and the
 * holder's published time that lets waiters yield to a preempted holder.
 *
 * State encoding:
 *   tail         the last node, NULL when free
 *   node.next    the successor, NULL until it links itself
 *   node.state   0 WAITING, 1 GRANTED (the lock is ours), 2 REMOVED (the
 *                holder skipped us: we are in no queue; enqueue again)
 *   node.time    CLOCK_MONOTONIC ns, stored by the waiter on each poll
 * Transitions:
 *   lock    node = {WAITING, next NULL, time now}; swap tail.  NULL: ours.
 *           Else link, poll (publishing the time) until GRANTED or REMOVED;
 *           REMOVED: start over.
 *   unlock  succ = next (or free the lock / wait for the link, as MCS).
 *           While succ is stale and its own successor is linked: read that
 *           successor, store REMOVED into succ, move on.  Grant the last
 *           one reached (a stale tail is granted anyway: it cannot be
 *           skipped without a waiter behind it).
 * The skipped node's next is read before REMOVED is stored, and the holder
 * never touches it after: the owner may reuse it at once.
 *
 * Orders checked.  lock returns on the acq_rel swap that read NULL (pairs
 * with the release CAS that freed the lock) or on the acquire load that
 * reads GRANTED (pairs with the release store of GRANTED).  Links are
 * release stores read by acquire loads.  The time is a relaxed hint: a
 * wrong guess skips a running waiter (it queues again) or grants a
 * preempted one (MCS's behaviour), never breaks exclusion.
 */
#ifndef LB_MUTEX_LIT_MCS_TP_H
#define LB_MUTEX_LIT_MCS_TP_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "mutex.h"

/* A running waiter publishes every few hundred ns; a time slice is
 * milliseconds.  50 us tells them apart with room on both sides. */
#define LB_TP_STALE_NS 50000u

enum { LB_TP_WAITING = 0, LB_TP_GRANTED = 1, LB_TP_REMOVED = 2 };

struct lb_tp_node {
	struct lb_tp_node *_Atomic next;
	_Atomic uint32_t state;
	_Atomic uint64_t time;
};

static inline uint64_t lb_tp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int lb_lit_mcs_tp_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init((struct lb_tp_node *_Atomic *)obj, NULL);
	return 0;
}

static void lb_tp_wait(struct lb_tp_node *_Atomic *tail, struct lb_tp_node *me)
{
	for (;;) {
		atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
		atomic_store_explicit(&me->state, LB_TP_WAITING, memory_order_relaxed);
		atomic_store_explicit(&me->time, lb_tp_now(), memory_order_relaxed);
		/* acq_rel: acquire pairs with the release CAS that freed the
		 * lock; release publishes the node to the next arrival */
		struct lb_tp_node *prev = atomic_exchange_explicit(tail, me, memory_order_acq_rel);
		if (!prev)
			return;
		/* release pairs with the holder's acquire load of next */
		atomic_store_explicit(&prev->next, me, memory_order_release);
		uint32_t s;
		/* acquire pairs with the release store of GRANTED or REMOVED */
		while ((s = atomic_load_explicit(&me->state, memory_order_acquire)) ==
		       LB_TP_WAITING) {
			atomic_store_explicit(&me->time, lb_tp_now(), memory_order_relaxed);
			lb_cpu_relax();
		}
		if (s == LB_TP_GRANTED)
			return;
	}
}

static inline void lb_lit_mcs_tp_lock(void *obj, void *t)
{
	struct lb_tp_node *_Atomic *tail = obj;
	struct lb_tp_node *me = t, *none = NULL;
	atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
	/* uncontended: one CAS, as MCS's swap (acquire pairs with the release
	 * CAS that freed the lock) */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(tail, &none, me,
								     memory_order_acq_rel,
								     memory_order_relaxed), 1))
		return;
	lb_tp_wait(tail, me);
}

static inline bool lb_lit_mcs_tp_trylock(void *obj, void *t)
{
	struct lb_tp_node *_Atomic *tail = obj;
	struct lb_tp_node *me = t, *none = NULL;
	if (atomic_load_explicit(tail, memory_order_relaxed))
		return false;
	atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
	return atomic_compare_exchange_strong_explicit(tail, &none, me, memory_order_acq_rel,
						       memory_order_relaxed);
}

static void lb_tp_unlock_slow(struct lb_tp_node *_Atomic *tail, struct lb_tp_node *me,
			      struct lb_tp_node *succ)
{
	if (!succ) {
		struct lb_tp_node *expect = me;
		/* release pairs with the next locker's acq_rel swap or CAS */
		if (atomic_compare_exchange_strong_explicit(tail, &expect, NULL, memory_order_release,
							    memory_order_relaxed))
			return;
		/* acquire pairs with the successor's release link */
		while (!(succ = atomic_load_explicit(&me->next, memory_order_acquire)))
			lb_cpu_relax();
	}
	uint64_t now = lb_tp_now();
	for (;;) {
		uint64_t seen = atomic_load_explicit(&succ->time, memory_order_relaxed);
		struct lb_tp_node *after = atomic_load_explicit(&succ->next, memory_order_acquire);
		if (now - seen < LB_TP_STALE_NS || now < seen || !after)
			break;
		/* Preempted, and someone is behind it: skip it.  Its node is
		 * its owner's again from this store on (release: our reads of
		 * it are done). */
		atomic_store_explicit(&succ->state, LB_TP_REMOVED, memory_order_release);
		succ = after;
	}
	/* release pairs with succ's acquire load of its state */
	atomic_store_explicit(&succ->state, LB_TP_GRANTED, memory_order_release);
}

static inline void lb_lit_mcs_tp_unlock(void *obj, void *t)
{
	struct lb_tp_node *me = t;
	/* acquire pairs with the successor's release link */
	lb_tp_unlock_slow(obj, me, atomic_load_explicit(&me->next, memory_order_acquire));
}

static const struct lb_mutex_ops lb_lit_mcs_tp_ops = {
	.base = { .size = sizeof(struct lb_tp_node *), .tctx_size = sizeof(struct lb_tp_node),
		  .init = lb_lit_mcs_tp_init },
	.lock = lb_lit_mcs_tp_lock,
	.trylock = lb_lit_mcs_tp_trylock,
	.unlock = lb_lit_mcs_tp_unlock,
};

#endif
