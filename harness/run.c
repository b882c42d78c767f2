/* One configuration, one repetition: start the threads together, warm up,
 * open and close the timed window, watch for stalls, check, and reduce the
 * per-thread numbers to a row.
 *
 * The main thread does no work in the window: it sleeps in short slices and
 * reads the workers' published op counts.  If the total stops moving for
 * --watchdog seconds the run is a stall: the report names each thread's
 * state, and the caller exits 1 without waiting for threads that will never
 * return.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "futex.h"
#include "lockbench.h"

volatile int lb_interrupted;

enum { GATE_WAIT = 0, GATE_GO = 1, GATE_ABORT = 2 };

struct run_shared {
	const struct lb_run_cfg *rc;
	struct lb_wctx *wc;
	lb_loop_fn loop;
	_Atomic uint32_t gate;   /* futex word: GATE_* */
	_Atomic unsigned ready;  /* threads that reached the gate */
};

struct thread_arg {
	struct run_shared *sh;
	struct lb_worker *w;
	int err;
	const char *what;
};

static void *worker_main(void *arg)
{
	struct thread_arg *a = arg;
	struct run_shared *sh = a->sh;
	struct lb_worker *w = a->w;
	int attached = 0;

	if (w->cpu >= 0 && (a->err = lb_pin_self(w->cpu)) != 0) {
		a->what = "pinning";
	} else if ((a->err = sh->rc->wl->thread_init(sh->wc, w)) != 0) {
		a->what = "attaching to the primitive";
	} else {
		attached = 1;
	}
	atomic_store_explicit(&w->phase, a->err ? LB_PH_FAILED : LB_PH_READY,
			      memory_order_relaxed);
	/* release: our a->err and thread_init's writes happen-before the main
	 * thread's acquire load of ready. */
	atomic_fetch_add_explicit(&sh->ready, 1, memory_order_release);

	uint32_t g;
	/* acquire: pairs with the main thread's release store of the gate. */
	while ((g = atomic_load_explicit(&sh->gate, memory_order_acquire)) == GATE_WAIT)
		lb_futex_wait(&sh->gate, GATE_WAIT, NULL);
	if (g == GATE_GO) {
		atomic_store_explicit(&w->phase, LB_PH_WARMUP, memory_order_relaxed);
		sh->loop(w);
	} else {
		atomic_store_explicit(&w->phase, LB_PH_DONE, memory_order_release);
	}
	if (attached && sh->rc->wl->thread_fini)
		sh->rc->wl->thread_fini(sh->wc, w);
	return NULL;
}

static const char *phase_name(int p)
{
	static const char *const names[] = {
		"starting", "ready at the start gate", "warming up", "measuring",
		"stopping (finishing its current op)", "done", "failed to start",
	};
	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

static uint64_t total_progress(struct lb_worker *ws, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += atomic_load_explicit(&ws[i].pub_ops, memory_order_relaxed);
	return s;
}

static uint64_t total_attempts(struct lb_worker *ws, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += atomic_load_explicit(&ws[i].pub_attempts, memory_order_relaxed);
	return s;
}

static int all_done(struct lb_worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		/* acquire: pairs with lb_finish()'s release store. */
		if (atomic_load_explicit(&ws[i].phase, memory_order_acquire) != LB_PH_DONE)
			return 0;
	return 1;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !lb_interrupted)
		;
}

#define POLL_NS 10000000u /* 10 ms */

enum wait_result { W_DONE, W_STALL, W_INTR };

/* Sleep until deadline_ns (or, if until_done, until every worker is done),
 * watching that the op total keeps moving. */
static enum wait_result watch(struct lb_worker *ws, unsigned n, uint64_t deadline_ns,
			      int until_done, double watchdog_s, uint64_t *last_change,
			      uint64_t *attempts_at_change)
{
	uint64_t last = total_progress(ws, n);
	*attempts_at_change = total_attempts(ws, n);
	for (;;) {
		uint64_t now = lb_now_ns();
		if (until_done ? all_done(ws, n) : now >= deadline_ns)
			return W_DONE;
		if (lb_interrupted && !until_done)
			return W_INTR;
		uint64_t p = total_progress(ws, n);
		if (p != last) {
			last = p;
			*last_change = now;
			*attempts_at_change = total_attempts(ws, n);
		} else if ((double)(now - *last_change) / 1e9 > watchdog_s) {
			return W_STALL;
		}
		uint64_t left = until_done ? POLL_NS : deadline_ns - now;
		sleep_ns(left < POLL_NS ? left : POLL_NS);
	}
}

static void stall_report(const struct lb_run_cfg *rc, struct lb_wctx *wc, struct lb_worker *ws,
			 double idle_s, uint64_t attempts_before)
{
	uint64_t busy = total_attempts(ws, rc->nthreads) - attempts_before;
	if (busy)
		fprintf(stderr, "lockbench: watchdog: LIVELOCK: %s/%s with %u threads stayed busy "
			"(%llu failed attempts) but completed nothing for %.1f s; thread states:\n",
			rc->wl->name, rc->impl->id, rc->nthreads, (unsigned long long)busy, idle_s);
	else
		fprintf(stderr, "lockbench: watchdog: STALL: %s/%s with %u threads made no "
			"progress for %.1f s (deadlock or lost wake-up); thread states:\n",
			rc->wl->name, rc->impl->id, rc->nthreads, idle_s);
	for (unsigned i = 0; i < rc->nthreads; i++) {
		int ph = atomic_load_explicit(&ws[i].phase, memory_order_relaxed);
		fprintf(stderr, "  thread %u (cpu %d): %s, %llu ops done, %llu attempts\n", i,
			ws[i].cpu, phase_name(ph),
			(unsigned long long)atomic_load_explicit(&ws[i].pub_ops, memory_order_relaxed),
			(unsigned long long)atomic_load_explicit(&ws[i].pub_attempts,
								 memory_order_relaxed));
	}
	if (rc->wl->describe_stall)
		rc->wl->describe_stall(wc, ws, stderr);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void fill_rows(const struct lb_run_cfg *rc, struct lb_worker *ws, double dur,
		      struct lb_row *row, struct lb_thread_row *trows)
{
	unsigned n = rc->nthreads;
	uint64_t *wops = calloc(n, sizeof(uint64_t));
	struct lb_hist *all = malloc(sizeof(*all));

	if (all)
		lb_hist_reset(all);
	row->duration_s = dur;
	row->ops = 0;
	row->cpu_s = 0;
	row->ctx_voluntary = row->ctx_involuntary = 0;
	row->thread_ops_min = UINT64_MAX;
	row->thread_ops_max = 0;
	for (unsigned i = 0; i < n; i++) {
		struct lb_worker *w = &ws[i];
		struct lb_thread_row *t = &trows[i];
		uint64_t o = w->ops_at_stop - w->ops_at_measure;
		double cpu = tv_s(w->ru_stop.ru_utime) - tv_s(w->ru_measure.ru_utime) +
			     tv_s(w->ru_stop.ru_stime) - tv_s(w->ru_measure.ru_stime);

		if (wops)
			wops[i] = o;
		row->ops += o;
		row->cpu_s += cpu;
		if (o < row->thread_ops_min)
			row->thread_ops_min = o;
		if (o > row->thread_ops_max)
			row->thread_ops_max = o;

		memset(t, 0, sizeof(*t));
		t->tid = i;
		t->cpu = w->cpu;
		t->cpu_at_end = w->cpu_at_end;
		t->ops = o;
		t->ops_per_sec = dur > 0 ? (double)o / dur : NAN;
		t->cpu_s = cpu;
		t->ctx_voluntary = (uint64_t)(w->ru_stop.ru_nvcsw - w->ru_measure.ru_nvcsw);
		t->ctx_involuntary = (uint64_t)(w->ru_stop.ru_nivcsw - w->ru_measure.ru_nivcsw);
		row->ctx_voluntary += t->ctx_voluntary;
		row->ctx_involuntary += t->ctx_involuntary;
		t->lat_samples = w->hist->count;
		if (w->hist->count) {
			t->lat_p50_ns = (double)lb_hist_quantile(w->hist, 0.50);
			t->lat_p99_ns = (double)lb_hist_quantile(w->hist, 0.99);
			t->lat_p999_ns = (double)lb_hist_quantile(w->hist, 0.999);
			t->lat_max_ns = (double)w->hist->max;
		} else {
			t->lat_p50_ns = t->lat_p99_ns = t->lat_p999_ns = t->lat_max_ns = NAN;
		}
		if (all)
			lb_hist_merge(all, w->hist);
	}
	row->ops_per_sec = dur > 0 ? (double)row->ops / dur : NAN;
	row->ops_per_cpu_s = row->cpu_s > 0 ? (double)row->ops / row->cpu_s : NAN;
	row->fairness = wops ? lb_jain(wops, n) : NAN;
	row->lat_samples = all ? all->count : 0;
	if (all && all->count) {
		row->lat_p50_ns = (double)lb_hist_quantile(all, 0.50);
		row->lat_p99_ns = (double)lb_hist_quantile(all, 0.99);
		row->lat_p999_ns = (double)lb_hist_quantile(all, 0.999);
		row->lat_max_ns = (double)all->max;
	} else {
		row->lat_p50_ns = row->lat_p99_ns = row->lat_p999_ns = row->lat_max_ns = NAN;
	}
	free(wops);
	free(all);
}

enum lb_run_status lb_run_one(const struct lb_run_cfg *rc, struct lb_row *row,
			      struct lb_thread_row *trows, struct lb_check *chk)
{
	unsigned n = rc->nthreads;
	struct lb_wctx wc = { .impl = rc->impl, .nthreads = n,
			      .cfg = { .nthreads = n, .nclusters = lb_topo_nclusters() } };
	struct run_shared sh = { .rc = rc, .wc = &wc, .loop = rc->wl->loops[rc->impl->index] };
	struct lb_worker *ws = NULL;
	struct thread_arg *args = NULL;
	pthread_t *th = NULL;
	unsigned created = 0;
	_Atomic unsigned ctl;
	enum lb_run_status status = LB_RUN_ERROR;
	int ret;

	memcpy(wc.param_vals, rc->param_vals, sizeof(wc.param_vals));
	atomic_init(&ctl, LB_CTL_WARMUP);
	atomic_init(&sh.gate, GATE_WAIT);
	atomic_init(&sh.ready, 0);
	memset(chk, 0, sizeof(*chk));
	for (int i = 0; i < LB_MAX_EXTRA; i++)
		chk->extra[i] = NAN;

	ws = aligned_alloc(LB_CACHELINE, n * sizeof(*ws));
	args = calloc(n, sizeof(*args));
	th = calloc(n, sizeof(*th));
	if (!ws || !args || !th) {
		fprintf(stderr, "lockbench: out of memory for %u threads\n", n);
		goto out_free;
	}
	memset(ws, 0, n * sizeof(*ws));
	for (unsigned i = 0; i < n; i++) {
		struct lb_worker *w = &ws[i];
		w->tid = i;
		w->cpu = rc->pin->cpus ? rc->pin->cpus[i % rc->pin->ncpus] : -1;
		w->cluster = lb_topo_cluster_of(w->cpu);
		w->ctl = &ctl;
		w->cs_iters = lb_busy_iters(rc->cs_ns);
		w->think_iters = lb_busy_iters(rc->think_ns);
		w->sample_mask = 0; /* sample the first op, then adapt */
		w->sample_mask_max = rc->sample_mask;
		w->sample_budget_ns = 100 * 2 * lb_timer.cost_ns;
		w->ns_per_tick = lb_timer.ns_per_tick;
		w->seen = LB_CTL_WARMUP;
		w->cpu_at_end = -1;
		w->hist = malloc(sizeof(*w->hist));
		if (!w->hist) {
			fprintf(stderr, "lockbench: out of memory for histograms\n");
			goto out_hist;
		}
		lb_hist_reset(w->hist);
		atomic_init(&w->pub_ops, 0);
		atomic_init(&w->pub_attempts, 0);
		atomic_init(&w->phase, LB_PH_STARTING);
	}

	if ((ret = rc->wl->setup(&wc)) != 0) {
		fprintf(stderr, "lockbench: setting up %s for %s: %s\n", rc->wl->name,
			rc->impl->id, strerror(ret));
		goto out_hist;
	}

	for (; created < n; created++) {
		args[created].sh = &sh;
		args[created].w = &ws[created];
		if ((ret = pthread_create(&th[created], NULL, worker_main, &args[created])) != 0) {
			fprintf(stderr, "lockbench: creating thread %u of %u: %s\n", created, n,
				strerror(ret));
			break;
		}
	}
	/* acquire: pairs with each worker's release increment of ready. */
	while (atomic_load_explicit(&sh.ready, memory_order_acquire) < created)
		sleep_ns(100000);
	int failed = created < n;
	for (unsigned i = 0; i < created; i++) {
		if (args[i].err) {
			fprintf(stderr, "lockbench: thread %u: %s%s%d: %s\n", i, args[i].what,
				ws[i].cpu >= 0 ? " to cpu " : "", ws[i].cpu >= 0 ? ws[i].cpu : 0,
				strerror(args[i].err));
			failed = 1;
		}
	}
	/* release: the workers' acquire load of the gate sees a fully set-up
	 * run (state, ctl). */
	atomic_store_explicit(&sh.gate, failed ? GATE_ABORT : GATE_GO, memory_order_release);
	lb_futex_wake(&sh.gate, INT_MAX);
	if (failed) {
		for (unsigned i = 0; i < created; i++)
			pthread_join(th[i], NULL);
		goto out_teardown;
	}

	uint64_t last_change = lb_now_ns(), att;
	uint64_t t_start = lb_now_ns();
	enum wait_result wr = watch(ws, n, t_start + (uint64_t)(rc->warmup_s * 1e9), 0,
				    rc->watchdog_s, &last_change, &att);
	uint64_t t0 = 0, t1 = 0;
	if (wr == W_DONE) {
		/* relaxed: the workers only need to notice the change eventually;
		 * see lb_running(). */
		atomic_store_explicit(&ctl, LB_CTL_MEASURE, memory_order_relaxed);
		t0 = lb_now_ns();
		wr = watch(ws, n, t0 + (uint64_t)(rc->duration_s * 1e9), 0, rc->watchdog_s,
			   &last_change, &att);
	}
	atomic_store_explicit(&ctl, LB_CTL_STOP, memory_order_relaxed);
	t1 = lb_now_ns();
	if (wr == W_STALL) {
		stall_report(rc, &wc, ws, rc->watchdog_s, att);
		return LB_RUN_STALLED; /* threads are stuck: nothing to free safely */
	}
	last_change = lb_now_ns();
	if (watch(ws, n, 0, 1, rc->watchdog_s, &last_change, &att) == W_STALL) {
		stall_report(rc, &wc, ws, rc->watchdog_s, att);
		return LB_RUN_STALLED;
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (wr == W_INTR) {
		status = LB_RUN_INTERRUPTED;
		goto out_teardown;
	}

	wc.window_s = (double)(t1 - t0) / 1e9;
	rc->wl->check(&wc, ws, chk);
	fill_rows(rc, ws, (double)(t1 - t0) / 1e9, row, trows);
	row->has_lost = chk->has_lost;
	row->lost_updates = chk->lost_updates;
	row->verdict = chk->verdict;
	memcpy(row->extra, chk->extra, sizeof(row->extra));
	status = LB_RUN_OK;

out_teardown:
	rc->wl->teardown(&wc);
out_hist:
	for (unsigned i = 0; i < n; i++)
		free(ws[i].hist);
out_free:
	free(ws);
	free(args);
	free(th);
	return status;
}
