/* Semantics of every implementation of the non-mutex kinds, through the
 * registry's ops.  TAP output, one line per check (test_prims.c covers the
 * mutex and counter kinds).
 *
 *   recursive: depth counting (the lock is free only after the last of
 *              three unlocks), unlock by a non-owner returns EPERM and
 *              changes nothing, mutual exclusion with nested locking.
 *   semaphore: never more holders than permits and exactly that many
 *              reached; try_acquire fails without waiting when every permit
 *              is held; a release wakes a blocked acquire; with one permit,
 *              mutual exclusion.
 *   event:     no waiter returns while clear; one set() releases them all;
 *              is_set() follows set()/clear(); set() then clear() at once
 *              still releases the parked waiters.
 *   condition: producer/consumer hand-off through a one-slot buffer (every
 *              item consumed exactly once), notify() wakes a waiter,
 *              notify_all() wakes all of them.
 *   rwlock:    writers exclude everyone, readers exclude writers, a
 *              multi-word record is never seen torn; RCU (LB_CAP_RCU):
 *              readers never see a torn or reclaimed record.  Writer
 *              preference (LB_CAP_WPREF): while a reader holds the lock and
 *              a writer waits, a new reader waits too, and the writer goes
 *              first.
 *   barrier:   nobody leaves phase k before everyone has arrived at it, and
 *              what each thread wrote before the barrier is visible after.
 *   queue:     capacity(), and push/pop against a model in one thread
 *              (full and empty exactly when they should be, FIFO order for
 *              LB_CAP_FIFO); producers and consumers: every item popped
 *              exactly once with what was written before its push, in push
 *              order per producer for LB_CAP_FIFO.
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
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lbtap.h"
#include "registry.h"
#include "timer.h"

#define MAXT 8
#define RUN_MS 150      /* length of each time-bounded case */
/* A case that needs longer than this has hung.  A hang guard only: under
 * ThreadSanitizer with both CPUs loaded (./bench test beside stress-ng),
 * threads of a correct case went unscheduled for 10-20 s. */
#define GUARD_MS 30000
#define QUIET_MS 50     /* "does not return" is checked over this long */

/* Polls *v until it reaches target; 1 if it did within ms. */
static int wait_count(_Atomic unsigned *v, unsigned target, long ms)
{
	uint64_t end = tap_now_ms() + (uint64_t)ms;
	while (atomic_load(v) < target) {
		if (tap_now_ms() > end)
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

/* ---- the threads of one case ----
 * A case whose threads do not finish is reported and its shared state and
 * primitive are leaked on purpose: the stuck threads still point at them. */

struct team {
	pthread_t th[MAXT];
	unsigned n;
};

static void team_spawn(struct team *tm, void *(*fn)(void *), void *arg)
{
	tap_spawn(&tm->th[tm->n], fn, arg);
	tm->n++;
}

/* Joins every thread within ms; returns how many did not finish (those are
 * detached and leaked). */
static unsigned team_join(struct team *tm, long ms)
{
	struct timespec dl;
	unsigned stuck = 0;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	for (unsigned i = 0; i < tm->n; i++) {
		if (pthread_timedjoin_np(tm->th[i], NULL, &dl) != 0) {
			pthread_detach(tm->th[i]);
			stuck++;
		}
	}
	return stuck;
}

/* The start gate: every worker attaches, then waits for go, so that the
 * timed window only opens once all of them run. */
struct gate {
	_Atomic unsigned ready;
	_Atomic unsigned ran;   /* workers that completed their first op */
	_Atomic int go, stop;
	_Atomic int abandon; /* the case hung: polling workers give up */
	_Atomic int attach_err;
};

static void gate_pass(struct gate *g)
{
	atomic_fetch_add(&g->ready, 1);
	while (!atomic_load(&g->go))
		sched_yield();
}

/* A worker's op is done; the first one counts it as having run. */
static void gate_ran(struct gate *g, int *mine)
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
static void gate_run(struct gate *g, unsigned want)
{
	tap_sleep_ms(RUN_MS);
	wait_count(&g->ran, want, GUARD_MS);
}

static int stopping(struct gate *g)
{
	return atomic_load_explicit(&g->stop, memory_order_relaxed);
}

/* Opens the gate once all n have attached; 0 if they did not in time. */
static int gate_open(struct gate *g, unsigned n)
{
	int ok = wait_count(&g->ready, n, GUARD_MS);
	atomic_store(&g->go, 1);
	return ok;
}

/* Attaches the calling worker as tid; on failure records the error for
 * the case (every worker then gives up at the gate). */
static int attach(const struct lb_impl *im, void *obj, unsigned tid, struct gate *g, void **tctx)
{
	struct lb_thread_info ti = { .tid = tid, .cpu = -1, .cluster = 0 };
	int ret = lb_prim_thread_attach(im, obj, &ti, tctx);
	if (ret)
		atomic_store(&g->attach_err, ret);
	return ret;
}

/* After the gate: 1 if some worker failed to attach (this one detaches, if
 * it did attach, and must return). */
static int gate_failed(struct gate *g, const struct lb_impl *im, void *obj, int aerr, void *t)
{
	if (!atomic_load(&g->attach_err))
		return 0;
	if (!aerr)
		lb_prim_thread_detach(im, obj, t);
	return 1;
}

/* ---- one helper thread doing one operation ---- */

enum { H_HUNG = -100, H_ERR = -101, H_UNLOCK = -102 };

struct helper {
	const struct lb_impl *im;
	void *obj;
	void *arg;
	unsigned tid;
	int (*fn)(struct helper *h, void *tctx);
	pthread_t th;
	_Atomic pid_t ktid;
	int result;
	_Atomic int started, done;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct lb_thread_info ti = { .tid = h->tid, .cpu = -1, .cluster = 0 };
	void *tctx;
	atomic_store(&h->ktid, (pid_t)syscall(SYS_gettid));
	if (lb_prim_thread_attach(h->im, h->obj, &ti, &tctx) != 0) {
		h->result = H_ERR;
	} else {
		atomic_store(&h->started, 1);
		h->result = h->fn(h, tctx);
		lb_prim_thread_detach(h->im, h->obj, tctx);
	}
	atomic_store(&h->started, 1);
	atomic_store(&h->done, 1);
	return NULL;
}

static struct helper *helper_spawn(const struct lb_impl *im, void *obj, unsigned tid,
				   int (*fn)(struct helper *, void *), void *arg)
{
	struct helper *h = tap_xcalloc(sizeof(*h));
	*h = (struct helper){ .im = im, .obj = obj, .tid = tid, .fn = fn, .arg = arg };
	tap_spawn(&h->th, helper_main, h);
	return h;
}

static int helper_done_within(struct helper *h, long ms)
{
	uint64_t end = tap_now_ms() + (uint64_t)ms;
	while (!atomic_load(&h->done)) {
		if (tap_now_ms() > end)
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

/* Waits up to ms; returns the helper's result, or H_HUNG (the helper is
 * then leaked).  Frees a finished helper. */
static int helper_reap(struct helper *h, long ms)
{
	if (!helper_done_within(h, ms)) {
		pthread_detach(h->th);
		return H_HUNG;
	}
	pthread_join(h->th, NULL);
	int r = h->result;
	free(h);
	return r;
}

static int run_helper(const struct lb_impl *im, void *obj, unsigned tid,
		      int (*fn)(struct helper *, void *), void *arg)
{
	return helper_reap(helper_spawn(im, obj, tid, fn, arg), GUARD_MS);
}

static const char *bool_str(int r)
{
	return r == H_HUNG ? "hung" : r == H_ERR ? "attach failed"
		: r == H_UNLOCK ? "true, but its unlock failed" : r == 1 ? "true"
		: r == 0 ? "false" : "?";
}

static const char *err_str(int r)
{
	static char buf[64];
	if (r == H_HUNG)
		return "hung";
	if (r == H_ERR)
		return "attach failed";
	if (r == 0)
		return "0";
	snprintf(buf, sizeof(buf), "%s", strerror(r));
	return buf;
}

/* 1 once every helper has been asleep in the kernel at two samples 10 ms
 * apart (so none is merely about to call wait()); 0 if not within ms. */
static int helpers_parked(struct helper **h, unsigned n, long ms)
{
	uint64_t end = tap_now_ms() + (uint64_t)ms;
	int streak = 0;
	while (tap_now_ms() < end) {
		int all = 1;
		for (unsigned i = 0; i < n; i++)
			all &= atomic_load(&h[i]->started) && !atomic_load(&h[i]->done) &&
			       tap_task_state(atomic_load(&h[i]->ktid)) == 'S';
		streak = all ? streak + 1 : 0;
		if (streak >= 2)
			return 1;
		tap_sleep_ms(10);
	}
	return 0;
}

static void max_update(_Atomic unsigned *peak, unsigned v)
{
	unsigned p = atomic_load_explicit(peak, memory_order_relaxed);
	while (v > p && !atomic_compare_exchange_weak_explicit(peak, &p, v, memory_order_relaxed,
							       memory_order_relaxed))
		;
}

static const unsigned counts[] = { 2, 4, 8 };
#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))

/* ==== recursive ==== */

static int rec_try(struct helper *h, void *t)
{
	const struct lb_recursive_ops *ops = lb_ops_recursive(h->im);
	int r = ops->trylock(h->obj, t);
	if (r && ops->unlock(h->obj, t) != 0)
		return H_UNLOCK;
	return r;
}

static int rec_unlock(struct helper *h, void *t)
{
	return lb_ops_recursive(h->im)->unlock(h->obj, t);
}

static void recursive_depth(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_recursive_ops *ops = lb_ops_recursive(im);
	struct lb_prim_cfg cfg = { .nthreads = 5, .nclusters = 1 }; /* main + 4 helpers */
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;
	int r, u;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: depth: setup", im->id);
		return;
	}
	ops->lock(o, t);
	ops->lock(o, t);
	r = ops->trylock(o, t);
	tap(r, "%s: the owner re-enters with lock, lock, trylock (trylock %s)", im->id,
	    bool_str(r));
	if (!r)
		ops->lock(o, t);
	r = run_helper(im, o, 1, rec_try, NULL);
	tap(r == 0, "%s: depth 3: another thread's trylock fails without blocking (got %s)",
	    im->id, bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	for (unsigned d = 2; d >= 1; d--) {
		u = ops->unlock(o, t);
		r = run_helper(im, o, 4 - d, rec_try, NULL); /* tids 2, 3 */
		tap(u == 0 && r == 0, "%s: after %u of 3 unlocks (unlock returned %s) another "
		    "thread's trylock still fails (got %s)", im->id, 3 - d, err_str(u), bool_str(r));
		if (r == H_HUNG)
			tap_abandon();
	}
	u = ops->unlock(o, t);
	r = run_helper(im, o, 4, rec_try, NULL);
	tap(u == 0 && r == 1, "%s: after the 3rd unlock (returned %s) another thread's trylock "
	    "succeeds (got %s)", im->id, err_str(u), bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

static void recursive_owner(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_recursive_ops *ops = lb_ops_recursive(im);
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1 }; /* main + 3 helpers */
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;
	int r, u1, u2;

	(void)n, (void)x;
	if (!(im->caps & LB_CAP_OWNER)) {
		tap(1, "%s: unlock by a non-owner # SKIP no LB_CAP_OWNER", im->id);
		return;
	}
#ifdef __SANITIZE_THREAD__
	/* glibc returns EPERM, but ThreadSanitizer reports unlocking a pthread
	 * mutex from another thread as misuse and fails the run. */
	if (strcmp(im->backend, "pthread") == 0) {
		tap(1, "%s: unlock by a non-owner # SKIP under ThreadSanitizer", im->id);
		return;
	}
#endif
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: owner: setup", im->id);
		return;
	}
	ops->lock(o, t);
	r = run_helper(im, o, 1, rec_unlock, NULL);
	tap(r == EPERM, "%s: unlock by a non-owner returns EPERM (got %s)", im->id, err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	r = run_helper(im, o, 2, rec_try, NULL);
	tap(r == 0, "%s: after the non-owner's unlock the owner still holds it (another "
	    "thread's trylock got %s)", im->id, bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	u1 = ops->unlock(o, t);
	u2 = ops->unlock(o, t);
	tap(u1 == 0 && u2 == EPERM, "%s: the owner's unlock returns 0 (got %s), a second one, "
	    "on the free lock, EPERM (got %s)", im->id, err_str(u1), err_str(u2));
	r = run_helper(im, o, 3, rec_try, NULL);
	tap(r == 1, "%s: free after the owner's unlock (another thread's trylock got %s)",
	    im->id, bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

struct rx_shared;
struct rx_thread {
	struct rx_shared *sh;
	unsigned tid;
	uint64_t ops;
};

struct rx_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	_Atomic uint64_t in_section;
	_Atomic uint64_t violations, bad_unlock, bad_trylock;
	int plain;       /* whether the plain shadow is kept (see tap_shadow_ok) */
	uint64_t shadow; /* +1 at depth 2 and at depth 1: plain, for TSan */
	struct rx_thread t[MAXT];
};

static void *rx_worker(void *arg)
{
	struct rx_thread *a = arg;
	struct rx_shared *sh = a->sh;
	const struct lb_recursive_ops *ops = lb_ops_recursive(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!stopping(&sh->g)) {
		ops->lock(sh->obj, t);
		/* Nested acquire: alternately lock and trylock (the owner's
		 * trylock must succeed). */
		if (a->ops & 1) {
			if (!ops->trylock(sh->obj, t)) {
				atomic_fetch_add(&sh->bad_trylock, 1);
				ops->lock(sh->obj, t);
			}
		} else {
			ops->lock(sh->obj, t);
		}
		if (!tap_in_section_ok(&sh->in_section))
			atomic_fetch_add(&sh->violations, 1);
		if (sh->plain)
			sh->shadow++;
		if (ops->unlock(sh->obj, t) != 0)
			atomic_fetch_add(&sh->bad_unlock, 1);
		/* Depth 1: still held. */
		if (!tap_in_section_ok(&sh->in_section))
			atomic_fetch_add(&sh->violations, 1);
		if (sh->plain)
			sh->shadow++;
		if (ops->unlock(sh->obj, t) != 0)
			atomic_fetch_add(&sh->bad_unlock, 1);
		a->ops++;
		gate_ran(&sh->g, &ran);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void recursive_exclusion(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct rx_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };

	(void)x;
	sh->im = im;
	sh->plain = tap_shadow_ok(im);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct rx_thread){ .sh = sh, .tid = i };
		team_spawn(&tm, rx_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	gate_run(&sh->g, n);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u threads: nested locking hung (%u threads stuck after %d s)", im->id,
		    n, stuck, GUARD_MS / 1000);
		return;
	}
	uint64_t ops = 0;
	for (unsigned i = 0; i < n; i++)
		ops += sh->t[i].ops;
	int err = atomic_load(&sh->g.attach_err);
	uint64_t v = atomic_load(&sh->violations), bu = atomic_load(&sh->bad_unlock),
		 bt = atomic_load(&sh->bad_trylock), shadow = sh->plain ? sh->shadow : 2 * ops;
	tap(!err && ops > 0 && v == 0 && bu == 0 && bt == 0 && shadow == 2 * ops,
	    "%s: %u threads: nested (depth 2) mutual exclusion over %llu ops (%llu violations, "
	    "%llu failed unlocks, %llu failed owner trylocks, plain shadow %llu of %llu%s%s)",
	    im->id, n, (unsigned long long)ops, (unsigned long long)v, (unsigned long long)bu,
	    (unsigned long long)bt, (unsigned long long)shadow, (unsigned long long)(2 * ops),
	    err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

/* ==== semaphore ==== */

#define SEM_PERMITS 2

struct sem_shared;
struct sem_thread {
	struct sem_shared *sh;
	unsigned tid;
};

struct sem_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned n, permits;
	_Atomic unsigned in, peak;
	_Atomic uint64_t over, acquisitions;
	struct sem_thread t[MAXT];
};

static void *sem_worker(void *arg)
{
	struct sem_thread *a = arg;
	struct sem_shared *sh = a->sh;
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!stopping(&sh->g)) {
		ops->acquire(sh->obj, t);
		unsigned h = atomic_fetch_add_explicit(&sh->in, 1, memory_order_relaxed) + 1;
		max_update(&sh->peak, h);
		if (h > sh->permits)
			atomic_fetch_add(&sh->over, 1);
		/* Linger up to 1 ms for the others to fill every permit, so that
		 * reaching the limit does not depend on luck. */
		if (sh->n >= sh->permits) {
			uint64_t t0 = lb_now_ns();
			while (atomic_load_explicit(&sh->in, memory_order_relaxed) < sh->permits &&
			       lb_now_ns() - t0 < 1000000)
				sched_yield();
		}
		atomic_fetch_sub_explicit(&sh->in, 1, memory_order_relaxed);
		ops->release(sh->obj, t);
		atomic_fetch_add_explicit(&sh->acquisitions, 1, memory_order_relaxed);
		gate_ran(&sh->g, &ran);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void semaphore_holders(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct sem_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1, .permits = SEM_PERMITS };
	struct team tm = { .n = 0 };

	(void)x;
	sh->im = im;
	sh->n = n;
	sh->permits = SEM_PERMITS;
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct sem_thread){ .sh = sh, .tid = i };
		team_spawn(&tm, sem_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	gate_run(&sh->g, n);
	wait_count(&sh->peak, SEM_PERMITS, GUARD_MS);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u threads: acquire/release hung (%u threads stuck after %d s)", im->id,
		    n, stuck, GUARD_MS / 1000);
		return;
	}
	int err = atomic_load(&sh->g.attach_err);
	unsigned peak = atomic_load(&sh->peak);
	uint64_t over = atomic_load(&sh->over), acq = atomic_load(&sh->acquisitions);
	tap(!err && acq > 0 && over == 0 && peak == SEM_PERMITS,
	    "%s: %u threads, %u permits: never more holders than permits, and all used (peak "
	    "%u holders, %llu over the limit, %llu acquisitions%s%s)", im->id, n, SEM_PERMITS,
	    peak, (unsigned long long)over, (unsigned long long)acq, err ? ", attach: " : "",
	    err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

/* One permit: the semaphore as a mutex, checked like one (in-section check
 * and plain shadow), which the two-permit case above cannot do. */
struct sx_shared;
struct sx_thread {
	struct sx_shared *sh;
	unsigned tid;
	uint64_t ops;
};

struct sx_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	_Atomic uint64_t in_section, violations;
	int plain;
	uint64_t shadow; /* +1 per acquisition, under the permit: plain, for TSan */
	struct sx_thread t[MAXT];
};

static void *sx_worker(void *arg)
{
	struct sx_thread *a = arg;
	struct sx_shared *sh = a->sh;
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!stopping(&sh->g)) {
		ops->acquire(sh->obj, t);
		if (!tap_in_section_ok(&sh->in_section))
			atomic_fetch_add(&sh->violations, 1);
		if (sh->plain)
			sh->shadow++;
		ops->release(sh->obj, t);
		a->ops++;
		gate_ran(&sh->g, &ran);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void semaphore_exclusion(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct sx_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1, .permits = 1 };
	struct team tm = { .n = 0 };

	(void)x;
	sh->im = im;
	sh->plain = tap_shadow_ok(im);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads, 1 permit: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct sx_thread){ .sh = sh, .tid = i };
		team_spawn(&tm, sx_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	gate_run(&sh->g, n);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u threads, 1 permit: acquire/release hung (%u threads stuck after "
		    "%d s)", im->id, n, stuck, GUARD_MS / 1000);
		return;
	}
	uint64_t ops = 0;
	for (unsigned i = 0; i < n; i++)
		ops += sh->t[i].ops;
	int err = atomic_load(&sh->g.attach_err);
	uint64_t v = atomic_load(&sh->violations), shadow = sh->plain ? sh->shadow : ops;
	tap(!err && ops > 0 && v == 0 && shadow == ops, "%s: %u threads, 1 permit: mutual "
	    "exclusion over %llu acquisitions (%llu in-section violations, plain shadow "
	    "%llu%s%s)", im->id, n, (unsigned long long)ops, (unsigned long long)v,
	    (unsigned long long)shadow, err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

static int sem_try(struct helper *h, void *t)
{
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(h->im);
	int r = ops->try_acquire(h->obj, t);
	if (r)
		ops->release(h->obj, t);
	return r;
}

static int sem_acquire_release(struct helper *h, void *t)
{
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(h->im);
	ops->acquire(h->obj, t);
	ops->release(h->obj, t);
	return 0;
}

static void semaphore_try(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(im);
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1, .permits = SEM_PERMITS };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;
	int r;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: try_acquire: setup", im->id);
		return;
	}
	int got = 0;
	for (int i = 0; i < SEM_PERMITS; i++)
		got += ops->try_acquire(o, t);
	int extra = ops->try_acquire(o, t);
	tap(got == SEM_PERMITS && !extra, "%s: try_acquire takes the %d permits (took %d), "
	    "then fails (got %s)", im->id, SEM_PERMITS, got, bool_str(extra));
	for (int i = 0; i < got + extra; i++)
		ops->release(o, t);

	for (int i = 0; i < SEM_PERMITS; i++)
		ops->acquire(o, t);
	r = run_helper(im, o, 1, sem_try, NULL);
	tap(r == 0, "%s: with every permit held, another thread's try_acquire returns false "
	    "without blocking (got %s)", im->id, bool_str(r));
	if (r == H_HUNG)
		tap_abandon();

	struct helper *h = helper_spawn(im, o, 2, sem_acquire_release, NULL);
	helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!early, "%s: with every permit held, acquire waits (returned within %d ms: %s)",
	    im->id, QUIET_MS, early ? "yes" : "no");
	ops->release(o, t);
	r = helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: a release lets the waiting acquire in (%s)", im->id,
	    r == 0 ? "it returned" : err_str(r));
	if (r == H_HUNG)
		tap_abandon();

	r = run_helper(im, o, 3, sem_try, NULL);
	tap(r == 1, "%s: try_acquire after a release succeeds (got %s)", im->id, bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	for (int i = 1; i < SEM_PERMITS; i++)
		ops->release(o, t);
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

static int sem_acquire(struct helper *h, void *t)
{
	lb_ops_semaphore(h->im)->acquire(h->obj, t);
	return 0;
}

/* Created with no permits (what handoff's semaphores and prodcons' "full"
 * semaphore start from): try_acquire fails at once, acquire waits, and one
 * release lets exactly one acquisition through. */
static void semaphore_zero(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_semaphore_ops *ops = lb_ops_semaphore(im);
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1, .permits = 0 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: permits = 0: setup", im->id);
		return;
	}
	int got = ops->try_acquire(o, t);
	tap(!got, "%s: permits = 0: try_acquire fails (got %s)", im->id, bool_str(got));
	if (got)
		ops->release(o, t);

	struct helper *h = helper_spawn(im, o, 1, sem_acquire, NULL);
	helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!early, "%s: permits = 0: acquire waits (returned within %d ms: %s)", im->id,
	    QUIET_MS, early ? "yes" : "no");
	ops->release(o, t);
	int r = helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: permits = 0: a release lets the waiting acquire in (%s)", im->id,
	    r == 0 ? "it returned" : err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	got = ops->try_acquire(o, t);
	tap(!got, "%s: permits = 0: that release was one permit, now taken (try_acquire "
	    "got %s)", im->id, bool_str(got));
	if (got)
		ops->release(o, t);
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* ==== event ==== */

static int ev_wait(struct helper *h, void *t)
{
	lb_ops_event(h->im)->wait(h->obj, t);
	return 0;
}

static unsigned count_done(struct helper **h, unsigned n)
{
	unsigned d = 0;
	for (unsigned i = 0; i < n; i++)
		d += atomic_load(&h[i]->done) != 0;
	return d;
}

/* Waits up to ms for every helper; 1 if all are done. */
static int all_done_within(struct helper **h, unsigned n, long ms)
{
	uint64_t end = tap_now_ms() + (uint64_t)ms;
	while (count_done(h, n) < n) {
		if (tap_now_ms() > end)
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

/* Joins the finished helpers; leaks the rest.  Returns how many leaked. */
static unsigned reap_all(struct helper **h, unsigned n)
{
	unsigned stuck = 0;
	for (unsigned i = 0; i < n; i++)
		stuck += helper_reap(h[i], 0) == H_HUNG;
	return stuck;
}

/* n-1 waiters, the main thread sets.  clear_at_once: set() then clear()
 * immediately, once every waiter is parked. */
static void event_wake_all(const struct lb_impl *im, unsigned n, unsigned clear_at_once)
{
	const struct lb_event_ops *ops = lb_ops_event(im);
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct helper *h[MAXT];
	unsigned nw = n - 1;
	void *o, *t;

	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		return;
	}
	for (unsigned i = 0; i < nw; i++)
		h[i] = helper_spawn(im, o, i + 1, ev_wait, NULL);
	if (!clear_at_once) {
		int is0 = ops->is_set(o);
		tap_sleep_ms(QUIET_MS);
		unsigned early = count_done(h, nw);
		tap(early == 0 && !is0, "%s: %u threads: no waiter returns while the event is "
		    "clear (%u of %u returned, is_set %s)", im->id, n, early, nw, bool_str(is0));
		ops->set(o);
		int all = all_done_within(h, nw, GUARD_MS);
		int is1 = ops->is_set(o);
		tap(all && is1, "%s: %u threads: one set() releases all %u waiters (%u returned, "
		    "is_set %s)", im->id, n, nw, count_done(h, nw), bool_str(is1));
	} else {
		if (!helpers_parked(h, nw, 2000)) {
			ops->set(o);
			tap(1, "%s: %u threads: set() then clear() at once releases the waiters "
			    "# SKIP the waiters did not sleep in the kernel within 2 s", im->id, n);
		} else {
			ops->set(o);
			ops->clear(o);
			int all = all_done_within(h, nw, GUARD_MS);
			int is = ops->is_set(o);
			tap(all && !is, "%s: %u threads: set() then clear() at once releases all "
			    "%u parked waiters (%u returned, is_set after clear %s)", im->id, n, nw,
			    count_done(h, nw), bool_str(is));
			ops->set(o); /* release the stragglers, if any */
		}
	}
	all_done_within(h, nw, GUARD_MS);
	if (reap_all(h, nw)) {
		tap(0, "%s: %u threads: waiters still stuck %d s after set()", im->id, n,
		    GUARD_MS / 1000);
		tap_abandon();
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

static void event_flag(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_event_ops *ops = lb_ops_event(im);
	struct lb_prim_cfg cfg = { .nthreads = 3, .nclusters = 1 }; /* main + 2 helpers */
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: flag: setup", im->id);
		return;
	}
	ops->set(o);
	ops->set(o); /* setting twice is harmless */
	int is = ops->is_set(o);
	int r = run_helper(im, o, 1, ev_wait, NULL);
	tap(is && r == 0, "%s: while set, is_set() is true (%s) and wait() returns at once (%s)",
	    im->id, bool_str(is), r == 0 ? "returned" : err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	ops->clear(o);
	is = ops->is_set(o);
	struct helper *h = helper_spawn(im, o, 2, ev_wait, NULL);
	helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!is && !early, "%s: after clear(), is_set() is false (%s) and a new waiter waits "
	    "(returned within %d ms: %s)", im->id, bool_str(is), QUIET_MS, early ? "yes" : "no");
	ops->set(o);
	r = helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: set() after clear() releases the new waiter (%s)", im->id,
	    r == 0 ? "it returned" : err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* ==== condition ==== */

/* Hand-off: producers put item ids into a one-slot buffer, consumers take
 * them.  Only consumers ever wait on the condition (a producer that finds
 * the slot full unlocks, yields and retries), so every waiter waits for the
 * same predicate and notify() -- one waiter -- is the right call: with
 * producers waiting too, a correct notify() could wake the wrong side and
 * deadlock.  Producers notify alternately inside and outside the lock. */
#define CV_CAP 1
#define CV_MAX_ITEMS 200000
#define CV_PILL UINT64_MAX

struct cv_shared;
struct cv_thread {
	struct cv_shared *sh;
	unsigned tid;
	int producer;
	uint64_t consumed, sum;
};

struct cv_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned nconsumers;
	_Atomic unsigned producers_left;
	/* Protected by the condition's lock: plain, so that ThreadSanitizer
	 * checks the lock's ordering. */
	uint64_t slot[CV_CAP];
	unsigned head, count;
	uint64_t next_id;
	_Atomic uint64_t dups, out_of_range;
	_Atomic unsigned char seen[CV_MAX_ITEMS];
	struct cv_thread t[MAXT];
};

/* Puts a new item (or a pill); 0 when the ids are used up. */
static int cv_put(struct cv_shared *sh, void *t, int pill)
{
	const struct lb_condition_ops *ops = lb_ops_condition(sh->im);
	for (;;) {
		ops->lock(sh->obj, t);
		if (sh->count < CV_CAP)
			break;
		ops->unlock(sh->obj, t);
		if (atomic_load_explicit(&sh->g.abandon, memory_order_relaxed))
			return 0; /* the case hung: do not spin forever */
		sched_yield();
	}
	uint64_t id;
	if (pill) {
		id = CV_PILL;
	} else if (sh->next_id >= CV_MAX_ITEMS) {
		ops->unlock(sh->obj, t);
		return 0;
	} else {
		id = sh->next_id++;
	}
	sh->slot[(sh->head + sh->count) % CV_CAP] = id;
	sh->count++;
	if (id & 1) {
		ops->notify(sh->obj);
		ops->unlock(sh->obj, t);
	} else {
		ops->unlock(sh->obj, t);
		ops->notify(sh->obj);
	}
	return 1;
}

static void *cv_worker(void *arg)
{
	struct cv_thread *a = arg;
	struct cv_shared *sh = a->sh;
	const struct lb_condition_ops *ops = lb_ops_condition(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	if (a->producer) {
		int ran = 0;
		while (!stopping(&sh->g) && cv_put(sh, t, 0))
			gate_ran(&sh->g, &ran);
		if (atomic_fetch_sub(&sh->producers_left, 1) == 1)
			for (unsigned i = 0; i < sh->nconsumers; i++)
				cv_put(sh, t, 1);
	} else {
		for (;;) {
			ops->lock(sh->obj, t);
			while (sh->count == 0)
				ops->wait(sh->obj, t);
			uint64_t id = sh->slot[sh->head];
			sh->head = (sh->head + 1) % CV_CAP;
			sh->count--;
			ops->unlock(sh->obj, t);
			if (id == CV_PILL)
				break;
			if (id >= CV_MAX_ITEMS)
				atomic_fetch_add(&sh->out_of_range, 1);
			else if (atomic_exchange_explicit(&sh->seen[id], 1, memory_order_relaxed))
				atomic_fetch_add(&sh->dups, 1);
			a->consumed++;
			a->sum += id;
		}
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void condition_handoff(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct cv_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };
	unsigned np = n / 2;

	(void)x;
	sh->im = im;
	sh->nconsumers = n - np;
	atomic_store(&sh->producers_left, np);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct cv_thread){ .sh = sh, .tid = i, .producer = i < np };
		team_spawn(&tm, cv_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	gate_run(&sh->g, 1);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	if (stuck) {
		atomic_store(&sh->g.abandon, 1);
		tap(0, "%s: %u threads: hand-off hung (%u threads stuck after %d s)", im->id, n,
		    stuck, GUARD_MS / 1000);
		return;
	}
	uint64_t consumed = 0, sum = 0, produced = sh->next_id;
	for (unsigned i = 0; i < n; i++) {
		consumed += sh->t[i].consumed;
		sum += sh->t[i].sum;
	}
	uint64_t want = produced * (produced - 1) / 2;
	uint64_t dups = atomic_load(&sh->dups), oor = atomic_load(&sh->out_of_range);
	int err = atomic_load(&sh->g.attach_err);
	tap(!err && produced > 0 && consumed == produced && sum == want && dups == 0 && oor == 0 &&
	    sh->count == 0,
	    "%s: %u threads (%u producers): every item handed over exactly once (%llu produced, "
	    "%llu consumed, checksum %s, %llu duplicates, %llu bad ids%s%s)", im->id, n, np,
	    (unsigned long long)produced, (unsigned long long)consumed,
	    sum == want ? "ok" : "wrong", (unsigned long long)dups, (unsigned long long)oor,
	    err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

/* Waiters for notify()/notify_all(): the predicate lives under the
 * condition's lock. */
struct nf_shared {
	int flag;
	unsigned tokens, waiting;
	_Atomic unsigned returned;
};

static int nf_wait_flag(struct helper *h, void *t)
{
	const struct lb_condition_ops *ops = lb_ops_condition(h->im);
	struct nf_shared *s = h->arg;
	ops->lock(h->obj, t);
	s->waiting++;
	while (!s->flag)
		ops->wait(h->obj, t);
	ops->unlock(h->obj, t);
	atomic_fetch_add(&s->returned, 1);
	return 0;
}

static int nf_wait_token(struct helper *h, void *t)
{
	const struct lb_condition_ops *ops = lb_ops_condition(h->im);
	struct nf_shared *s = h->arg;
	ops->lock(h->obj, t);
	s->waiting++;
	while (s->tokens == 0)
		ops->wait(h->obj, t);
	s->tokens--;
	ops->unlock(h->obj, t);
	atomic_fetch_add(&s->returned, 1);
	return 0;
}

/* 1 once all nw helpers are inside wait(): they count themselves under the
 * lock and wait() releases it in the same section, so once the main thread
 * reads nw under the lock, every one of them is waiting. */
static int nf_all_waiting(const struct lb_impl *im, void *o, void *t, struct nf_shared *s,
			  unsigned nw)
{
	const struct lb_condition_ops *ops = lb_ops_condition(im);
	uint64_t end = tap_now_ms() + GUARD_MS;
	for (;;) {
		ops->lock(o, t);
		unsigned w = s->waiting;
		ops->unlock(o, t);
		if (w >= nw)
			return 1;
		if (tap_now_ms() > end)
			return 0;
		tap_sleep_ms(1);
	}
}

static void condition_notify(const struct lb_impl *im, unsigned n, unsigned all)
{
	const struct lb_condition_ops *ops = lb_ops_condition(im);
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct nf_shared *s = tap_xcalloc(sizeof(*s));
	struct helper *h[MAXT];
	unsigned nw = n - 1;
	void *o, *t;

	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		return;
	}
	for (unsigned i = 0; i < nw; i++)
		h[i] = helper_spawn(im, o, i + 1, all ? nf_wait_flag : nf_wait_token, s);
	if (!nf_all_waiting(im, o, t, s, nw)) {
		tap(0, "%s: %u threads: waiters did not get the lock within %d s", im->id, n,
		    GUARD_MS / 1000);
		return;
	}
	if (all) {
		ops->lock(o, t);
		s->flag = 1;
		ops->notify_all(o);
		ops->unlock(o, t);
		int ok = wait_count(&s->returned, nw, GUARD_MS);
		tap(ok, "%s: %u threads: one notify_all() wakes all %u waiters (%u returned)",
		    im->id, n, nw, atomic_load(&s->returned));
	} else {
		ops->lock(o, t);
		s->tokens = 1;
		ops->unlock(o, t);
		ops->notify(o); /* outside the lock: allowed */
		int ok = wait_count(&s->returned, 1, GUARD_MS);
		tap(ok, "%s: %u threads: one notify() wakes a waiter (%u of %u returned)", im->id,
		    n, atomic_load(&s->returned), nw);
		/* Let the others go. */
		ops->lock(o, t);
		s->tokens += nw - 1;
		ops->notify_all(o);
		ops->unlock(o, t);
	}
	all_done_within(h, nw, GUARD_MS);
	unsigned stuck = reap_all(h, nw);
	if (stuck) {
		tap(0, "%s: %u threads: %u waiters still stuck after notify_all()", im->id, n,
		    stuck);
		tap_abandon();
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
	free(s);
}

/* ==== rwlock and RCU ==== */

#define REC_WORDS 8
#define POISON UINT64_C(0xdeadbeefdeadbeef)

struct rcu_rec {
	_Atomic uint64_t w[REC_WORDS];
};

struct rw_shared;
struct rw_thread {
	struct rw_shared *sh;
	unsigned tid;
	int writer;
};

struct rw_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	_Atomic unsigned readers_in, writers_in, peak_readers;
	_Atomic uint64_t reads, writes, excl_bad, torn, poisoned, backwards;
	/* Plain rwlock: written by writers, read by readers, under the lock;
	 * plain so that ThreadSanitizer checks the lock's ordering. */
	uint64_t rec[REC_WORDS];
	int plain;        /* whether wshadow is kept (see tap_shadow_ok) */
	uint64_t wshadow; /* +1 per write section: plain, for TSan */
	/* RCU: the current version; words are atomics since RCU readers run
	 * alongside the writers. */
	struct rcu_rec *_Atomic cur;
	struct rw_thread t[MAXT];
};

static struct rcu_rec *rcu_rec_new(uint64_t v)
{
	struct rcu_rec *r = tap_xcalloc(sizeof(*r));
	for (int i = 0; i < REC_WORDS; i++)
		atomic_store_explicit(&r->w[i], v, memory_order_relaxed);
	return r;
}

static void rw_plain_op(struct rw_shared *sh, void *t, int writer)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	if (writer) {
		ops->write_lock(sh->obj, t);
		unsigned w = atomic_fetch_add_explicit(&sh->writers_in, 1, memory_order_relaxed) + 1;
		unsigned r = atomic_load_explicit(&sh->readers_in, memory_order_relaxed);
		if (w != 1 || r != 0)
			atomic_fetch_add(&sh->excl_bad, 1);
		uint64_t v = sh->rec[0] + 1;
		for (int i = 0; i < REC_WORDS; i++) {
			sh->rec[i] = v;
			__asm__ __volatile__("" ::: "memory"); /* one word at a time */
		}
		if (sh->plain)
			sh->wshadow++;
		atomic_fetch_sub_explicit(&sh->writers_in, 1, memory_order_relaxed);
		ops->write_unlock(sh->obj, t);
		atomic_fetch_add_explicit(&sh->writes, 1, memory_order_relaxed);
	} else {
		ops->read_lock(sh->obj, t);
		unsigned r = atomic_fetch_add_explicit(&sh->readers_in, 1, memory_order_relaxed) + 1;
		max_update(&sh->peak_readers, r);
		if (atomic_load_explicit(&sh->writers_in, memory_order_relaxed) != 0)
			atomic_fetch_add(&sh->excl_bad, 1);
		uint64_t v = sh->rec[0];
		int torn = 0;
		for (int i = 1; i < REC_WORDS; i++) {
			__asm__ __volatile__("" ::: "memory");
			torn |= sh->rec[i] != v;
		}
		if (torn)
			atomic_fetch_add(&sh->torn, 1);
		atomic_fetch_sub_explicit(&sh->readers_in, 1, memory_order_relaxed);
		ops->read_unlock(sh->obj, t);
		atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
	}
}

static void rw_rcu_op(struct rw_shared *sh, void *t, int writer, uint64_t *last)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	if (writer) {
		ops->write_lock(sh->obj, t);
		unsigned w = atomic_fetch_add_explicit(&sh->writers_in, 1, memory_order_relaxed) + 1;
		if (w != 1)
			atomic_fetch_add(&sh->excl_bad, 1);
		struct rcu_rec *old = atomic_load_explicit(&sh->cur, memory_order_relaxed);
		struct rcu_rec *nw =
			rcu_rec_new(atomic_load_explicit(&old->w[0], memory_order_relaxed) + 1);
		/* Publish: pairs with the readers' acquire load. */
		atomic_store_explicit(&sh->cur, nw, memory_order_release);
		if (sh->plain)
			sh->wshadow++;
		atomic_fetch_sub_explicit(&sh->writers_in, 1, memory_order_relaxed);
		ops->write_unlock(sh->obj, t);
		ops->synchronize(sh->obj, t);
		/* No reader can still see old: poison it, so one that does shows. */
		for (int i = 0; i < REC_WORDS; i++)
			atomic_store_explicit(&old->w[i], POISON, memory_order_relaxed);
		free(old);
		atomic_fetch_add_explicit(&sh->writes, 1, memory_order_relaxed);
	} else {
		ops->read_lock(sh->obj, t);
		struct rcu_rec *p = atomic_load_explicit(&sh->cur, memory_order_acquire);
		uint64_t v = atomic_load_explicit(&p->w[0], memory_order_relaxed);
		int torn = 0;
		for (int i = 1; i < REC_WORDS; i++)
			torn |= atomic_load_explicit(&p->w[i], memory_order_relaxed) != v;
		ops->read_unlock(sh->obj, t);
		if (torn)
			atomic_fetch_add(&sh->torn, 1);
		else if (v == POISON)
			atomic_fetch_add(&sh->poisoned, 1);
		else if (v < *last) /* coherence: versions never go back for one reader */
			atomic_fetch_add(&sh->backwards, 1);
		else
			*last = v;
		atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
	}
	if (ops->quiescent)
		ops->quiescent(sh->obj, t);
}

static void *rw_worker(void *arg)
{
	struct rw_thread *a = arg;
	struct rw_shared *sh = a->sh;
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	int rcu = (sh->im->caps & LB_CAP_RCU) != 0;
	uint64_t last = 0;
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);

	/* A registered QSBR thread that waits must be offline, or it holds up
	 * every grace period.  (online() is only for an offline thread:
	 * liburcu's QSBR online() does not wake a waiting synchronize(), so
	 * calling it on an online thread can stall a grace period forever.) */
	if (!aerr && ops->offline)
		ops->offline(sh->obj, t);
	gate_pass(&sh->g);
	if (!aerr && ops->online)
		ops->online(sh->obj, t);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	while (!stopping(&sh->g)) {
		if (rcu)
			rw_rcu_op(sh, t, a->writer, &last);
		else
			rw_plain_op(sh, t, a->writer);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void rwlock_case(const struct lb_impl *im, unsigned n, unsigned nwriters)
{
	struct rw_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };
	int rcu = (im->caps & LB_CAP_RCU) != 0;

	sh->im = im;
	sh->plain = tap_shadow_ok(im);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	if (rcu)
		atomic_store(&sh->cur, rcu_rec_new(1));
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct rw_thread){ .sh = sh, .tid = i, .writer = i < nwriters };
		team_spawn(&tm, rw_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	tap_sleep_ms(RUN_MS);
	/* Both sides must have had a turn (a reader-preferring lock may make
	 * the writers wait a while). */
	uint64_t end = tap_now_ms() + GUARD_MS;
	while ((atomic_load(&sh->reads) == 0 || atomic_load(&sh->writes) == 0) &&
	       tap_now_ms() < end)
		tap_sleep_ms(1);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	uint64_t reads = atomic_load(&sh->reads), writes = atomic_load(&sh->writes);
	if (stuck) {
		tap(0, "%s: %u threads (%u writers): hung (%u threads stuck after %d s; %llu reads, "
		    "%llu writes so far)", im->id, n, nwriters, stuck, GUARD_MS / 1000,
		    (unsigned long long)reads, (unsigned long long)writes);
		return;
	}
	int err = atomic_load(&sh->g.attach_err);
	uint64_t bad = atomic_load(&sh->excl_bad), torn = atomic_load(&sh->torn),
		 poisoned = atomic_load(&sh->poisoned), back = atomic_load(&sh->backwards);
	uint64_t wshadow = sh->plain ? sh->wshadow : writes;
	int ok = !err && reads > 0 && writes > 0 && bad == 0 && torn == 0 && poisoned == 0 &&
		 back == 0 && wshadow == writes;
	if (rcu)
		tap(ok, "%s: %u threads (%u writers): readers never see a torn or reclaimed "
		    "record, writers exclude each other (%llu reads, %llu writes, plain writer "
		    "shadow %llu; %llu torn, %llu poisoned, %llu went back, %llu writer "
		    "overlaps%s%s)", im->id, n, nwriters, (unsigned long long)reads,
		    (unsigned long long)writes, (unsigned long long)wshadow,
		    (unsigned long long)torn, (unsigned long long)poisoned,
		    (unsigned long long)back, (unsigned long long)bad, err ? ", attach: " : "",
		    err ? strerror(err) : "");
	else
		tap(ok, "%s: %u threads (%u writers): writers exclusive, readers shared, no torn "
		    "record (%llu reads, %llu writes, plain writer shadow %llu, peak %u readers; "
		    "%llu exclusion violations, %llu torn%s%s)", im->id, n, nwriters,
		    (unsigned long long)reads, (unsigned long long)writes,
		    (unsigned long long)wshadow, atomic_load(&sh->peak_readers),
		    (unsigned long long)bad, (unsigned long long)torn, err ? ", attach: " : "",
		    err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(atomic_load(&sh->cur));
	free(sh);
}

/* In the parent, no threads: 1 if the RCU hooks match LB_CAP_RCU. */
static int rwlock_hooks_ok(const struct lb_impl *im)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(im);
	int rcu = (im->caps & LB_CAP_RCU) != 0;
	int hooks = (ops->synchronize != NULL) + (ops->quiescent != NULL) +
		    (ops->offline != NULL) + (ops->online != NULL);
	/* RCU needs synchronize (the others may be no-ops, hence NULL, but
	 * offline and online come as a pair); plain rwlocks have none. */
	int consistent = rcu ? ops->synchronize && !ops->offline == !ops->online : hooks == 0;
	tap(consistent, "%s: RCU hooks match LB_CAP_RCU (%s; synchronize %s, quiescent %s, "
	    "offline %s, online %s)", im->id, rcu ? "RCU" : "plain",
	    ops->synchronize ? "set" : "NULL", ops->quiescent ? "set" : "NULL",
	    ops->offline ? "set" : "NULL", ops->online ? "set" : "NULL");
	return consistent;
}

/* ---- writer preference (LB_CAP_WPREF) ----
 * Reader R1 (the main thread) holds the lock; writer W calls write_lock and
 * must wait; then a new reader R2 calls read_lock and must wait too, behind
 * W.  R1 releases: W must get the lock before R2.  The order of acquisition
 * is a counter taken inside the lock.
 *
 * "Waiting" is decided from the thread, never from elapsed time: it is
 * inside the call and either asleep in the kernel (state S at two samples
 * 10 ms apart: a parking lock) or has burned WAIT_CPU_MS of its own CPU time
 * since entering the call (a spinning lock: no uncontended acquire takes
 * that much CPU).  A thread that is merely not scheduled passes neither
 * test, so it is never mistaken for a blocked one.  Only a lock that has
 * announced W by the time W blocks is writer-preferring, and every
 * LB_CAP_WPREF lock announces before it parks or spins. */

#define WAIT_CPU_MS 20

struct wp_side {
	const char *name;
	int write;
	_Atomic unsigned *seq;   /* acquisition order, shared */
	_Atomic int in_call;     /* set just before the acquiring call */
	_Atomic int64_t cpu0_ns; /* its own CPU time then */
	_Atomic int order;       /* its place in the acquisition order; -1 before */
};

static int64_t cpu_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int wp_acquire(struct helper *h, void *t)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(h->im);
	struct wp_side *s = h->arg;
	atomic_store(&s->cpu0_ns, cpu_ns(CLOCK_THREAD_CPUTIME_ID));
	atomic_store(&s->in_call, 1);
	if (s->write)
		ops->write_lock(h->obj, t);
	else
		ops->read_lock(h->obj, t);
	atomic_store(&s->order, (int)atomic_fetch_add(s->seq, 1));
	if (s->write)
		ops->write_unlock(h->obj, t);
	else
		ops->read_unlock(h->obj, t);
	return 0;
}

/* Polls until the side is provably waiting (1) or has got the lock (0);
 * -1 if neither within ms of entering the call (a hang guard), or if its
 * thread has not reached the call within 2 ms: on a loaded machine a new
 * thread once took over 10 s to run at all, which says nothing about the
 * lock (the process's own guard still bounds the case). */
static int wp_wait_blocked(struct helper *h, struct wp_side *s, long ms)
{
	uint64_t end = tap_now_ms() + 2 * (uint64_t)ms;
	int asleep = 0, entered = 0;
	clockid_t cid;
	int have_cid = 0;
	while (tap_now_ms() < end) {
		if (atomic_load(&s->order) >= 0 || atomic_load(&h->done))
			return 0;
		if (atomic_load(&s->in_call)) {
			if (!entered) {
				entered = 1;
				end = tap_now_ms() + (uint64_t)ms;
			}
			if (!have_cid)
				have_cid = pthread_getcpuclockid(h->th, &cid) == 0;
			int64_t used = have_cid ? cpu_ns(cid) - atomic_load(&s->cpu0_ns) : 0;
			asleep = tap_task_state(atomic_load(&h->ktid)) == 'S' ? asleep + 1 : 0;
			if (atomic_load(&s->order) < 0 &&
			    (asleep >= 2 || used >= (int64_t)WAIT_CPU_MS * 1000000))
				return 1;
		}
		tap_sleep_ms(asleep ? 10 : 1);
	}
	return -1;
}

static const char *wp_lost(struct wp_side *s)
{
	return atomic_load(&s->in_call) ? "in the call, neither got in nor provably waited "
	       "within 30 s" : "never reached the call within 60 s: its thread attach waits, "
	       "or it never got a CPU";
}

static void rwlock_writer_pref(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(im);
	struct lb_prim_cfg cfg = { .nthreads = 3, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	_Atomic unsigned seq = 0;
	struct wp_side w = { .name = "writer", .write = 1, .seq = &seq },
		       r2 = { .name = "reader R2", .write = 0, .seq = &seq };
	void *o, *t;

	(void)n, (void)x;
	atomic_init(&w.order, -1);
	atomic_init(&r2.order, -1);
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: writer preference: setup", im->id);
		return;
	}
	ops->read_lock(o, t); /* R1 */
	struct helper *hw = helper_spawn(im, o, 1, wp_acquire, &w);
	int wb = wp_wait_blocked(hw, &w, GUARD_MS);
	tap(wb == 1, "%s: while reader R1 holds the lock, a writer's write_lock waits (%s)",
	    im->id, wb == 1 ? "it waits" : wb == 0 ? "it got in" : wp_lost(&w));
	struct helper *hr = NULL;
	int rb = -2;
	if (wb == 1) {
		hr = helper_spawn(im, o, 2, wp_acquire, &r2);
		rb = wp_wait_blocked(hr, &r2, GUARD_MS);
		tap(rb == 1, "%s: while R1 holds it and a writer waits, a new reader R2's "
		    "read_lock waits (%s)", im->id, rb == 1 ? "it waits" : rb == 0 ?
		    "it got in ahead of the writer" : wp_lost(&r2));
	}
	ops->read_unlock(o, t);
	int rw = helper_reap(hw, GUARD_MS), rr = hr ? helper_reap(hr, GUARD_MS) : 0;
	if (rw == H_HUNG || rr == H_HUNG) {
		tap(0, "%s: after R1's release: %s still stuck %d s later", im->id,
		    rw == H_HUNG ? "the writer" : "R2", GUARD_MS / 1000);
		tap_abandon(); /* w, r2 and seq live in this frame */
	}
	if (hr) {
		int ow = atomic_load(&w.order), orr = atomic_load(&r2.order);
		tap(ow >= 0 && orr >= 0 && ow < orr, "%s: after R1's release the waiting writer "
		    "gets the lock before R2 (acquisition order: writer %d, R2 %d)", im->id, ow,
		    orr);
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* ==== barrier ==== */

static unsigned barrier_phases = 1000;
/* Phases for a spin-only barrier with more threads than CPUs: 0.1-0.2 s a
 * phase when the machine is busy, and these cases are most of this test's
 * time.  50 (it was 100) pays for the queue, one-permit semaphore and
 * writer-preference cases, within the suite's old time. */
#define SPIN_OVERSUB_PHASES 50

struct bar_shared;
struct bar_thread {
	struct bar_shared *sh;
	unsigned tid;
};

struct bar_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned n;
	unsigned phases;
	_Atomic uint64_t phase[MAXT];
	/* data[k % 2][tid] = k before wait k: plain, so that ThreadSanitizer
	 * checks the barrier's ordering; double-buffered because a thread may
	 * already be writing phase k+1 while slower ones read phase k. */
	uint64_t data[2][MAXT];
	_Atomic uint64_t bad_phase, bad_data;
	_Atomic unsigned finished;
	struct bar_thread t[MAXT];
};

static void *bar_worker(void *arg)
{
	struct bar_thread *a = arg;
	struct bar_shared *sh = a->sh;
	const struct lb_barrier_ops *ops = lb_ops_barrier(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	uint64_t bad_phase = 0, bad_data = 0;
	for (uint64_t k = 1; k <= sh->phases; k++) {
		sh->data[k & 1][a->tid] = k;
		atomic_store_explicit(&sh->phase[a->tid], k, memory_order_relaxed);
		ops->wait(sh->obj, t);
		for (unsigned j = 0; j < sh->n; j++) {
			/* Everyone has arrived at k; nobody can be past k + 1. */
			uint64_t p = atomic_load_explicit(&sh->phase[j], memory_order_relaxed);
			bad_phase += p < k || p > k + 1;
			bad_data += sh->data[k & 1][j] != k;
		}
	}
	atomic_fetch_add(&sh->bad_phase, bad_phase);
	atomic_fetch_add(&sh->bad_data, bad_data);
	atomic_fetch_add(&sh->finished, 1);
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void barrier_case(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct bar_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };

	(void)x;
	sh->im = im;
	sh->n = n;
	/* A barrier that only spins needs every thread on a CPU in every
	 * phase; with more threads than CPUs each phase waits for preemption
	 * (tens of ms on this tickless VM, 20-90 s for 1000 phases).  Those
	 * cases run SPIN_OVERSUB_PHASES; everything else runs the full count
	 * (and the 'slow' suite runs it for them too). */
	sh->phases = barrier_phases;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if ((im->caps & LB_CAP_SPINS) && !(im->caps & LB_CAP_PARKS) && (long)n > cpus &&
	    sh->phases > SPIN_OVERSUB_PHASES && !getenv("LB_TEST_BARRIER_FULL"))
		sh->phases = SPIN_OVERSUB_PHASES;
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct bar_thread){ .sh = sh, .tid = i };
		team_spawn(&tm, bar_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	uint64_t t0 = lb_now_ns(), last_progress = tap_now_ms(), last_sum = 0;
	int hung = 0;
	/* Hung means no phase completed for GUARD_MS, not slow: spinning
	 * barriers on fewer CPUs than threads may legitimately take long. */
	while (atomic_load(&sh->finished) < n && !atomic_load(&sh->g.attach_err)) {
		uint64_t sum = 0;
		for (unsigned i = 0; i < n; i++)
			sum += atomic_load_explicit(&sh->phase[i], memory_order_relaxed);
		if (sum != last_sum) {
			last_sum = sum;
			last_progress = tap_now_ms();
		} else if (tap_now_ms() - last_progress > GUARD_MS) {
			hung = 1;
			break;
		}
		tap_sleep_ms(1);
	}
	double secs = (double)(lb_now_ns() - t0) / 1e9;
	unsigned stuck = team_join(&tm, hung ? 0 : GUARD_MS);
	if (hung || stuck) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t p = atomic_load(&sh->phase[i]);
			lo = p < lo ? p : lo;
			hi = p > hi ? p : hi;
		}
		tap(0, "%s: %u threads: hung (%u threads stuck, phases %llu..%llu of %u, no "
		    "progress for %d s)", im->id, n, stuck, (unsigned long long)lo,
		    (unsigned long long)hi, sh->phases, GUARD_MS / 1000);
		return;
	}
	int err = atomic_load(&sh->g.attach_err);
	uint64_t bp = atomic_load(&sh->bad_phase), bd = atomic_load(&sh->bad_data);
	tap(!err && bp == 0 && bd == 0, "%s: %u threads: %u phases, nobody leaves a phase "
	    "early (%llu phase violations, %llu stale reads%s%s) in %.2f s", im->id, n,
	    sh->phases, (unsigned long long)bp, (unsigned long long)bd,
	    err ? ", attach: " : "", err ? strerror(err) : "", secs);
	fprintf(stderr, "# %s: %u threads: %u phases in %.3f s\n", im->id, n, sh->phases,
		secs);
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

/* ==== queue ==== */

/* One thread against a model.  The model knows exactly what the queue
 * holds, so every push must succeed exactly while it holds fewer than
 * capacity() items, every pop exactly while it holds any, and each pop must
 * return the oldest item (LB_CAP_FIFO) or one of those held (the others).
 * A fixed walk: pops on empty, a fill past full, a drain past empty, then
 * QB_RANDOM_OPS random pushes and pops (wrapping a ring's indices many
 * times over), then fill and drain again. */
#define QB_ASK 5 /* capacity asked for: not 2^k - 1, so rings round it up */
#define QB_RANDOM_OPS 4000
#define QB_MAX_CAP 64

struct qb_model {
	const struct lb_queue_ops *ops;
	void *o, *t;
	int fifo;
	uint64_t cap, held[QB_MAX_CAP], count, next, ops_done;
	uint64_t wrong_push, wrong_pop, wrong_item;
};

static void qb_push(struct qb_model *m)
{
	int got = m->ops->push(m->o, m->t, m->next);
	m->wrong_push += got != (m->count < m->cap);
	if (got && m->count < m->cap)
		m->held[m->count++] = m->next;
	m->next++;
	m->ops_done++;
}

static void qb_pop(struct qb_model *m)
{
	uint64_t v = 0;
	int got = m->ops->pop(m->o, m->t, &v);
	m->ops_done++;
	m->wrong_pop += got != (m->count > 0);
	if (!got || m->count == 0)
		return;
	uint64_t i = 0;
	if (!m->fifo)
		while (i < m->count && m->held[i] != v)
			i++;
	if (i == m->count || m->held[i] != v) {
		m->wrong_item++;
		i = 0; /* drop the oldest, so the model stays the right size */
	}
	memmove(&m->held[i], &m->held[i + 1], (m->count - i - 1) * sizeof(m->held[0]));
	m->count--;
}

static void queue_model(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1, .permits = QB_ASK };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct qb_model m = { .ops = lb_ops_queue(im), .fifo = (im->caps & LB_CAP_FIFO) != 0,
			      .next = 1 };

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &m.o) != 0 || lb_prim_thread_attach(im, m.o, &ti, &m.t) != 0) {
		tap(0, "%s: model: setup", im->id);
		return;
	}
	m.cap = m.ops->capacity(m.o);
	int cap_ok = m.cap >= QB_ASK && m.cap < 2 * (QB_ASK + 1);
	tap(cap_ok, "%s: capacity() is %llu for %d asked (at least that, and less than twice "
	    "that plus 2: a ring's rounding)", im->id, (unsigned long long)m.cap, QB_ASK);
	if (!cap_ok) {
		lb_prim_thread_detach(im, m.o, m.t);
		lb_prim_destroy(im, m.o);
		return;
	}
	uint64_t full_at = 0, empty_at = 0, rng = 0x9e3779b97f4a7c15u;
	qb_pop(&m);
	qb_pop(&m);
	for (int round = 0; round < 2; round++) {
		for (uint64_t i = 0; i < m.cap + 2; i++) {
			qb_push(&m);
			if (round == 0 && !full_at && m.count == m.cap)
				full_at = m.next - 1;
		}
		for (uint64_t i = 0; i < m.cap + 2; i++)
			qb_pop(&m);
		empty_at = m.count;
		for (int i = 0; round == 0 && i < QB_RANDOM_OPS; i++) {
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			if ((rng >> 33) & 1)
				qb_push(&m);
			else
				qb_pop(&m);
		}
	}
	tap(m.wrong_push == 0 && m.wrong_pop == 0 && m.wrong_item == 0 && full_at == m.cap &&
	    empty_at == 0, "%s: one thread, %llu pushes and pops against a model: push "
	    "fails exactly when %llu items are held (%llu wrong), pop exactly when none "
	    "(%llu wrong), items come out %s (%llu wrong)", im->id,
	    (unsigned long long)m.ops_done, (unsigned long long)m.cap,
	    (unsigned long long)m.wrong_push, (unsigned long long)m.wrong_pop,
	    m.fifo ? "oldest first" : "exactly once", (unsigned long long)m.wrong_item);
	/* Leave it empty for fini. */
	while (m.count)
		qb_pop(&m);
	lb_prim_thread_detach(im, m.o, m.t);
	lb_prim_destroy(im, m.o);
}

/* np producers and nc consumers for about RUN_MS through a small queue (so
 * that it is often full and often empty).  Producer p pushes (p+1)<<32 | k
 * for k = 0, 1, ..., having first written a payload for it (plain: the
 * push must publish it); consumers pop until every producer is done and a
 * pop fails (with no push in progress, the queue is empty).  Every pushed
 * item must be popped exactly once with its payload, and with LB_CAP_FIFO
 * each consumer must see each producer's items in push order. */
#define QM_CAP 8
#define QM_MAX 200000 /* items per producer at most */

struct qm_shared;
struct qm_thread {
	struct qm_shared *sh;
	unsigned tid, index; /* index: producer or consumer number */
	int producer;
	uint64_t count;      /* pushed or popped */
};

struct qm_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned np;
	int fifo;
	_Atomic unsigned producers_done;
	uint64_t *payload;           /* [np][QM_MAX] */
	_Atomic unsigned char *seen; /* [np][QM_MAX] */
	_Atomic uint64_t dups, bad_ids, bad_payload, out_of_order;
	struct qm_thread t[MAXT];
};

static uint64_t qm_mix(uint64_t p, uint64_t k)
{
	return (k + 1) * 0x9e3779b97f4a7c15u ^ p;
}

static void qm_take(struct qm_shared *sh, uint64_t item, int64_t *last)
{
	uint64_t p = (item >> 32) - 1, k = item & 0xffffffffu;
	if ((item >> 32) == 0 || p >= sh->np || k >= QM_MAX) {
		atomic_fetch_add(&sh->bad_ids, 1);
		return;
	}
	if (sh->payload[p * QM_MAX + k] != qm_mix(p, k))
		atomic_fetch_add(&sh->bad_payload, 1);
	if (atomic_exchange_explicit(&sh->seen[p * QM_MAX + k], 1, memory_order_relaxed))
		atomic_fetch_add(&sh->dups, 1);
	if (sh->fifo && (int64_t)k <= last[p])
		atomic_fetch_add(&sh->out_of_order, 1);
	if ((int64_t)k > last[p])
		last[p] = (int64_t)k;
}

static void *qm_worker(void *arg)
{
	struct qm_thread *a = arg;
	struct qm_shared *sh = a->sh;
	const struct lb_queue_ops *ops = lb_ops_queue(sh->im);
	void *t;
	int aerr = attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	gate_pass(&sh->g);
	if (gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	if (a->producer) {
		uint64_t p = a->index, k;
		int ran = 0;
		for (k = 0; k < QM_MAX && !stopping(&sh->g); k++) {
			sh->payload[p * QM_MAX + k] = qm_mix(p, k);
			while (!ops->push(sh->obj, t, (p + 1) << 32 | k))
				sched_yield(); /* full */
			gate_ran(&sh->g, &ran);
		}
		a->count = k;
		/* release: our pushes (and counts) happen-before a consumer's
		 * final "empty" pop, which it makes after an acquire load. */
		atomic_fetch_add_explicit(&sh->producers_done, 1, memory_order_release);
	} else {
		int64_t last[MAXT];
		uint64_t item;
		for (unsigned i = 0; i < MAXT; i++)
			last[i] = -1;
		for (;;) {
			if (ops->pop(sh->obj, t, &item)) {
				qm_take(sh, item, last);
				a->count++;
				continue;
			}
			if (atomic_load_explicit(&sh->producers_done, memory_order_acquire) ==
			    sh->np) {
				/* No push in progress: a failed pop now means empty. */
				if (!ops->pop(sh->obj, t, &item))
					break;
				qm_take(sh, item, last);
				a->count++;
				continue;
			}
			sched_yield(); /* empty for now */
		}
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void queue_mpmc(const struct lb_impl *im, unsigned np, unsigned nc)
{
	struct qm_shared *sh = tap_xcalloc(sizeof(*sh));
	unsigned n = np + nc;
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1, .permits = QM_CAP };
	struct team tm = { .n = 0 };

	sh->im = im;
	sh->np = np;
	sh->fifo = (im->caps & LB_CAP_FIFO) != 0;
	sh->payload = tap_xcalloc((size_t)np * QM_MAX * sizeof(sh->payload[0]));
	sh->seen = tap_xcalloc((size_t)np * QM_MAX * sizeof(sh->seen[0]));
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u producers, %u consumers: setup", im->id, np, nc);
		free(sh->payload);
		free(sh->seen);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct qm_thread){ .sh = sh, .tid = i, .producer = i < np,
					      .index = i < np ? i : i - np };
		team_spawn(&tm, qm_worker, &sh->t[i]);
	}
	gate_open(&sh->g, n);
	gate_run(&sh->g, np); /* every producer has pushed */
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u producers, %u consumers: hung (%u threads stuck after %d s)",
		    im->id, np, nc, stuck, GUARD_MS / 1000);
		return;
	}
	uint64_t pushed = 0, popped = 0, missing = 0, phantom = 0;
	for (unsigned i = 0; i < n; i++) {
		if (sh->t[i].producer)
			pushed += sh->t[i].count;
		else
			popped += sh->t[i].count;
	}
	for (unsigned p = 0; p < np; p++)
		for (uint64_t k = 0; k < QM_MAX; k++) {
			int s = atomic_load_explicit(&sh->seen[p * QM_MAX + k],
						     memory_order_relaxed);
			missing += k < sh->t[p].count && !s;
			phantom += k >= sh->t[p].count && s;
		}
	int err = atomic_load(&sh->g.attach_err);
	uint64_t dups = atomic_load(&sh->dups), bad = atomic_load(&sh->bad_ids),
		 pay = atomic_load(&sh->bad_payload), order = atomic_load(&sh->out_of_order);
	tap(!err && pushed > 0 && popped == pushed && missing == 0 && phantom == 0 && dups == 0 &&
	    bad == 0 && pay == 0 && order == 0, "%s: %u producers, %u consumers, capacity %d: "
	    "every item popped exactly once%s (%llu pushed, %llu popped; %llu missing, %llu "
	    "duplicates, %llu never pushed, %llu bad ids, %llu stale payloads, %llu out of "
	    "order%s%s)", im->id, np, nc, QM_CAP, sh->fifo ? ", in push order" : "",
	    (unsigned long long)pushed, (unsigned long long)popped,
	    (unsigned long long)missing, (unsigned long long)dups, (unsigned long long)phantom,
	    (unsigned long long)bad, (unsigned long long)pay, (unsigned long long)order,
	    err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh->payload);
	free(sh->seen);
	free(sh);
}

/* ---- selection ---- */

/* Hidden (deliberately broken) implementations run only when named with
 * --impl: then they must fail. */
static int selected(const struct lb_impl *im)
{
	if (im->caps & LB_CAP_HIDDEN)
		return tap_named(im);
	return tap_selected(im);
}

/* The writer-preference test runs on the rwlocks the registry flags
 * LB_CAP_WPREF, so the set follows the registry; this check keeps it from
 * shrinking unseen: not empty, futex-rwlock (documented writer-preferring)
 * in it, the reader-preferring pthread-rwlock not. */
static void wpref_registry(void)
{
	char ids[512] = "";
	size_t len = 0;
	unsigned nw = 0;
	int futex = 0, reader_pref = 0;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (lb_impl_kind(im) != LB_KIND_RWLOCK || !(im->caps & LB_CAP_WPREF) ||
		    (im->caps & LB_CAP_HIDDEN))
			continue;
		nw++;
		futex |= strcmp(im->id, "futex-rwlock") == 0;
		reader_pref |= strcmp(im->id, "pthread-rwlock") == 0;
		if (len < sizeof(ids))
			len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%s",
						nw > 1 ? ", " : "", im->id);
	}
	tap(nw > 0 && futex && !reader_pref, "writer preference is tested on the %u rwlocks "
	    "the registry flags LB_CAP_WPREF (%s): futex-rwlock among them (%s), the "
	    "reader-preferring pthread-rwlock not (%s)", nw, ids, futex ? "yes" : "no",
	    reader_pref ? "it is" : "it is not");
}

/* ==== the table: one semantics test per kind ==== */

/* test_prims.c tests these kinds (mutual exclusion, trylock, exact counts,
 * the racy negative control); nothing more here. */
static void kindtest_mutex(const struct lb_impl *im)
{
	(void)im;
}

static void kindtest_counter(const struct lb_impl *im)
{
	(void)im;
}

static void kindtest_none(const struct lb_impl *im)
{
	(void)im;
}

static void kindtest_recursive(const struct lb_impl *im)
{
	tap_run(im, recursive_depth, 0, 0, "depth");
	tap_run(im, recursive_owner, 0, 0, "owner");
	for (size_t c = 0; c < NCOUNTS; c++)
		tap_run(im, recursive_exclusion, counts[c], 0, "nested exclusion, %u threads",
			counts[c]);
}

static void kindtest_semaphore(const struct lb_impl *im)
{
	tap_run(im, semaphore_try, 0, 0, "try_acquire");
	tap_run(im, semaphore_zero, 0, 0, "permits = 0");
	for (size_t c = 0; c < NCOUNTS; c++)
		tap_run(im, semaphore_holders, counts[c], 0, "%d permits, %u threads", SEM_PERMITS,
			counts[c]);
	for (size_t c = 0; c < NCOUNTS; c++)
		tap_run(im, semaphore_exclusion, counts[c], 0, "1 permit, %u threads", counts[c]);
}

static void kindtest_event(const struct lb_impl *im)
{
	tap_run(im, event_flag, 0, 0, "flag");
	for (size_t c = 0; c < NCOUNTS; c++) {
		unsigned n = counts[c];
		tap_run(im, event_wake_all, n, 0, "wake all, %u threads", n);
		tap_run(im, event_wake_all, n, 1, "set then clear, %u threads", n);
	}
}

static void kindtest_condition(const struct lb_impl *im)
{
	for (size_t c = 0; c < NCOUNTS; c++) {
		unsigned n = counts[c];
		tap_run(im, condition_handoff, n, 0, "hand-off, %u threads", n);
		tap_run(im, condition_notify, n, 0, "notify, %u threads", n);
		tap_run(im, condition_notify, n, 1, "notify_all, %u threads", n);
	}
}

static void kindtest_rwlock(const struct lb_impl *im)
{
	if (!rwlock_hooks_ok(im))
		return;
	for (size_t c = 0; c < NCOUNTS; c++) {
		unsigned n = counts[c];
		tap_run(im, rwlock_case, n, n / 2, "%u threads, %u writers", n, n / 2);
		if (n / 2 != 1)
			tap_run(im, rwlock_case, n, 1, "%u threads, 1 writer", n);
	}
	if (im->caps & LB_CAP_WPREF)
		tap_run(im, rwlock_writer_pref, 0, 0, "writer preference");
}

static void kindtest_barrier(const struct lb_impl *im)
{
	for (size_t c = 0; c < NCOUNTS; c++)
		tap_run(im, barrier_case, counts[c], 0, "%u threads", counts[c]);
}

static void kindtest_queue(const struct lb_impl *im)
{
	tap_run(im, queue_model, 0, 0, "one-thread model");
	tap_run(im, queue_mpmc, 1, 1, "1 producer, 1 consumer");
	for (unsigned k = 2; !lb_ops_queue(im)->spsc && k <= MAXT / 2; k *= 2)
		tap_run(im, queue_mpmc, k, k, "%u producers, %u consumers", k, k);
}

/* From registry.h's list of kinds: a kind without its kindtest_<name>
 * does not compile. */
#define KT_ENTRY(a, ENUM, name, ops, IMPLS, try) [LB_KIND_##ENUM] = kindtest_##name,
static void (*const kind_tests[LB_KIND_COUNT])(const struct lb_impl *) = {
	LB_KINDS(KT_ENTRY, _)
};

int main(int argc, char **argv)
{
	tap_init(argc, argv);
	const char *ph = getenv("LB_TEST_BARRIER_PHASES");
	if (ph && *ph) {
		char *end;
		unsigned long v = strtoul(ph, &end, 10);
		if (*end || v == 0 || v > 1000000) {
			fprintf(stderr, "LB_TEST_BARRIER_PHASES: not a count 1..1000000: %s\n", ph);
			return 2;
		}
		barrier_phases = (unsigned)v;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		if (lb_impl_kind(&lb_impls[j]) == LB_KIND_RWLOCK && selected(&lb_impls[j])) {
			wpref_registry();
			break;
		}
	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		if (selected(&lb_impls[j]))
			kind_tests[lb_impl_kind(&lb_impls[j])](&lb_impls[j]);
	return tap_done();
}
