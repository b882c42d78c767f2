/* Semantics of every registered primitive, through the registry's ops (the
 * same objects the workloads inline).  TAP output, one line per check.
 *
 *   mutex:   mutual exclusion at 1, 2, 4 and 8 threads, by a CK-style
 *            in-section check (count a private word up to K inside the
 *            section, check it reads K, count it back down) and by an exact
 *            shared counter; trylock is false while another thread holds
 *            the lock, true when it is free, and never blocks.
 *   counter: exact totals at 1, 2, 4 and 8 threads.
 *   none-racy must lose updates at 2 threads (negative control) and
 *   test-busted must fail the mutual-exclusion check (the checker works).
 *
 * usage: test_prims [--backend NAME]... [--impl ID]...  (default: all)
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry.h"
#include "timer.h"

static int tap_n, tap_failed;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

#define RUN_MS 150
#define IN_SECTION_K 8

struct mx_shared {
	const struct lb_impl *im;
	void *lock;
	_Atomic int go, stop;
	_Atomic unsigned ready;
	/* Only touched inside the section: relaxed atomics so that a broken
	 * lock shows up as a failed check, not as undefined behaviour. */
	_Atomic uint64_t in_section, counter;
	_Atomic uint64_t violations;
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
	const struct lb_mutex_ops *ops = sh->im->ops.mutex;
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
		uint64_t v0 = atomic_load_explicit(&sh->in_section, memory_order_relaxed);
		for (int k = 0; k < IN_SECTION_K; k++)
			atomic_store_explicit(&sh->in_section,
				atomic_load_explicit(&sh->in_section, memory_order_relaxed) + 1,
				memory_order_relaxed);
		uint64_t v1 = atomic_load_explicit(&sh->in_section, memory_order_relaxed);
		for (int k = 0; k < IN_SECTION_K; k++)
			atomic_store_explicit(&sh->in_section,
				atomic_load_explicit(&sh->in_section, memory_order_relaxed) - 1,
				memory_order_relaxed);
		if (v0 != 0 || v1 != IN_SECTION_K)
			atomic_fetch_add(&sh->violations, 1);
		atomic_store_explicit(&sh->counter,
			atomic_load_explicit(&sh->counter, memory_order_relaxed) + 1,
			memory_order_relaxed);
		ops->unlock(sh->lock, tctx);
		t->ops++;
	}
	lb_prim_thread_detach(sh->im, sh->lock, tctx);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Returns the number of in-section violations plus lost counter updates;
 * -1 if the run could not be set up. */
static long mutex_exclusion(const struct lb_impl *im, unsigned n, uint64_t *ops_out)
{
	struct mx_shared sh = { .im = im };
	struct mx_thread t[16];
	pthread_t th[16];
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	long bad = -1;

	if (lb_prim_create(im, &cfg, &sh.lock) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct mx_thread){ .sh = &sh, .tid = i };
		pthread_create(&th[i], NULL, mx_worker, &t[i]);
	}
	while (atomic_load(&sh.ready) < n)
		sleep_ms(1);
	atomic_store(&sh.go, 1);
	sleep_ms(RUN_MS);
	atomic_store(&sh.stop, 1);
	uint64_t sum = 0;
	int err = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		sum += t[i].ops;
		err |= t[i].err;
	}
	if (!err)
		bad = (long)atomic_load(&sh.violations) + (long)(sum - atomic_load(&sh.counter));
	*ops_out = sum;
	lb_prim_destroy(im, sh.lock);
	return bad;
}

/* ---- trylock ---- */

struct try_arg {
	const struct lb_impl *im;
	void *lock;
	unsigned tid;
	int result;
	_Atomic int done;
};

static void *try_once(void *arg)
{
	struct try_arg *a = arg;
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *tctx;
	if (lb_prim_thread_attach(a->im, a->lock, &ti, &tctx) != 0) {
		a->result = -1;
	} else {
		a->result = a->im->ops.mutex->trylock(a->lock, tctx);
		if (a->result)
			a->im->ops.mutex->unlock(a->lock, tctx);
		lb_prim_thread_detach(a->im, a->lock, tctx);
	}
	atomic_store(&a->done, 1);
	return NULL;
}

/* Trylock from another thread; -2 if it did not return within 5 s. */
static int try_from_other_thread(const struct lb_impl *im, void *lock, unsigned tid)
{
	struct try_arg a = { .im = im, .lock = lock, .tid = tid };
	pthread_t th;
	pthread_create(&th, NULL, try_once, &a);
	for (int i = 0; i < 5000 && !atomic_load(&a.done); i++)
		sleep_ms(1);
	if (!atomic_load(&a.done)) {
		pthread_detach(th);
		return -2; /* blocked: leak the thread, the test has failed */
	}
	pthread_join(th, NULL);
	return a.result;
}

static void trylock_semantics(const struct lb_impl *im)
{
	const struct lb_mutex_ops *ops = im->ops.mutex;
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *lock, *tctx;

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
	r = try_from_other_thread(im, lock, 2);
	tap(r == 1, "%s: trylock after release succeeds", im->id);
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
		sh->im->ops.counter->add(sh->obj, tctx);
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
		pthread_create(&th[i], NULL, cnt_worker, &a[i]);
	}
	while (atomic_load(&sh.started) < n)
		sleep_ms(1);
	sleep_ms(ms);
	atomic_store(&sh.stop, 1);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		*adds += a[i].adds;
	}
	uint64_t t = im->ops.counter->total(sh.obj);
	lb_prim_destroy(im, sh.obj);
	return t;
}

/* ---- selection ---- */

static const char *sel_backends[16], *sel_impls[64];
static int nsel_b, nsel_i;

static int selected(const struct lb_impl *im)
{
	if (!nsel_b && !nsel_i)
		return 1;
	for (int i = 0; i < nsel_b; i++)
		if (strcmp(sel_backends[i], im->backend) == 0)
			return 1;
	for (int i = 0; i < nsel_i; i++)
		if (strcmp(sel_impls[i], im->id) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned counts[] = { 1, 2, 4, 8 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc && nsel_b < 16)
			sel_backends[nsel_b++] = argv[++i];
		else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc && nsel_i < 64)
			sel_impls[nsel_i++] = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--backend NAME]... [--impl ID]...\n", argv[0]);
			return 2;
		}
	}
	lb_timer_calibrate();

	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (!selected(im))
			continue;
		/* The other kinds have their own semantics: tests/test_kinds.c. */
		if (im->kind != LB_KIND_MUTEX && im->kind != LB_KIND_COUNTER &&
		    im->kind != LB_KIND_NONE)
			continue;
		if (im->kind == LB_KIND_MUTEX) {
			int broken = strcmp(im->id, "test-busted") == 0;
			if (strcmp(im->id, "test-stuck") == 0)
				continue; /* it stalls by design: the watchdog test runs it */
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				uint64_t ops = 0;
				long bad = mutex_exclusion(im, counts[c], &ops);
				/* The broken lock must be caught; if the threads never
				 * overlapped (a busy machine), try again, up to 10 times. */
				for (int a = 0; broken && counts[c] >= 2 && bad == 0 && a < 10; a++)
					bad = mutex_exclusion(im, counts[c], &ops);
				if (broken && counts[c] >= 2)
					tap(bad > 0, "%s: %u threads: the broken lock is caught (%ld "
					    "violations in %llu ops)", im->id, counts[c], bad,
					    (unsigned long long)ops);
				else if (!broken)
					tap(bad == 0 && ops > 0, "%s: %u threads: mutual exclusion held "
					    "over %llu ops (%ld violations)", im->id, counts[c],
					    (unsigned long long)ops, bad);
			}
			if (im->ops.mutex->trylock && !broken)
				trylock_semantics(im);
		} else if (im->caps & LB_CAP_RACY) {
			/* Negative control: with two threads really running at once, the
			 * separate load and store must lose updates.  Retry a few times
			 * in case the threads happened not to overlap. */
			uint64_t t = 0, adds = 0;
			for (int attempt = 0; attempt < 10 && t == adds; attempt++)
				t = counter_total(im, 2, 50L << (attempt < 4 ? attempt : 4), &adds);
			tap(t < adds, "%s: 2 threads lose updates (%llu of %llu survived)", im->id,
			    (unsigned long long)t, (unsigned long long)adds);
		} else {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				uint64_t adds;
				uint64_t t = counter_total(im, counts[c], 30, &adds);
				tap(t == adds && adds > 0, "%s: %u threads: total %llu == %llu adds",
				    im->id, counts[c], (unsigned long long)t, (unsigned long long)adds);
			}
		}
	}
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
