/* futex-cond: a sequence-counter condition variable on raw futex(2), with
 * futex-mutex (mutex_futex.h) as its lock.
 *
 * State encoding: one 64-bit word (futex64.h) besides the mutex.
 *   low 32 bits   seq: advanced by every notify that finds waiters; the
 *                 futex word waiters sleep on
 *   high 32 bits  waiters: threads between "start waiting" and "woken"
 * Transitions:
 *   wait        (holding the lock) one fetch-add: waiters + 1, and its old
 *               value gives s = seq; unlock; FUTEX_WAIT while seq == s;
 *               waiters - 1; lock as a contended locker (the mutex word
 *               left at 2: lb_futex_mutex_lock_contended).
 *   notify      if waiters > 0: seq + 1 (wrapping within the low half, by
 *               CAS), wake one.
 *   notify_all  the same seq + 1, then wait morphing: one FUTEX_CMP_REQUEUE
 *               wakes one sleeper and moves the rest onto the mutex word,
 *               instead of waking all of them to fight for the mutex and
 *               most sleep again on it (glibc's condvar before 2.25 did
 *               this; Drepper, "Futexes Are Tricky").  If seq moved again
 *               before the call (EAGAIN), a later notify has woken or moved
 *               every sleeper or will: wake all anyway, to be sure.
 * Who wakes whom: notify wakes one sleeper, notify_all one, and the mutex
 * then wakes the others one unlock at a time.  That chain needs every
 * holder's unlock to see the word at 2, because requeued sleepers never
 * set it themselves: hence the contended lock after every wait (a thread
 * cannot tell whether it was woken on seq or requeued).  A
 * waiter whose s predates a notify never sleeps through it: FUTEX_WAIT sees
 * seq != s and returns.  No lost wake-ups: the waiter's increment and its
 * reading of seq are one RMW of the same word the notifier reads, so
 * either the notifier sees the waiter, or the waiter began after it.
 * Spurious returns happen (a wake meant for another waiter, a signal):
 * callers loop on their predicate.  seq wraps after 2^32 notifies: a waiter
 * that sleeps through exactly 2^32 of them would miss one (the ABA every
 * futex condvar has).
 *
 * Orders checked.  The condvar word orders no data: the caller's predicate
 * lives under the mutex, and the mutex (mutex_futex.h) does all acquiring
 * and releasing:
 *   wait        every return (woken, requeued and woken by an unlock,
 *               spurious, a signal, or a notify that came before
 *               FUTEX_WAIT) goes through lb_futex_mutex_lock_contended,
 *               whose every return path acquires (mutex_futex.h's swap).
 *               Its RMWs on the word are relaxed.
 *   notify/all  a relaxed load and CAS.  That loses no wake-up: a notifier
 *               changes the predicate holding the mutex, which it took
 *               after the waiter's unlock (release) if the waiter found the
 *               predicate false first; the waiter's waiters + 1 is
 *               sequenced before that unlock, so it happens before the
 *               notifier's load, which therefore sees waiters > 0 and moves
 *               seq.  This holds whether notify is called with the mutex
 *               held or after unlocking it.
 *   lock/unlock the mutex's own (mutex_futex.h).
 */
#ifndef LB_CONDITION_FUTEX_H
#define LB_CONDITION_FUTEX_H

#include "condition.h"
#include "futex64.h"
#include "mutex_futex.h"

struct lb_futex_cond {
	struct lb_futex_mutex m;
	_Atomic uint64_t w;
};

static inline int lb_futex_cond_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_cond *c = obj;
	atomic_init(&c->w, 0);
	return lb_futex_mutex_init(&c->m, cfg);
}

static inline void lb_futex_cond_lock(void *obj, void *t)
{
	lb_futex_mutex_lock(&((struct lb_futex_cond *)obj)->m, t);
}

static inline void lb_futex_cond_unlock(void *obj, void *t)
{
	lb_futex_mutex_unlock(&((struct lb_futex_cond *)obj)->m, t);
}

static inline void lb_futex_cond_wait(void *obj, void *t)
{
	struct lb_futex_cond *c = obj;
	/* relaxed: the data the caller waits for is ordered by the mutex;
	 * this RMW only has to be atomic with the notifier's. */
	uint32_t s = (uint32_t)atomic_fetch_add_explicit(&c->w, LB_F64_HIGH1,
							  memory_order_relaxed);
	lb_futex_mutex_unlock(&c->m, t);
	lb_futex_wait(lb_f64_low(&c->w), s, NULL);
	atomic_fetch_sub_explicit(&c->w, LB_F64_HIGH1, memory_order_relaxed);
	lb_futex_mutex_lock_contended(&c->m);
}

/* seq + 1 if anyone waits: the new seq, or -1 when nobody does. */
static inline int64_t lb_futex_cond_advance(struct lb_futex_cond *c)
{
	uint64_t v = atomic_load_explicit(&c->w, memory_order_relaxed), nv;
	do {
		if ((v >> 32) == 0)
			return -1; /* nobody waits: nothing to do, no syscall */
		nv = (v & ~LB_F64_LOW) | ((v + 1) & LB_F64_LOW);
	} while (!atomic_compare_exchange_weak_explicit(&c->w, &v, nv, memory_order_relaxed,
							memory_order_relaxed));
	return (int64_t)(nv & LB_F64_LOW);
}

static inline void lb_futex_cond_notify(void *obj)
{
	struct lb_futex_cond *c = obj;
	if (lb_futex_cond_advance(c) >= 0)
		lb_futex_wake(lb_f64_low(&c->w), 1);
}

static inline void lb_futex_cond_notify_all(void *obj)
{
	struct lb_futex_cond *c = obj;
	int64_t seq = lb_futex_cond_advance(c);
	if (seq < 0)
		return;
	if (lb_futex_cmp_requeue(lb_f64_low(&c->w), (uint32_t)seq, 1, INT_MAX, &c->m.word) < 0)
		lb_futex_wake(lb_f64_low(&c->w), INT_MAX);
}

static const struct lb_condition_ops lb_futex_cond_ops = {
	.base = { .size = sizeof(struct lb_futex_cond), .init = lb_futex_cond_init },
	.lock = lb_futex_cond_lock,
	.unlock = lb_futex_cond_unlock,
	.wait = lb_futex_cond_wait,
	.notify = lb_futex_cond_notify,
	.notify_all = lb_futex_cond_notify_all,
};

#endif
