/* futex-cond: a sequence-counter condition variable on raw futex(2), with
 * futex-mutex (mutex_futex.h) as its lock.
 *
 * State encoding: one 64-bit word (futex64.h) besides the mutex.
 *   bits 0-31   seq: advanced by every notify that finds a waiter still
 *               owed a wake; the futex word waiters sleep on
 *   bits 32-47  waiters: threads between "start waiting" and "back from
 *               the futex" (at most 1024: the harness's thread cap)
 *   bits 48-63  owed: wakes sent (seq advances) that no returning waiter
 *               has taken yet; owed <= waiters
 * Transitions:
 *   wait        (holding the lock) one fetch-add: waiters + 1, and its old
 *               value gives s = seq; unlock; FUTEX_WAIT while seq == s;
 *               then one CAS: waiters - 1, and owed - 1 if owed > 0; lock
 *               as a contended locker (the mutex word left at 2:
 *               lb_futex_mutex_lock_contended).
 *   notify      if waiters > owed: owed + 1, seq + 1 (wrapping within its
 *               half), in one CAS; then wake one.  Otherwise nothing: every
 *               waiter is already on its way back.
 *   notify_all  if waiters > owed: owed = waiters, seq + 1, then wait
 *               morphing: one FUTEX_CMP_REQUEUE wakes one sleeper and
 *               moves the rest onto the mutex word, instead of waking all
 *               of them to fight for the mutex and most sleep again on it
 *               (glibc's condvar before 2.25 did this; Drepper, "Futexes
 *               Are Tricky").  If seq moved again before the call (EAGAIN),
 *               a later notify has woken or moved every sleeper or will:
 *               wake all anyway, to be sure.
 * Why owed: a woken waiter may wait long for a CPU before it counts itself
 * out (oversubscribed, it is behind the notifier in the run queue), and a
 * notify that counted it as a sleeper made a FUTEX_WAKE that woke nobody:
 * prodcons notifies on every put, and those syscalls were most of futex-
 * cond's cost there (0.46 futex calls per op against glibc's 0.16, whose
 * condvar likewise signals only waiters not yet signalled).  The count
 * loses no wake-up: call R the waiters that will come back without
 * another notify (they had not slept when seq moved, or a wake or a
 * requeue reached them).  owed <= |R| always: a notify that raises owed
 * adds to R every waiter not yet asleep and the one sleeper it wakes (or
 * all of them, notify_all), and a waiter that comes back, from R or not,
 * lowers waiters, and owed unless it is 0.  So waiters > owed whenever someone sleeps needing a wake,
 * and the notify then wakes.
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
 *               notifier's load, which therefore counts the waiter, and
 *               (the owed argument above) finds waiters > owed and moves
 *               seq unless the waiter is already on its way back.  This holds whether notify is called with the mutex
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

#define LB_FC_WAITER (1ull << 32)
#define LB_FC_OWED1 (1ull << 48)

static inline uint32_t lb_fc_waiters(uint64_t v)
{
	return (uint32_t)(v >> 32) & 0xffffu;
}

static inline uint32_t lb_fc_owed(uint64_t v)
{
	return (uint32_t)(v >> 48);
}

static inline void lb_futex_cond_wait(void *obj, void *t)
{
	struct lb_futex_cond *c = obj;
	/* relaxed: the data the caller waits for is ordered by the mutex;
	 * this RMW only has to be atomic with the notifier's. */
	uint64_t v = atomic_fetch_add_explicit(&c->w, LB_FC_WAITER, memory_order_relaxed);
	lb_futex_mutex_unlock(&c->m, t);
	lb_futex_wait(lb_f64_low(&c->w), (uint32_t)v, NULL);
	/* back: count out, and take one owed wake if any is left (relaxed,
	 * as above) */
	v = atomic_load_explicit(&c->w, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&c->w, &v,
			v - LB_FC_WAITER - (lb_fc_owed(v) ? LB_FC_OWED1 : 0),
			memory_order_relaxed, memory_order_relaxed))
		;
	lb_futex_mutex_lock_contended(&c->m);
}

/* Owes one more wake (all: every waiter) and advances seq, if some waiter
 * is still owed one: the new seq, or -1 when none is (no syscall). */
static inline int64_t lb_futex_cond_advance(struct lb_futex_cond *c, int all)
{
	uint64_t v = atomic_load_explicit(&c->w, memory_order_relaxed), nv;
	do {
		uint32_t n = lb_fc_waiters(v), owed = lb_fc_owed(v);
		if (n <= owed)
			return -1;
		nv = ((uint64_t)(all ? n : owed + 1) << 48) | ((uint64_t)n << 32) |
		     ((v + 1) & LB_F64_LOW);
	} while (!atomic_compare_exchange_weak_explicit(&c->w, &v, nv, memory_order_relaxed,
							memory_order_relaxed));
	return (int64_t)(nv & LB_F64_LOW);
}

static inline void lb_futex_cond_notify(void *obj)
{
	struct lb_futex_cond *c = obj;
	if (lb_futex_cond_advance(c, 0) >= 0)
		lb_futex_wake(lb_f64_low(&c->w), 1);
}

static inline void lb_futex_cond_notify_all(void *obj)
{
	struct lb_futex_cond *c = obj;
	int64_t seq = lb_futex_cond_advance(c, 1);
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
