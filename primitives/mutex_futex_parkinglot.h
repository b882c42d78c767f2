/* futex-parkinglot: a one-byte mutex whose waiters sleep in the parking
 * lot (parking_lot.h), with eventual fairness.  The design of WebKit's
 * WTF::Lock (Filip Pizlo, "Locking in WebKit", 2016) as Rust's
 * parking_lot::RawMutex has it; our code.
 *
 * State encoding of the byte:
 *   bit 0  LOCKED  held
 *   bit 1  PARKED  threads may be parked on the byte's address
 * Transitions:
 *   lock    LOCKED clear -> set by CAS (PARKED kept), fast and slow path
 *           alike.  While LOCKED and no one parked, spin a little (3 rounds
 *           of 2, 4, 8 pauses, then sched_yield up to 7 times: parking_lot's
 *           SpinWait).  Then set PARKED and park, the parking lot checking
 *           under its bucket lock that the byte still reads LOCKED|PARKED.
 *           Woken with the hand-off token: the lock is ours.  Otherwise
 *           (woken normally, or the check failed) try again from the top.
 *   unlock  LOCKED -> 0 by CAS when PARKED is clear: no call.  Otherwise
 *           unpark one parked thread; under the bucket lock, if one was
 *           found and the bucket's fair time is due (about once per ms),
 *           hand the lock over: the byte stays LOCKED (PARKED cleared if
 *           no one else waits) and the woken thread returns owning it.
 *           Else store PARKED (others still wait) or 0, and the woken
 *           thread competes like any other.
 *   trylock LOCKED clear -> set by CAS, nothing else.
 * Who wakes whom: each contended unlock wakes the first thread parked on
 * the byte (the parking lot's queues are FIFO).  Barging is allowed, so a
 * woken thread may lose to a running one and park again at the tail; the
 * fair hand-off bounds that to about a millisecond.
 *
 * glibc's rule holds: unlock's releasing write to the byte (the fast CAS,
 * or the store under the bucket lock) is its last access to the byte; a
 * hand-off never releases it.  After that unlock only touches the global
 * bucket and the woken thread's own word.
 *
 * Orders checked.  lock returns on (a) a CAS that set LOCKED, acquire on
 * success; every write that clears LOCKED is a release (the fast unlock
 * CAS, the store in the callback), and every other write is an RMW, so
 * the CAS synchronizes with the unlock whose value it read; or (b) the
 * hand-off token, returned by lb_park after its acquire load of the
 * sleeper's word, which pairs with lb_unpark_one's release store made
 * after the unlocking thread's critical section.  The parked-or-not check
 * and failed CASes are relaxed and nothing returns on them.  trylock is
 * true only on its acquire CAS.
 */
#ifndef LB_MUTEX_FUTEX_PARKINGLOT_H
#define LB_MUTEX_FUTEX_PARKINGLOT_H

#include <sched.h>

#include "futex.h"
#include "mutex.h"
#include "parking_lot.h"

#define LB_PL_LOCKED 1u
#define LB_PL_PARKED 2u
#define LB_PL_HANDOFF 1u /* the unpark token: the lock is yours */

struct lb_futex_parkinglot {
	_Atomic uint8_t byte;
};

static inline int lb_futex_parkinglot_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_parkinglot *)obj)->byte, 0);
	return 0;
}

/* lb_park's check, under the bucket lock: still held with parkers. */
static bool lb_pl_validate(void *arg)
{
	struct lb_futex_parkinglot *m = arg;
	return atomic_load_explicit(&m->byte, memory_order_relaxed) ==
	       (LB_PL_LOCKED | LB_PL_PARKED);
}

static void lb_futex_parkinglot_lock_slow(struct lb_futex_parkinglot *m)
{
	unsigned spins = 0;
	uint8_t s = atomic_load_explicit(&m->byte, memory_order_relaxed);

	for (;;) {
		if (!(s & LB_PL_LOCKED)) {
			/* acquire: (a), pairs with the release that cleared LOCKED. */
			if (atomic_compare_exchange_weak_explicit(&m->byte, &s,
								  (uint8_t)(s | LB_PL_LOCKED),
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
			continue;
		}
		/* No one parked yet: spin (parking_lot's SpinWait), then park. */
		if (!(s & LB_PL_PARKED) && spins < 10) {
			spins++;
			if (spins <= 3)
				for (unsigned i = 0; i < 1u << spins; i++)
					lb_cpu_relax();
			else
				sched_yield();
			s = atomic_load_explicit(&m->byte, memory_order_relaxed);
			continue;
		}
		if (!(s & LB_PL_PARKED) &&
		    !atomic_compare_exchange_weak_explicit(&m->byte, &s,
							   (uint8_t)(s | LB_PL_PARKED),
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		if (lb_park(m, lb_pl_validate, m) == LB_PL_HANDOFF)
			return; /* (b): lb_park's return acquired */
		spins = 0;
		s = atomic_load_explicit(&m->byte, memory_order_relaxed);
	}
}

static inline void lb_futex_parkinglot_lock(void *obj, void *t)
{
	struct lb_futex_parkinglot *m = obj;
	uint8_t c = 0;
	(void)t;
	/* acquire: (a), pairs with unlock's release. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
		&m->byte, &c, LB_PL_LOCKED, memory_order_acquire, memory_order_relaxed), 1))
		return;
	lb_futex_parkinglot_lock_slow(m);
}

static inline bool lb_futex_parkinglot_trylock(void *obj, void *t)
{
	struct lb_futex_parkinglot *m = obj;
	(void)t;
	uint8_t s = atomic_load_explicit(&m->byte, memory_order_relaxed);
	while (!(s & LB_PL_LOCKED))
		/* acquire: pairs with unlock's release. */
		if (atomic_compare_exchange_weak_explicit(&m->byte, &s, (uint8_t)(s | LB_PL_LOCKED),
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	return false;
}

/* Under the bucket lock, with the first parked thread (if any) taken. */
static uintptr_t lb_pl_unlock_cb(void *arg, struct lb_unpark_result r)
{
	struct lb_futex_parkinglot *m = arg;
	if (r.unparked && r.be_fair) {
		/* Hand over: the byte stays LOCKED; no release needed, the
		 * parking lot's wake-up carries it. */
		if (!r.more)
			atomic_store_explicit(&m->byte, LB_PL_LOCKED, memory_order_relaxed);
		return LB_PL_HANDOFF;
	}
	/* release: pairs with the acquire CAS of the next owner.  The last
	 * access to the byte by this unlock. */
	atomic_store_explicit(&m->byte, r.more ? LB_PL_PARKED : 0, memory_order_release);
	return 0;
}

static inline void lb_futex_parkinglot_unlock(void *obj, void *t)
{
	struct lb_futex_parkinglot *m = obj;
	uint8_t c = LB_PL_LOCKED;
	(void)t;
	/* release: pairs with the next owner's acquire CAS. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
		&m->byte, &c, 0, memory_order_release, memory_order_relaxed), 1))
		return;
	lb_unpark_one(m, lb_pl_unlock_cb, m);
}

static const struct lb_mutex_ops lb_futex_parkinglot_ops = {
	.base = { .size = sizeof(struct lb_futex_parkinglot), .init = lb_futex_parkinglot_init },
	.lock = lb_futex_parkinglot_lock,
	.trylock = lb_futex_parkinglot_trylock,
	.unlock = lb_futex_parkinglot_unlock,
};

#endif
