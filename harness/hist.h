/* Log-linear latency histogram (HdrHistogram-style).
 *
 * Values below 2^LB_HIST_SUB are counted exactly.  Above, each power of two
 * [2^e, 2^(e+1)) is split into 2^LB_HIST_SUB equal buckets, so a bucket is
 * at most 2^-LB_HIST_SUB (3.1%) of its lower bound wide: that bounds the
 * relative error of every percentile.  Values at or above 2^LB_HIST_MAXEXP ns
 * (about 18 minutes) land in the last bucket; the exact max is kept apart.
 */
#ifndef LB_HIST_H
#define LB_HIST_H

#include <stdint.h>

#define LB_HIST_SUB 5
#define LB_HIST_MAXEXP 40
#define LB_HIST_NBUCKETS (((LB_HIST_MAXEXP - LB_HIST_SUB) + 1) << LB_HIST_SUB)

struct lb_hist {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	uint64_t b[LB_HIST_NBUCKETS];
};

void lb_hist_reset(struct lb_hist *h);
unsigned lb_hist_bucket(uint64_t v);
/* Smallest and largest value that map to bucket i. */
uint64_t lb_hist_bucket_lo(unsigned i);
uint64_t lb_hist_bucket_hi(unsigned i);

static inline void lb_hist_record(struct lb_hist *h, uint64_t v)
{
	h->b[lb_hist_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}

void lb_hist_merge(struct lb_hist *dst, const struct lb_hist *src);
/* Value at quantile q in [0,1]: the upper bound of the bucket that holds the
 * ceil(q*count)-th smallest sample, clamped to [min, max].  Returns 0 for an
 * empty histogram (callers check count). */
uint64_t lb_hist_quantile(const struct lb_hist *h, double q);

#endif
