/* futex-barrier: a counting barrier with a generation futex word.
 *
 * State encoding:
 *   arrived       32-bit count of threads that reached the current phase
 *   w (64-bit, futex64.h): low 32 bits the generation, the futex word;
 *                 high 32 bits the number of threads asleep on it
 * Transitions:
 *   wait  read generation g, then arrived + 1.
 *         The last arrival (arrived reaches n) resets arrived to 0 and then
 *         advances the generation in one fetch-add whose old value also
 *         says whether anyone sleeps; if so it wakes them all.
 *         Everyone else polls the generation LB_BARRIER_SPINS times, then
 *         sleeps (sleepers + 1, FUTEX_WAIT while generation == g,
 *         sleepers - 1) until it moves.  With more threads than the CPUs
 *         this process may run on (its affinity mask when the barrier is
 *         made), no one polls: the last arrival may be waiting for the
 *         very CPU a poller holds, so polling only delays the phase.
 * Who wakes whom: the last arrival wakes every sleeper of its phase.
 * Ordering: each arrival's fetch-add is acq_rel, so the last arrival has
 * seen everyone's writes before the phase; its release of the generation
 * pairs with the waiters' acquire loads, so after the barrier every thread
 * sees every other's pre-barrier writes.  arrived is reset before the
 * generation moves, and nobody can arrive for phase g+1 before seeing the
 * generation move, so the reset never loses an arrival.
 *
 * Orders checked:
 *   wait, last arrival  its fetch-add on arrived is acq_rel and reads the
 *           end of a chain of RMWs, each a release by one arrival of this
 *           phase (the reset to 0 precedes them all), so it has acquired
 *           every arrival's pre-barrier writes; it then moves the
 *           generation with a release CAS and returns.
 *   wait, the others    return only on an acquire load of w that saw the
 *           generation move, in the spin phase or after FUTEX_WAIT (whose
 *           own return decides nothing).  Every write to w is an RMW, so
 *           that value is in the release sequence of the last arrival's
 *           CAS, which carries everyone's writes.
 *   The load of g before arriving needs no ordering: coherence alone gives
 *   the current generation, since this thread saw it move (or moved it).
 *   After its CAS the last arrival passes only w's address to FUTEX_WAKE:
 *   the others may already have returned and freed the barrier.
 */
#ifndef LB_BARRIER_FUTEX_H
#define LB_BARRIER_FUTEX_H

#include <sched.h>

#include "barrier.h"
#include "futex64.h"

/* Polls before sleeping: covers threads arriving within a few microseconds
 * of each other without a syscall, and gives up fast when oversubscribed. */
#define LB_BARRIER_SPINS 256

struct lb_futex_barrier {
	_Atomic uint32_t arrived;
	uint32_t n;
	uint32_t spins; /* LB_BARRIER_SPINS, or 0 when oversubscribed */
	_Atomic uint64_t w;
};

static inline int lb_futex_barrier_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_futex_barrier *b = obj;
	cpu_set_t cpus;
	atomic_init(&b->arrived, 0);
	atomic_init(&b->w, 0);
	b->n = cfg->nthreads ? cfg->nthreads : 1;
	/* Unknown CPUs: poll, as before this rule. */
	b->spins = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 &&
		   b->n > (uint32_t)CPU_COUNT(&cpus) ? 0 : LB_BARRIER_SPINS;
	return 0;
}

/* Wait until the generation is no longer g. */
static void lb_futex_barrier_sleep(struct lb_futex_barrier *b, uint32_t g)
{
	for (uint32_t i = 0; i < b->spins; i++) {
		/* acquire: pairs with the last arrival's release CAS. */
		if ((uint32_t)atomic_load_explicit(&b->w, memory_order_acquire) != g)
			return;
		lb_cpu_relax();
	}
	/* relaxed: the count only has to share the word with the generation;
	 * the acquire load below orders the data. */
	atomic_fetch_add_explicit(&b->w, LB_F64_HIGH1, memory_order_relaxed);
	while ((uint32_t)atomic_load_explicit(&b->w, memory_order_acquire) == g)
		lb_futex_wait(lb_f64_low(&b->w), g, NULL);
	atomic_fetch_sub_explicit(&b->w, LB_F64_HIGH1, memory_order_relaxed);
}

/* Count one arrival.  Returns true for the last arrival of the phase,
 * which has released it; otherwise the caller must wait out generation *g
 * with lb_futex_barrier_sleep().  *pos is the arrival's place in its phase
 * (0 first); test-barrier-early (barrier_test.h) uses both halves. */
static inline bool lb_futex_barrier_arrive(struct lb_futex_barrier *b, uint32_t *g,
					   uint32_t *pos)
{
	/* relaxed: only the current generation is needed, which coherence
	 * gives (see "Orders checked"). */
	*g = (uint32_t)atomic_load_explicit(&b->w, memory_order_relaxed);
	/* acq_rel: releases our pre-barrier writes, and the last arrival
	 * acquires everyone's through the chain of RMWs. */
	*pos = atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel);
	if (*pos + 1 != b->n)
		return false;
	atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
	/* release: pairs with the waiters' acquire loads of the generation.
	 * The generation wraps within the low half. */
	uint64_t v = atomic_load_explicit(&b->w, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&b->w, &v,
			(v & ~LB_F64_LOW) | ((v + 1) & LB_F64_LOW),
			memory_order_release, memory_order_relaxed))
		;
	/* Only the address from here on: the others may have returned and
	 * freed the barrier. */
	if (v >> 32)
		lb_futex_wake(lb_f64_low(&b->w), INT_MAX);
	return true;
}

static inline void lb_futex_barrier_wait(void *obj, void *t)
{
	struct lb_futex_barrier *b = obj;
	uint32_t g, pos;
	(void)t;
	if (!lb_futex_barrier_arrive(b, &g, &pos))
		lb_futex_barrier_sleep(b, g);
}

static const struct lb_barrier_ops lb_futex_barrier_ops = {
	.base = { .size = sizeof(struct lb_futex_barrier), .init = lb_futex_barrier_init },
	.wait = lb_futex_barrier_wait,
};

#endif
