/* C11 lock-free counters.
 *
 * atomic-faa      one shared word, atomic_fetch_add (LOCK XADD on x86).
 * atomic-cas      one shared word, load + compare-exchange retry loop: what
 *                 you write when the update is not a plain add; shows the
 *                 cost of failed CAS under contention.
 * atomic-sharded  one word per thread on its own cache line, summed once at
 *                 the end: no sharing at all, the upper bound.
 *
 * All use relaxed order: a counter orders nothing else, and the harness
 * reads the total only after joining the threads (join synchronises).
 */
#ifndef LB_COUNTER_ATOMIC_H
#define LB_COUNTER_ATOMIC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "counter.h"

struct lb_atomic_counter {
	_Atomic uint64_t v;
};

static inline int lb_atomic_counter_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_atomic_counter *)obj)->v, 0);
	return 0;
}

static inline uint64_t lb_atomic_counter_total(void *obj)
{
	/* relaxed: the threads were joined before this read. */
	return atomic_load_explicit(&((struct lb_atomic_counter *)obj)->v, memory_order_relaxed);
}

static inline void lb_atomic_faa_add(void *obj, void *t)
{
	(void)t;
	atomic_fetch_add_explicit(&((struct lb_atomic_counter *)obj)->v, 1, memory_order_relaxed);
}

static const struct lb_counter_ops lb_atomic_faa_ops = {
	.base = { .size = sizeof(struct lb_atomic_counter), .init = lb_atomic_counter_init },
	.add = lb_atomic_faa_add,
	.total = lb_atomic_counter_total,
};

static inline void lb_atomic_cas_add(void *obj, void *t)
{
	_Atomic uint64_t *v = &((struct lb_atomic_counter *)obj)->v;
	uint64_t old = atomic_load_explicit(v, memory_order_relaxed);
	(void)t;
	/* relaxed both ways: nothing else is ordered by the counter.  A failed
	 * CAS reloads old, so the loop retries with the fresh value. */
	while (!atomic_compare_exchange_weak_explicit(v, &old, old + 1,
			memory_order_relaxed, memory_order_relaxed))
		;
}

static const struct lb_counter_ops lb_atomic_cas_ops = {
	.base = { .size = sizeof(struct lb_atomic_counter), .init = lb_atomic_counter_init },
	.add = lb_atomic_cas_add,
	.total = lb_atomic_counter_total,
};

/* Sharded: the object owns nthreads slots, a cache line each; a thread's
 * context points at its own slot. */
union lb_shard {
	_Atomic uint64_t v;
	char pad[LB_CACHELINE];
};

struct lb_sharded {
	union lb_shard *slots;
	unsigned n;
};

struct lb_sharded_tctx {
	union lb_shard *slot;
};

static inline int lb_sharded_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_sharded *s = obj;
	s->n = cfg->nthreads;
	s->slots = lb_shared_aligned_alloc(LB_CACHELINE, s->n * sizeof(*s->slots));
	if (!s->slots)
		return ENOMEM;
	for (unsigned i = 0; i < s->n; i++)
		atomic_init(&s->slots[i].v, 0);
	return 0;
}

static inline void lb_sharded_fini(void *obj)
{
	free(((struct lb_sharded *)obj)->slots);
}

static inline int lb_sharded_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	((struct lb_sharded_tctx *)t)->slot = &((struct lb_sharded *)obj)->slots[ti->tid];
	return 0;
}

static inline void lb_sharded_add(void *obj, void *t)
{
	_Atomic uint64_t *v = &((struct lb_sharded_tctx *)t)->slot->v;
	(void)obj;
	/* Only this thread writes its slot, so a relaxed load and store (a plain
	 * increment in the machine code) is exact; atomic only so the final
	 * sum's read is not a data race in C11 terms. */
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline uint64_t lb_sharded_total(void *obj)
{
	struct lb_sharded *s = obj;
	uint64_t sum = 0;
	for (unsigned i = 0; i < s->n; i++)
		sum += atomic_load_explicit(&s->slots[i].v, memory_order_relaxed);
	return sum;
}

static const struct lb_counter_ops lb_atomic_sharded_ops = {
	.base = { .size = sizeof(struct lb_sharded),
		  .tctx_size = sizeof(struct lb_sharded_tctx),
		  .init = lb_sharded_init, .fini = lb_sharded_fini,
		  .thread_init = lb_sharded_thread_init },
	.add = lb_sharded_add,
	.total = lb_sharded_total,
};

#endif
