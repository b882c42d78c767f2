/* Nodes of queue_pool.h reclaimed through Concurrency Kit's ck_epoch (the
 * design of Fraser's epoch-based reclamation, "Practical lock-freedom",
 * 2004): the shared machinery of ck-fifo-mpmc (queue_ck.h) and
 * ck-stack-upmc (stack_ck.h).
 *
 * Every operation that may read a node another thread can unlink runs
 * inside an epoch section (lbe_enter/lbe_exit: ck_epoch_begin/end, on x86
 * one atomic swap each).  A thread that unlinked a node retires it
 * (lbe_retire: ck_epoch_call), and every LBE_POLL retirements polls
 * (ck_epoch_poll_deferred) and gives the nodes whose grace period is over
 * back to their home in the pool.  A node is therefore reused only after
 * every thread that was inside a section when it was unlinked has left it.
 *
 * Each thread's epoch record lives in the object (one per thread id),
 * registered on first attach and never unregistered: a detached thread's
 * record is inactive and holds up nobody; the nodes it still had waiting
 * are freed with the pool.
 *
 * Memory order, on weakly ordered machines: CK 0.7.1's ck_epoch_begin lets
 * the section's loads pass its load of the global epoch, and its
 * ck_epoch_call takes the epoch snapshot without ordering the unlink
 * before it (both hold on x86 only; upstream fixed them in 2026, 1faa673
 * and d1b348c).  lbe_enter and lbe_retire add the two missing fences
 * (ck_pr_fence_load after begin, ck_pr_fence_atomic_load before the call);
 * on x86 (TSO) they compile to nothing.
 *
 * ThreadSanitizer: ck_epoch needs nothing, since the callers touch a node
 * only before its push and after its grace period (lbq_get, lbq_put),
 * never inside a section.
 */
#ifndef LB_CK_EPOCH_POOL_H
#define LB_CK_EPOCH_POOL_H

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ck_epoch.h>
#include <ck_stack.h>

#include "queue_pool.h"

/* Retirements between two polls: a poll scans every thread's epoch record
 * (a cache miss each), so it is amortised over this many retirements; it
 * also bounds how many nodes each thread holds back at once. */
#define LBE_POLL 64

/* One per thread id; ck_epoch_record_t is cache-line aligned itself. */
struct lbe_rec {
	ck_epoch_record_t r;
	bool registered; /* by the first thread to attach with this id */
};

struct lbe {
	struct lbe_rec *recs; /* [nthreads] */
	size_t retire_off;    /* where a node keeps its ck_epoch_entry_t */
	/* Read by every ck_epoch_begin, CAS'd by polls: its own line. */
	alignas(LB_CACHELINE) ck_epoch_t epoch;
};

struct lbe_tctx {
	ck_epoch_record_t *rec;
	unsigned retired; /* since the last poll */
};

static inline int lbe_init(struct lbe *e, unsigned nthreads, size_t retire_off)
{
	size_t bytes = nthreads * sizeof(*e->recs);
	e->recs = lb_shared_aligned_alloc(LB_CACHELINE, (bytes + LB_CACHELINE - 1) /
							     LB_CACHELINE * LB_CACHELINE);
	if (!e->recs)
		return ENOMEM;
	memset(e->recs, 0, bytes);
	e->retire_off = retire_off;
	ck_epoch_init(&e->epoch);
	return 0;
}

static inline void lbe_fini(struct lbe *e)
{
	free(e->recs);
	e->recs = NULL;
}

static inline void lbe_thread_init(struct lbe *e, struct lbe_tctx *tc, unsigned tid)
{
	struct lbe_rec *r = &e->recs[tid];
	if (!r->registered) {
		ck_epoch_register(&e->epoch, &r->r, NULL);
		r->registered = true;
	}
	tc->rec = &r->r;
	tc->retired = 0;
}

/* ck_epoch_call wants a destructor, but we never let ck_epoch run it: the
 * nodes come back through ck_epoch_poll_deferred (lbe_poll), which knows
 * the pool.  Being called means a CK path we do not use ran. */
static __attribute__((noreturn)) void lbe_never(ck_epoch_entry_t *e)
{
	(void)e;
	fprintf(stderr, "lockbench: ck_epoch ran a destructor directly\n");
	abort();
}

/* Give back to their homes the retired nodes whose grace period is over. */
static __attribute__((noinline)) void lbe_poll(struct lbe *e, struct lbq_pool *p,
						struct lbe_tctx *tc)
{
	ck_stack_t done = CK_STACK_INITIALIZER;
	ck_stack_entry_t *se;

	ck_epoch_poll_deferred(tc->rec, &done);
	while ((se = ck_stack_pop_npsc(&done)) != NULL) {
		ck_epoch_entry_t *ee = (ck_epoch_entry_t *)((char *)se -
			offsetof(ck_epoch_entry_t, stack_entry));
		lbq_put(p, (struct lbq_pnode *)((char *)ee - e->retire_off));
	}
}

static inline void lbe_enter(struct lbe_tctx *tc)
{
	ck_epoch_begin(tc->rec, NULL);
	/* The section's loads must not pass begin's load of the global epoch
	 * (a no-op on x86; see the header). */
	ck_pr_fence_load();
}

static inline void lbe_exit(struct lbe_tctx *tc)
{
	ck_epoch_end(tc->rec, NULL);
}

/* Retire a node this thread unlinked; it returns to the pool after its
 * grace period. */
static inline void lbe_retire(struct lbe *e, struct lbq_pool *p, struct lbe_tctx *tc,
			      struct lbq_pnode *n)
{
	/* The unlinking CAS before the epoch snapshot ck_epoch_call files
	 * the node under (a no-op on x86). */
	ck_pr_fence_atomic_load();
	ck_epoch_call(tc->rec, (ck_epoch_entry_t *)((char *)n + e->retire_off), lbe_never);
	if (__builtin_expect(++tc->retired >= LBE_POLL, 0)) {
		tc->retired = 0;
		lbe_poll(e, p, tc);
	}
}

#endif
