/* futex-starvation: a mutex with two modes, after Go's sync.Mutex
 * (src/sync/mutex.go, the design comment above "mutexFair"; our code, on
 * raw futex(2)).
 *
 * Normal mode lets a running thread barge in: a woken waiter competes with
 * new arrivals, which usually win (they are on a CPU, with the line in
 * cache), so throughput is high and a waiter may lose many times.  A
 * waiter that has waited longer than LB_STARVE_NS (1 ms, Go's
 * starvationThresholdNs) switches the lock to starvation mode: unlock
 * then hands the lock to a waiter directly, and new arrivals neither take
 * the lock nor spin, they queue behind.  The waiter that receives the lock
 * ends starvation mode when it is the last waiter or itself waited less
 * than 1 ms.
 *
 * State encoding: two 32-bit words.
 *   state  bit 0  LOCKED    held (in starvation mode the hand-off leaves it
 *                           clear until the receiver sets it)
 *          bit 1  WOKEN     a waiter is awake and competing (woken by an
 *                           unlock, or a spinner that said so): unlock
 *                           wakes no one else meanwhile
 *          bit 2  STARVING  starvation mode
 *          bits 3..31       waiters: threads queued on sema or about to be
 *   sema   tokens of a counting semaphore that only waiters take: one per
 *          wake-up (normal mode) or per hand-off (starvation mode)
 * Transitions:
 *   lock    state 0 -> LOCKED by CAS.  Else loop: while LOCKED and not
 *           STARVING, spin a few rounds (setting WOKEN if waiters sleep, so
 *           that unlock does not wake one needlessly); then CAS state to
 *           take LOCKED if not STARVING, or add one waiter (and set
 *           STARVING if this thread waited over 1 ms and the lock is held),
 *           clearing WOKEN if this thread was the woken one.  A waiter takes
 *           a token from sema (sleeping on sema == 0) and then either owns
 *           the lock (STARVING: LOCKED += 1, waiters -= 1, and STARVING
 *           cleared if it was the last waiter or waited under 1 ms) or
 *           competes again as the woken one.
 *   unlock  state -= LOCKED.  If the result is 0, done (no call).  In
 *           normal mode, if there are waiters and none is awake, no
 *           STARVING, nor LOCKED (another thread took it): CAS waiters -= 1
 *           and set WOKEN, then post one token.  In starvation mode: post
 *           one token (the hand-off; the lock stays unavailable to others
 *           because STARVING is set).
 *   trylock state without LOCKED or STARVING -> with LOCKED by one CAS.
 * Who wakes whom: each posted token wakes one sleeper on sema (futex
 * queues wake in arrival order for threads of equal priority, so the
 * oldest sleeper, usually).  Go's semaphore hands a token to the first
 * waiter exactly and puts a re-queued waiter at the front (LIFO); ours
 * lets any waiter that reaches sema take the token, and a re-queued waiter
 * goes to the back.  Both only hand the lock to a waiter, never to a new
 * arrival, which is what starvation mode promises.
 *
 * glibc's rule is NOT kept here, as it is not in Go (a garbage collector
 * keeps the mutex alive there): after its releasing add, unlock may CAS
 * state and post to sema.  The object must outlive every unlock call, as
 * every lock in the harness does (it frees a primitive only after joining
 * all its threads); destroying it right after the last unlock returns is
 * safe, destroying it while another thread is still inside unlock is not.
 *
 * Orders checked.  The lock is taken on three paths, each acquire:
 *   (a) the fast CAS 0 -> LOCKED and (b) a slow-path CAS that reads
 *       neither LOCKED nor STARVING: acquire on success, pairing with the
 *       release add in unlock (every other write to state is an RMW, so the
 *       release sequence reaches any later CAS);
 *   (c) the hand-off: the sema CAS that takes the token is acquire and
 *       pairs with the release add that posted it, which unlock makes after
 *       its own release of state, so the previous holder's section
 *       happens-before ours.
 *   A return from FUTEX_WAIT decides nothing: the sema CAS after it does.
 *   Failed CASes are relaxed and nothing returns on them.  trylock is
 *   true only on its acquire CAS.
 */
#ifndef LB_MUTEX_FUTEX_STARVATION_H
#define LB_MUTEX_FUTEX_STARVATION_H

#include "futex.h"
#include "mutex.h"

#define LB_STARVE_LOCKED 1u
#define LB_STARVE_WOKEN 2u
#define LB_STARVE_STARVING 4u
#define LB_STARVE_WAITER 8u /* one waiter in bits 3..31 */
/* Go's starvationThresholdNs: past 1 ms of waiting, fairness first. */
#define LB_STARVE_NS 1000000
/* Go's active_spin (4 rounds) of procyield(active_spin_cnt = 30). */
#define LB_STARVE_SPIN_ROUNDS 4
#define LB_STARVE_SPIN_PAUSES 30

struct lb_futex_starvation {
	_Atomic uint32_t state;
	_Atomic uint32_t sema;
};

static inline int lb_futex_starvation_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_starvation *m = obj;
	(void)cfg;
	atomic_init(&m->state, 0);
	atomic_init(&m->sema, 0);
	return 0;
}

/* Take one token: only waiters come here. */
static void lb_starve_sema_take(struct lb_futex_starvation *m)
{
	for (;;) {
		uint32_t v = atomic_load_explicit(&m->sema, memory_order_relaxed);
		while (v > 0)
			/* acquire: pairs with the release add in lb_starve_sema_post,
			 * which follows the poster's release of state. */
			if (atomic_compare_exchange_weak_explicit(&m->sema, &v, v - 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
		lb_futex_wait(&m->sema, 0, NULL);
	}
}

static void lb_starve_sema_post(struct lb_futex_starvation *m)
{
	/* release: the hand-off's edge to the waiter that takes the token. */
	atomic_fetch_add_explicit(&m->sema, 1, memory_order_release);
	lb_futex_wake(&m->sema, 1);
}

static void lb_futex_starvation_lock_slow(struct lb_futex_starvation *m)
{
	uint64_t wait_start = 0;
	bool starving = false, awoke = false;
	int spins = 0;
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);

	for (;;) {
		/* Held in normal mode: spin a little, as a hand-off is not coming. */
		if ((old & (LB_STARVE_LOCKED | LB_STARVE_STARVING)) == LB_STARVE_LOCKED &&
		    spins < LB_STARVE_SPIN_ROUNDS) {
			/* Say that someone is awake, so unlock wakes no one. */
			if (!awoke && !(old & LB_STARVE_WOKEN) && old >= LB_STARVE_WAITER &&
			    atomic_compare_exchange_strong_explicit(&m->state, &old,
								    old | LB_STARVE_WOKEN,
								    memory_order_relaxed,
								    memory_order_relaxed))
				awoke = true;
			for (int i = 0; i < LB_STARVE_SPIN_PAUSES; i++)
				lb_cpu_relax();
			spins++;
			old = atomic_load_explicit(&m->state, memory_order_relaxed);
			continue;
		}
		uint32_t new = old;
		/* New arrivals never take a starving lock: they queue. */
		if (!(old & LB_STARVE_STARVING))
			new |= LB_STARVE_LOCKED;
		if (old & (LB_STARVE_LOCKED | LB_STARVE_STARVING))
			new += LB_STARVE_WAITER;
		/* Switch to starvation mode, unless the lock is free now. */
		if (starving && (old & LB_STARVE_LOCKED))
			new |= LB_STARVE_STARVING;
		/* The woken one (or the spinner that said so) clears WOKEN,
		 * whatever it does next. */
		if (awoke)
			new &= ~LB_STARVE_WOKEN;
		/* acquire on success: path (b) when old was neither LOCKED nor
		 * STARVING (pairs with unlock's release add); otherwise it only
		 * queues, and the hand-off's sema CAS acquires. */
		if (!atomic_compare_exchange_weak_explicit(&m->state, &old, new,
							   memory_order_acquire,
							   memory_order_relaxed))
			continue;   /* old reloaded */
		if (!(old & (LB_STARVE_LOCKED | LB_STARVE_STARVING)))
			return;     /* (b) */
		if (!wait_start)
			wait_start = lb_mono_ns();
		lb_starve_sema_take(m);   /* (c) acquires */
		starving = starving || lb_mono_ns() - wait_start > LB_STARVE_NS;
		old = atomic_load_explicit(&m->state, memory_order_relaxed);
		if (old & LB_STARVE_STARVING) {
			/* Handed to us: take LOCKED, stop being a waiter, and end
			 * starvation mode if we were the last or did not starve. */
			uint32_t delta = LB_STARVE_LOCKED - LB_STARVE_WAITER;
			if (!starving || (old >> 3) == 1)
				delta -= LB_STARVE_STARVING;
			/* relaxed: the token's acquire already ordered us after the
			 * previous holder; this RMW continues state's release
			 * sequence for the next one. */
			atomic_fetch_add_explicit(&m->state, delta, memory_order_relaxed);
			return;     /* (c) */
		}
		awoke = true;
		spins = 0;
	}
}

static inline void lb_futex_starvation_lock(void *obj, void *t)
{
	struct lb_futex_starvation *m = obj;
	uint32_t c = 0;
	(void)t;
	/* acquire: pairs with unlock's release add (path (a)). */
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
		&m->state, &c, LB_STARVE_LOCKED, memory_order_acquire, memory_order_relaxed), 1))
		return;
	lb_futex_starvation_lock_slow(m);
}

static inline bool lb_futex_starvation_trylock(void *obj, void *t)
{
	struct lb_futex_starvation *m = obj;
	(void)t;
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);
	if (old & (LB_STARVE_LOCKED | LB_STARVE_STARVING))
		return false;
	/* acquire: pairs with unlock's release add.  A woken waiter may be
	 * on its way: we are running, it is not (normal mode's barging). */
	return atomic_compare_exchange_strong_explicit(&m->state, &old, old | LB_STARVE_LOCKED,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static void lb_futex_starvation_unlock_slow(struct lb_futex_starvation *m, uint32_t new)
{
	if (new & LB_STARVE_STARVING) {
		/* Hand-off: LOCKED stays clear, but STARVING keeps arrivals out
		 * until the waiter that takes this token sets LOCKED. */
		lb_starve_sema_post(m);
		return;
	}
	uint32_t old = new;
	for (;;) {
		/* No waiters; or one is awake, or the lock is taken again, or
		 * starvation mode began after our release (not our hand-off). */
		if (old < LB_STARVE_WAITER ||
		    (old & (LB_STARVE_LOCKED | LB_STARVE_WOKEN | LB_STARVE_STARVING)))
			return;
		/* The right to wake one: relaxed, sema's post publishes. */
		if (atomic_compare_exchange_weak_explicit(&m->state, &old,
							  (old - LB_STARVE_WAITER) | LB_STARVE_WOKEN,
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			lb_starve_sema_post(m);
			return;
		}
	}
}

static inline void lb_futex_starvation_unlock(void *obj, void *t)
{
	struct lb_futex_starvation *m = obj;
	(void)t;
	/* release: pairs with the next owner's acquire CAS on state. */
	uint32_t new = atomic_fetch_sub_explicit(&m->state, LB_STARVE_LOCKED,
						 memory_order_release) - LB_STARVE_LOCKED;
	if (__builtin_expect(new != 0, 0))
		lb_futex_starvation_unlock_slow(m, new);
}

static const struct lb_mutex_ops lb_futex_starvation_ops = {
	.base = { .size = sizeof(struct lb_futex_starvation), .init = lb_futex_starvation_init },
	.lock = lb_futex_starvation_lock,
	.trylock = lb_futex_starvation_trylock,
	.unlock = lb_futex_starvation_unlock,
};

#endif
