/* futex-rwlock-wpref and futex-rwlock-rpref: reader-writer locks on two
 * futex words, readers sleeping on one and writers on the other, so that a
 * release wakes either one writer or all the readers, never a herd of both.
 *
 * The design is Rust std's futex RwLock (library/std/src/sys/sync/rwlock/
 * futex.rs, by Mara Bos): a state word that readers sleep on, a separate
 * wake sequence for writers, brief spinning before sleeping, and a writer
 * that re-raises the writers-waiting bit when it acquires after sleeping.
 * Rust's lock prefers writers; the reader-preferring policy is ours.  The
 * policy is a compile-time constant of each implementation (its id names
 * it), so each gets its own inlined copy of the code below.
 *
 * State encoding of `state` (32 bits):
 *   bits 0-29  COUNT: 0 free; 1..LB_FRW_MAXREAD readers hold it;
 *              LB_FRW_WLOCKED (all 30 bits set) a writer holds it
 *   bit 30     RWAIT: readers sleep (or are about to) on `state`
 *   bit 31     WWAIT: writers sleep (or are about to) on `wseq`
 * `wseq` counts writer wake-ups; a writer sleeps on it with the value it
 * read after raising WWAIT, and a waker bumps it before FUTEX_WAKE(1).
 *
 * Transitions (wpref: writer-preferring; rpref: reader-preferring):
 *   read_lock     CAS COUNT + 1 while COUNT < MAXREAD and RWAIT is clear;
 *                 wpref also while WWAIT is clear: a waiting writer holds
 *                 off new readers.  Otherwise spin up to LB_FRW_SPIN polls
 *                 while a writer holds it and nobody sleeps, then raise
 *                 RWAIT and sleep on `state`.
 *   write_lock    CAS COUNT 0 -> WLOCKED, keeping the flag bits, plus
 *                 WWAIT once this writer has raised or seen it (other
 *                 writers may still sleep: it cannot tell).  Otherwise
 *                 spin while the lock is held and no writer sleeps, then
 *                 raise WWAIT and sleep on `wseq`.
 *   read_unlock   fetch_sub 1; the release that leaves COUNT 0 with a flag
 *   write_unlock  set calls lb_frw_wake, which picks one side, clears its
 *                 flag by CAS, and wakes it: wpref one writer if WWAIT,
 *                 else all readers; rpref all readers if RWAIT, else one
 *                 writer.  When no thread was asleep on that side (its
 *                 flag's raiser is still running, and will retry on its
 *                 own), it goes on to the other side.  It stops as soon as
 *                 COUNT is non-zero: the new holder's release does the rest.
 * Why nothing is lost: a thread sleeps only while the kernel still reads
 * the value it decided on (`state` with its flag raised, or `wseq` read
 * after raising WWAIT); every change of them after that either fails its
 * FUTEX_WAIT with EAGAIN or comes before a FUTEX_WAKE that finds it queued.
 * For `wseq` that needs its orders: a writer that reads a waker's bump
 * must also see the CAS that cleared WWAIT before it (or it would sleep
 * on the bumped value with nobody left to wake it), so the bump is a
 * release and the writer's load of `wseq` an acquire, before its reload
 * of `state` (Rust's orders too).
 * A release that leaves the lock free sees every flag raised before it (all
 * writes to `state` are RMWs, one modification order).  Readers woken
 * because RWAIT was set either take the lock or find it write-locked and
 * sleep again under a raised flag, so one of them releases later and
 * passes WWAIT on; a writer woken likewise.  The writer that wins after
 * sleeping raises WWAIT again, so a writer woken in another's place is not
 * forgotten.  Readers hold back while RWAIT is set, so RWAIT implies that
 * the lock is write-locked, or free with a waker on its way, or (wpref)
 * that WWAIT is set: a new reader never strands the sleepers behind it.
 *
 * Policies: wpref (LB_CAP_WPREF): a writer that has raised WWAIT holds
 * off new readers, so overlapping readers cannot keep it out for long; a
 * steady stream of writers can starve readers.  rpref (LB_CAP_RPREF): a
 * waiting writer does not hold off readers, as in glibc's default rwlock;
 * readers that always overlap starve the writers.  Neither hands the lock
 * over: a woken thread competes with newcomers (a barging writer can pass
 * woken readers, a reader can slip in before a woken writer raises WWAIT
 * again), unlike glibc, whose rwlock hands a read phase to the readers
 * that queued during the write phase.  So the policy decides whom new
 * arrivals defer to and whom a release wakes, not a strict order.
 *
 * Lifetime: after its releasing RMW a release may still CAS `state` and
 * bump `wseq` (Rust's design; glibc's rwlock instead never touches the lock
 * after releasing it).  So the lock must outlive its last release, not only
 * its last acquisition: true of every lock in lockbench, destroyed after
 * all of its threads are joined.
 *
 * Orders checked.  Every write to `state` is an RMW, so each release heads
 * a release sequence through every later write, the waker's relaxed CASes
 * and the flag raisers' included:
 *   read_lock     returns only on its CAS COUNT + 1, acquire: pairs with
 *                 the last write_unlock's release fetch_sub.
 *   write_lock    returns only on its CAS to WLOCKED, acquire: pairs with
 *                 the last write_unlock and every read_unlock since.
 *   read_unlock,  fetch_sub, release: the holder's accesses happen before
 *   write_unlock  the next holder's.
 *   flags         relaxed: they only decide who sleeps and who is woken;
 *                 FUTEX_WAIT rereads under the kernel's hash-bucket lock,
 *                 and no return path ends without the acquiring CAS.
 *   wseq          the bump is release, the writer's load acquire: see
 *                 "Why nothing is lost".  They order no data.
 */
#ifndef LB_RWLOCK_FUTEX_H
#define LB_RWLOCK_FUTEX_H

#include "futex.h"
#include "rwlock.h"

#define LB_FRW_COUNT 0x3fffffffu
#define LB_FRW_WLOCKED LB_FRW_COUNT
#define LB_FRW_MAXREAD (LB_FRW_COUNT - 1)
#define LB_FRW_RWAIT 0x40000000u
#define LB_FRW_WWAIT 0x80000000u
/* Rust's figure: long enough to cover a short critical section on another
 * CPU, short next to a futex round trip. */
#define LB_FRW_SPIN 100

struct lb_futex_rwlock {
	_Atomic uint32_t state;
	_Atomic uint32_t wseq;
};

static inline int lb_futex_rwlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_rwlock *l = obj;
	(void)cfg;
	atomic_init(&l->state, 0);
	atomic_init(&l->wseq, 0);
	return 0;
}

static inline int lb_frw_readable(uint32_t s, int wpref)
{
	return (s & LB_FRW_COUNT) < LB_FRW_MAXREAD &&
	       !(s & (wpref ? LB_FRW_RWAIT | LB_FRW_WWAIT : LB_FRW_RWAIT));
}

/* Polls while `busy` holds of the state, at most LB_FRW_SPIN times. */
static inline uint32_t lb_frw_spin(struct lb_futex_rwlock *l, int writer)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (int i = 0; i < LB_FRW_SPIN; i++) {
		/* a reader waits out a writer; a writer waits out any holder;
		 * both stop once someone sleeps: the queue is not theirs to jump */
		uint32_t busy = writer ? (s & LB_FRW_COUNT) != 0 :
					 (s & LB_FRW_COUNT) == LB_FRW_WLOCKED;
		if (!busy || (s & (LB_FRW_RWAIT | LB_FRW_WWAIT)))
			break;
		lb_cpu_relax();
		s = atomic_load_explicit(&l->state, memory_order_relaxed);
	}
	return s;
}

/* Wakes one writer; returns whether a sleeping one was there to wake. */
static inline int lb_frw_wake_writer(struct lb_futex_rwlock *l)
{
	/* release: pairs with the sleeping writer's acquire load of wseq, so
	 * that a writer that reads this bump also reads the CAS that cleared
	 * WWAIT before it, and retries instead of sleeping. */
	atomic_fetch_add_explicit(&l->wseq, 1, memory_order_release);
	return lb_futex_wake(&l->wseq, 1) > 0;
}

/* s: the state just after a release that left COUNT 0. */
static void lb_frw_wake(struct lb_futex_rwlock *l, uint32_t s, int wpref)
{
	while ((s & LB_FRW_COUNT) == 0 && (s & (LB_FRW_RWAIT | LB_FRW_WWAIT))) {
		int writer = wpref ? (s & LB_FRW_WWAIT) != 0 : !(s & LB_FRW_RWAIT);
		uint32_t flag = writer ? LB_FRW_WWAIT : LB_FRW_RWAIT;
		if (!atomic_compare_exchange_weak_explicit(&l->state, &s, s & ~flag,
				memory_order_relaxed, memory_order_relaxed))
			continue; /* a flag rose, or the lock was taken: look again */
		s &= ~flag;
		if (writer ? lb_frw_wake_writer(l) : lb_futex_wake(&l->state, INT_MAX) > 0)
			return;
	}
}

static inline void lb_frw_read_lock(struct lb_futex_rwlock *l, int wpref)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	/* acquire: pairs with the last write_unlock's release fetch_sub. */
	if (lb_frw_readable(s, wpref) && atomic_compare_exchange_weak_explicit(&l->state, &s,
			s + 1, memory_order_acquire, memory_order_relaxed))
		return;
	s = lb_frw_spin(l, 0);
	for (;;) {
		if (lb_frw_readable(s, wpref)) {
			/* acquire: as above */
			if (atomic_compare_exchange_weak_explicit(&l->state, &s, s + 1,
					memory_order_acquire, memory_order_relaxed))
				return;
			continue;
		}
		if (!(s & LB_FRW_RWAIT)) {
			if (!atomic_compare_exchange_weak_explicit(&l->state, &s,
					s | LB_FRW_RWAIT, memory_order_relaxed,
					memory_order_relaxed))
				continue;
			s |= LB_FRW_RWAIT;
		}
		lb_futex_wait(&l->state, s, NULL);
		s = lb_frw_spin(l, 0);
	}
}

static inline void lb_frw_write_lock(struct lb_futex_rwlock *l)
{
	uint32_t s = 0, others = 0;
	/* acquire: pairs with the last holder's release fetch_sub. */
	if (atomic_compare_exchange_weak_explicit(&l->state, &s, LB_FRW_WLOCKED,
			memory_order_acquire, memory_order_relaxed))
		return;
	s = lb_frw_spin(l, 1);
	for (;;) {
		if ((s & LB_FRW_COUNT) == 0) {
			/* acquire: as above */
			if (atomic_compare_exchange_weak_explicit(&l->state, &s,
					s | LB_FRW_WLOCKED | others, memory_order_acquire,
					memory_order_relaxed))
				return;
			continue;
		}
		if (!(s & LB_FRW_WWAIT)) {
			if (!atomic_compare_exchange_weak_explicit(&l->state, &s,
					s | LB_FRW_WWAIT, memory_order_relaxed,
					memory_order_relaxed))
				continue;
		}
		others = LB_FRW_WWAIT;
		/* acquire: pairs with lb_frw_wake_writer's release bump, and keeps
		 * the reload of state after it */
		uint32_t seq = atomic_load_explicit(&l->wseq, memory_order_acquire);
		s = atomic_load_explicit(&l->state, memory_order_relaxed);
		if ((s & LB_FRW_COUNT) == 0 || !(s & LB_FRW_WWAIT))
			continue; /* freed, or a waker took WWAIT since: retry now */
		lb_futex_wait(&l->wseq, seq, NULL);
		s = lb_frw_spin(l, 1);
	}
}

static inline void lb_frw_unlock(struct lb_futex_rwlock *l, uint32_t sub, int wpref)
{
	/* release: pairs with the next holder's acquire CAS. */
	uint32_t s = atomic_fetch_sub_explicit(&l->state, sub, memory_order_release) - sub;
	if ((s & LB_FRW_COUNT) == 0 && (s & (LB_FRW_RWAIT | LB_FRW_WWAIT)))
		lb_frw_wake(l, s, wpref);
}

#define LB_FUTEX_RWLOCK_POLICY(name, wpref)                                         \
	static inline void lb_futex_rwlock_##name##_rdlock(void *obj, void *t)      \
	{                                                                           \
		(void)t;                                                            \
		lb_frw_read_lock(obj, wpref);                                       \
	}                                                                           \
	static inline void lb_futex_rwlock_##name##_rdunlock(void *obj, void *t)    \
	{                                                                           \
		(void)t;                                                            \
		lb_frw_unlock(obj, 1, wpref);                                       \
	}                                                                           \
	static inline void lb_futex_rwlock_##name##_wrlock(void *obj, void *t)      \
	{                                                                           \
		(void)t;                                                            \
		lb_frw_write_lock(obj);                                             \
	}                                                                           \
	static inline void lb_futex_rwlock_##name##_wrunlock(void *obj, void *t)    \
	{                                                                           \
		(void)t;                                                            \
		lb_frw_unlock(obj, LB_FRW_WLOCKED, wpref);                          \
	}                                                                           \
	static const struct lb_rwlock_ops lb_futex_rwlock_##name##_ops = {          \
		.base = { .size = sizeof(struct lb_futex_rwlock),                   \
			  .init = lb_futex_rwlock_init },                           \
		.read_lock = lb_futex_rwlock_##name##_rdlock,                       \
		.read_unlock = lb_futex_rwlock_##name##_rdunlock,                   \
		.write_lock = lb_futex_rwlock_##name##_wrlock,                      \
		.write_unlock = lb_futex_rwlock_##name##_wrunlock,                  \
	};

LB_FUTEX_RWLOCK_POLICY(wpref, 1)
LB_FUTEX_RWLOCK_POLICY(rpref, 0)

#endif
