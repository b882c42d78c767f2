/* lit-cna: the compact NUMA-aware lock (Dice and Kogan, "Compact
 * NUMA-aware Locks", EuroSys 2019); our code, in C11 atomics, after the
 * paper's pseudo-code.  An MCS lock (one word: the tail) whose unlock
 * prefers a successor of its own cluster: waiters of other clusters that
 * stand before the first local one are moved, in order, to a secondary
 * queue, which goes back in front of the main queue when no local waiter
 * is left, or once in LB_CNA_FLUSH hand-overs (fairness; the paper's
 * THRESHOLD 0xffff).  On one cluster every successor is local and it is
 * MCS, hand-over for hand-over.
 *
 * State encoding:
 *   tail        the last node of the main queue, NULL when free
 *   node.spin   0 while waiting; once the lock is ours: 1 if there is no
 *               secondary queue, else the address of its first node (nodes
 *               are aligned, so an address is never 0 or 1): the secondary
 *               queue travels with the lock, in the holder's node
 *   node.next   the successor in whichever queue the node is in
 *   node.sec_tail  in a secondary queue's first node only: its last node
 *   node.cluster   the node's cluster (prim.h's, from hwloc), set once
 * Transitions:
 *   lock    node = {spin 0, next NULL}; swap tail to it.  Old tail NULL:
 *           ours, spin = 1.  Else link prev.next = node, wait for spin != 0.
 *   unlock  no successor in the main queue: CAS tail from our node to NULL
 *           (no secondary queue) or to the secondary queue's last node, whose
 *           first node then gets spin = 1 (the secondary becomes the main
 *           queue); else wait for the successor to link itself.  With a
 *           successor: find the first local waiter, moving the ones before
 *           it to the end of the secondary queue, and hand it our spin (the
 *           secondary queue's head, or 1).  None local, or the flush draw:
 *           splice the secondary queue before the main one and hand its first
 *           node spin = 1; no secondary queue: hand the next node spin = 1.
 * Only the holder reads or writes sec_tail and the next fields of nodes in
 * the secondary queue (none of them is the main queue's tail, so no arrival
 * links to it); they travel to the next holder with the release of spin.
 *
 * Orders checked.  lock returns on the acq_rel swap that read NULL (pairs
 * with the release CAS of tail in the unlock that freed the lock) or on the
 * acquire load of spin != 0 (pairs with the release store of spin in the
 * previous holder's unlock).  prev.next is a release store read by acquire
 * loads (the holder sees the new node's fields).
 */
#ifndef LB_MUTEX_LIT_CNA_H
#define LB_MUTEX_LIT_CNA_H

#include <stdatomic.h>
#include <stdint.h>

#include "mutex.h"

#define LB_CNA_FLUSH 0xffffu /* flush the secondary queue once in 65536 */

struct lb_cna_node {
	_Atomic uintptr_t spin;
	struct lb_cna_node *_Atomic next;
	struct lb_cna_node *sec_tail;
	unsigned cluster;
	uint32_t rand; /* xorshift32 state for the flush draw */
};

static inline int lb_lit_cna_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init((struct lb_cna_node *_Atomic *)obj, NULL);
	return 0;
}

static inline int lb_lit_cna_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)obj;
	struct lb_cna_node *n = t;
	n->cluster = ti->cluster;
	n->rand = 2654435761u * (ti->tid + 1);
	return 0;
}

static inline void lb_lit_cna_lock(void *obj, void *t)
{
	struct lb_cna_node *_Atomic *tail = obj;
	struct lb_cna_node *me = t;
	atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&me->spin, 0, memory_order_relaxed);
	/* acq_rel: acquire pairs with the release CAS that freed the lock;
	 * release publishes our node to the next arrival */
	struct lb_cna_node *prev = atomic_exchange_explicit(tail, me, memory_order_acq_rel);
	if (!prev) {
		atomic_store_explicit(&me->spin, 1, memory_order_relaxed); /* only we read it */
		return;
	}
	/* release pairs with the holder's acquire load of its next */
	atomic_store_explicit(&prev->next, me, memory_order_release);
	/* acquire pairs with the release store of spin in unlock */
	while (atomic_load_explicit(&me->spin, memory_order_acquire) == 0)
		lb_cpu_relax();
}

static inline bool lb_lit_cna_trylock(void *obj, void *t)
{
	struct lb_cna_node *_Atomic *tail = obj;
	struct lb_cna_node *me = t, *none = NULL;
	if (atomic_load_explicit(tail, memory_order_relaxed))
		return false;
	atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&me->spin, 1, memory_order_relaxed);
	/* acquire pairs with the release CAS that freed the lock */
	return atomic_compare_exchange_strong_explicit(tail, &none, me, memory_order_acq_rel,
						       memory_order_relaxed);
}

/* The first waiter after `me` in our cluster, moving the ones before it to
 * the secondary queue (*spin: its head, or 1); NULL if there is none. */
static struct lb_cna_node *lb_cna_local_successor(struct lb_cna_node *me,
						  struct lb_cna_node *next, uintptr_t *spin)
{
	if (next->cluster == me->cluster)
		return next;
	struct lb_cna_node *sec_head = next, *sec_tail = next;
	/* acquire: each next was linked by a release store */
	for (struct lb_cna_node *cur = atomic_load_explicit(&next->next, memory_order_acquire);
	     cur; cur = atomic_load_explicit(&cur->next, memory_order_acquire)) {
		if (cur->cluster == me->cluster) {
			if (*spin > 1) {
				struct lb_cna_node *h = (struct lb_cna_node *)*spin;
				atomic_store_explicit(&h->sec_tail->next, sec_head,
						      memory_order_relaxed);
				h->sec_tail = sec_tail;
			} else {
				*spin = (uintptr_t)sec_head;
				sec_head->sec_tail = sec_tail;
			}
			atomic_store_explicit(&sec_tail->next, NULL, memory_order_relaxed);
			return cur;
		}
		sec_tail = cur;
	}
	return NULL;
}

static void lb_cna_unlock_slow(struct lb_cna_node *_Atomic *tail, struct lb_cna_node *me,
			       struct lb_cna_node *next, uintptr_t spin)
{
	if (!next) {
		struct lb_cna_node *expect = me;
		struct lb_cna_node *sec = spin > 1 ? (struct lb_cna_node *)spin : NULL;
		/* release pairs with the next locker's acq_rel swap */
		if (atomic_compare_exchange_strong_explicit(tail, &expect, sec ? sec->sec_tail : NULL,
							    memory_order_release,
							    memory_order_relaxed)) {
			if (sec) /* the secondary queue is the main one now */
				atomic_store_explicit(&sec->spin, 1, memory_order_release);
			return;
		}
		/* acquire pairs with the successor's release store of our next */
		while (!(next = atomic_load_explicit(&me->next, memory_order_acquire)))
			lb_cpu_relax();
	}
	uint32_t x = me->rand;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	me->rand = x;
	struct lb_cna_node *succ = NULL;
	if ((x & LB_CNA_FLUSH) != 0 && (succ = lb_cna_local_successor(me, next, &spin))) {
		/* release pairs with succ's acquire load of its spin */
		atomic_store_explicit(&succ->spin, spin, memory_order_release);
	} else if (spin > 1) {
		struct lb_cna_node *sec = (struct lb_cna_node *)spin;
		atomic_store_explicit(&sec->sec_tail->next, next, memory_order_relaxed);
		atomic_store_explicit(&sec->spin, 1, memory_order_release);
	} else {
		atomic_store_explicit(&next->spin, 1, memory_order_release);
	}
}

static inline void lb_lit_cna_unlock(void *obj, void *t)
{
	struct lb_cna_node *me = t;
	struct lb_cna_node *next = atomic_load_explicit(&me->next, memory_order_acquire);
	/* our own spin: written before our lock returned (acquire there) */
	uintptr_t spin = atomic_load_explicit(&me->spin, memory_order_relaxed);
	/* MCS's common case, the only one on one cluster: the next waiter is
	 * local and no queue is aside (a flush would hand it the lock too) */
	if (next && spin == 1 && next->cluster == me->cluster) {
		/* release pairs with next's acquire load of its spin */
		atomic_store_explicit(&next->spin, 1, memory_order_release);
		return;
	}
	lb_cna_unlock_slow(obj, me, next, spin);
}

static const struct lb_mutex_ops lb_lit_cna_ops = {
	.base = { .size = sizeof(struct lb_cna_node *), .tctx_size = sizeof(struct lb_cna_node),
		  .init = lb_lit_cna_init, .thread_init = lb_lit_cna_thread_init },
	.lock = lb_lit_cna_lock,
	.trylock = lb_lit_cna_trylock,
	.unlock = lb_lit_cna_unlock,
};

#endif
