/* Summary statistics over repetitions and threads. */
#ifndef LB_STATS_H
#define LB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Median, distribution-free confidence interval of the median, min and max
 * of n values (NaN values are ignored; all-NaN gives NaN everywhere). */
struct lb_stat {
	size_t n;
	double median, ci_lo, ci_hi, min, max;
	double ci_level; /* achieved coverage of [ci_lo, ci_hi] */
	double mean, cv; /* cv = sample stddev / mean; NaN when n < 2 */
};

/* The interval is [x(k), x(n-k+1)] of the sorted values, with the largest k
 * whose coverage 1 - 2*P(Binom(n, 1/2) < k) is still >= 95%.  Fewer than six
 * values cannot reach 95% that way; then the interval is [min, max] and
 * ci_level says what it does cover (75% for n=3, 87.5% for n=4, ...).
 * One value has no interval: ci_lo, ci_hi and ci_level are NaN. */
void lb_stat_compute(struct lb_stat *s, const double *v, size_t n);

double lb_median(double *v, size_t n);  /* sorts v in place */

/* Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all equal, 1/n
 * when one thread did everything.  NaN when n == 0 or all are zero. */
double lb_jain(const uint64_t *x, size_t n);

#endif
