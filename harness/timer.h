/* Timers and calibrated busy work.
 *
 * lb_ticks() is the sampling clock of the hot loops: rdtscp on x86 (about
 * 10 ns in a VM), CLOCK_MONOTONIC elsewhere.  rdtscp waits for earlier
 * instructions to finish but is not a full serialising instruction; CPUID is
 * never used, since in a VM it is a hypervisor exit (microseconds).
 */
#ifndef LB_TIMER_H
#define LB_TIMER_H

#include <stdint.h>
#include <time.h>

#include "lb_config.h"

#if LB_HAVE_RDTSC
#include <x86intrin.h>
#endif

struct lb_timer_info {
	const char *source;    /* "rdtscp" or "clock_gettime" */
	double ns_per_tick;    /* ticks -> ns */
	double tick_hz;
	double cost_ns;        /* median cost of one lb_ticks() read */
	double sample_floor_ns; /* median of an empty sample: two back-to-back
				 * reads, as lb_sample_begin/end take them; the
				 * floor of every latency figure */
	double clock_gettime_ns; /* median cost of clock_gettime(MONOTONIC) */
	double busy_ns_per_iter; /* lb_busy() calibration */
};

extern struct lb_timer_info lb_timer;
extern int lb_timer_use_tsc;

static inline uint64_t lb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t lb_ticks(void)
{
#if LB_HAVE_RDTSC
	unsigned aux;
	if (lb_timer_use_tsc)
		return __rdtscp(&aux);
#endif
	return lb_now_ns();
}

/* Busy work of n iterations that the compiler can neither delete nor fold:
 * the asm makes i opaque at every step.  Calibrated once per run by
 * lb_timer_calibrate() into lb_timer.busy_ns_per_iter. */
static inline void lb_busy(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ __volatile__("" : "+r"(i));
}

/* Calibrate the tick clock, measure its cost and the busy loop.  Takes about
 * 100 ms.  Safe to call more than once. */
void lb_timer_calibrate(void);

/* Iterations of lb_busy() for about ns nanoseconds. */
uint64_t lb_busy_iters(uint64_t ns);

#endif
