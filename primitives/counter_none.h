/* No synchronisation at all.
 *
 * none-racy   the tutorial's race condition: read the shared counter, add
 *             one, write it back, as two separate steps.  Two threads that
 *             read the same value both write value+1 and one update is lost.
 *             The load and store are relaxed atomics, so the race is real on
 *             the hardware but the program has no undefined behaviour (and
 *             no compiler may fuse them into one locked instruction).  The
 *             negative control: its losses must be reported.
 * none-noop   a thread-private increment: the cheapest op the harness can
 *             drive, so its rate is the harness's own floor per operation.
 *             Exact by construction (nothing is shared); the total sums the
 *             per-thread words once the threads are joined.
 */
#ifndef LB_COUNTER_NONE_H
#define LB_COUNTER_NONE_H

#include "counter_atomic.h"

static inline void lb_none_racy_add(void *obj, void *t)
{
	_Atomic uint64_t *v = &((struct lb_atomic_counter *)obj)->v;
	(void)t;
	uint64_t x = atomic_load_explicit(v, memory_order_relaxed);
	atomic_store_explicit(v, x + 1, memory_order_relaxed);
}

static const struct lb_counter_ops lb_none_racy_ops = {
	.base = { .size = sizeof(struct lb_atomic_counter), .init = lb_atomic_counter_init },
	.add = lb_none_racy_add,
	.total = lb_atomic_counter_total,
};

/* The no-op shares sharded's layout (a private slot per thread); its add is
 * the same relaxed load+store, i.e. a plain increment of a private line. */
static const struct lb_counter_ops lb_none_noop_ops = {
	.base = { .size = sizeof(struct lb_sharded),
		  .tctx_size = sizeof(struct lb_sharded_tctx),
		  .init = lb_sharded_init, .fini = lb_sharded_fini,
		  .thread_init = lb_sharded_thread_init },
	.add = lb_sharded_add,
	.total = lb_sharded_total,
};

#endif
