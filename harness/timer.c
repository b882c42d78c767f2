#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lb_timer_info lb_timer = {
	.source = "clock_gettime", .ns_per_tick = 1.0, .tick_hz = 1e9,
	.busy_ns_per_iter = 0.5,
};
int lb_timer_use_tsc;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The TSC is usable as a clock only if it ticks at a constant rate through
 * frequency changes and idle states.  Read it from /proc/cpuinfo rather than
 * CPUID (a hypervisor exit). */
static int tsc_is_invariant(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int constant = 0, nonstop = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}

#define COST_ROUNDS 101
#define COST_READS 1000

void lb_timer_calibrate(void)
{
	double samples[COST_ROUNDS];

#if LB_HAVE_RDTSC
	lb_timer_use_tsc = tsc_is_invariant();
	if (getenv("LOCKBENCH_NO_TSC"))
		lb_timer_use_tsc = 0;
#endif
	if (lb_timer_use_tsc) {
		/* Ticks per ns against CLOCK_MONOTONIC over 50 ms; the best of
		 * three keeps a preemption from skewing it. */
		double best = 0;
		for (int r = 0; r < 3; r++) {
			uint64_t n0 = lb_now_ns(), t0 = lb_ticks();
			while (lb_now_ns() - n0 < 50000000u)
				;
			uint64_t n1 = lb_now_ns(), t1 = lb_ticks();
			double nspt = (double)(n1 - n0) / (double)(t1 - t0);
			if (r == 0 || nspt < best)
				best = nspt;
		}
		lb_timer.source = "rdtscp";
		lb_timer.ns_per_tick = best;
		lb_timer.tick_hz = 1e9 / best;
	}

	/* Cost of one read of each clock: median over rounds of back-to-back
	 * reads, each round timed with CLOCK_MONOTONIC itself. */
	for (int r = 0; r < COST_ROUNDS; r++) {
		uint64_t n0 = lb_now_ns();
		uint64_t sink = 0;
		for (int i = 0; i < COST_READS; i++)
			sink += lb_ticks();
		__asm__ __volatile__("" : : "r"(sink));
		samples[r] = (double)(lb_now_ns() - n0) / COST_READS;
	}
	qsort(samples, COST_ROUNDS, sizeof(double), cmp_double);
	lb_timer.cost_ns = samples[COST_ROUNDS / 2];

	/* An empty sample: what lb_sample_end() would record for an op that
	 * takes no time.  Every latency figure includes it. */
	for (int r = 0; r < COST_ROUNDS; r++) {
		uint64_t best_dt = UINT64_MAX;
		for (int i = 0; i < 100; i++) {
			uint64_t t0 = lb_ticks();
			uint64_t dt = lb_ticks() - t0;
			if (dt < best_dt)
				best_dt = dt;
		}
		samples[r] = (double)best_dt * lb_timer.ns_per_tick;
	}
	qsort(samples, COST_ROUNDS, sizeof(double), cmp_double);
	lb_timer.sample_floor_ns = samples[COST_ROUNDS / 2];

	for (int r = 0; r < COST_ROUNDS; r++) {
		uint64_t n0 = lb_now_ns();
		uint64_t sink = 0;
		for (int i = 0; i < COST_READS; i++)
			sink += lb_now_ns();
		__asm__ __volatile__("" : : "r"(sink));
		samples[r] = (double)(lb_now_ns() - n0) / COST_READS;
	}
	qsort(samples, COST_ROUNDS, sizeof(double), cmp_double);
	lb_timer.clock_gettime_ns = samples[COST_ROUNDS / 2];

	/* Busy loop: the fastest of several 1M-iteration runs, i.e. the rate
	 * when the thread is not preempted. */
	double best = 0;
	for (int r = 0; r < 15; r++) {
		uint64_t n0 = lb_now_ns();
		lb_busy(1000000);
		double v = (double)(lb_now_ns() - n0) / 1e6;
		if (r == 0 || v < best)
			best = v;
	}
	lb_timer.busy_ns_per_iter = best > 0 ? best : 0.5;
}

uint64_t lb_busy_iters(uint64_t ns)
{
	if (ns == 0)
		return 0;
	double it = (double)ns / lb_timer.busy_ns_per_iter + 0.5;
	return it < 1 ? 1 : (uint64_t)it;
}
