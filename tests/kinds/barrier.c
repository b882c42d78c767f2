/* barrier: nobody leaves phase k before everyone has arrived at it, and
 * what each thread wrote before the barrier is visible after.
 *
 * LB_TEST_BARRIER_PHASES=N overrides the 1000 phases.
 * LB_TEST_BARRIER_FULL=1 runs them all even for spin-only barriers with
 * more threads than CPUs (the 'slow' suite; minutes on 2 CPUs). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindtest.h"
#include "timer.h"

static unsigned barrier_phases = 1000;

int kindtest_barrier_setup(void)
{
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
	return 0;
}
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
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
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
		kt_team_spawn(&tm, bar_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	uint64_t t0 = lb_now_ns(), last_sum = 0;
	int hung = 0;
	struct tap_guard g;
	tap_guard_start(&g, 0, GUARD_MS);
	/* Hung means no phase completed for GUARD_MS, not slow: spinning
	 * barriers on fewer CPUs than threads may legitimately take long. */
	while (atomic_load(&sh->finished) < n && !atomic_load(&sh->g.attach_err)) {
		uint64_t sum = 0;
		for (unsigned i = 0; i < n; i++)
			sum += atomic_load_explicit(&sh->phase[i], memory_order_relaxed);
		if (sum != last_sum) {
			last_sum = sum;
			tap_guard_reset(&g, GUARD_MS);
		} else if (tap_guard_over(&g)) {
			hung = 1;
			break;
		}
		tap_sleep_ms(1);
	}
	double secs = (double)(lb_now_ns() - t0) / 1e9;
	unsigned stuck = kt_team_join(&tm, hung ? 0 : GUARD_MS);
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

void kindtest_barrier(const struct lb_impl *im)
{
	for (size_t c = 0; c < KT_NCOUNTS; c++)
		tap_run(im, barrier_case, kt_counts[c], 0, "%u threads", kt_counts[c]);
}
