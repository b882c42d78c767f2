/* Semantics of every registered primitive, through the registry's ops (the
 * same objects the workloads inline).  TAP output, one line per check.
 *
 *   mutex:   mutual exclusion at 1, 2, 4 and 8 threads, by a CK-style
 *            in-section check (count a private word up to K inside the
 *            section, check it reads K, count it back down), by an exact
 *            shared counter and by a plain (non-atomic) shadow counter that
 *            ThreadSanitizer watches; the parking ones again with 1.5 ms
 *            sections, so that every waiter sleeps; trylock is false while another thread
 *            holds the lock, true when it is free, and never blocks.
 *            White-box, for two designs with internals worth pinning:
 *            futex-mcs-park's FIFO hand-off to sleeping waiters, and the
 *            parking lot under futex-parkinglot (FIFO unparks, tokens).
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
	uint64_t hold_ns; /* busy time inside each section (0: none) */
	unsigned nclusters; /* thread i is in cluster i % nclusters */
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

/* Busy for ns of CLOCK_MONOTONIC (holding the lock: waiters queue). */
static void hold(uint64_t ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
		       (uint64_t)a.tv_nsec < ns);
}

static void *mx_worker(void *arg)
{
	struct mx_thread *t = arg;
	struct mx_shared *sh = t->sh;
	const struct lb_mutex_ops *ops = lb_ops_mutex(sh->im);
	struct lb_thread_info ti = { .tid = t->tid, .cpu = -1, .cluster = t->tid % sh->nclusters };
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
		if (sh->hold_ns)
			hold(sh->hold_ns);
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

static struct mx_result mutex_exclusion(const struct lb_impl *im, unsigned n,
					uint64_t hold_ns, unsigned nclusters)
{
	struct mx_shared sh = { .im = im, .plain = tap_shadow_ok(im), .hold_ns = hold_ns,
				.nclusters = nclusters };
	struct mx_thread t[16];
	pthread_t th[16];
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = nclusters };
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
	struct mx_result r = mutex_exclusion(im, n, 0, 1);
	tap(!r.err && r.ops > 0 && mx_bad(&r) == 0, "%s: %u threads: mutual exclusion held "
	    "over %llu ops (%llu in-section violations, counter %llu, plain shadow %llu%s%s)",
	    im->id, n, (unsigned long long)r.ops, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.shadow,
	    r.err ? ", error: " : "", r.err ? strerror(r.err) : "");
}

/* Sections of LONG_HOLD_NS: every waiter waits for milliseconds, so the
 * parking locks' sleeping paths run on every op, and a lock with a mode
 * for long waits (futex-starvation's hand-off after 1 ms) enters it. */
#define LONG_HOLD_NS 1500000
static void case_long_sections(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	struct mx_result r = mutex_exclusion(im, n, LONG_HOLD_NS, 1);
	tap(!r.err && r.ops > 0 && mx_bad(&r) == 0, "%s: %u threads, 1.5 ms sections: mutual "
	    "exclusion held over %llu ops (%llu in-section violations, counter %llu, plain "
	    "shadow %llu%s%s)", im->id, n, (unsigned long long)r.ops,
	    (unsigned long long)r.violations, (unsigned long long)r.counter,
	    (unsigned long long)r.shadow, r.err ? ", error: " : "", r.err ? strerror(r.err) : "");
}

/* The NUMA-aware locks (LB_CAP_NUMA) on a machine of several clusters,
 * which this one is not: threads are put in clusters round robin, so every
 * hand-over path runs (within a cluster, to another, the secondary queues
 * and the batch limits).  With and without a held section: holding makes
 * waiters of every cluster queue up behind the holder. */
static void case_clusters(const struct lb_impl *im, unsigned n, unsigned hold_ns)
{
	struct mx_result r = mutex_exclusion(im, n, hold_ns, 3);
	tap(!r.err && r.ops > 0 && mx_bad(&r) == 0, "%s: %u threads in 3 clusters%s: mutual "
	    "exclusion held over %llu ops (%llu in-section violations, counter %llu, plain "
	    "shadow %llu%s%s)", im->id, n, hold_ns ? ", 2 us sections" : "",
	    (unsigned long long)r.ops, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.shadow,
	    r.err ? ", error: " : "", r.err ? strerror(r.err) : "");
}

/* futex-mcs-park's queue, white-box: while one thread holds the lock, k
 * waiters queue one at a time (each is seen in tail, then asleep on its
 * node's word, before the next starts); releasing lets them in exactly
 * in that order, every one woken from its sleep.  Deterministic: no
 * sleeps decide anything, the hang guard catches a lost wake-up. */
#define MCSP_WAITERS 4
struct mcsp_waiter {
	const struct lb_mutex_ops *ops;
	void *m;
	struct lb_mcs_park_node node;
	_Atomic unsigned *next_slot;
	unsigned *order, id;
};

static void *mcsp_waiter(void *arg)
{
	struct mcsp_waiter *w = arg;
	w->ops->lock(w->m, &w->node);
	/* inside the lock: a plain write, ordered by the lock */
	w->order[atomic_fetch_add(w->next_slot, 1)] = w->id;
	w->ops->unlock(w->m, &w->node);
	return NULL;
}

/* Also futex-malthusian's culling, on the same queue: the first unlock
 * grants waiter 1 and, with 2, 3 and 4 linked behind it, moves 2 (the one
 * behind the successor) to the passive list; nobody is culled after that
 * (no third waiter behind a successor), and 2 comes back when the queue
 * runs dry: 1 3 4 2. */
static void case_mcs_park_fifo(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)n, (void)x;
	const struct lb_mutex_ops *ops = lb_ops_mutex(im);
	int malthus = im->index == LB_IMPL_futex_malthusian;
	struct lb_futex_malthusian obj; /* futex-mcs-park's lock is its first member */
	struct lb_futex_mcs_park *m = &obj.q;
	struct lb_mcs_park_node holder;
	struct mcsp_waiter w[MCSP_WAITERS];
	pthread_t th[MCSP_WAITERS];
	unsigned order[MCSP_WAITERS] = { 0 };
	static const unsigned want_fifo[MCSP_WAITERS] = { 1, 2, 3, 4 },
			      want_malthus[MCSP_WAITERS] = { 1, 3, 4, 2 };
	const unsigned *want = malthus ? want_malthus : want_fifo;
	_Atomic unsigned next_slot = 0;
	int slept = 0, as_wanted = 1;

	ops->base.init(&obj, NULL);
	ops->lock(&obj, &holder);
	for (unsigned i = 0; i < MCSP_WAITERS; i++) {
		w[i] = (struct mcsp_waiter){ .ops = ops, .m = &obj, .next_slot = &next_slot,
					     .order = order, .id = i + 1 };
		atomic_init(&w[i].node.state, LB_MCSP_WAITING);
		atomic_init(&w[i].node.next, NULL);
		tap_spawn(&th[i], mcsp_waiter, &w[i]);
		while (atomic_load(&m->tail) != &w[i].node)
			tap_sleep_ms(1);
		while (atomic_load(&w[i].node.state) != LB_MCSP_SLEEPING)
			tap_sleep_ms(1);
		slept++;
	}
	ops->unlock(&obj, &holder);
	for (unsigned i = 0; i < MCSP_WAITERS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < MCSP_WAITERS; i++)
		as_wanted &= order[i] == want[i];
	tap(slept == MCSP_WAITERS && as_wanted && atomic_load(&m->tail) == NULL &&
	    (!malthus || (obj.phead == NULL && obj.pcount == 0)),
	    "%s: %d waiters queued and asleep, let in in the order %u %u %u %u (got %u %u %u "
	    "%u), the lock free after", im->id, slept, want[0], want[1], want[2], want[3],
	    order[0], order[1], order[2], order[3]);
}

/* lit-mcs-tp's skip, white-box: a node whose owner stopped publishing
 * (a preempted waiter, made here by hand: its time is from long ago) is
 * queued right behind the holder, a live waiter behind it.  unlock must
 * mark the stale node REMOVED and grant the live one; the stale node is
 * never granted.  A stale tail (nobody behind it) would be granted. */
struct tp_waiter {
	void *lock;
	struct lb_tp_node node;
	_Atomic int done;
};

static void *tp_waiter(void *arg)
{
	struct tp_waiter *w = arg;
	lb_lit_mcs_tp_lock(w->lock, &w->node);
	atomic_store(&w->done, 1);
	lb_lit_mcs_tp_unlock(w->lock, &w->node);
	return NULL;
}

static void case_mcs_tp_skip(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)n, (void)x;
	struct lb_tp_node *_Atomic tail, holder, stale;
	struct tp_waiter live = { .lock = &tail };
	pthread_t th;

	lb_lit_mcs_tp_init(&tail, NULL);
	lb_lit_mcs_tp_lock(&tail, &holder);
	/* the stale waiter's enqueue, as lb_tp_wait does it, but no polling */
	atomic_init(&stale.next, NULL);
	atomic_init(&stale.state, LB_TP_WAITING);
	atomic_init(&stale.time, 1);
	struct lb_tp_node *prev = atomic_exchange(&tail, &stale);
	atomic_store(&prev->next, &stale);
	tap_spawn(&th, tp_waiter, &live);
	while (atomic_load(&tail) != &live.node)
		tap_sleep_ms(1);
	while (atomic_load(&stale.next) != &live.node)
		tap_sleep_ms(1);
	lb_lit_mcs_tp_unlock(&tail, &holder);
	pthread_join(th, NULL);
	tap(atomic_load(&stale.state) == LB_TP_REMOVED && atomic_load(&live.done) &&
	    atomic_load(&tail) == NULL,
	    "%s: a stale waiter behind the holder is skipped (state %u, want %u REMOVED), the "
	    "live one behind it gets the lock (%s), the lock free after", im->id,
	    atomic_load(&stale.state), LB_TP_REMOVED, atomic_load(&live.done) ? "it did" : "no");
}

/* The parking lot under futex-parkinglot, white-box: a failed validate
 * returns at once; threads parked on one address one at a time are
 * unparked first-in first-out, each receiving its unpark's token, with
 * the callback told whether others remain; an unpark with no one parked
 * says so.  Another address in the table is untouched throughout. */
#define PL_THREADS 3
static bool pl_yes(void *arg) { (void)arg; return true; }
static bool pl_no(void *arg) { (void)arg; return false; }

struct pl_waiter {
	const void *addr;
	uintptr_t got;
};

static void *pl_park(void *arg)
{
	struct pl_waiter *w = arg;
	w->got = lb_park(w->addr, pl_yes, NULL);
	return NULL;
}

struct pl_seen {
	unsigned calls;
	struct lb_unpark_result r[PL_THREADS + 1];
};

static uintptr_t pl_token(void *arg, struct lb_unpark_result r)
{
	struct pl_seen *s = arg;
	s->r[s->calls] = r;
	return 100 + s->calls++;
}

static void case_parking_lot(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)n, (void)x;
	static char addr, other;
	struct pl_waiter w[PL_THREADS];
	pthread_t th[PL_THREADS];
	struct pl_seen seen = { 0 };
	int ok = lb_park(&addr, pl_no, NULL) == LB_PARK_INVALID && lb_parked_on(&addr) == 0;

	for (unsigned i = 0; i < PL_THREADS; i++) {
		w[i] = (struct pl_waiter){ .addr = &addr, .got = 0 };
		tap_spawn(&th[i], pl_park, &w[i]);
		while (lb_parked_on(&addr) != i + 1)
			tap_sleep_ms(1);
	}
	ok = ok && lb_parked_on(&other) == 0;
	for (unsigned i = 0; i <= PL_THREADS; i++)
		lb_unpark_one(&addr, pl_token, &seen);
	for (unsigned i = 0; i < PL_THREADS; i++) {
		pthread_join(th[i], NULL);
		ok = ok && w[i].got == 100 + i;
	}
	for (unsigned i = 0; i < PL_THREADS; i++)
		ok = ok && seen.r[i].unparked && seen.r[i].more == (i + 1 < PL_THREADS);
	ok = ok && seen.calls == PL_THREADS + 1 && !seen.r[PL_THREADS].unparked &&
	     lb_parked_on(&addr) == 0;
	tap(ok, "%s: parking lot: invalid park returns at once; %d parked threads unparked "
	    "first-in first-out with their tokens (%lu %lu %lu), 'more' right, an empty "
	    "unpark says so", im->id, PL_THREADS, (unsigned long)w[0].got,
	    (unsigned long)w[1].got, (unsigned long)w[2].got);
}

/* test-busted: the checker must catch it.  If the threads never overlapped
 * (a busy machine), try again, up to 10 times. */
static void case_busted(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)x; /* the case runner passes an argument these do not use */
	struct mx_result r = mutex_exclusion(im, n, 0, 1);
	for (int a = 0; !r.err && mx_bad(&r) == 0 && a < 10; a++)
		r = mutex_exclusion(im, n, 0, 1);
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
	/* A sanitizer build checks the correct implementations at the two
	 * contended extremes only (TAP_SANITIZED); the broken ones (the
	 * guard test counts test-stuck's four hung cases) at every count. */
	static const unsigned san_counts[] = { 2, 8 };

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
			int few = TAP_SANITIZED && !(im->caps & LB_CAP_HIDDEN);
			const unsigned *cs = few ? san_counts : counts;
			size_t nc = few ? sizeof(san_counts) / sizeof(san_counts[0])
					: sizeof(counts) / sizeof(counts[0]);
			for (size_t c = 0; c < nc; c++) {
				if (busted && cs[c] >= 2)
					tap_run(im, case_busted, cs[c], 0, "caught, %u threads",
						cs[c]);
				else if (!busted)
					tap_run(im, case_exclusion, cs[c], 0,
						"mutual exclusion, %u threads", cs[c]);
			}
			if ((im->caps & LB_CAP_PARKS) && !(im->caps & LB_CAP_HIDDEN))
				tap_run(im, case_long_sections, 4, 0, "long sections, 4 threads");
			if (im->caps & LB_CAP_NUMA) {
				tap_run(im, case_clusters, 6, 0, "6 threads in 3 clusters");
				tap_run(im, case_clusters, 6, 2000, "6 threads in 3 clusters, held");
			}
			if (im->index == LB_IMPL_futex_mcs_park ||
			    im->index == LB_IMPL_futex_malthusian)
				tap_run(im, case_mcs_park_fifo, 0, 0, "hand-off order to sleepers");
			if (im->index == LB_IMPL_lit_mcs_tp)
				tap_run(im, case_mcs_tp_skip, 0, 0, "skips a stale waiter");
			if (im->index == LB_IMPL_futex_parkinglot)
				tap_run(im, case_parking_lot, 0, 0, "the parking lot");
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
