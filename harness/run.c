/* One configuration, one repetition: start the threads together, warm up,
 * open and close the timed window, watch for stalls, check, and reduce the
 * per-thread numbers to a row.
 *
 * Ownership.  Everything a worker thread can touch (the control word, the
 * start gate, its own struct lb_worker and histogram, the workload context
 * and through it the workload's state) lives in one heap object, struct
 * lb_run.  It is freed only after every worker has been joined.  When the
 * watchdog declares a stall, some workers may never return: the object is
 * then deliberately leaked (kept reachable from stuck_runs, so the leak
 * checker does not count it), and the main thread writes nothing into it
 * after that point except the STOP it has already published.  A worker
 * that wakes up later (a livelocked thread that sees STOP and runs its
 * thread_fini) only ever touches that object, never main's stack.
 *
 * The main thread does no work in the window: it sleeps in short slices and
 * reads the workers' published counts.  The watchdog counts idle time only
 * over polls in which the workers could run (see watch()).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "futex.h"
#include "lockbench.h"

volatile int lb_interrupted;

enum { GATE_WAIT = 0, GATE_GO = 1, GATE_ABORT = 2 };

struct thread_arg {
	struct lb_run *run;
	struct lb_worker *w;
	int err;
	const char *what;
};

struct lb_run {
	struct lb_run_cfg rc;    /* a copy: main's may go out of scope */
	struct lb_wctx wc;
	lb_loop_fn loop;
	_Atomic unsigned ctl;    /* LB_CTL_*: the workers' phase */
	_Atomic uint32_t gate;   /* futex word: GATE_* */
	_Atomic unsigned ready;  /* threads that reached the gate */
	unsigned n;
	struct lb_worker *ws;    /* [n], cache-line aligned */
	struct thread_arg *args; /* [n] */
	pthread_t *th;           /* [n] */
	struct lb_run *next_stuck;
};

/* Runs whose workers could not be joined (a stall): never freed. */
static struct lb_run *stuck_runs;

static void *worker_main(void *arg)
{
	struct thread_arg *a = arg;
	struct lb_run *run = a->run;
	struct lb_worker *w = a->w;
	int attached = 0;

	w->os_tid = (int)syscall(SYS_gettid);
	w->sched_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	w->sched_ok = w->sched_fd >= 0;
	w->stat_fd = open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC);
	if (w->cpu >= 0 && (a->err = lb_pin_self(w->cpu)) != 0) {
		a->what = "pinning";
	} else if ((a->err = run->rc.wl->thread_init(&run->wc, w)) != 0) {
		a->what = "attaching to the primitive";
	} else {
		attached = 1;
		/* After pinning: a migration counted is one in the window. */
		lb_counters_open(&w->counters);
	}
	atomic_store_explicit(&w->phase, a->err ? LB_PH_FAILED : LB_PH_READY,
			      memory_order_relaxed);
	/* release: our a->err and thread_init's writes happen-before the main
	 * thread's acquire load of ready. */
	atomic_fetch_add_explicit(&run->ready, 1, memory_order_release);

	uint32_t g;
	/* acquire: pairs with the main thread's release store of the gate. */
	while ((g = atomic_load_explicit(&run->gate, memory_order_acquire)) == GATE_WAIT)
		lb_futex_wait(&run->gate, GATE_WAIT, NULL);
	if (g == GATE_GO) {
		atomic_store_explicit(&w->phase, LB_PH_WARMUP, memory_order_relaxed);
		run->loop(w);
	}
	lb_counters_close(&w->counters);
	if (attached && run->rc.wl->thread_fini)
		run->rc.wl->thread_fini(&run->wc, w);
	if (g != GATE_GO)
		/* release: pairs with all_done()'s acquire. */
		atomic_store_explicit(&w->phase, LB_PH_DONE, memory_order_release);
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

static uint64_t total_progress(const struct lb_worker *ws, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += atomic_load_explicit(&ws[i].pub_ops, memory_order_relaxed);
	return s;
}

static uint64_t total_attempts(const struct lb_worker *ws, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += atomic_load_explicit(&ws[i].pub_attempts, memory_order_relaxed);
	return s;
}

/* Every worker has shown that it runs: an op or a failed attempt. */
static int all_started(const struct lb_worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!atomic_load_explicit(&ws[i].pub_ops, memory_order_relaxed) &&
		    !atomic_load_explicit(&ws[i].pub_attempts, memory_order_relaxed))
			return 0;
	return 1;
}

static int all_done(const struct lb_worker *ws, unsigned n)
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

/* The share of a poll interval in which the workers could have made
 * progress, for the watchdog: 1 when they ran or were blocked (asleep in
 * the kernel: a deadlock), their run time over run + wait time when they
 * were runnable but waiting for a CPU that another process had, and 0
 * while one of them has been runnable and kept off every CPU for more
 * than STARVED_NS.  From the kernel's per-thread schedstat; 1 where it
 * keeps none.
 *
 * A waiting thread needs its state: the kernel books a wait in schedstat
 * only when the thread gets a CPU, so a thread queued behind another
 * process shows neither run nor wait time, exactly like a thread asleep
 * on a lock.  A worker that is runnable ('R') and did not run since the
 * previous poll waited all along: its wait is counted here, as the poll's
 * length (the kernel books it again later; counting a wait twice only
 * slows a verdict).  After SIGCONT on a loaded machine that is every
 * worker for a while: availability 0, not 1 (the watchdog called such a
 * run stalled: test_trust's SIGSTOP test, under stress-ng).
 *
 * Not "0 when a worker did not run during this poll": on a loaded machine
 * a runnable thread waits a few scheduler slices (about 3 ms each) between
 * runs, longer than the 10 ms poll, so with 4 workers nearly every poll had
 * one that had not run yet, and the watchdog never saw a livelock at all
 * (the livelock test, two test suites and stress-ng on 2 CPUs).  STARVED_NS
 * is many slices: a worker kept off the CPUs that long is starved (a lock
 * holder preempted by another process, say), not waiting for its turn. */
#define STARVED_NS 250000000u /* 250 ms */

/* One idle poll's view of the live workers, as changes since the previous
 * poll's (per worker, so a worker that finishes in between changes no
 * sum). */
struct cpu_view {
	uint64_t run, wait; /* run and booked wait since the previous poll */
	uint64_t at;        /* when read (CLOCK_MONOTONIC) */
	uint64_t pending;   /* waits not booked yet: see above */
	int ok;
	int starved;        /* a worker runnable that has not run for STARVED_NS */
};

/* The state letter of /proc/.../stat (after the command's ')'), or 0. */
static char thread_state(int fd)
{
	char buf[512];
	ssize_t r;

	if (fd < 0 || (r = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[r] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* prev: the view at the previous idle poll, or NULL (then no thread can be
 * said to have not run: the starvation clock of each starts now). */
static struct cpu_view cpu_view(struct lb_worker *ws, unsigned n, const struct cpu_view *prev,
				uint64_t now)
{
	struct cpu_view v = { .at = now, .ok = 1 };
	for (unsigned i = 0; i < n && v.ok; i++) {
		uint64_t r, w;
		/* A worker that is done has left, or is leaving: it cannot be
		 * kept off a CPU, and once its thread has exited its schedstat
		 * reads fail (ESRCH).  That failure used to void the whole view
		 * (availability 1), so a worker still measuring but starved
		 * behind another process counted as idle at full rate: a false
		 * STALL with one thread done and the other runnable (two .ci/run
		 * at once under stress-ng).  acquire: pairs with lb_finish()'s
		 * release store, as in all_done(). */
		if (atomic_load_explicit(&ws[i].phase, memory_order_acquire) == LB_PH_DONE)
			continue;
		if (!ws[i].sched_ok || lb_schedstat_read(ws[i].sched_fd, &r, &w) != 0) {
			v.ok = 0;
			break;
		}
		if (!prev || r != ws[i].watch_run_ns || thread_state(ws[i].stat_fd) != 'R') {
			ws[i].watch_seen_ns = now;
		} else {
			v.pending += now - prev->at;
			if (now - ws[i].watch_seen_ns > STARVED_NS)
				v.starved = 1;
		}
		if (prev && r >= ws[i].watch_run_ns && w >= ws[i].watch_wait_ns) {
			v.run += r - ws[i].watch_run_ns;
			v.wait += w - ws[i].watch_wait_ns;
		}
		ws[i].watch_run_ns = r;
		ws[i].watch_wait_ns = w;
	}
	return v;
}

/* b: the view of this poll (the previous one was usable). */
static double availability(struct cpu_view b)
{
	if (!b.ok)
		return 1;
	if (b.starved)
		return 0;
	uint64_t w = b.wait + b.pending;
	return b.run + w == 0 ? 1 : (double)b.run / (double)(b.run + w);
}

struct watch_state {
	uint64_t last_ops, attempts_at_change;
	double idle_s;          /* idle time that counts: see watch() */
	struct cpu_view cv;     /* at the previous idle poll */
};

enum wait_result { W_DONE, W_STALL, W_INTR };
enum watch_until { UNTIL_DEADLINE, UNTIL_STARTED, UNTIL_DONE };

/* Sleep until the deadline (and, for UNTIL_STARTED, until every worker has
 * run; for UNTIL_DONE, until every worker is done), watching that the op
 * total keeps moving.
 *
 * A stall is watchdog_s of idle time in which the workers could have run.
 * Each idle poll adds its wall time, but at most two poll periods (a
 * process stopped by SIGSTOP or a paused VM does not poll, and its gap
 * does not count), scaled by the share of the interval in which the
 * workers were not kept off the CPUs by someone else (availability()). */
static enum wait_result watch(struct lb_run *run, uint64_t deadline_ns, enum watch_until until,
			      struct watch_state *st)
{
	struct lb_worker *ws = run->ws;
	unsigned n = run->n;
	uint64_t prev = lb_now_ns();

	for (;;) {
		uint64_t now = lb_now_ns();
		if (until == UNTIL_DONE ? all_done(ws, n)
		    : now >= deadline_ns && (until == UNTIL_DEADLINE || all_started(ws, n)))
			return W_DONE;
		if (lb_interrupted && until != UNTIL_DONE)
			return W_INTR;
		if (run->rc.wl->sample)
			run->rc.wl->sample(&run->wc);
		uint64_t p = total_progress(ws, n);
		if (p != st->last_ops) {
			st->last_ops = p;
			st->idle_s = 0;
			st->cv.ok = 0;
			st->attempts_at_change = total_attempts(ws, n);
		} else {
			/* Only now, with nothing moving, is it worth reading
			 * /proc: a run that progresses costs no more than the
			 * loads above. */
			struct cpu_view cv = cpu_view(ws, n, st->cv.ok ? &st->cv : NULL, now);
			double dt = (double)(now - prev) / 1e9;
			if (dt > 2 * POLL_NS / 1e9)
				dt = 2 * POLL_NS / 1e9;
			st->idle_s += dt * (st->cv.ok ? availability(cv) : 1);
			st->cv = cv;
			if (st->idle_s > run->rc.watchdog_s)
				return W_STALL;
		}
		prev = now;
		uint64_t left = until != UNTIL_DEADLINE || deadline_ns <= now ? POLL_NS
									      : deadline_ns - now;
		sleep_ns(left < POLL_NS ? left : POLL_NS);
	}
}

/* The watchdog's report, printed and kept for meta.json and report.html.
 * The workload's description may name the hazard (a wait-for cycle is a
 * deadlock); otherwise failed attempts that kept moving make it a
 * livelock, and nothing moving a stall. */
static void stall_report(struct lb_run *run, const struct watch_state *st, struct lb_diag *d)
{
	const struct lb_run_cfg *rc = &run->rc;
	const struct lb_worker *ws = run->ws;
	uint64_t busy = total_attempts(ws, run->n) - st->attempts_at_change;
	char *desc = NULL, *text = NULL;
	size_t dlen = 0, len = 0;
	enum lb_diag_kind hint = LB_DIAG_NONE;
	FILE *f;

	if (rc->wl->describe_stall && (f = open_memstream(&desc, &dlen)) != NULL) {
		hint = rc->wl->describe_stall(&run->wc, run->ws, f);
		if (fclose(f) != 0) {
			free(desc);
			desc = NULL;
		}
	}
	d->kind = hint != LB_DIAG_NONE ? hint : busy ? LB_DIAG_LIVELOCK : LB_DIAG_STALL;
	if (d->kind == LB_DIAG_LIVELOCK)
		snprintf(d->summary, sizeof(d->summary), "watchdog: LIVELOCK: %s/%s with %u threads "
			 "stayed busy (%llu failed attempts) but completed nothing for %.1f s",
			 rc->wl->name, rc->impl->id, rc->nthreads, (unsigned long long)busy,
			 st->idle_s);
	else
		snprintf(d->summary, sizeof(d->summary), "watchdog: STALL: %s/%s with %u threads "
			 "made no progress for %.1f s (%s)", rc->wl->name, rc->impl->id,
			 rc->nthreads, st->idle_s, d->kind == LB_DIAG_DEADLOCK ? "a deadlock"
			 : "deadlock or lost wake-up");
	if ((f = open_memstream(&text, &len)) == NULL)
		f = stderr;
	fprintf(f, "lockbench: %s; thread states:\n", d->summary);
	d->nthreads = rc->nthreads < LB_DIAG_MAX_THREADS ? rc->nthreads : LB_DIAG_MAX_THREADS;
	for (unsigned i = 0; i < rc->nthreads; i++) {
		int ph = atomic_load_explicit(&ws[i].phase, memory_order_relaxed);
		uint64_t ops = atomic_load_explicit(&ws[i].pub_ops, memory_order_relaxed);
		uint64_t att = atomic_load_explicit(&ws[i].pub_attempts, memory_order_relaxed);
		/* The kernel's view too (S asleep, R runnable or running, T
		 * stopped): what tells a lost wake-up from starvation. */
		char ks = thread_state(ws[i].stat_fd);
		fprintf(f, "  thread %u (cpu %d): %s, %llu ops done, %llu attempts, kernel state %c\n",
			i, ws[i].cpu, phase_name(ph), (unsigned long long)ops,
			(unsigned long long)att, ks ? ks : '?');
		if (i < d->nthreads)
			d->threads[i] = (struct lb_diag_thread){ .tid = i, .cpu = ws[i].cpu,
				.state = phase_name(ph), .ops = ops, .attempts = att };
	}
	if (desc)
		fputs(desc, f);
	free(desc);
	if (f != stderr) {
		if (fclose(f) == 0 && text) {
			fputs(text, stderr);
			d->detail = text;
		} else {
			free(text);
		}
	}
}

/* Reduce the workers' window numbers to per-thread rows and the row.
 * ncpus: the PUs the threads may use (for cpu_share). */
void lb_rows_fill(const struct lb_worker *ws, unsigned n, double dur, unsigned ncpus,
		  struct lb_row *row, struct lb_thread_row *trows)
{
	uint64_t *wops = calloc(n, sizeof(uint64_t));
	struct lb_hist *all = malloc(sizeof(*all));
	uint64_t run_ns = 0, wait_ns = 0;
	double seen_s = 0; /* the threads' own windows, summed */
	/* The span of those windows: from the first thread's noticing the
	 * window open to the last one's noticing it close. */
	uint64_t span_lo = UINT64_MAX, span_hi = 0;
	int sched_ok = 1;

	if (all)
		lb_hist_reset(all);
	row->duration_s = dur;
	row->ops = 0;
	row->cpu_s = 0;
	row->ctx_voluntary = row->ctx_involuntary = 0;
	row->thread_ops_min = UINT64_MAX;
	row->thread_ops_max = 0;
	for (int ev = 0; ev < LB_NEV; ev++)
		row->ev[ev] = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct lb_worker *w = &ws[i];
		/* A count is the row's only if every thread read it at both
		 * edges: a partial sum would pass for the whole. */
		for (int ev = 0; ev < LB_NEV; ev++)
			row->ev[ev] = w->ev_ok_measure[ev] && w->ev_ok_stop[ev]
					      ? row->ev[ev] + lb_counters_delta(ev, w->ev_measure,
						  w->ev_stop, w->ev_en_measure, w->ev_run_measure,
						  w->ev_en_stop, w->ev_run_stop)
					      : NAN;
		struct lb_thread_row *t = &trows[i];
		uint64_t o = w->ops_at_stop - w->ops_at_measure;
		double cpu = w->cpu_ns_stop > w->cpu_ns_measure ?
			     (double)(w->cpu_ns_stop - w->cpu_ns_measure) / 1e9 : 0;

		if (wops)
			wops[i] = o;
		row->ops += o;
		row->cpu_s += cpu;
		if (o < row->thread_ops_min)
			row->thread_ops_min = o;
		if (o > row->thread_ops_max)
			row->thread_ops_max = o;
		if (w->ns_stop > w->ns_measure) {
			seen_s += (double)(w->ns_stop - w->ns_measure) / 1e9;
			if (w->ns_measure < span_lo)
				span_lo = w->ns_measure;
			if (w->ns_stop > span_hi)
				span_hi = w->ns_stop;
		}
		if (w->sched_ok) {
			run_ns += w->run_ns_stop - w->run_ns_measure;
			wait_ns += w->wait_ns_stop - w->wait_ns_measure;
		} else {
			sched_ok = 0;
		}

		memset(t, 0, sizeof(*t));
		t->tid = i;
		t->cpu = w->cpu;
		t->cpu_at_end = w->cpu_at_end;
		t->ops = o;
		t->ops_per_sec = dur > 0 ? (double)o / dur : NAN;
		t->cpu_s = cpu;
		t->ctx_voluntary = (uint64_t)(w->ru_stop.ru_nvcsw - w->ru_measure.ru_nvcsw);
		t->ctx_involuntary = (uint64_t)(w->ru_stop.ru_nivcsw - w->ru_measure.ru_nivcsw);
		t->warmup_ops = w->ops_at_measure;
		row->ctx_voluntary += t->ctx_voluntary;
		row->ctx_involuntary += t->ctx_involuntary;
		t->lat_samples = w->hist->samples;
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
	/* The CPUs the threads could have had: one each, at most one per PU,
	 * over the span of the threads' own views of the window.  Each
	 * thread's CPU time and waits are counted between the two moments it
	 * noticed the window's edges (a starved thread notices late), and at
	 * most `could` of them run at once, so the share is at most 1. */
	unsigned could = ncpus && ncpus < n ? ncpus : n;
	double span_s = span_hi > span_lo ? (double)(span_hi - span_lo) / 1e9 : 0;
	row->cpu_share = span_s > 0 && could ? row->cpu_s / (span_s * (double)could) : NAN;
	row->cpu_wait_share = sched_ok && seen_s > 0 ? (double)wait_ns / 1e9 / seen_s : NAN;
	/* Oversubscribed threads wait by design: n threads on could PUs are
	 * runnable-but-waiting 1 - could/n of the time when they all spin.
	 * Beyond that plus 10 points, another process had their CPUs. */
	row->starved = !isnan(row->cpu_wait_share) &&
		       row->cpu_wait_share > 1.0 - (double)could / (double)n + 0.10;
	row->lat_samples = all ? all->samples : 0;
	if (all && all->count) {
		row->lat_p50_ns = (double)lb_hist_quantile(all, 0.50);
		row->lat_p99_ns = (double)lb_hist_quantile(all, 0.99);
		row->lat_p999_ns = (double)lb_hist_quantile(all, 0.999);
		row->lat_max_ns = (double)all->max;
	} else {
		row->lat_p50_ns = row->lat_p99_ns = row->lat_p999_ns = row->lat_max_ns = NAN;
	}
	row->lat_floor_ns = lb_timer.sample_floor_ns;
	free(wops);
	free(all);
}

static void run_free(struct lb_run *run)
{
	for (unsigned i = 0; run->ws && i < run->n; i++) {
		free(run->ws[i].hist);
		if (run->ws[i].sched_fd >= 0)
			close(run->ws[i].sched_fd);
		if (run->ws[i].stat_fd >= 0)
			close(run->ws[i].stat_fd);
	}
	free(run->ws);
	free(run->args);
	free(run->th);
	free(run);
}

/* The workers may still run: keep everything they can reach, reachable. */
static void run_abandon(struct lb_run *run)
{
	run->next_stuck = stuck_runs;
	stuck_runs = run;
}

static struct lb_run *run_new(const struct lb_run_cfg *rc)
{
	unsigned n = rc->nthreads;
	struct lb_run *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	run->rc = *rc;
	run->n = n;
	run->wc = (struct lb_wctx){ .impl = rc->impl, .nthreads = n,
				    .cfg = { .nthreads = n, .nclusters = lb_topo_nclusters() } };
	memcpy(run->wc.param, rc->param, sizeof(run->wc.param));
	run->loop = rc->wl->loops[rc->impl->index];
	atomic_init(&run->ctl, LB_CTL_WARMUP);
	atomic_init(&run->gate, GATE_WAIT);
	atomic_init(&run->ready, 0);
	run->ws = lb_cache_alloc(n * sizeof(*run->ws));
	run->args = calloc(n, sizeof(*run->args));
	run->th = calloc(n, sizeof(*run->th));
	if (!run->ws || !run->args || !run->th) {
		free(run->ws);
		run->ws = NULL;
		run_free(run);
		return NULL;
	}
	memset(run->ws, 0, n * sizeof(*run->ws));
	for (unsigned i = 0; i < n; i++) {
		struct lb_worker *w = &run->ws[i];
		w->sched_fd = -1;
		w->stat_fd = -1;
		lb_counters_none(&w->counters);
		w->hist = malloc(sizeof(*w->hist));
		if (!w->hist) {
			run_free(run);
			return NULL;
		}
		w->tid = i;
		w->cpu = lb_pin_cpu(rc->pin, rc->param, i, n);
		w->cluster = lb_topo_cluster_of(w->cpu);
		w->ctl = &run->ctl;
		w->cs_iters = lb_busy_iters(rc->cs_ns);
		w->think_iters = lb_busy_iters(rc->think_ns);
		w->sample_mask = 0; /* sample the first op, then adapt */
		w->sample_mask_max = rc->sample_mask;
		w->sample_weight = 1;
		w->sample_budget_ns = 100 * 2 * lb_timer.cost_ns;
		w->ns_per_tick = lb_timer.ns_per_tick;
		w->seen = LB_CTL_WARMUP;
		w->cpu_at_end = -1;
		lb_hist_reset(w->hist);
		atomic_init(&w->pub_ops, 0);
		atomic_init(&w->pub_attempts, 0);
		atomic_init(&w->phase, LB_PH_STARTING);
	}
	return run;
}

enum lb_run_status lb_run_one(const struct lb_run_cfg *rc, struct lb_row *row,
			      struct lb_thread_row *trows, struct lb_check *chk,
			      struct lb_diag *diag)
{
	unsigned n = rc->nthreads, created = 0;
	enum lb_run_status status = LB_RUN_ERROR;
	struct lb_run *run = run_new(rc);
	int ret;

	memset(chk, 0, sizeof(*chk));
	for (int i = 0; i < LB_MAX_EXTRA; i++)
		chk->extra[i] = NAN;
	if (!run) {
		fprintf(stderr, "lockbench: out of memory for %u threads\n", n);
		return LB_RUN_ERROR;
	}
	lb_mem_track_begin();
	if ((ret = rc->wl->setup(&run->wc)) != 0) {
		lb_mem_track_cancel();
		fprintf(stderr, "lockbench: setting up %s for %s: %s\n", rc->wl->name,
			rc->impl->id, strerror(ret));
		run_free(run);
		return LB_RUN_ERROR;
	}
	if (rc->mem) {
		char merr[256];
		if (lb_mem_place(rc->mem, run->ws[0].cpu, row->mem_nodes, sizeof(row->mem_nodes),
				 merr, sizeof(merr)) != 0) {
			fprintf(stderr, "lockbench: %s for %s: %s\n", rc->wl->name, rc->impl->id,
				merr);
			rc->wl->teardown(&run->wc);
			run_free(run);
			return LB_RUN_ERROR;
		}
	} else {
		lb_mem_track_cancel();
	}

	for (; created < n; created++) {
		run->args[created].run = run;
		run->args[created].w = &run->ws[created];
		if ((ret = pthread_create(&run->th[created], NULL, worker_main,
					  &run->args[created])) != 0) {
			fprintf(stderr, "lockbench: creating thread %u of %u: %s\n", created, n,
				strerror(ret));
			break;
		}
	}
	/* acquire: pairs with each worker's release increment of ready. */
	while (atomic_load_explicit(&run->ready, memory_order_acquire) < created)
		sleep_ns(100000);
	int failed = created < n;
	for (unsigned i = 0; i < created; i++) {
		if (run->args[i].err) {
			fprintf(stderr, "lockbench: thread %u: %s%s%d: %s\n", i, run->args[i].what,
				run->ws[i].cpu >= 0 ? " to cpu " : "",
				run->ws[i].cpu >= 0 ? run->ws[i].cpu : 0, strerror(run->args[i].err));
			failed = 1;
		}
	}
	/* release: the workers' acquire load of the gate sees a fully set-up
	 * run (state, ctl). */
	atomic_store_explicit(&run->gate, failed ? GATE_ABORT : GATE_GO, memory_order_release);
	lb_futex_wake(&run->gate, INT_MAX);
	if (failed) {
		for (unsigned i = 0; i < created; i++)
			pthread_join(run->th[i], NULL);
		goto out_teardown;
	}

	struct watch_state st = { 0 };
	uint64_t t_start = lb_now_ns();
	/* Warm-up: at least warmup_s, and until every worker has run, so that
	 * a window never opens on threads that have not been scheduled yet
	 * (--warmup 0, oversubscription, sleeping primitives). */
	enum wait_result wr = watch(run, t_start + (uint64_t)(rc->warmup_s * 1e9), UNTIL_STARTED,
				    &st);
	uint64_t t0 = 0, t1 = 0;
	if (wr == W_DONE) {
		/* relaxed: the workers only need to notice the change eventually;
		 * see lb_running(). */
		atomic_store_explicit(&run->ctl, LB_CTL_MEASURE, memory_order_relaxed);
		t0 = lb_now_ns();
		wr = watch(run, t0 + (uint64_t)(rc->duration_s * 1e9), UNTIL_DEADLINE, &st);
	}
	atomic_store_explicit(&run->ctl, LB_CTL_STOP, memory_order_relaxed);
	t1 = lb_now_ns();
	if (wr != W_STALL) {
		st.idle_s = 0;
		st.cv.ok = 0;
		wr = watch(run, 0, UNTIL_DONE, &st) == W_STALL ? W_STALL : wr;
	}
	if (wr == W_STALL) {
		stall_report(run, &st, diag);
		/* Some threads may never return: leave them everything they
		 * can reach, and touch none of it again. */
		run_abandon(run);
		return LB_RUN_STALLED;
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(run->th[i], NULL);
	if (wr == W_INTR) {
		status = LB_RUN_INTERRUPTED;
		goto out_teardown;
	}

	run->wc.window_s = (double)(t1 - t0) / 1e9;
	rc->wl->check(&run->wc, run->ws, chk);
	lb_rows_fill(run->ws, n, (double)(t1 - t0) / 1e9, rc->ncpus, row, trows);
	row->has_lost = chk->has_lost;
	row->lost_updates = chk->lost_updates;
	row->verdict = chk->verdict;
	memcpy(row->extra, chk->extra, sizeof(row->extra));
	status = LB_RUN_OK;

out_teardown:
	rc->wl->teardown(&run->wc);
	run_free(run);
	return status;
}
