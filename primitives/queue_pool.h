/* Node pool and occupancy bound for the linked queues (queue_ck.h's
 * ck-fifo-mpmc, queue_urcu.h's urcu-wfcqueue and urcu-lfstack).
 *
 * The linked queues are unbounded and carry each item in a node the caller
 * provides.  Two things make them usable as a bounded buffer here:
 *
 * Bound.  (Unless the pool is unbounded: lbq_pool_init_stack with permits
 *   0.)  count is the number of items pushed and not yet popped: push
 *   reserves a slot first (count < cap, else "full"), pop releases it after
 *   the dequeue.  So the queue never holds more than cap items, exactly.
 *   It costs one more contended cache line per op; that is the price of
 *   bounding an unbounded queue and is part of what these rows measure.
 *   The count orders no data (the queue itself does), so it is relaxed.
 *
 * Nodes.  malloc/free per item would measure the allocator (and its arena
 *   locks, since consumers free what producers allocate).  Instead nodes
 *   are recycled through per-thread homes: a producer takes nodes from its
 *   home's private free list; a consumer gives a dequeued node back to the
 *   home it came from by pushing it on that home's `returned` stack (a CAS
 *   push: ABA-safe because only the owner removes, and it removes
 *   everything at once with an exchange).  When both are empty the owner
 *   allocates a chunk of LBQ_CHUNK_NODES nodes.  A producer allocates only
 *   when every node it owns is in the queue, in a consumer's hands or
 *   waiting out a grace period (ck-fifo-mpmc), so it owns at most cap +
 *   nthreads + LBQ_CHUNK_NODES nodes plus those waiting (LBE_POLL
 *   per consumer, more while a thread sits preempted inside an epoch
 *   section).  Nodes are never freed before fini: the memory stays
 *   type-stable, which the lock-free algorithms need (a stale reader may
 *   still load a recycled node's next pointer).  Type-stable is not
 *   enough for ck_fifo_mpmc, whose enqueue resets a node's generation: its
 *   dequeued nodes come back here only through ck_epoch (queue_ck.h).  The
 *   liburcu queues give nodes back at once (queue_urcu.h says why that is
 *   safe).
 *
 * Homes live in the object, not in the thread context, because consumers
 * return nodes to producers that may already have detached (consumers
 * drain the queue after the producers stop).
 */
#ifndef LB_QUEUE_POOL_H
#define LB_QUEUE_POOL_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prim.h"

#define LBQ_NODE_ALIGN 64   /* one node per cache line: no false sharing */
/* Nodes per allocation (4 KiB).  Overridable before the first include:
 * tests/test_prim_fifo.c shrinks it so that nodes are recycled sooner. */
#ifndef LBQ_CHUNK_NODES
#define LBQ_CHUNK_NODES 64
#endif

/* The pool's header at the start of every node. */
struct lbq_pnode {
	struct lbq_pnode *free_next;
	uint32_t home;
};

struct lbq_chunk {
	struct lbq_chunk *next;
};

struct lbq_home {
	/* Written by consumers giving nodes back. */
	alignas(LB_CACHELINE) _Atomic(struct lbq_pnode *) returned;
	/* The owner's alone. */
	alignas(LB_CACHELINE) struct lbq_pnode *free;
	struct lbq_chunk *chunks;
};

struct lbq_pool {
	struct lbq_home *homes;
	unsigned nhomes;
	size_t node_size;   /* a multiple of LBQ_NODE_ALIGN */
	uint64_t cap;
	bool bounded;       /* false: no count, cap UINT64_MAX (stack.h) */
	alignas(LB_CACHELINE) _Atomic uint64_t count;
};

/* Per-thread context of a pooled queue: which home is the caller's. */
struct lbq_tctx {
	struct lbq_home *home;
	uint32_t id;
};

static inline int lbq_pool_init(struct lbq_pool *p, const struct lb_prim_cfg *cfg,
				size_t node_size)
{
	p->nhomes = cfg->nthreads ? cfg->nthreads : 1;
	p->node_size = (node_size + LBQ_NODE_ALIGN - 1) / LBQ_NODE_ALIGN * LBQ_NODE_ALIGN;
	p->cap = cfg->permits ? cfg->permits : 1;
	p->bounded = true;
	atomic_init(&p->count, 0);
	p->homes = lb_shared_aligned_alloc(LB_CACHELINE, p->nhomes * sizeof(*p->homes));
	if (!p->homes)
		return ENOMEM;
	memset(p->homes, 0, p->nhomes * sizeof(*p->homes));
	for (unsigned i = 0; i < p->nhomes; i++)
		atomic_init(&p->homes[i].returned, NULL);
	return 0;
}

/* The stack kind's pool (stack.h): bounded by permits, unbounded for 0. */
static inline int lbq_pool_init_stack(struct lbq_pool *p, const struct lb_prim_cfg *cfg,
				      size_t node_size)
{
	int ret = lbq_pool_init(p, cfg, node_size);
	if (!ret && cfg->permits == 0) {
		p->bounded = false;
		p->cap = UINT64_MAX;
	}
	return ret;
}

static inline void lbq_pool_fini(struct lbq_pool *p)
{
	for (unsigned i = 0; p->homes && i < p->nhomes; i++) {
		struct lbq_chunk *c = p->homes[i].chunks, *next;
		for (; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(p->homes);
	p->homes = NULL;
}

static inline int lbq_thread_init(struct lbq_pool *p, void *t, const struct lb_thread_info *ti)
{
	struct lbq_tctx *tc = t;
	if (ti->tid >= p->nhomes)
		return EINVAL;
	tc->home = &p->homes[ti->tid];
	tc->id = ti->tid;
	return 0;
}

/* Out of line: a chunk of fresh nodes onto the owner's free list.  The
 * chunk header takes the first LBQ_NODE_ALIGN bytes. */
static __attribute__((noinline)) struct lbq_pnode *
lbq_grow(struct lbq_pool *p, struct lbq_home *h, uint32_t id)
{
	size_t bytes = LBQ_NODE_ALIGN + LBQ_CHUNK_NODES * p->node_size;
	struct lbq_chunk *c = lb_shared_aligned_alloc(LBQ_NODE_ALIGN, bytes);
	if (!c)
		return NULL;
	memset(c, 0, bytes);
	c->next = h->chunks;
	h->chunks = c;
	for (unsigned i = 0; i < LBQ_CHUNK_NODES; i++) {
		struct lbq_pnode *n = (struct lbq_pnode *)((char *)c + LBQ_NODE_ALIGN +
							   i * p->node_size);
		n->home = id;
		n->free_next = h->free;
		h->free = n;
	}
	return h->free;
}

/* A node for the owner of home h (only that thread calls this).  NULL only
 * when memory runs out. */
static inline struct lbq_pnode *lbq_get(struct lbq_pool *p, struct lbq_home *h, uint32_t id)
{
	struct lbq_pnode *n = h->free;
	if (__builtin_expect(!n, 0)) {
		/* acquire: pairs with the release CAS in lbq_put, so the
		 * consumers' reads of these nodes happen before our reuse. */
		n = atomic_exchange_explicit(&h->returned, NULL, memory_order_acquire);
		if (!n && !(n = lbq_grow(p, h, id)))
			return NULL;
	}
	h->free = n->free_next;
	return n;
}

/* Give a dequeued node back to its home (any thread). */
static inline void lbq_put(struct lbq_pool *p, struct lbq_pnode *n)
{
	struct lbq_home *h = &p->homes[n->home];
	struct lbq_pnode *top = atomic_load_explicit(&h->returned, memory_order_relaxed);
	do
		n->free_next = top;
	/* release: our reads of the node happen before the owner reuses it. */
	while (!atomic_compare_exchange_weak_explicit(&h->returned, &top, n,
			memory_order_release, memory_order_relaxed));
}

/* An occupancy bound over a count: take room for one item, false when
 * cap items are in.  A plain load first, so that a producer spinning on a
 * full queue does not hammer the line with RMWs.  Also smr_msq.h's. */
static inline bool lbq_take(_Atomic uint64_t *count, uint64_t cap)
{
	if (atomic_load_explicit(count, memory_order_relaxed) >= cap)
		return false;
	if (atomic_fetch_add_explicit(count, 1, memory_order_relaxed) >= cap) {
		atomic_fetch_sub_explicit(count, 1, memory_order_relaxed);
		return false;
	}
	return true;
}

static inline void lbq_give(_Atomic uint64_t *count)
{
	atomic_fetch_sub_explicit(count, 1, memory_order_relaxed);
}

/* Reserve room for one item; false when cap items are in the queue. */
static inline bool lbq_reserve(struct lbq_pool *p)
{
	return !p->bounded || lbq_take(&p->count, p->cap);
}

static inline void lbq_unreserve(struct lbq_pool *p)
{
	if (p->bounded)
		lbq_give(&p->count);
}

/* Out of memory in the middle of a run: nothing sensible is left to do
 * (the run's numbers would be meaningless), so say so and stop. */
static __attribute__((noinline, noreturn)) void lbq_oom(void)
{
	fprintf(stderr, "lockbench: out of memory allocating queue nodes\n");
	abort();
}

#endif
