/* Semantics of every implementation of the non-mutex kinds, through the
 * registry's ops.  TAP output, one line per check (test_prims.c covers the
 * mutex and counter kinds).  Each kind's cases, and what they check, are in
 * tests/kinds/<kind>.c, over what they share: kindtest.h.  This file is the
 * table of them, built from registry.h's list of kinds, and main().
 *
 * The mutual-exclusion cases (recursive, one-permit semaphore, rwlock
 * writers) keep a plain shadow counter in the critical section, so that
 * ThreadSanitizer sees a lock that does not order (see tap_shadow_ok).
 *
 * Each multi-thread case runs at 2, 4 and 8 threads for about RUN_MS and
 * asserts nothing about timing: a case that does not finish within GUARD_MS
 * reports "not ok ... hung", leaks its threads and object, and ends its
 * process at once (tap_abandon: the threads may still use its frame).  Every case
 * also runs in its own process under a hang guard (see lbtap.h), so one
 * that hangs anyway, crashes or draws a sanitizer report fails alone.
 *
 * usage: test_kinds [--backend NAME]... [--impl ID]...  (default: all;
 * hidden, deliberately broken implementations only when named)
 * LB_TEST_GUARD_S=N: seconds a case's process may run before it counts as
 * hung (lbtap's 60 by default; meson gives this program 300, above the
 * sum of a case's GUARD_MS waits).
 * LB_TEST_BARRIER_PHASES=N overrides the 1000 barrier phases.
 * LB_TEST_BARRIER_FULL=1 runs them all even for spin-only barriers with
 * more threads than CPUs (the 'slow' suite; minutes on 2 CPUs).
 */
#include <stddef.h>
#include <stdio.h>

#include "kindtest.h"

/* ---- selection ---- */

/* Hidden (deliberately broken) implementations run only when named with
 * --impl: then they must fail.  Except test-seqlock-blind, whose case is
 * that the seqlock kind's torn-read check catches it: it runs whenever its
 * backend is chosen (or nothing is named), as test_prims runs test-busted. */
static int selected(const struct lb_impl *im)
{
	if (im->index == LB_IMPL_test_seqlock_blind)
		return tap_selected(im);
	if (im->caps & LB_CAP_HIDDEN)
		return tap_named(im);
	return tap_selected(im);
}

/* ==== the table: one semantics test per kind ==== */

/* test_prims.c tests these kinds (mutual exclusion, trylock, exact counts,
 * the racy negative control); nothing more here. */
void kindtest_mutex(const struct lb_impl *im)
{
	(void)im;
}

void kindtest_counter(const struct lb_impl *im)
{
	(void)im;
}

void kindtest_none(const struct lb_impl *im)
{
	(void)im;
}

/* From registry.h's list of kinds: a kind without its kindtest_<name>
 * (kindtest.h declares them all) does not link. */
#define KT_ENTRY(a, ENUM, name, ops, IMPLS, try) [LB_KIND_##ENUM] = kindtest_##name,
static void (*const kind_tests[LB_KIND_COUNT])(const struct lb_impl *) = {
	LB_KINDS(KT_ENTRY, _)
};

int main(int argc, char **argv)
{
	tap_init(argc, argv);
	int ret = kindtest_barrier_setup();
	if (ret)
		return ret;
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		if (lb_impl_kind(&lb_impls[j]) == LB_KIND_RWLOCK && selected(&lb_impls[j])) {
			kindtest_rwlock_registry();
			break;
		}
	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		if (selected(&lb_impls[j]))
			kind_tests[lb_impl_kind(&lb_impls[j])](&lb_impls[j]);
	return tap_done();
}
