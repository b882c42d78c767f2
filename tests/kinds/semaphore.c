/* semaphore: never more holders than permits and exactly that many reached;
 * try_acquire fails without waiting when every permit is held; a release
 * wakes a blocked acquire; with no permits, acquire waits until a release;
 * with one permit, mutual exclusion (with a plain shadow counter in the
 * critical section: see tap_shadow_ok). */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindtest.h"
#include "timer.h"

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
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!kt_stopping(&sh->g)) {
		ops->acquire(sh->obj, t);
		unsigned h = atomic_fetch_add_explicit(&sh->in, 1, memory_order_relaxed) + 1;
		kt_max_update(&sh->peak, h);
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
		kt_gate_ran(&sh->g, &ran);
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
		kt_team_spawn(&tm, sem_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, n);
	kt_wait_count(&sh->peak, SEM_PERMITS, GUARD_MS);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
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
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!kt_stopping(&sh->g)) {
		ops->acquire(sh->obj, t);
		if (!tap_in_section_ok(&sh->in_section))
			atomic_fetch_add(&sh->violations, 1);
		if (sh->plain)
			sh->shadow++;
		ops->release(sh->obj, t);
		a->ops++;
		kt_gate_ran(&sh->g, &ran);
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
		kt_team_spawn(&tm, sx_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, n);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
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
	    "then fails (got %s)", im->id, SEM_PERMITS, got, kt_bool_str(extra));
	for (int i = 0; i < got + extra; i++)
		ops->release(o, t);

	for (int i = 0; i < SEM_PERMITS; i++)
		ops->acquire(o, t);
	r = kt_run_helper(im, o, 1, sem_try, NULL);
	tap(r == 0, "%s: with every permit held, another thread's try_acquire returns false "
	    "without blocking (got %s)", im->id, kt_bool_str(r));
	if (r == H_HUNG)
		tap_abandon();

	struct helper *h = kt_helper_spawn(im, o, 2, sem_acquire_release, NULL);
	kt_helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!early, "%s: with every permit held, acquire waits (returned within %d ms: %s)",
	    im->id, QUIET_MS, early ? "yes" : "no");
	ops->release(o, t);
	r = kt_helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: a release lets the waiting acquire in (%s)", im->id,
	    r == 0 ? "it returned" : kt_err_str(r));
	if (r == H_HUNG)
		tap_abandon();

	r = kt_run_helper(im, o, 3, sem_try, NULL);
	tap(r == 1, "%s: try_acquire after a release succeeds (got %s)", im->id, kt_bool_str(r));
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
	tap(!got, "%s: permits = 0: try_acquire fails (got %s)", im->id, kt_bool_str(got));
	if (got)
		ops->release(o, t);

	struct helper *h = kt_helper_spawn(im, o, 1, sem_acquire, NULL);
	kt_helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!early, "%s: permits = 0: acquire waits (returned within %d ms: %s)", im->id,
	    QUIET_MS, early ? "yes" : "no");
	ops->release(o, t);
	int r = kt_helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: permits = 0: a release lets the waiting acquire in (%s)", im->id,
	    r == 0 ? "it returned" : kt_err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	got = ops->try_acquire(o, t);
	tap(!got, "%s: permits = 0: that release was one permit, now taken (try_acquire "
	    "got %s)", im->id, kt_bool_str(got));
	if (got)
		ops->release(o, t);
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

void kindtest_semaphore(const struct lb_impl *im)
{
	tap_run(im, semaphore_try, 0, 0, "try_acquire");
	tap_run(im, semaphore_zero, 0, 0, "permits = 0");
	for (size_t c = 0; c < KT_NCOUNTS; c++)
		tap_run(im, semaphore_holders, kt_counts[c], 0, "%d permits, %u threads",
			SEM_PERMITS, kt_counts[c]);
	for (size_t c = 0; c < KT_NCOUNTS; c++)
		tap_run(im, semaphore_exclusion, kt_counts[c], 0, "1 permit, %u threads",
			kt_counts[c]);
}
