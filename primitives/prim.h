/* What every primitive kind shares: the object lifecycle and the per-thread
 * context hook (MCS/CLH/Anderson queue nodes, later RCU registration).
 *
 * A kind's ops struct (mutex.h, counter.h, ...) starts with a struct
 * lb_prim_ops, so the harness can create, destroy and attach threads to any
 * primitive without knowing its kind.  Errors are 0 or an errno value.
 */
#ifndef LB_PRIM_H
#define LB_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#define LB_CACHELINE 128 /* two 64-byte lines: x86 prefetches pairs */

struct lb_prim_cfg {
	unsigned nthreads;  /* threads that will attach (sizes queue slots) */
	unsigned nclusters; /* lock cohorts for hierarchical locks (--clusters: NUMA nodes by default) */
	unsigned permits;   /* semaphores: initial permits (0: none); queues: capacity */
};

struct lb_thread_info {
	unsigned tid;     /* 0 .. nthreads-1 */
	int cpu;          /* OS index of the PU it is pinned to, -1 if unpinned */
	unsigned cluster; /* 0 .. nclusters-1 */
};

struct lb_prim_ops {
	size_t size;      /* bytes of the object; allocated cache-line aligned */
	size_t tctx_size; /* bytes of per-thread context; 0 for none */
	int (*init)(void *obj, const struct lb_prim_cfg *cfg);
	void (*fini)(void *obj);                                   /* may be NULL */
	int (*thread_init)(void *obj, void *tctx, const struct lb_thread_info *ti); /* may be NULL */
	void (*thread_fini)(void *obj, void *tctx);                /* may be NULL */
	/* NULL, or why it cannot run on this machine or in this build (no
	 * RTM on this CPU, ...): such an implementation is listed with the
	 * reason and left out of every run, never silently missing. */
	const char *(*unavailable)(void);
};

/* For a kind without a non-blocking acquire (registry.h's LB_KINDS). */
static inline bool lb_prim_no_try(const struct lb_prim_ops *ops)
{
	(void)ops;
	return false;
}

/* Shared state a run allocates (the primitive, the workload's counter or
 * queue) is reported here as it is allocated, so that the harness can
 * place it (--mem); NULL when nobody listens.  Only the main thread
 * allocates shared state (in setup()), so no lock. */
extern void (*lb_shared_alloc_hook)(void *p, size_t size);

/* aligned_alloc and calloc for shared state (lock arrays, rings, slots),
 * reported to the hook; free() releases them. */
static inline void *lb_shared_aligned_alloc(size_t align, size_t size)
{
	void *p = aligned_alloc(align, size);
	if (p && lb_shared_alloc_hook)
		lb_shared_alloc_hook(p, size);
	return p;
}

static inline void *lb_shared_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p && lb_shared_alloc_hook)
		lb_shared_alloc_hook(p, n * size);
	return p;
}

/* The CPU's spin-wait hint: frees pipeline resources for the SMT sibling and
 * slows the loop to reduce memory-order mis-speculation on exit. */
static inline void lb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
