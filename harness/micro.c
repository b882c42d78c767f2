/* lockbench-micro: the uncontended cost of each mutex's lock+unlock pair,
 * measured in a tight loop with the algorithm inlined and no harness
 * around it.  It is the yardstick for the harness's dispatch overhead:
 * counter at 1 thread minus the none-noop floor should match it.
 *
 * usage: lockbench-micro [ITERATIONS]   (default 20000000; best of 7 runs) */
#include <stdio.h>
#include <stdlib.h>

#include "registry.h"
#include "timer.h"

#define ROUNDS 7

static inline __attribute__((always_inline)) double
pair_ns(const struct lb_mutex_ops *ops, const struct lb_impl *im, uint64_t iters)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *l, *t;
	double best = 0;

	if (lb_prim_create(im, &cfg, &l) || lb_prim_thread_attach(im, l, &ti, &t)) {
		fprintf(stderr, "lockbench-micro: cannot set up %s\n", im->id);
		exit(1);
	}
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = lb_now_ns();
		for (uint64_t i = 0; i < iters; i++) {
			ops->lock(l, t);
			ops->unlock(l, t);
		}
		double ns = (double)(lb_now_ns() - t0) / (double)iters;
		if (r == 0 || ns < best)
			best = ns;
	}
	lb_prim_thread_detach(im, l, t);
	lb_prim_destroy(im, l);
	return best;
}

#define MICRO(sym, id, be, caps, sum) \
	static double micro_##sym(uint64_t iters) \
	{ return pair_ns(&lb_##sym##_ops, &lb_impls[LB_IMPL_##sym], iters); }
LB_MUTEX_IMPLS(MICRO)

int main(int argc, char **argv)
{
	uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000u;
	if (iters == 0) {
		fprintf(stderr, "usage: lockbench-micro [ITERATIONS > 0]\n");
		return 2;
	}
	printf("impl,lock_unlock_ns\n");
#define RUN(sym, id, be, caps, sum) \
	if (!((caps) & LB_CAP_HIDDEN)) \
		printf("%s,%.2f\n", id, micro_##sym(iters));
	LB_MUTEX_IMPLS(RUN)
	return 0;
}
