/* A deliberately broken barrier (after mutex_test.h): it proves that the
 * barrier workload's check fails when a thread gets through early.  Hidden:
 * never part of "all" or a backend selection, listed only under
 * --list --all.
 *
 * test-barrier-early  futex-barrier (barrier_futex.h: its state encoding,
 *     transitions and orders), except that in the second phase and every
 *     LB_TEST_EARLY_EVERY-th after it (generation g with g % EVERY == 1:
 *     early, so that a slow run fails too) the first thread to
 *     arrive returns at once instead of waiting for the others: it leaves
 *     phase k while the rest have not arrived yet.  Its arrival is still
 *     counted, so the phase completes as usual when the last thread
 *     arrives, and the early thread's next wait() first waits out that
 *     generation before it arrives again: arrivals stay aligned with
 *     phases, every thread makes the same number of wait() calls, nothing
 *     hangs, and the early thread is never more than one phase ahead.  With
 *     one thread every arrival is the last: it cannot go wrong.
 *
 * State: futex-barrier's, plus per thread (the context): owed, the
 * generation whose wait was skipped, and owing, whether one was.
 */
#ifndef LB_BARRIER_TEST_H
#define LB_BARRIER_TEST_H

#include "barrier_futex.h"

#define LB_TEST_EARLY_EVERY 1000

struct lb_test_barrier_tctx {
	uint32_t owed;
	bool owing;
};

static inline void lb_test_barrier_early_wait(void *obj, void *t)
{
	struct lb_futex_barrier *b = obj;
	struct lb_test_barrier_tctx *tc = t;
	uint32_t g, pos;

	if (tc->owing) { /* finish the wait skipped last time */
		tc->owing = false;
		lb_futex_barrier_sleep(b, tc->owed);
	}
	if (lb_futex_barrier_arrive(b, &g, &pos))
		return;
	if (pos == 0 && g % LB_TEST_EARLY_EVERY == 1) {
		/* The bug: through before the others have arrived. */
		tc->owed = g;
		tc->owing = true;
		return;
	}
	lb_futex_barrier_sleep(b, g);
}

static const struct lb_barrier_ops lb_test_barrier_early_ops = {
	.base = { .size = sizeof(struct lb_futex_barrier),
		  .tctx_size = sizeof(struct lb_test_barrier_tctx),
		  .init = lb_futex_barrier_init },
	.wait = lb_test_barrier_early_wait,
};

#endif
