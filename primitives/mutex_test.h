/* Deliberately broken mutexes, after locktorture's lock_busted: they prove
 * that the checks fail when they should.  Hidden: never part of "all" or a
 * backend selection, and listed only under --list --all.
 *
 * test-busted  "test then set" with a separate load and store: two threads
 *              can both see 0 and both enter.  No mutual exclusion; the
 *              counter check must report lost updates and fail the run.
 * test-stuck   futex-mutex whose unlock silently does nothing from the
 *              1000th release on: the lock is never free again and every
 *              thread ends up asleep in FUTEX_WAIT.  The watchdog must turn
 *              that into a reported stall, not a hang.
 * test-notry   futex-mutex whose trylock always fails, even on a free lock;
 *              lock and unlock are correct.  A trylock check that only
 *              compares the counter with the successes (0 = 0) passes it:
 *              the trylock workload must not.
 */
#ifndef LB_MUTEX_TEST_H
#define LB_MUTEX_TEST_H

#include "mutex_futex.h"

struct lb_test_busted {
	_Atomic uint32_t word;
};

static inline int lb_test_busted_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_test_busted *)obj)->word, 0);
	return 0;
}

static inline void lb_test_busted_lock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_test_busted *)obj)->word;
	(void)t;
	/* The bug: the test and the set are two steps.  The pause between
	 * them widens the window so that the checkers catch it promptly even
	 * when the threads share one CPU. */
	while (atomic_load_explicit(w, memory_order_acquire) != 0)
		lb_cpu_relax();
	lb_cpu_relax();
	atomic_store_explicit(w, 1, memory_order_relaxed);
}

static inline bool lb_test_busted_trylock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_test_busted *)obj)->word;
	(void)t;
	if (atomic_load_explicit(w, memory_order_acquire) != 0)
		return false;
	atomic_store_explicit(w, 1, memory_order_relaxed);
	return true;
}

static inline void lb_test_busted_unlock(void *obj, void *t)
{
	(void)t;
	atomic_store_explicit(&((struct lb_test_busted *)obj)->word, 0, memory_order_release);
}

static const struct lb_mutex_ops lb_test_busted_ops = {
	.base = { .size = sizeof(struct lb_test_busted), .init = lb_test_busted_init },
	.lock = lb_test_busted_lock,
	.trylock = lb_test_busted_trylock,
	.unlock = lb_test_busted_unlock,
};

#define LB_TEST_STUCK_AFTER 1000

struct lb_test_stuck {
	struct lb_futex_mutex m;
	uint64_t releases; /* only touched while holding m */
};

static inline int lb_test_stuck_init(void *obj, const struct lb_prim_cfg *cfg)
{
	((struct lb_test_stuck *)obj)->releases = 0;
	return lb_futex_mutex_init(obj, cfg);
}

static inline void lb_test_stuck_lock(void *obj, void *t)
{
	lb_futex_mutex_lock(&((struct lb_test_stuck *)obj)->m, t);
}

static inline bool lb_test_stuck_trylock(void *obj, void *t)
{
	return lb_futex_mutex_trylock(&((struct lb_test_stuck *)obj)->m, t);
}

static inline void lb_test_stuck_unlock(void *obj, void *t)
{
	struct lb_test_stuck *s = obj;
	if (++s->releases >= LB_TEST_STUCK_AFTER)
		return; /* the bug: the lock is never released again */
	lb_futex_mutex_unlock(&s->m, t);
}

static const struct lb_mutex_ops lb_test_stuck_ops = {
	.base = { .size = sizeof(struct lb_test_stuck), .init = lb_test_stuck_init },
	.lock = lb_test_stuck_lock,
	.trylock = lb_test_stuck_trylock,
	.unlock = lb_test_stuck_unlock,
};

static inline bool lb_test_notry_trylock(void *obj, void *t)
{
	(void)obj;
	(void)t;
	return false; /* the bug: never acquires, not even a free lock */
}

static const struct lb_mutex_ops lb_test_notry_ops = {
	.base = { .size = sizeof(struct lb_futex_mutex), .init = lb_futex_mutex_init },
	.lock = lb_futex_mutex_lock,
	.trylock = lb_test_notry_trylock,
	.unlock = lb_futex_mutex_unlock,
};

#endif
