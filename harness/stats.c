#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double lb_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* P(Binom(n, 1/2) <= k) */
static double binom_cdf_half(size_t n, size_t k)
{
	double p = 0, c = 1; /* c = C(n, i) */
	for (size_t i = 0; i <= k && i <= n; i++) {
		p += c;
		c = c * (double)(n - i) / (double)(i + 1);
	}
	return p / pow(2.0, (double)n);
}

void lb_stat_compute(struct lb_stat *s, const double *v, size_t n)
{
	double *x = malloc((n ? n : 1) * sizeof(double));
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			x[m++] = v[i];
	s->n = m;
	if (!x || m == 0) {
		s->median = s->ci_lo = s->ci_hi = s->min = s->max = NAN;
		s->ci_level = s->mean = s->cv = NAN;
		free(x);
		return;
	}
	s->median = lb_median(x, m); /* sorted from here on */
	s->min = x[0];
	s->max = x[m - 1];

	/* k is 1-based: the interval is x[k-1] .. x[m-k]. */
	size_t k = 1;
	while (k + 1 <= m / 2 && 1 - 2 * binom_cdf_half(m, k) >= 0.95)
		k++;
	s->ci_lo = x[k - 1];
	s->ci_hi = x[m - k];
	s->ci_level = 1 - 2 * binom_cdf_half(m, k - 1);
	if (m == 1) /* one value is no interval: say nothing rather than 0 wide */
		s->ci_lo = s->ci_hi = s->ci_level = NAN;

	double sum = 0, sq = 0;
	for (size_t i = 0; i < m; i++)
		sum += x[i];
	s->mean = sum / (double)m;
	for (size_t i = 0; i < m; i++)
		sq += (x[i] - s->mean) * (x[i] - s->mean);
	s->cv = m >= 2 && s->mean != 0 ? sqrt(sq / (double)(m - 1)) / fabs(s->mean) : NAN;
	free(x);
}

double lb_jain(const uint64_t *x, size_t n)
{
	double sum = 0, sq = 0;
	for (size_t i = 0; i < n; i++) {
		sum += (double)x[i];
		sq += (double)x[i] * (double)x[i];
	}
	if (n == 0 || sq == 0)
		return NAN;
	return sum * sum / ((double)n * sq);
}
