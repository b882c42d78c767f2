/* lit-ttas-eb: test-and-test-and-set with randomised exponential backoff,
 * the textbook baseline (Anderson, "The performance of spin lock
 * alternatives for shared-memory multiprocessors", IEEE TPDS 1990;
 * Herlihy and Shavit, "The Art of Multiprocessor Programming", 7.4,
 * BackoffLock).  Written here in C11 atomics.
 *
 * State: one 32-bit word, 0 free, 1 held.
 *
 * A waiter reads the word until it looks free (the "test": a shared read
 * that stays in its cache), then swaps 1 in (the "set").  A swap that
 * finds 1 means another waiter won the race the same release started:
 * the loser waits a random number of PAUSEs below a limit that starts at
 * LB_TTAS_MIN and doubles per lost race up to LB_TTAS_MAX, so losers
 * spread out instead of all swapping at the next release.  Unfair. */
#ifndef LB_MUTEX_LIT_TTAS_EB_H
#define LB_MUTEX_LIT_TTAS_EB_H

#include <stdatomic.h>
#include <stdint.h>

#include "mutex.h"

#define LB_TTAS_MIN 4u
#define LB_TTAS_MAX 1024u /* PAUSEs: about 20 us at this guest's 20 ns PAUSE */

static inline int lb_lit_ttas_eb_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init((_Atomic uint32_t *)obj, 0);
	return 0;
}

/* xorshift32: each waiter's own sequence, seeded from its stack address
 * (threads' stacks differ), so two losers do not draw the same delays. */
static inline uint32_t lb_ttas_rand(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline bool lb_lit_ttas_eb_trylock(void *obj, void *t)
{
	(void)t;
	_Atomic uint32_t *w = obj;
	/* acquire pairs with unlock's release store */
	return atomic_load_explicit(w, memory_order_relaxed) == 0 &&
	       atomic_exchange_explicit(w, 1, memory_order_acquire) == 0;
}

static inline void lb_lit_ttas_eb_lock(void *obj, void *t)
{
	_Atomic uint32_t *w = obj;
	if (__builtin_expect(atomic_exchange_explicit(w, 1, memory_order_acquire) == 0, 1))
		return; /* acquire pairs with unlock's release store */
	uint32_t limit = LB_TTAS_MIN, seed = (uint32_t)(uintptr_t)&limit | 1u;
	for (;;) {
		while (atomic_load_explicit(w, memory_order_relaxed) != 0)
			lb_cpu_relax();
		if (lb_lit_ttas_eb_trylock(obj, t))
			return;
		for (uint32_t n = lb_ttas_rand(&seed) % limit; n > 0; n--)
			lb_cpu_relax();
		if (limit < LB_TTAS_MAX)
			limit *= 2;
	}
}

static inline void lb_lit_ttas_eb_unlock(void *obj, void *t)
{
	(void)t;
	/* release pairs with the acquire exchange of the next holder */
	atomic_store_explicit((_Atomic uint32_t *)obj, 0, memory_order_release);
}

static const struct lb_mutex_ops lb_lit_ttas_eb_ops = {
	.base = { .size = sizeof(_Atomic uint32_t), .init = lb_lit_ttas_eb_init },
	.lock = lb_lit_ttas_eb_lock,
	.trylock = lb_lit_ttas_eb_trylock,
	.unlock = lb_lit_ttas_eb_unlock,
};

#endif
