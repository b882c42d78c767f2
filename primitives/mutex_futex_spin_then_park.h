/* futex-spin-then-park: futex-mutex's three states with a bounded spin
 * before the first sleep.  A critical section of a few hundred nanoseconds
 * ends sooner than a futex sleep and wake take (about 2-5 us), so a waiter
 * that spins briefly skips both syscalls; a waiter whose owner was preempted
 * gives up after LB_SPIN_PARK_SPINS polls and parks instead of burning its
 * time slice.
 *
 * State encoding of the 32-bit word (as in mutex_futex.h):
 *   0  unlocked
 *   1  locked, no waiters
 *   2  locked, maybe waiters
 * Transitions:
 *   lock    0 -> 1 by CAS.  Else spin up to LB_SPIN_PARK_SPINS times reading
 *           the word (read-only polling keeps the line shared) and retry the
 *           0 -> 1 CAS whenever it reads 0.  Then park: swap in 2, and while
 *           the old value was not 0, sleep on "word == 2" and swap again.
 *           Spinners only ever CAS 0 -> 1: they never hide sleepers, since a
 *           word of 2 stays 2 until an unlock, which wakes one of them.
 *   unlock  swap in 0; if the old value was 2, wake one sleeper.
 *   trylock 0 -> 1 by CAS.
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

/* About 1-3 us of polling with PAUSE on current x86 (PAUSE is 10-140 cycles
 * depending on the core): the order of a futex sleep plus wake. */
#define LB_SPIN_PARK_SPINS 128

struct lb_futex_spin_then_park {
	_Atomic uint32_t word;
};

static inline int lb_futex_spin_then_park_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_spin_then_park *)obj)->word, 0);
	return 0;
}

static void lb_futex_spin_then_park_lock_slow(struct lb_futex_spin_then_park *m)
{
	uint32_t c;

	for (int i = 0; i < LB_SPIN_PARK_SPINS; i++) {
		lb_cpu_relax();
		/* relaxed poll; the CAS below acquires. */
		c = atomic_load_explicit(&m->word, memory_order_relaxed);
		if (c == 0 && atomic_compare_exchange_weak_explicit(
			&m->word, &c, 1, memory_order_acquire, memory_order_relaxed))
			return;
	}
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
