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

void lb_finish(struct lb_worker *w, uint64_t n)
{
	w->ops_total = n;
	atomic_store_explicit(&w->pub_ops, n, memory_order_relaxed);
	/* release: pairs with the watchdog's acquire load of phase, so a thread
	 * seen DONE has its results written. */
	atomic_store_explicit(&w->phase, LB_PH_DONE, memory_order_release);
}
