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
	uint64_t count;   /* weighted: the operations the samples stand for */
	uint64_t samples; /* timer samples recorded */
	uint64_t max;
	uint64_t min;
	uint64_t b[LB_HIST_NBUCKETS];
};

void lb_hist_reset(struct lb_hist *h);
unsigned lb_hist_bucket(uint64_t v);
/* Smallest and largest value that map to bucket i. */
uint64_t lb_hist_bucket_lo(unsigned i);
uint64_t lb_hist_bucket_hi(unsigned i);

/* Record one sample that stands for weight operations: an op timed once in
 * every 1024 is counted 1024 times, so a percentile is a statement about
 * all operations, not about the sampled ones (a slow thread sampled at
 * every op would otherwise outweigh a fast one sampled at 1 in 1024). */
static inline void lb_hist_record_w(struct lb_hist *h, uint64_t v, uint64_t weight)
{
	h->b[lb_hist_bucket(v)] += weight;
	h->count += weight;
	h->samples++;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}

/* A sample of exactly one operation (every op timed). */
static inline void lb_hist_record(struct lb_hist *h, uint64_t v)
{
	lb_hist_record_w(h, v, 1);
}

void lb_hist_merge(struct lb_hist *dst, const struct lb_hist *src);
/* Value at quantile q in [0,1]: the upper bound of the bucket that holds the
 * ceil(q*count)-th smallest operation (weighted count), clamped to [min, max].  Returns 0 for an
 * empty histogram (callers check count). */
uint64_t lb_hist_quantile(const struct lb_hist *h, double q);

#endif
