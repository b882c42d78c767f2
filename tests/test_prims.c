/* Semantics of every registered primitive, through the registry's ops (the
 * same objects the workloads inline).  TAP output, one line per check.
 *
 *   mutex:   mutual exclusion at 1, 2, 4 and 8 threads, by a CK-style
 *            in-section check (count a private word up to K inside the
 *            section, check it reads K, count it back down), by an exact
 *            shared counter and by a plain (non-atomic) shadow counter that
 *            ThreadSanitizer watches; trylock is false while another thread
 *            holds the lock, true when it is free, and never blocks.
 *   counter: exact totals at 1, 2, 4 and 8 threads.
 *   none-racy must lose updates at 2 threads (negative control) and
 *   test-busted must fail the mutual-exclusion check (the checker works).
 *   Other hidden (deliberately broken) implementations run only when named
 *   with --impl.
 *
 * Every case runs in a child process under a hang guard (see lbtap.h), so
 * one hung or crashed implementation fails its case and the rest still run.
 *
 * usage: test_prims [--backend NAME]... [--impl ID]...  (default: all)
 * LB_TEST_GUARD_S=N: seconds a case may run before it counts as hung (60).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lbtap.h"
#include "registry.h"
#include "timer.h"

/* ---- mutual exclusion ---- */

#define RUN_MS 150

struct mx_shared {
	const struct lb_impl *im;
	void *lock;
	int plain; /* whether the plain shadow is kept (see tap_shadow_ok) */
	_Atomic int go, stop;
	_Atomic unsigned ready;
	_Atomic unsigned ran; /* threads that completed at least one op */
	/* Only touched inside the section: relaxed atomics so that a broken
	 * lock shows up as a failed check, not as undefined behaviour. */
	_Atomic uint64_t in_section, counter;
	_Atomic uint64_t violations;
	/* The shadow: plain, so that ThreadSanitizer reports a lock whose
	 * unlock does not release (or lock does not acquire) as a data race on
	 * it, where the relaxed atomics above would hide the missing order. */
	uint64_t shadow;
};

struct mx_thread {
	struct mx_shared *sh;
	unsigned tid;
	uint64_t ops;
	int err;
};

static void *mx_worker(void *arg)
{
	struct mx_thread *t = arg;
	struct mx_shared *sh = t->sh;
	const struct lb_mutex_ops *ops = lb_ops_mutex(sh->im);
	struct lb_thread_info ti = { .tid = t->tid, .cpu = -1, .cluster = 0 };
	void *tctx;

	if ((t->err = lb_prim_thread_attach(sh->im, sh->lock, &ti, &tctx)) != 0) {
		atomic_fetch_add(&sh->ready, 1);
		return NULL;
	}
	atomic_fetch_add(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		ops->lock(sh->lock, tctx);
		if (!tap_in_section_ok(&sh->in_section))
			atomic_fetch_add(&sh->violations, 1);
		atomic_store_explicit(&sh->counter,
			atomic_load_explicit(&sh->counter, memory_order_relaxed) + 1,
			memory_order_relaxed);
		if (sh->plain)
			sh->shadow++;
		ops->unlock(sh->lock, tctx);
		if (t->ops++ == 0)
			atomic_fetch_add(&sh->ran, 1);
	}
	lb_prim_thread_detach(sh->im, sh->lock, tctx);
	return NULL;
}

struct mx_result {
	int err;             /* setup or attach error */
	uint64_t ops;        /* lock/unlock pairs */
	uint64_t violations; /* in-section check failures */
	uint64_t counter;    /* the relaxed shared counter */
	uint64_t shadow;     /* the plain shadow (ops when not kept) */
};

static struct mx_result mutex_exclusion(const struct lb_impl *im, unsigned n)
{
	struct mx_shared sh = { .im = im, .plain = tap_shadow_ok(im) };
	struct mx_thread t[16];
	pthread_t th[16];
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct mx_result res = { 0 };

	if ((res.err = lb_prim_create(im, &cfg, &sh.lock)) != 0)
		return res;
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct mx_thread){ .sh = &sh, .tid = i };
		tap_spawn(&th[i], mx_worker, &t[i]);
	}
	while (atomic_load(&sh.ready) < n)
		tap_sleep_ms(1);
	atomic_store(&sh.go, 1);
	tap_sleep_ms(RUN_MS);
	/* Not before every thread has had the lock at least once: on a loaded
	 * machine a starved thread would otherwise make a run of 0 ops (the
	 * case's hang guard catches a lock that never lets it in). */
	while (atomic_load(&sh.ran) < n)
		tap_sleep_ms(1);
	atomic_store(&sh.stop, 1);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		res.ops += t[i].ops;
		res.err = res.err ? res.err : t[i].err;
	}
	res.violations = atomic_load(&sh.violations);
	res.counter = atomic_load(&sh.counter);
	res.shadow = sh.plain ? sh.shadow : res.ops;
	lb_prim_destroy(im, sh.lock);
	return res;
}

static uint64_t mx_bad(const struct mx_result *r)
{
	return r->violations + (r->ops - r->counter) + (r->ops - r->shadow);
}

static void case_exclusion(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	struct mx_result r = mutex_exclusion(im, n);
	tap(!r.err && r.ops > 0 && mx_bad(&r) == 0, "%s: %u threads: mutual exclusion held "
	    "over %llu ops (%llu in-section violations, counter %llu, plain shadow %llu%s%s)",
	    im->id, n, (unsigned long long)r.ops, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.shadow,
	    r.err ? ", error: " : "", r.err ? strerror(r.err) : "");
}

/* test-busted: the checker must catch it.  If the threads never overlapped
 * (a busy machine), try again, up to 10 times. */
static void case_busted(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	struct mx_result r = mutex_exclusion(im, n);
	for (int a = 0; !r.err && mx_bad(&r) == 0 && a < 10; a++)
		r = mutex_exclusion(im, n);
	tap(!r.err && mx_bad(&r) > 0, "%s: %u threads: the broken lock is caught (%llu "
	    "violations, counter %llu of %llu ops)", im->id, n, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.ops);
}

/* ---- trylock ---- */

struct try_arg {
	const struct lb_impl *im;
	void *lock;
	unsigned tid;
	bool block;  /* lock() rather than trylock() */
	int result;  /* 1 got in (and released), 0 not, -1 could not attach */
	_Atomic int done;
};

static void *try_once(void *arg)
{
	struct try_arg *a = arg;
	const struct lb_mutex_ops *ops = lb_ops_mutex(a->im);
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *tctx;
	if (lb_prim_thread_attach(a->im, a->lock, &ti, &tctx) != 0) {
		a->result = -1;
	} else {
		if (a->block) {
			ops->lock(a->lock, tctx);
			a->result = 1;
		} else {
			a->result = ops->trylock(a->lock, tctx);
		}
		if (a->result)
			ops->unlock(a->lock, tctx);
		lb_prim_thread_detach(a->im, a->lock, tctx);
	}
	atomic_store(&a->done, 1);
	return NULL;
}

/* Waits up to 5 s for a try_once thread: its result (and frees it), or
 * -2 if it has not finished (the thread and its arg are leaked: the case
 * has failed and its process ends). */
static int try_finish(pthread_t th, struct try_arg *a)
{
	for (int i = 0; i < 5000 && !atomic_load(&a->done); i++)
		tap_sleep_ms(1);
	if (!atomic_load(&a->done)) {
		pthread_detach(th);
		return -2;
	}
	pthread_join(th, NULL);
	int r = a->result;
	free(a);
	return r;
}

/* Trylock from another thread; -2 if it did not return within 5 s (the
 * thread is leaked: the case has failed and its process ends). */
static int try_from_other_thread(const struct lb_impl *im, void *lock, unsigned tid)
{
	struct try_arg *a = tap_xcalloc(sizeof(*a));
	pthread_t th;
	*a = (struct try_arg){ .im = im, .lock = lock, .tid = tid };
	tap_spawn(&th, try_once, a);
	return try_finish(th, a);
}

/* A lock taken by trylock keeps lock() out as one taken by lock() does:
 * another thread's lock() must not return while we hold it (50 ms: a
 * correct lock can never fail this, however slow the machine; a broken
 * one may pass only if that thread got no CPU meanwhile), and must
 * return once we unlock.  A futex mutex whose fast-path CAS expected the
 * wrong word let lock() in on top of a trylock, with every other test
 * green (the mutation exercise).  1 when it held, 0 when not, -2 when
 * the other thread never got in (leaked: the case has failed). */
static int lock_waits_for_trylock(const struct lb_impl *im, void *lock, void *tctx)
{
	const struct lb_mutex_ops *ops = lb_ops_mutex(im);
	if (!ops->trylock(lock, tctx))
		return 0;
	struct try_arg *a = tap_xcalloc(sizeof(*a));
	pthread_t th;
	*a = (struct try_arg){ .im = im, .lock = lock, .tid = 3, .block = true };
	tap_spawn(&th, try_once, a);
	tap_sleep_ms(50);
	int early = atomic_load(&a->done);
	ops->unlock(lock, tctx);
	int r = try_finish(th, a);
	return r == -2 ? -2 : !early && r == 1;
}

static void case_trylock(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_mutex_ops *ops = lb_ops_mutex(im);
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *lock, *tctx;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &lock) != 0 ||
	    lb_prim_thread_attach(im, lock, &ti, &tctx) != 0) {
		tap(0, "%s: trylock setup", im->id);
		return;
	}
	int r = ops->trylock(lock, tctx);
	tap(r == 1, "%s: trylock on a free lock succeeds", im->id);
	if (r)
		ops->unlock(lock, tctx);

	ops->lock(lock, tctx);
	r = try_from_other_thread(im, lock, 1);
	tap(r == 0, "%s: trylock while another thread holds it returns false without "
	    "blocking (got %s)", im->id, r == -2 ? "blocked" : r == 1 ? "true" : r == 0 ? "false"
									   : "error");
	ops->unlock(lock, tctx);
	if (r == -2)
		return;
	r = try_from_other_thread(im, lock, 2);
	tap(r == 1, "%s: trylock after release succeeds", im->id);
	if (r == -2)
		return;
	r = lock_waits_for_trylock(im, lock, tctx);
	tap(r == 1, "%s: another thread's lock() waits while a trylock holds the lock, and gets "
	    "in after the unlock (%s)", im->id, r == 1 ? "it did" : r == -2 ? "it never got in"
	    : "it got in while held, or the trylock failed");
	if (r == -2)
		return;
	lb_prim_thread_detach(im, lock, tctx);
	lb_prim_destroy(im, lock);
}

/* ---- lock-free counters ----
 * Time-based, like the harness: every thread adds until told to stop, and
 * the total must equal the sum of the adds.  The window opens only once
 * every thread is running, so the threads really overlap even when the
 * machine is busy with other tests. */

struct cnt_shared {
	const struct lb_impl *im;
	void *obj;
	_Atomic unsigned started;
	_Atomic int stop;
};

struct cnt_arg {
	struct cnt_shared *sh;
	unsigned tid;
	uint64_t adds;
};

static void *cnt_worker(void *arg)
{
	struct cnt_arg *a = arg;
	struct cnt_shared *sh = a->sh;
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *tctx;
	if (lb_prim_thread_attach(sh->im, sh->obj, &ti, &tctx) != 0) {
		atomic_fetch_add(&sh->started, 1);
		return NULL;
	}
	atomic_fetch_add(&sh->started, 1);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		lb_ops_counter(sh->im)->add(sh->obj, tctx);
		a->adds++;
	}
	lb_prim_thread_detach(sh->im, sh->obj, tctx);
	return NULL;
}

/* Runs n threads for about ms milliseconds of overlap; returns the total
 * and the number of adds made in *adds. */
static uint64_t counter_total(const struct lb_impl *im, unsigned n, long ms, uint64_t *adds)
{
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct cnt_shared sh = { .im = im };
	struct cnt_arg a[16];
	pthread_t th[16];

	*adds = 0;
	if (lb_prim_create(im, &cfg, &sh.obj) != 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		a[i] = (struct cnt_arg){ .sh = &sh, .tid = i };
		tap_spawn(&th[i], cnt_worker, &a[i]);
	}
	while (atomic_load(&sh.started) < n)
		tap_sleep_ms(1);
	tap_sleep_ms(ms);
	atomic_store(&sh.stop, 1);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		*adds += a[i].adds;
	}
	uint64_t t = lb_ops_counter(im)->total(sh.obj);
	lb_prim_destroy(im, sh.obj);
	return t;
}

static void case_counter(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	uint64_t adds;
	uint64_t t = counter_total(im, n, 30, &adds);
	tap(t == adds && adds > 0, "%s: %u threads: total %llu == %llu adds", im->id, n,
	    (unsigned long long)t, (unsigned long long)adds);
}

/* Negative control: with two threads really running at once, the separate
 * load and store must lose updates.  Retry a few times in case the threads
 * happened not to overlap. */
static void case_racy(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	uint64_t t = 0, adds = 0;
	for (int attempt = 0; attempt < 10 && t == adds; attempt++)
		t = counter_total(im, n, 50L << (attempt < 4 ? attempt : 4), &adds);
	tap(t < adds, "%s: %u threads lose updates (%llu of %llu survived)", im->id, n,
	    (unsigned long long)t, (unsigned long long)adds);
}

int main(int argc, char **argv)
{
	static const unsigned counts[] = { 1, 2, 4, 8 };

	tap_init(argc, argv);
	lb_timer_calibrate();

	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (!tap_selected(im))
			continue;
		/* The other kinds have their own semantics: tests/kinds/. */
		if (lb_impl_kind(im) != LB_KIND_MUTEX && lb_impl_kind(im) != LB_KIND_COUNTER &&
		    lb_impl_kind(im) != LB_KIND_NONE)
			continue;
		/* test-busted is the checker's negative control; the other
		 * deliberately broken implementations (test-stuck stalls by
		 * design: the watchdog test runs it) only when named. */
		int busted = strcmp(im->id, "test-busted") == 0;
		if ((im->caps & LB_CAP_HIDDEN) && !busted && !tap_named(im))
			continue;
		if (lb_impl_kind(im) == LB_KIND_MUTEX) {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				if (busted && counts[c] >= 2)
					tap_run(im, case_busted, counts[c], 0, "caught, %u threads",
						counts[c]);
				else if (!busted)
					tap_run(im, case_exclusion, counts[c], 0,
						"mutual exclusion, %u threads", counts[c]);
			}
			if (lb_ops_mutex(im)->trylock && !busted)
				tap_run(im, case_trylock, 0, 0, "trylock");
		} else if (im->caps & LB_CAP_RACY) {
			tap_run(im, case_racy, 2, 0, "loses updates, 2 threads");
		} else {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
				tap_run(im, case_counter, counts[c], 0, "exact total, %u threads",
					counts[c]);
		}
	}
	return tap_done();
}
