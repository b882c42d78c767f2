/* futex-sem: a counting semaphore on raw futex(2).
 *
 * State encoding: one 64-bit word (futex64.h).
 *   low 32 bits   free permits, >= 0: the futex word sleepers wait on
 *   high 32 bits  sleepers: threads asleep or about to sleep
 * Transitions:
 *   acquire      CAS permits v -> v-1 while v > 0 (no syscall).  At 0:
 *                sleepers + 1 once; then, until it has a permit, FUTEX_WAIT
 *                while permits == 0 and, once it reads a permit, one CAS
 *                that takes it and counts itself out together (permits - 1,
 *                sleepers - 1), as glibc's new semaphore does
 *                (nptl/sem_waitcommon.c).  One RMW on the word after a
 *                wake-up instead of three (sleepers - 1, then the permit's
 *                CAS, then sleepers + 1 again if it lost): each is a
 *                transfer of the line between CPUs, and handoff, where
 *                every op is a sleep and a wake, ran at 0.77-0.93x
 *                pthread-sem with them (0.97-1.00x, noise, without).
 *   try_acquire  the CAS only; false at 0.
 *   release      permits + 1 in one fetch-add, whose old value also says
 *                whether anyone sleeps: if so, wake one.
 * Who wakes whom: each release wakes at most one sleeper, which retries the
 * CAS; one that loses the race to a newcomer sleeps again (still counted),
 * and the newcomer's own release wakes it.  No lost wake-ups: a sleeper is
 * counted from before its first FUTEX_WAIT rereads the permits until the
 * CAS that gives it a permit, and a release's fetch-add on the same word
 * either sees it counted (and wakes) or comes before the increment (and
 * FUTEX_WAIT sees permits != 0 and returns).  A sleeper woken but not yet
 * running still counts, so a release then may wake another sleeper or
 * nobody: an extra wake-up, never a lost one.  release touches the
 * word only through that one RMW (and the futex address after it): glibc's
 * rule, the word may be freed once the permit is taken.
 *
 * Orders checked.  Every write to the word is an RMW (release's fetch-add,
 * the acquiring CAS, the sleeper count's fetch-add and fetch-sub), so each
 * release heads a release sequence through all later writes:
 *   acquire      returns only through a successful CAS that takes a
 *                permit (try_acquire's, or the slow path's that also counts
 *                the sleeper out), both acquire: each synchronizes with the
 *                release() whose permit it takes (and every earlier one).
 *                The relaxed sleeper increment, the relaxed reload after
 *                FUTEX_WAIT and FUTEX_WAIT's return never end acquire: the
 *                loop goes on to the CAS.
 *   try_acquire  true only on that acquire CAS; false (no permit seen)
 *                orders nothing.  Its first load is relaxed: it only seeds
 *                the CAS.
 *   release      the fetch-add is release: what the holder did before
 *                release() is visible to the next acquirer of a permit.
 */
#ifndef LB_SEMAPHORE_FUTEX_H
#define LB_SEMAPHORE_FUTEX_H

#include "futex64.h"
#include "semaphore_ops.h"

struct lb_futex_sem {
	_Atomic uint64_t w;
};

static inline int lb_futex_sem_init(void *obj, const struct lb_prim_cfg *cfg)
{
	atomic_init(&((struct lb_futex_sem *)obj)->w, cfg->permits);
	return 0;
}

static inline bool lb_futex_sem_try(void *obj, void *t)
{
	_Atomic uint64_t *w = &((struct lb_futex_sem *)obj)->w;
	uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
	(void)t;
	/* acquire: pairs with the release fetch-add in release(), so the
	 * previous holder's writes are visible to us. */
	while (v & LB_F64_LOW)
		if (atomic_compare_exchange_weak_explicit(w, &v, v - 1,
				memory_order_acquire, memory_order_relaxed))
			return true;
	return false;
}

static void lb_futex_sem_acquire_slow(struct lb_futex_sem *s)
{
	/* relaxed: ordering comes from the permit CAS; the count only has to
	 * be in the same word as the permits. */
	uint64_t v = atomic_fetch_add_explicit(&s->w, LB_F64_HIGH1, memory_order_relaxed) +
		     LB_F64_HIGH1;
	for (;;) {
		if (v & LB_F64_LOW) {
			/* acquire: pairs with the release fetch-add whose permit
			 * this takes; the same CAS counts us out. */
			if (atomic_compare_exchange_weak_explicit(&s->w, &v, v - 1 - LB_F64_HIGH1,
					memory_order_acquire, memory_order_relaxed))
				return;
			continue;
		}
		lb_futex_wait(lb_f64_low(&s->w), 0, NULL);
		/* relaxed: only seeds the CAS above. */
		v = atomic_load_explicit(&s->w, memory_order_relaxed);
	}
}

static inline void lb_futex_sem_acquire(void *obj, void *t)
{
	if (__builtin_expect(lb_futex_sem_try(obj, t), 1))
		return;
	lb_futex_sem_acquire_slow(obj);
}

static inline void lb_futex_sem_release(void *obj, void *t)
{
	_Atomic uint64_t *w = &((struct lb_futex_sem *)obj)->w;
	(void)t;
	/* release: pairs with the acquiring CAS. */
	if (atomic_fetch_add_explicit(w, 1, memory_order_release) >> 32)
		lb_futex_wake(lb_f64_low(w), 1);
}

static const struct lb_semaphore_ops lb_futex_sem_ops = {
	.base = { .size = sizeof(struct lb_futex_sem), .init = lb_futex_sem_init },
	.acquire = lb_futex_sem_acquire,
	.try_acquire = lb_futex_sem_try,
	.release = lb_futex_sem_release,
};

#endif
