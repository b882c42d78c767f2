/* kindtest: what the semantics tests of tests/kinds/<kind>.c share, and the
 * table that test_kinds.c runs them from.
 *
 * A kind's file defines kindtest_<kind>(im), which runs that kind's cases
 * on one implementation through lbtap's tap_run (lbtap.h: each case in its
 * own process under a hang guard).  A case sets up its object and threads
 * with the helpers below and says what it found with tap().
 *
 * Each multi-thread case runs at kt_counts[] threads (2, 4, 8) for about
 * RUN_MS and asserts nothing about timing: a case that does not finish
 * within GUARD_MS reports "not ok ... hung", leaks its threads and object
 * (the stuck threads still point at them), and ends its process at once
 * (tap_abandon: the threads may still use its frame).
 *
 * Two shapes of case:
 *  - a team: n workers that each attach, pass the start gate, loop until
 *    the gate says stop, and detach (struct team, struct gate);
 *  - helpers: the main thread holds the object and starts one thread per
 *    operation it wants done elsewhere (a trylock, a wait), then asks
 *    whether it returned, and what (struct helper).
 */
#ifndef KINDTEST_H
#define KINDTEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "lbtap.h"
#include "registry.h"

#define MAXT 8
#define RUN_MS 150      /* length of each time-bounded case */
/* A case that needs longer than this has hung.  A hang guard only: under
 * ThreadSanitizer with both CPUs loaded (./bench test beside stress-ng),
 * threads of a correct case went unscheduled for 10-20 s. */
#define GUARD_MS 30000
#define QUIET_MS 50     /* "does not return" is checked over this long */

/* The thread counts of the multi-thread cases: 2, 4 and 8 (MAXT); in a
 * sanitizer build 2 and 8 (TAP_SANITIZED). */
#define KT_NCOUNTS (TAP_SANITIZED ? 2 : 3)
extern const unsigned kt_counts[3];

/* Polls *v until it reaches target; 1 if it did within ms. */
int kt_wait_count(_Atomic unsigned *v, unsigned target, long ms);

/* Raises *peak to v if v is higher (relaxed: a statistic, no ordering). */
static inline void kt_max_update(_Atomic unsigned *peak, unsigned v)
{
	unsigned p = atomic_load_explicit(peak, memory_order_relaxed);
	while (v > p && !atomic_compare_exchange_weak_explicit(peak, &p, v, memory_order_relaxed,
							       memory_order_relaxed))
		;
}

/* ---- the threads of one case ----
 * A case whose threads do not finish is reported and its shared state and
 * primitive are leaked on purpose: the stuck threads still point at them. */

struct kt_member; /* one thread's start and its "finished" flag (kindtest.c) */
struct team {
	pthread_t th[MAXT];
	struct kt_member *m[MAXT];
	unsigned n;
	unsigned char stuck[MAXT]; /* set by kt_team_join: thread i did not finish */
};

/* Starts fn(arg) as the team's next thread (at most MAXT), or bails out. */
void kt_team_spawn(struct team *tm, void *(*fn)(void *), void *arg);

/* Joins every thread that finishes within ms of CLOCK_MONOTONIC; returns
 * how many did not (those are detached and leaked, and marked in
 * tm->stuck). */
unsigned kt_team_join(struct team *tm, long ms);

/* The start gate: every worker attaches, then waits for go, so that the
 * timed window only opens once all of them run. */
struct gate {
	_Atomic unsigned ready;
	_Atomic unsigned ran;   /* workers that completed their first op */
	_Atomic int go, stop;
	_Atomic int abandon; /* the case hung: polling workers give up */
	_Atomic int attach_err;
};

/* A worker: counts itself ready, then yields until the gate opens. */
void kt_gate_pass(struct gate *g);

/* A worker's op is done; the first one counts it as having run.  Inline:
 * it is in every worker's loop. */
static inline void kt_gate_ran(struct gate *g, int *mine)
{
	if (!*mine) {
		*mine = 1;
		atomic_fetch_add(&g->ran, 1);
	}
}

/* The case's window: RUN_MS, and then until want workers have completed an
 * op (a starved thread on a loaded machine would otherwise make a run of
 * no ops, which the checks rightly refuse; the guard bounds the wait, and
 * a lock that never lets anyone in fails the check). */
void kt_gate_run(struct gate *g, unsigned want);

/* Whether the case told its workers to stop: the test of every worker's
 * loop, hence inline. */
static inline int kt_stopping(struct gate *g)
{
	return atomic_load_explicit(&g->stop, memory_order_relaxed);
}

/* Opens the gate once all n have attached; 0 if they did not in time. */
int kt_gate_open(struct gate *g, unsigned n);

/* Attaches the calling worker as tid; on failure records the error for
 * the case (every worker then gives up at the gate). */
int kt_attach(const struct lb_impl *im, void *obj, unsigned tid, struct gate *g, void **tctx);

/* After the gate: 1 if some worker failed to attach (this one detaches, if
 * it did attach, and must return). */
int kt_gate_failed(struct gate *g, const struct lb_impl *im, void *obj, int aerr, void *t);

/* ---- one helper thread doing one operation ---- */

/* A helper's result besides what its fn returns: it did not finish in
 * time, it could not attach, or (a trylock helper) its unlock failed. */
enum { H_HUNG = -100, H_ERR = -101, H_UNLOCK = -102 };

struct helper {
	const struct lb_impl *im;
	void *obj;
	void *arg;
	unsigned tid;
	int (*fn)(struct helper *h, void *tctx);
	pthread_t th;
	_Atomic pid_t ktid;     /* its kernel thread id, for tap_task_state */
	int result;             /* fn's return value, or H_ERR */
	_Atomic int started, done;
};

/* Starts a thread that attaches to obj as tid, runs fn(h, tctx) (arg is
 * h->arg), detaches and is done. */
struct helper *kt_helper_spawn(const struct lb_impl *im, void *obj, unsigned tid,
			       int (*fn)(struct helper *, void *), void *arg);

/* 1 if the helper is done, waiting up to ms for it. */
int kt_helper_done_within(struct helper *h, long ms);

/* Waits up to ms; returns the helper's result, or H_HUNG (the helper is
 * then leaked).  Frees a finished helper. */
int kt_helper_reap(struct helper *h, long ms);

/* Spawn and reap within GUARD_MS: the helper's result, or H_HUNG. */
int kt_run_helper(const struct lb_impl *im, void *obj, unsigned tid,
		  int (*fn)(struct helper *, void *), void *arg);

/* How many of the n helpers are done. */
unsigned kt_count_done(struct helper **h, unsigned n);

/* Waits up to ms for every helper; 1 if all are done. */
int kt_all_done_within(struct helper **h, unsigned n, long ms);

/* Joins the finished helpers; leaks the rest.  Returns how many leaked. */
unsigned kt_reap_all(struct helper **h, unsigned n);

/* 1 once every helper has been asleep in the kernel at two samples 10 ms
 * apart (so none is merely about to call wait()); 0 if not within ms. */
int kt_helpers_parked(struct helper **h, unsigned n, long ms);

/* A helper's result for a TAP line: a boolean ("true", "false", "hung"...)
 * or an errno value ("0", strerror's text, "hung"...).  kt_err_str's text
 * lives in a static buffer until its next call. */
const char *kt_bool_str(int r);
const char *kt_err_str(int r);

/* ---- the table ---- */

/* One semantics test per kind, declared from registry.h's LB_KINDS: a kind
 * without its kindtest_<name> (in tests/kinds/<name>.c, or test_kinds.c
 * for the kinds test_prims covers) does not link. */
#define KT_DECL(a, ENUM, name, ops, IMPLS, try) void kindtest_##name(const struct lb_impl *im);
LB_KINDS(KT_DECL, _)
#undef KT_DECL

/* The sets' and queues' reclamation under a held reader (tests/kinds/
 * reclaim.c): for the implementations whose ops report unreclaimed
 * memory, called by kindtest_set and kindtest_queue. */
void kindtest_reclaim(const struct lb_impl *im);

/* The barrier's number of phases from LB_TEST_BARRIER_PHASES (default
 * 1000): 0, or 2 after printing why the value is bad.  For main(), before
 * any case runs. */
int kindtest_barrier_setup(void);

/* The registry's writer-preferring rwlocks: one TAP line (tests/kinds/
 * rwlock.c).  For main(), once, when any rwlock is selected. */
void kindtest_rwlock_registry(void);

#endif
