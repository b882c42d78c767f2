/* futex-spin-then-park: futex-mutex's three states with a bounded spin
 * before the first sleep.  A critical section of a few hundred nanoseconds
 * ends sooner than a futex sleep and wake take (about 2-5 us), so a waiter
 * that spins briefly skips both syscalls; a waiter whose owner was preempted
 * gives up and parks instead of burning its time slice.
 *
 * The spin budget adapts per lock, as glibc's PTHREAD_MUTEX_ADAPTIVE_NP
 * does (nptl/pthread_mutex_lock.c; Debian's glibc 2.36, read off its
 * disassembly): each lock keeps a moving average of the PAUSEs a waiter
 * spent before the lock came free (avg += (spent - avg) / 8 after each
 * spin phase), and a waiter spins up to 2 * avg + 10 PAUSEs, at most
 * LB_SPIN_PARK_MAX.  Short sections teach a short budget (little wasted
 * spinning when the holder is slow to come back); sections a little
 * longer than a fixed budget teach a longer one instead of a sleep on
 * every handover.  The average is a hint, read and written with relaxed
 * atomics: a lost update costs nothing but a slightly stale budget.
 *
 * Between two polls of the word a waiter backs off exponentially, 1, 2,
 * 4, ... LB_SPIN_PARK_BACKOFF PAUSEs plus a jitter below the step, as
 * glibc 2.36 does (sysdeps/x86_64/nptl/pthread_mutex_backoff.h, cap 16).  Polling at every PAUSE pulled the
 * lock's line away from its holder on every poll: with a section of a
 * few nanoseconds the holder's next unlock and relock then each missed,
 * and the spinner lost the race for the word anyway (counter, 2 threads:
 * 0.81x pthread-adaptive with a poll per PAUSE; results/README.md).
 *
 * State encoding of the 32-bit word (as in mutex_futex.h):
 *   0  unlocked
 *   1  locked, no waiters
 *   2  locked, maybe waiters
 * Transitions:
 *   lock    0 -> 1 by CAS.  Else spin up to the budget's PAUSEs, reading
 *           the word after each back-off step (read-only polling keeps the
 *           line shared) and retry the 0 -> 1 CAS whenever it reads 0.  Then park: swap in 2, and while
 *           the old value was not 0, sleep on "word == 2" and swap again.
 *           Spinners only ever CAS 0 -> 1: they never hide sleepers, since a
 *           word of 2 stays 2 until an unlock, which wakes one of them.
 *   unlock  swap in 0; if the old value was 2, wake one sleeper.
 *   trylock read the word; only if it read 0, 0 -> 1 by CAS (as
 *           mutex_futex.h, and glibc's trylock).
 * Who wakes whom: as futex-mutex; a spinner that wins the 0 -> 1 race
 * against a woken sleeper makes the sleeper swap in 2 and sleep again, and
 * the spinner's own unlock then sees 2 and wakes it.
 * After the releasing swap, unlock only passes the address to FUTEX_WAKE
 * (glibc's rule: the next owner may free the word).
 *
 * Orders checked (as mutex_futex.h: only unlock writes 0, by a release
 * swap, and every other write is an RMW in its release sequence):
 *   lock     returns on (a) the fast CAS 0 -> 1, (b) a spin-phase CAS
 *            0 -> 1, or (c) a park-phase swap that read 0; all three are
 *            acquire.  The spin phase's polls are relaxed and only decide
 *            whether to try the CAS; failed CASes are relaxed and nothing
 *            returns on them.
 *   trylock  true only on its acquire CAS; false orders nothing.
 *   unlock   release swap to 0, the last access to the word.
 */
#ifndef LB_MUTEX_FUTEX_SPIN_THEN_PARK_H
#define LB_MUTEX_FUTEX_SPIN_THEN_PARK_H

#include "futex.h"
#include "mutex.h"

/* The longest spin, in PAUSEs: glibc's default cap (the tunable
 * glibc.pthread.mutex_spin_count).  PAUSE takes 20 ns on the reference
 * AMD EPYC guest, so 100 is 2 us, about one futex sleep and wake round
 * trip.  A cap of 1000 (20 us) lost to glibc when oversubscribed: in
 * deadlock (20 us sections, 4 threads on 2 CPUs) a spinner that could
 * not win held a CPU that a woken thread needed, futex waits per op
 * rose by a quarter and the ratio swung 0.81-1.16 where the cap of 100
 * gives 1.00-1.04 (results/README.md, "The futex family against glibc"). */
#define LB_SPIN_PARK_MAX 100
/* The budget a new lock starts with: 2 * 45 + 10 = 100 PAUSEs. */
#define LB_SPIN_PARK_AVG0 45
/* The longest back-off step between two polls, in PAUSEs (glibc's). */
#define LB_SPIN_PARK_BACKOFF 16

/* A few bits that differ from one call to the next, to spread the
 * spinners' polls apart (glibc uses the time stamp counter too). */
static inline uint32_t lb_spin_park_jitter(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return (uint32_t)__builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

struct lb_futex_spin_then_park {
	_Atomic uint32_t word;
	_Atomic uint32_t avg; /* polls a waiter needed, moving average */
};

static inline int lb_futex_spin_then_park_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_spin_then_park *m = obj;
	(void)cfg;
	atomic_init(&m->word, 0);
	atomic_init(&m->avg, LB_SPIN_PARK_AVG0);
	return 0;
}

static void lb_futex_spin_then_park_lock_slow(struct lb_futex_spin_then_park *m)
{
	uint32_t c;
	/* relaxed: a hint (above); it orders nothing. */
	uint32_t avg = atomic_load_explicit(&m->avg, memory_order_relaxed);
	uint32_t budget = 2 * avg + 10 < LB_SPIN_PARK_MAX ? 2 * avg + 10 : LB_SPIN_PARK_MAX;
	uint32_t spent = 0, step = 1, jitter = lb_spin_park_jitter();
	int won = 0;

	for (;;) {
		uint32_t n = step + (jitter & (step - 1));
		if ((spent += n) >= budget)
			break;
		while (n--)
			lb_cpu_relax();
		if (step < LB_SPIN_PARK_BACKOFF)
			step <<= 1;
		/* relaxed poll; the CAS below acquires. */
		c = atomic_load_explicit(&m->word, memory_order_relaxed);
		if (c == 0 && atomic_compare_exchange_weak_explicit(
			&m->word, &c, 1, memory_order_acquire, memory_order_relaxed)) {
			won = 1;
			break;
		}
	}
	/* avg += (spent - avg) / 8, spent being past the budget when the
	 * spin failed (glibc's rule: a failure teaches "longer"). */
	atomic_store_explicit(&m->avg,
			      (uint32_t)((int32_t)avg + ((int32_t)spent - (int32_t)avg) / 8),
			      memory_order_relaxed);
	if (won)
		return;
	/* acquire: pairs with the release swap in unlock. */
	c = atomic_exchange_explicit(&m->word, 2, memory_order_acquire);
	while (c != 0) {
		lb_futex_wait(&m->word, 2, NULL);
		c = atomic_exchange_explicit(&m->word, 2, memory_order_acquire);
	}
}

static inline void lb_futex_spin_then_park_lock(void *obj, void *t)
{
	struct lb_futex_spin_then_park *m = obj;
	uint32_t c = 0;
	(void)t;
	/* acquire: pairs with the release swap in unlock. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
		&m->word, &c, 1, memory_order_acquire, memory_order_relaxed), 1))
		return;
	lb_futex_spin_then_park_lock_slow(m);
}

static inline bool lb_futex_spin_then_park_trylock(void *obj, void *t)
{
	struct lb_futex_spin_then_park *m = obj;
	uint32_t c = 0;
	(void)t;
	/* relaxed: a busy word fails the try, which orders nothing. */
	if (atomic_load_explicit(&m->word, memory_order_relaxed) != 0)
		return false;
	/* acquire: pairs with the release swap in unlock. */
	return atomic_compare_exchange_strong_explicit(
		&m->word, &c, 1, memory_order_acquire, memory_order_relaxed);
}

static inline void lb_futex_spin_then_park_unlock(void *obj, void *t)
{
	struct lb_futex_spin_then_park *m = obj;
	(void)t;
	/* release: pairs with the next owner's acquire CAS or swap.  The word
	 * is not ours after this swap. */
	if (atomic_exchange_explicit(&m->word, 0, memory_order_release) == 2)
		lb_futex_wake(&m->word, 1);
}

static const struct lb_mutex_ops lb_futex_spin_then_park_ops = {
	.base = { .size = sizeof(struct lb_futex_spin_then_park), .init = lb_futex_spin_then_park_init },
	.lock = lb_futex_spin_then_park_lock,
	.trylock = lb_futex_spin_then_park_trylock,
	.unlock = lb_futex_spin_then_park_unlock,
};

#endif
