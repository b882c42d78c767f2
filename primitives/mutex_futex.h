/* futex-mutex: Ulrich Drepper's third mutex ("Futexes Are Tricky", 2011),
 * on raw futex(2).
 *
 * State encoding of the 32-bit word:
 *   0  unlocked
 *   1  locked, no waiters
 *   2  locked, maybe waiters (someone is or was about to sleep)
 * Transitions:
 *   lock    0 -> 1 by CAS (uncontended, no syscall).  Otherwise swap in 2
 *           and, while the old value was not 0, sleep on "word == 2" and
 *           swap again.  A thread that took the slow path always leaves 2
 *           behind, because it cannot know whether others still sleep.
 *   unlock  swap in 0; if the old value was 2, wake one sleeper.  A state of
 *           1 proves no one sleeps, so the uncontended unlock makes no call.
 *   trylock read the word; only if it read 0, 0 -> 1 by CAS.  A failing
 *           try then only shares the line with its holder instead of
 *           pulling it away exclusive (glibc 2.36's trylock loads first
 *           too): trylock, 16 threads on 2 CPUs, a bare CAS made 0.55x
 *           glibc's attempts per second.
 * Who wakes whom: each unlock from 2 wakes exactly one sleeper, which then
 * competes by swapping in 2 again, so it wakes the next one when it unlocks.
 *
 * glibc's rule, which matters here: after the releasing swap in unlock, the
 * word may be freed by the next owner; unlock never reads or writes it
 * again, only passes its address to FUTEX_WAKE (harmless, see futex.h).
 *
 * Orders checked.  Only unlock ever writes 0, with a release swap; every
 * other write is an RMW (the waiters' swaps to 2), which continues that
 * release sequence.  So any acquire RMW that reads 0 synchronizes with the
 * unlock that wrote it:
 *   lock     returns on (a) the fast path's CAS 0 -> 1, acquire on success,
 *            or (b) a slow-path swap that read 0, and every swap is
 *            acquire.  The failed CAS is relaxed and nothing returns on it
 *            (its value only picks the slow path's first step).  A return
 *            from FUTEX_WAIT is never a return from lock: the swap after it
 *            decides.
 *   trylock  true only on its acquire CAS; false orders nothing (a failed
 *            try synchronizes with nothing, as C11's mtx_trylock), so the
 *            load before it is relaxed.
 *   unlock   the swap to 0 is release and is the last access to the word.
 */
#ifndef LB_MUTEX_FUTEX_H
#define LB_MUTEX_FUTEX_H

#include "futex.h"
#include "mutex.h"

struct lb_futex_mutex {
	_Atomic uint32_t word;
};

static inline int lb_futex_mutex_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_mutex *)obj)->word, 0);
	return 0;
}

static void lb_futex_mutex_lock_slow(struct lb_futex_mutex *m, uint32_t c)
{
	/* acquire: pairs with the release swap in unlock, like the CAS. */
	if (c != 2)
		c = atomic_exchange_explicit(&m->word, 2, memory_order_acquire);
	while (c != 0) {
		lb_futex_wait(&m->word, 2, NULL);
		c = atomic_exchange_explicit(&m->word, 2, memory_order_acquire);
	}
}

/* Takes the lock leaving the word at 2 whatever it was, as glibc's
 * lll_cond_lock: for a thread that may have been requeued onto the word
 * (futex-cond's broadcast) and so slept there without saying so.  Its
 * unlock then wakes the next such sleeper; the cost, when there is none,
 * is one FUTEX_WAKE that finds no one.  Returns as lock_slow, acquiring. */
static inline void lb_futex_mutex_lock_contended(struct lb_futex_mutex *m)
{
	lb_futex_mutex_lock_slow(m, 0);
}

static inline void lb_futex_mutex_lock(void *obj, void *t)
{
	struct lb_futex_mutex *m = obj;
	uint32_t c = 0;
	(void)t;
	/* acquire on success: pairs with the release swap in unlock, so the
	 * previous holder's critical section happens-before ours.  Failure
	 * needs no ordering: the slow path's swap acquires. */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
		&m->word, &c, 1, memory_order_acquire, memory_order_relaxed), 1))
		return;
	lb_futex_mutex_lock_slow(m, c);
}

static inline bool lb_futex_mutex_trylock(void *obj, void *t)
{
	struct lb_futex_mutex *m = obj;
	uint32_t c = 0;
	(void)t;
	/* relaxed: a busy word fails the try, which orders nothing. */
	if (atomic_load_explicit(&m->word, memory_order_relaxed) != 0)
		return false;
	/* acquire: pairs with the release swap in unlock. */
	return atomic_compare_exchange_strong_explicit(
		&m->word, &c, 1, memory_order_acquire, memory_order_relaxed);
}

static inline void lb_futex_mutex_unlock(void *obj, void *t)
{
	struct lb_futex_mutex *m = obj;
	(void)t;
	/* release: pairs with the acquire CAS/swap of the next owner.  After
	 * this swap the word is not ours: only its address is used below. */
	if (atomic_exchange_explicit(&m->word, 0, memory_order_release) == 2)
		lb_futex_wake(&m->word, 1);
}

static const struct lb_mutex_ops lb_futex_mutex_ops = {
	.base = { .size = sizeof(struct lb_futex_mutex), .init = lb_futex_mutex_init },
	.lock = lb_futex_mutex_lock,
	.trylock = lb_futex_mutex_trylock,
	.unlock = lb_futex_mutex_unlock,
};

#endif
