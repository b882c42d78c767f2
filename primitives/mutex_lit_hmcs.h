/* lit-hmcs: hierarchical MCS (Chabbi, Fagan and Mellor-Crummey,
 * "High Performance Locks for Multi-level NUMA Systems", PPoPP 2015), two
 * levels; our code, in C11 atomics, after the paper's pseudo-code.  Each
 * cluster (prim.h's, from hwloc) has an MCS queue; the queue's head takes
 * a global MCS lock on behalf of the whole cluster, with the cluster's own
 * node, and the lock is then passed down the local queue up to
 * LB_HMCS_PASSES times before the global lock is released, so a batch of
 * one cluster's waiters runs without crossing the interconnect.  The
 * global lock is held by the cluster, not by a thread: whichever thread
 * of the cluster ends the batch releases it, with the cluster's node.
 *
 * State encoding:
 *   global.tail, local[c].tail   MCS tails (NULL: free)
 *   node.next                    the successor in the same queue
 *   node.status  (a thread's node in its cluster's queue)
 *     LB_HMCS_WAIT        queued, waiting
 *     LB_HMCS_PARENT      the lock was not passed: take the global lock
 *     1 .. PASSES         the lock was passed inside the cluster; the
 *                         value counts the batch so far
 *   the cluster node's status in the global queue: WAIT, then 1 (granted)
 * Transitions:
 *   lock    MCS-enqueue on the local queue.  Old tail NULL, or granted
 *           PARENT: enqueue the cluster's node on the global queue and wait
 *           for it (or find the global lock free); status = 1.  Granted a
 *           count: ours, the global lock is already the cluster's.
 *   unlock  count < PASSES and a local successor linked: pass count + 1 to
 *           it.  Else release the global lock (MCS unlock of the cluster's
 *           node), then MCS-unlock locally, granting PARENT to a successor.
 *
 * Orders checked.  lock returns after (a) the acq_rel swap of a tail that
 * read NULL, or the acquire load of a granted status (each pairing with
 * the release CAS of that tail or release store of status in an unlock),
 * at the global level when the thread took the global lock, or (b) at the
 * local level when a count was passed: the passer held the global lock and
 * released nothing, so its release store of our status carries everything.
 */
#ifndef LB_MUTEX_LIT_HMCS_H
#define LB_MUTEX_LIT_HMCS_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "mutex.h"

#define LB_HMCS_PASSES 64u /* local hand-overs per global acquisition */
#define LB_HMCS_WAIT UINT32_MAX
#define LB_HMCS_PARENT (UINT32_MAX - 1)

struct lb_hmcs_node {
	struct lb_hmcs_node *_Atomic next;
	_Atomic uint32_t status;
};

/* One cluster: its queue's tail and its node in the global queue, on a
 * line of their own. */
struct lb_hmcs_cluster {
	_Alignas(LB_CACHELINE) struct lb_hmcs_node *_Atomic tail;
	_Alignas(LB_CACHELINE) struct lb_hmcs_node node;
};

struct lb_hmcs {
	_Alignas(LB_CACHELINE) struct lb_hmcs_node *_Atomic global;
	struct lb_hmcs_cluster *clusters;
	unsigned nclusters;
};

struct lb_hmcs_tctx {
	struct lb_hmcs_node node;
	struct lb_hmcs_cluster *cl;
};

static inline int lb_lit_hmcs_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_hmcs *l = obj;
	l->nclusters = cfg->nclusters ? cfg->nclusters : 1;
	atomic_init(&l->global, NULL);
	l->clusters = lb_shared_aligned_alloc(LB_CACHELINE, l->nclusters * sizeof(*l->clusters));
	if (!l->clusters)
		return ENOMEM;
	for (unsigned c = 0; c < l->nclusters; c++) {
		atomic_init(&l->clusters[c].tail, NULL);
		atomic_init(&l->clusters[c].node.next, NULL);
		atomic_init(&l->clusters[c].node.status, LB_HMCS_WAIT);
	}
	return 0;
}

static inline void lb_lit_hmcs_fini(void *obj)
{
	free(((struct lb_hmcs *)obj)->clusters);
}

static inline int lb_lit_hmcs_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct lb_hmcs *l = obj;
	((struct lb_hmcs_tctx *)t)->cl = &l->clusters[ti->cluster < l->nclusters ? ti->cluster : 0];
	return 0;
}

/* MCS enqueue of `n` on `tail`: the status it was granted (or 0 when the
 * queue was empty: the lock at this level is ours at once). */
static inline uint32_t lb_hmcs_enqueue(struct lb_hmcs_node *_Atomic *tail, struct lb_hmcs_node *n)
{
	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&n->status, LB_HMCS_WAIT, memory_order_relaxed);
	/* acq_rel: acquire pairs with the release CAS that emptied the queue,
	 * release publishes the node to the next arrival */
	struct lb_hmcs_node *prev = atomic_exchange_explicit(tail, n, memory_order_acq_rel);
	if (!prev)
		return 0;
	/* release pairs with the predecessor's acquire load of its next */
	atomic_store_explicit(&prev->next, n, memory_order_release);
	uint32_t s;
	/* acquire pairs with the release store of our status */
	while ((s = atomic_load_explicit(&n->status, memory_order_acquire)) == LB_HMCS_WAIT)
		lb_cpu_relax();
	return s;
}

/* MCS release of `n` on `tail`, granting `grant` to a successor. */
static inline void lb_hmcs_release(struct lb_hmcs_node *_Atomic *tail, struct lb_hmcs_node *n,
				   uint32_t grant)
{
	struct lb_hmcs_node *succ = atomic_load_explicit(&n->next, memory_order_acquire);
	if (!succ) {
		struct lb_hmcs_node *expect = n;
		/* release pairs with the next arrival's acq_rel swap */
		if (atomic_compare_exchange_strong_explicit(tail, &expect, NULL,
							    memory_order_release,
							    memory_order_relaxed))
			return;
		/* acquire pairs with the successor's release store of next */
		while (!(succ = atomic_load_explicit(&n->next, memory_order_acquire)))
			lb_cpu_relax();
	}
	/* release pairs with the successor's acquire load of its status */
	atomic_store_explicit(&succ->status, grant, memory_order_release);
}

static inline void lb_lit_hmcs_lock(void *obj, void *t)
{
	struct lb_hmcs *l = obj;
	struct lb_hmcs_tctx *c = t;
	uint32_t s = lb_hmcs_enqueue(&c->cl->tail, &c->node);
	if (s != 0 && s != LB_HMCS_PARENT)
		return; /* passed inside the cluster: s counts the batch */
	/* Head of the cluster's queue without the global lock: take it for
	 * the cluster.  Only the cluster's head touches the cluster's node. */
	lb_hmcs_enqueue(&l->global, &c->cl->node);
	atomic_store_explicit(&c->node.status, 1, memory_order_relaxed);
}

static inline bool lb_lit_hmcs_trylock(void *obj, void *t)
{
	struct lb_hmcs *l = obj;
	struct lb_hmcs_tctx *c = t;
	struct lb_hmcs_node *none = NULL;
	/* Only when the whole lock is free: the global queue empty, then our
	 * cluster's.  Each CAS is acq_rel, as the swap in enqueue. */
	if (atomic_load_explicit(&l->global, memory_order_relaxed) ||
	    atomic_load_explicit(&c->cl->tail, memory_order_relaxed))
		return false;
	atomic_store_explicit(&c->node.next, NULL, memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&c->cl->tail, &none, &c->node,
						     memory_order_acq_rel, memory_order_relaxed))
		return false;
	atomic_store_explicit(&c->cl->node.next, NULL, memory_order_relaxed);
	none = NULL;
	if (!atomic_compare_exchange_strong_explicit(&l->global, &none, &c->cl->node,
						     memory_order_acq_rel, memory_order_relaxed)) {
		/* someone else's cluster holds it: leave our queue, handing a
		 * waiter that came meanwhile the duty to take the global lock */
		lb_hmcs_release(&c->cl->tail, &c->node, LB_HMCS_PARENT);
		return false;
	}
	atomic_store_explicit(&c->node.status, 1, memory_order_relaxed);
	return true;
}

static inline void lb_lit_hmcs_unlock(void *obj, void *t)
{
	struct lb_hmcs *l = obj;
	struct lb_hmcs_tctx *c = t;
	uint32_t count = atomic_load_explicit(&c->node.status, memory_order_relaxed);
	if (count < LB_HMCS_PASSES) {
		struct lb_hmcs_node *succ = atomic_load_explicit(&c->node.next, memory_order_acquire);
		if (succ) {
			/* release pairs with succ's acquire load of its status */
			atomic_store_explicit(&succ->status, count + 1, memory_order_release);
			return;
		}
	}
	lb_hmcs_release(&l->global, &c->cl->node, 1);
	lb_hmcs_release(&c->cl->tail, &c->node, LB_HMCS_PARENT);
}

static const struct lb_mutex_ops lb_lit_hmcs_ops = {
	.base = { .size = sizeof(struct lb_hmcs), .tctx_size = sizeof(struct lb_hmcs_tctx),
		  .init = lb_lit_hmcs_init, .fini = lb_lit_hmcs_fini,
		  .thread_init = lb_lit_hmcs_thread_init },
	.lock = lb_lit_hmcs_lock,
	.trylock = lb_lit_hmcs_trylock,
	.unlock = lb_lit_hmcs_unlock,
};

#endif
