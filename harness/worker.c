#include "worker.h"

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int lb_schedstat_read(int fd, uint64_t *run_ns, uint64_t *wait_ns)
{
	char buf[128];
	ssize_t r;

	if (fd < 0 || (r = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[r] = '\0';
	return sscanf(buf, "%" SCNu64 " %" SCNu64, run_ns, wait_ns) == 2 ? 0 : -1;
}

/* This thread's CPU time, exact: the kernel brings a running thread's
 * runtime up to date for this clock.  getrusage's utime + stime is not:
 * it is scaled from tick samples and can run ahead of the wall clock by
 * a few ms (a 50 ms window showed 52 ms of CPU for one thread). */
static uint64_t lb_thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool lb_worker_transition(struct lb_worker *w, uint64_t n, unsigned c)
{
	if (w->seen == LB_CTL_WARMUP && c >= LB_CTL_MEASURE) {
		/* Enter the window: what happened in warm-up does not count. */
		w->ops_at_measure = n;
		w->ns_measure = lb_now_ns();
		w->cpu_ns_measure = lb_thread_cpu_ns();
		getrusage(RUSAGE_THREAD, &w->ru_measure);
		lb_counters_read(&w->counters, w->ev_measure, w->ev_ok_measure, w->ev_en_measure,
				 w->ev_run_measure);
		if (lb_schedstat_read(w->sched_fd, &w->run_ns_measure, &w->wait_ns_measure))
			w->sched_ok = 0;
		lb_hist_reset(w->hist);
		atomic_store_explicit(&w->phase, LB_PH_MEASURE, memory_order_relaxed);
		w->seen = LB_CTL_MEASURE;
	}
	if (c == LB_CTL_STOP) {
		w->ops_at_stop = n;
		w->cpu_ns_stop = lb_thread_cpu_ns();
		w->ns_stop = lb_now_ns();
		lb_counters_read(&w->counters, w->ev_stop, w->ev_ok_stop, w->ev_en_stop,
				 w->ev_run_stop);
		getrusage(RUSAGE_THREAD, &w->ru_stop);
		if (lb_schedstat_read(w->sched_fd, &w->run_ns_stop, &w->wait_ns_stop))
			w->sched_ok = 0;
		w->cpu_at_end = sched_getcpu();
		atomic_store_explicit(&w->phase, LB_PH_STOPPING, memory_order_relaxed);
		w->seen = LB_CTL_STOP;
		return false;
	}
	return true;
}

uint64_t lb_sample_take(struct lb_worker *w, uint64_t n)
{
	uint64_t t = lb_ticks();
	if (w->last_sample_tick && n > w->last_sample_n) {
		double op_ns = (double)(t - w->last_sample_tick) * w->ns_per_tick /
			       (double)(n - w->last_sample_n);
		/* Two timer reads per sample must stay under 1% of the ops
		 * between samples: period >= 100 * 2 * timer_cost / op_ns. */
		double want = w->sample_budget_ns / (op_ns > 0 ? op_ns : 1e-9);
		uint64_t period = 1;
		while ((double)period < want && period <= w->sample_mask_max)
			period *= 2;
		if (period > w->sample_mask_max + 1)
			period = w->sample_mask_max + 1;
		w->sample_mask = period - 1;
	}
	w->sample_weight = lb_sample_weight(n, w->sample_mask);
	w->last_sample_tick = t;
	w->last_sample_n = n;
	/* A fresh read, so the adaptation above is not part of the sample. */
	t = lb_ticks();
	return t ? t : 1;
}

void lb_finish(struct lb_worker *w, uint64_t n)
{
	w->ops_total = n;
	atomic_store_explicit(&w->pub_ops, n, memory_order_relaxed);
	/* release: pairs with the watchdog's acquire load of phase, so a thread
	 * seen DONE has its results written. */
	atomic_store_explicit(&w->phase, LB_PH_DONE, memory_order_release);
}
