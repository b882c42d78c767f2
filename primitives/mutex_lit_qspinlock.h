/* lit-qspinlock: Linux's queued spinlock (kernel/locking/qspinlock.c,
 * Waiman Long and Peter Zijlstra, after MCS), in user space with C11
 * atomics; our code.  One 32-bit word holds the whole lock, so it fits
 * where a test-and-set word fits, and a waiter beyond the second spins on
 * its own MCS node.
 *
 * State encoding (the word `val`):
 *   bits  0-7   locked byte: 1 while held
 *   bit   8     pending: the one waiter that spins on the word itself
 *   bits 16-31  tail: tid + 1 of the last queued waiter's node, 0 if none
 * (the kernel also packs a per-CPU node index into the tail for nested
 * contexts; a user thread holds one node per lock, its tctx).
 *   node.locked  0 while queued behind another node, 1 when the
 *                predecessor made us the queue's head
 *   node.next    the successor's node, NULL until it links itself
 *
 * Transitions:
 *   lock      CAS 0 -> locked (uncontended: one atomic, as test-and-set).
 *             Else, if only the lock bit is set, set pending and spin on
 *             the word until the holder leaves, then pending -> locked in
 *             one add.  Else queue: swap the tail to our node, link
 *             behind the old tail and spin on node.locked; as head, spin
 *             on the word until locked and pending are both clear, then
 *             take the lock (clearing the tail too if we are still the
 *             last) and make our successor the head.
 *   unlock    subtract the locked byte (release).
 *   trylock   CAS 0 -> locked.
 * A thread that sets pending while a tail exists clears it again and
 * queues; the head, which may have seen that transient pending bit, only
 * waits for it to go.  If the head's "last in queue" CAS fails because of
 * such a bit, that thread is about to queue behind the head, so a
 * successor will link itself (the kernel's argument, same place).
 *
 * Orders checked.  lock returns after (a) the acquire CAS 0 -> locked;
 * (b) the pending waiter's acquire load that saw the locked byte clear;
 * (c) the head's acquire load that saw locked and pending clear.  Each
 * reads the value of, or an RMW after, the release subtraction in the
 * previous holder's unlock (every later change of the word is an RMW, so
 * the release sequence carries it).  The tail swap is a release CAS, so
 * whoever decodes our tail sees our node's initialisation; node.next and
 * node.locked are release stores read by acquire loads.
 */
#ifndef LB_MUTEX_LIT_QSPINLOCK_H
#define LB_MUTEX_LIT_QSPINLOCK_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "mutex.h"

#define LB_QSL_LOCKED 1u
#define LB_QSL_LOCKED_MASK 0xffu
#define LB_QSL_PENDING (1u << 8)
#define LB_QSL_TAIL_SHIFT 16
#define LB_QSL_TAIL_MASK (0xffffu << LB_QSL_TAIL_SHIFT)
/* The kernel waits a short while for a pending -> locked hand-over in
 * flight before queueing (_Q_PENDING_LOOPS, 1 on x86). */
#define LB_QSL_PENDING_LOOPS 1

struct lb_qsl_node {
	struct lb_qsl_node *_Atomic next;
	_Atomic uint32_t locked;
	uint32_t tail; /* our tail code: (tid + 1) << 16 */
};

struct lb_qsl {
	_Atomic uint32_t val;
	unsigned nthreads;
	struct lb_qsl_node **nodes; /* by tid: each thread's node for this lock */
};

static inline int lb_lit_qspinlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_qsl *l = obj;
	if (cfg->nthreads >= 0xffffu)
		return EINVAL; /* the tail has 16 bits */
	atomic_init(&l->val, 0);
	l->nthreads = cfg->nthreads;
	l->nodes = lb_shared_calloc(cfg->nthreads ? cfg->nthreads : 1, sizeof(*l->nodes));
	return l->nodes ? 0 : ENOMEM;
}

static inline void lb_lit_qspinlock_fini(void *obj)
{
	free(((struct lb_qsl *)obj)->nodes);
}

static inline int lb_lit_qspinlock_thread_init(void *obj, void *t,
						  const struct lb_thread_info *ti)
{
	struct lb_qsl *l = obj;
	struct lb_qsl_node *n = t;
	if (ti->tid >= l->nthreads)
		return EINVAL;
	n->tail = (ti->tid + 1) << LB_QSL_TAIL_SHIFT;
	/* published to other threads by our tail CAS (release) */
	l->nodes[ti->tid] = n;
	return 0;
}

static inline bool lb_lit_qspinlock_trylock(void *obj, void *t)
{
	(void)t;
	struct lb_qsl *l = obj;
	uint32_t v = atomic_load_explicit(&l->val, memory_order_relaxed);
	/* acquire pairs with unlock's release subtraction */
	return v == 0 && atomic_compare_exchange_strong_explicit(&l->val, &v, LB_QSL_LOCKED,
								 memory_order_acquire,
								 memory_order_relaxed);
}

static void lb_qsl_queue(struct lb_qsl *l, struct lb_qsl_node *me)
{
	atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&me->locked, 0, memory_order_relaxed);
	if (lb_lit_qspinlock_trylock(l, me))
		return; /* freed while we got here (the kernel tries too) */

	uint32_t old = atomic_load_explicit(&l->val, memory_order_relaxed);
	/* release: the node's initialisation is seen by whoever decodes it */
	while (!atomic_compare_exchange_weak_explicit(&l->val, &old,
						      (old & ~LB_QSL_TAIL_MASK) | me->tail,
						      memory_order_release, memory_order_relaxed))
		;
	if (old & LB_QSL_TAIL_MASK) {
		struct lb_qsl_node *prev = l->nodes[(old >> LB_QSL_TAIL_SHIFT) - 1];
		/* release pairs with the predecessor's acquire load of next */
		atomic_store_explicit(&prev->next, me, memory_order_release);
		/* acquire pairs with the predecessor's release store of locked */
		while (!atomic_load_explicit(&me->locked, memory_order_acquire))
			lb_cpu_relax();
	}

	/* Head of the queue: wait for the holder and the pending waiter. */
	uint32_t v;
	/* acquire pairs with the last holder's release subtraction */
	while ((v = atomic_load_explicit(&l->val, memory_order_acquire)) &
	       (LB_QSL_LOCKED_MASK | LB_QSL_PENDING))
		lb_cpu_relax();
	if ((v & LB_QSL_TAIL_MASK) == me->tail &&
	    atomic_compare_exchange_strong_explicit(&l->val, &v, LB_QSL_LOCKED,
						    memory_order_relaxed, memory_order_relaxed))
		return; /* last in the queue: the tail is cleared with the lock taken */
	/* Someone is queued behind us (or is about to be): only the head may
	 * set the locked byte while a tail exists, so a plain OR takes it. */
	atomic_fetch_or_explicit(&l->val, LB_QSL_LOCKED, memory_order_relaxed);
	struct lb_qsl_node *next;
	/* acquire pairs with the successor's release store of our next */
	while (!(next = atomic_load_explicit(&me->next, memory_order_acquire)))
		lb_cpu_relax();
	/* release pairs with the successor's acquire load of its locked */
	atomic_store_explicit(&next->locked, 1, memory_order_release);
}

static void lb_qsl_slowpath(struct lb_qsl *l, struct lb_qsl_node *me, uint32_t v)
{
	/* A pending -> locked hand-over in flight: give it a moment. */
	for (int i = 0; v == LB_QSL_PENDING && i < LB_QSL_PENDING_LOOPS; i++) {
		lb_cpu_relax();
		v = atomic_load_explicit(&l->val, memory_order_relaxed);
	}
	if (v & ~LB_QSL_LOCKED_MASK) {
		lb_qsl_queue(l, me);
		return;
	}
	/* acquire: if it reads the locked byte clear, this is the load that
	 * pairs with the holder's release subtraction */
	v = atomic_fetch_or_explicit(&l->val, LB_QSL_PENDING, memory_order_acquire);
	if (v & ~LB_QSL_LOCKED_MASK) {
		/* Someone else is pending, or a queue exists: undo ours, if it
		 * was ours, and queue. */
		if (!(v & LB_QSL_PENDING))
			atomic_fetch_and_explicit(&l->val, ~LB_QSL_PENDING, memory_order_relaxed);
		lb_qsl_queue(l, me);
		return;
	}
	/* We are the pending waiter: spin on the word until the holder
	 * leaves (acquire pairs with its release subtraction). */
	while (v & LB_QSL_LOCKED_MASK)
		v = (lb_cpu_relax(), atomic_load_explicit(&l->val, memory_order_acquire));
	/* pending -> locked in one step; nobody else may take it meanwhile:
	 * the fast path's CAS sees the pending bit and the queue's head waits
	 * for it to clear */
	atomic_fetch_add_explicit(&l->val, LB_QSL_LOCKED - LB_QSL_PENDING, memory_order_relaxed);
}

static inline void lb_lit_qspinlock_lock(void *obj, void *t)
{
	struct lb_qsl *l = obj;
	uint32_t v = 0;
	/* acquire pairs with unlock's release subtraction */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(&l->val, &v, LB_QSL_LOCKED,
								     memory_order_acquire,
								     memory_order_relaxed), 1))
		return;
	lb_qsl_slowpath(l, t, v);
}

static inline void lb_lit_qspinlock_unlock(void *obj, void *t)
{
	(void)t;
	/* release pairs with the next holder's acquire (lock's three paths);
	 * an RMW, not the kernel's byte store: C11 has no mixed-size access */
	atomic_fetch_sub_explicit(&((struct lb_qsl *)obj)->val, LB_QSL_LOCKED,
				  memory_order_release);
}

static const struct lb_mutex_ops lb_lit_qspinlock_ops = {
	.base = { .size = sizeof(struct lb_qsl), .tctx_size = sizeof(struct lb_qsl_node),
		  .init = lb_lit_qspinlock_init, .fini = lb_lit_qspinlock_fini,
		  .thread_init = lb_lit_qspinlock_thread_init },
	.lock = lb_lit_qspinlock_lock,
	.trylock = lb_lit_qspinlock_trylock,
	.unlock = lb_lit_qspinlock_unlock,
};

#endif
