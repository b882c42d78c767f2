/* recursive: depth counting (the lock is free only after the last of three
 * unlocks), unlock by a non-owner returns EPERM and changes nothing, mutual
 * exclusion with nested locking (with a plain shadow counter in the
 * critical section: see tap_shadow_ok). */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindtest.h"

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
	    kt_bool_str(r));
	if (!r)
		ops->lock(o, t);
	r = kt_run_helper(im, o, 1, rec_try, NULL);
	tap(r == 0, "%s: depth 3: another thread's trylock fails without blocking (got %s)",
	    im->id, kt_bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	for (unsigned d = 2; d >= 1; d--) {
		u = ops->unlock(o, t);
		r = kt_run_helper(im, o, 4 - d, rec_try, NULL); /* tids 2, 3 */
		tap(u == 0 && r == 0, "%s: after %u of 3 unlocks (unlock returned %s) another "
		    "thread's trylock still fails (got %s)", im->id, 3 - d, kt_err_str(u),
		    kt_bool_str(r));
		if (r == H_HUNG)
			tap_abandon();
	}
	u = ops->unlock(o, t);
	r = kt_run_helper(im, o, 4, rec_try, NULL);
	tap(u == 0 && r == 1, "%s: after the 3rd unlock (returned %s) another thread's trylock "
	    "succeeds (got %s)", im->id, kt_err_str(u), kt_bool_str(r));
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
	r = kt_run_helper(im, o, 1, rec_unlock, NULL);
	tap(r == EPERM, "%s: unlock by a non-owner returns EPERM (got %s)", im->id, kt_err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	r = kt_run_helper(im, o, 2, rec_try, NULL);
	tap(r == 0, "%s: after the non-owner's unlock the owner still holds it (another "
	    "thread's trylock got %s)", im->id, kt_bool_str(r));
	if (r == H_HUNG)
		tap_abandon();
	u1 = ops->unlock(o, t);
	u2 = ops->unlock(o, t);
	tap(u1 == 0 && u2 == EPERM, "%s: the owner's unlock returns 0 (got %s), a second one, "
	    "on the free lock, EPERM (got %s)", im->id, kt_err_str(u1), kt_err_str(u2));
	r = kt_run_helper(im, o, 3, rec_try, NULL);
	tap(r == 1, "%s: free after the owner's unlock (another thread's trylock got %s)",
	    im->id, kt_bool_str(r));
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
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	int ran = 0;
	while (!kt_stopping(&sh->g)) {
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
		kt_gate_ran(&sh->g, &ran);
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
		kt_team_spawn(&tm, rx_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, n);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
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

void kindtest_recursive(const struct lb_impl *im)
{
	tap_run(im, recursive_depth, 0, 0, "depth");
	tap_run(im, recursive_owner, 0, 0, "owner");
	for (size_t c = 0; c < KT_NCOUNTS; c++)
		tap_run(im, recursive_exclusion, kt_counts[c], 0, "nested exclusion, %u threads",
			kt_counts[c]);
}
