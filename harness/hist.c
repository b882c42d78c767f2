#include "hist.h"

#include <math.h>
#include <string.h>

void lb_hist_reset(struct lb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned lb_hist_bucket(uint64_t v)
{
	if (v < (1u << LB_HIST_SUB))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 2^e <= v */
	if (e >= LB_HIST_MAXEXP)
		return LB_HIST_NBUCKETS - 1;
	unsigned sub = (unsigned)(v >> (e - LB_HIST_SUB)) - (1u << LB_HIST_SUB);
	return ((e - LB_HIST_SUB + 1) << LB_HIST_SUB) + sub;
}

uint64_t lb_hist_bucket_lo(unsigned i)
{
	if (i < (1u << LB_HIST_SUB))
		return i;
	unsigned e = (i >> LB_HIST_SUB) + LB_HIST_SUB - 1;
	uint64_t sub = i & ((1u << LB_HIST_SUB) - 1);
	return ((uint64_t)1 << e) + (sub << (e - LB_HIST_SUB));
}

uint64_t lb_hist_bucket_hi(unsigned i)
{
	if (i + 1 >= LB_HIST_NBUCKETS)
		return UINT64_MAX;
	return lb_hist_bucket_lo(i + 1) - 1;
}

void lb_hist_merge(struct lb_hist *dst, const struct lb_hist *src)
{
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->samples += src->samples;
	if (src->max > dst->max)
		dst->max = src->max;
	if (src->min < dst->min)
		dst->min = src->min;
}

uint64_t lb_hist_quantile(const struct lb_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = lb_hist_bucket_hi(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}
