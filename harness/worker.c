#include "worker.h"

#include <sched.h>

bool lb_worker_transition(struct lb_worker *w, uint64_t n, unsigned c)
{
	if (w->seen == LB_CTL_WARMUP && c >= LB_CTL_MEASURE) {
		/* Enter the window: what happened in warm-up does not count. */
		w->ops_at_measure = n;
		getrusage(RUSAGE_THREAD, &w->ru_measure);
		lb_hist_reset(w->hist);
		atomic_store_explicit(&w->phase, LB_PH_MEASURE, memory_order_relaxed);
		w->seen = LB_CTL_MEASURE;
	}
	if (c == LB_CTL_STOP) {
		w->ops_at_stop = n;
		getrusage(RUSAGE_THREAD, &w->ru_stop);
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
