/* Michael's lock-free hash set ("High performance dynamic lock-free hash
 * tables and list-based sets", SPAA 2002; with hazard pointers as in
 * "Hazard pointers", IEEE TPDS 2004, figure 9): a fixed array of buckets,
 * each a sorted lock-free linked list (Harris's, with Michael's
 * reclamation-friendly find).  The set kind's structure for the
 * reclamation axis: one algorithm, instantiated per smr.h scheme by
 * LB_MICHAEL_SET (set_atomic.h, set_ck.h, set_urcu.h).
 *
 * State encoding: a link (a bucket head, or a node's next) is a node
 * address with bit 0 as the mark.  A node whose own next is marked is
 * logically deleted; only an unmarked link is ever changed by CAS, so a
 * marked node's successor never changes and an insert can never land
 * after a deleted node.  Keys in a bucket are strictly ascending.
 *
 *   find(key)   walks the bucket from its head keeping prev (the link that
 *               points at cur) and cur; it unlinks every marked node it
 *               meets (CAS prev: cur -> next) and retires it, restarting
 *               from the head when prev changed under it.  It stops at the
 *               first key >= key, with prev -> cur, both still linked.
 *   insert      find; if absent, CAS prev: cur -> new node (new->next =
 *               cur), else retry.
 *   remove      find; if present, mark cur->next (CAS), then try to unlink
 *               it (CAS prev); if that fails, one more find unlinks it.
 *               The thread whose unlinking CAS succeeds retires the node:
 *               exactly one.
 *   lookup      find; the value is read from cur, still protected.
 *
 * Hazard pointers (LB_SMR_HP): slots hold prev's node, cur and next; each
 * load of a node address is followed by naming it (store + full fence)
 * and re-reading the link it came from: if the link still holds it, the
 * node was linked after the slot was visible, so no scan that could free
 * it missed the slot.  The three roles rotate through the slots by index,
 * never by copying (Michael's "hp2 <- cur" and "hp1 <- next" become
 * renames).  Under the other schemes the whole operation is one section
 * and those re-validations are compiled out; the check that prev still
 * points at cur, unmarked, after reading cur's key stays: it is part of
 * the algorithm (the key read belongs to a node still in the list).
 *
 * Memory order: every CAS is acq_rel (release: the new node's key, value
 * and next, or the successor that an unlink exposes, are published to the
 * acquire loads of the same link; acquire: the thread then reads the node
 * it swung to); every link load is acquire.  Keys and values never change
 * while a node can be reached: only the free poisons them.
 *
 * Buckets: the key range (lb_prim_cfg.permits) rounded up to a power of
 * two, at least 16: a load factor of at most one half at the map's
 * default prefill; the table never resizes (resizes is NULL).
 */
#ifndef LB_SMR_HASH_H
#define LB_SMR_HASH_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "set.h"
#include "smr.h"

struct lb_mh_node {
	struct lb_smr_hdr h;
	_Atomic uintptr_t next; /* successor | 1 once this node is deleted */
	uint64_t key, val;
};

struct lb_mh {
	struct lb_smr smr;
	uint64_t mask;              /* buckets - 1 */
	_Atomic uintptr_t *buckets; /* [mask + 1] */
};

#define LB_MH_MARK ((uintptr_t)1)

static inline struct lb_mh_node *lb_mh_ptr(uintptr_t link)
{
	return (struct lb_mh_node *)(link & ~LB_MH_MARK);
}

static inline int lb_mh_init(const enum lb_smr_scheme S, void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_mh *m = obj;
	uint64_t n = 16;
	while (n < cfg->permits)
		n *= 2;
	int ret = lb_smr_init(S, &m->smr, cfg, sizeof(struct lb_mh_node));
	if (ret)
		return ret;
	m->mask = n - 1;
	if (!(m->buckets = lb_shared_aligned_alloc(LB_CACHELINE, n * sizeof(*m->buckets)))) {
		lb_smr_fini(S, &m->smr);
		return ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++)
		atomic_init(&m->buckets[i], 0);
	return 0;
}

/* With no thread attached: the nodes still linked were never retired, so
 * they are freed here directly; then the scheme frees what it holds. */
static inline void lb_mh_fini(const enum lb_smr_scheme S, void *obj)
{
	struct lb_mh *m = obj;
	for (uint64_t i = 0; i <= m->mask; i++) {
		struct lb_mh_node *n = lb_mh_ptr(atomic_load_explicit(&m->buckets[i],
								      memory_order_relaxed));
		while (n) {
			struct lb_mh_node *next = lb_mh_ptr(atomic_load_explicit(
				&n->next, memory_order_relaxed));
			free(n);
			n = next;
		}
	}
	free(m->buckets);
	lb_smr_fini(S, &m->smr);
}

struct lb_mh_pos {
	_Atomic uintptr_t *prev;
	struct lb_mh_node *cur, *next;
};

/* Michael's find: true when cur holds key.  On return cur (when not NULL)
 * is protected until the caller's lb_smr_exit. */
static inline __attribute__((always_inline)) bool
lb_mh_find(const enum lb_smr_scheme S, struct lb_mh *m, struct lb_smr_tctx *tc, uint64_t key,
	   struct lb_mh_pos *pos)
{
	_Atomic uintptr_t *const head = &m->buckets[lb_set_hash(key) & m->mask];
	_Atomic uintptr_t *prev;
	struct lb_mh_node *cur, *next;
	unsigned hprev, hcur, hnext; /* which slot names prev's node, cur, next */

retry:
	hprev = 2, hcur = 1, hnext = 0;
	prev = head;
	cur = lb_mh_ptr(atomic_load_explicit(prev, memory_order_acquire));
	if (S == LB_SMR_HP) {
		lb_smr_protect(S, tc, hcur, cur);
		if (atomic_load_explicit(prev, memory_order_acquire) != (uintptr_t)cur)
			goto retry;
	}
	for (;;) {
		if (!cur) {
			pos->prev = prev;
			pos->cur = pos->next = NULL;
			return false;
		}
		uintptr_t cn = atomic_load_explicit(&cur->next, memory_order_acquire);
		next = lb_mh_ptr(cn);
		if (S == LB_SMR_HP) {
			lb_smr_protect(S, tc, hnext, next);
			if (atomic_load_explicit(&cur->next, memory_order_acquire) != cn)
				goto retry;
		}
		uint64_t ckey = cur->key;
		if (atomic_load_explicit(prev, memory_order_acquire) != (uintptr_t)cur)
			goto retry;
		if (!(cn & LB_MH_MARK)) {
			if (ckey >= key) {
				pos->prev = prev;
				pos->cur = cur;
				pos->next = next;
				return ckey == key;
			}
			prev = &cur->next;
			unsigned freed_slot = hprev; /* prev's old node: no longer needed */
			hprev = hcur;
			hcur = hnext;
			hnext = freed_slot;
		} else {
			uintptr_t expect = (uintptr_t)cur;
			if (!atomic_compare_exchange_strong_explicit(prev, &expect, (uintptr_t)next,
								     memory_order_acq_rel,
								     memory_order_acquire))
				goto retry;
			lb_smr_retire(S, tc, &cur->h);
			unsigned t = hcur; /* prev stays; cur becomes next */
			hcur = hnext;
			hnext = t;
		}
		cur = next;
	}
}

static inline __attribute__((always_inline)) bool
lb_mh_lookup(const enum lb_smr_scheme S, void *obj, void *t, uint64_t key, uint64_t *val)
{
	struct lb_mh *m = obj;
	struct lb_smr_tctx *tc = t;
	struct lb_mh_pos pos;
	lb_smr_enter(S, tc);
	bool found = lb_mh_find(S, m, tc, key, &pos);
	if (found)
		*val = pos.cur->val;
	lb_smr_exit(S, &m->smr, tc);
	return found;
}

static inline __attribute__((always_inline)) bool
lb_mh_insert(const enum lb_smr_scheme S, void *obj, void *t, uint64_t key, uint64_t val)
{
	struct lb_mh *m = obj;
	struct lb_smr_tctx *tc = t;
	struct lb_mh_pos pos;
	struct lb_mh_node *n = malloc(sizeof(*n));
	bool added = false;
	if (!n)
		abort(); /* out of memory mid-run */
	n->key = key;
	n->val = val;
	lb_smr_enter(S, tc);
	while (!lb_mh_find(S, m, tc, key, &pos)) {
		uintptr_t expect = (uintptr_t)pos.cur;
		atomic_store_explicit(&n->next, expect, memory_order_relaxed); /* published by the CAS */
		if (atomic_compare_exchange_strong_explicit(pos.prev, &expect, (uintptr_t)n,
							    memory_order_acq_rel,
							    memory_order_acquire)) {
			added = true;
			break;
		}
	}
	lb_smr_exit(S, &m->smr, tc);
	if (!added)
		free(n); /* never published */
	return added;
}

static inline __attribute__((always_inline)) bool
lb_mh_remove(const enum lb_smr_scheme S, void *obj, void *t, uint64_t key)
{
	struct lb_mh *m = obj;
	struct lb_smr_tctx *tc = t;
	struct lb_mh_pos pos;
	bool removed = false;
	lb_smr_enter(S, tc);
	while (lb_mh_find(S, m, tc, key, &pos)) {
		uintptr_t next = (uintptr_t)pos.next;
		if (!atomic_compare_exchange_strong_explicit(&pos.cur->next, &next,
							    next | LB_MH_MARK,
							    memory_order_acq_rel,
							    memory_order_acquire))
			continue; /* a new successor, or someone else's mark */
		removed = true;
		uintptr_t expect = (uintptr_t)pos.cur;
		if (atomic_compare_exchange_strong_explicit(pos.prev, &expect, next,
							    memory_order_acq_rel,
							    memory_order_acquire))
			lb_smr_retire(S, tc, &pos.cur->h);
		else
			(void)lb_mh_find(S, m, tc, key, &pos); /* unlinks it (or someone did) */
		break;
	}
	lb_smr_exit(S, &m->smr, tc);
	return removed;
}

/* With no thread running: every unmarked node, bucket by bucket. */
static inline void lb_mh_foreach(void *obj, void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	struct lb_mh *m = obj;
	for (uint64_t i = 0; i <= m->mask; i++) {
		struct lb_mh_node *n = lb_mh_ptr(atomic_load_explicit(&m->buckets[i],
								      memory_order_acquire));
		while (n) {
			uintptr_t nx = atomic_load_explicit(&n->next, memory_order_acquire);
			if (!(nx & LB_MH_MARK))
				fn(arg, n->key, n->val);
			n = lb_mh_ptr(nx);
		}
	}
}

static inline uint64_t lb_mh_count(void *obj)
{
	uint64_t c = 0;
	lb_mh_foreach(obj, lb_set_count_one, &c);
	return c;
}

static inline uint64_t lb_mh_unreclaimed(void *obj)
{
	return lb_smr_unreclaimed(&((struct lb_mh *)obj)->smr);
}

/* The stalled reader: a find for key 0 (which names the nodes on its
 * path under HP), then fn(arg) inside the section. */
static inline void lb_mh_hold(const enum lb_smr_scheme S, void *obj, void *t,
			      void (*fn)(void *), void *arg)
{
	struct lb_mh *m = obj;
	struct lb_smr_tctx *tc = t;
	struct lb_mh_pos pos;
	lb_smr_enter(S, tc);
	(void)lb_mh_find(S, m, tc, 0, &pos);
	fn(arg);
	lb_smr_exit(S, &m->smr, tc);
}

/* One set kind implementation: sym under scheme S. */
#define LB_MICHAEL_SET(sym, S)                                                               \
	static inline int lb_##sym##_init(void *o, const struct lb_prim_cfg *c)              \
	{ return lb_mh_init(S, o, c); }                                                      \
	static inline void lb_##sym##_fini(void *o) { lb_mh_fini(S, o); }                    \
	static inline int lb_##sym##_thread_init(void *o, void *t,                           \
						 const struct lb_thread_info *ti)            \
	{ return lb_smr_thread_init(S, &((struct lb_mh *)o)->smr, t, ti->tid); }             \
	static inline void lb_##sym##_thread_fini(void *o, void *t)                          \
	{ (void)o; lb_smr_thread_fini(S, t); }                                               \
	static inline const char *lb_##sym##_unavailable(void) { return lb_smr_unavailable(S); } \
	static inline bool lb_##sym##_lookup(void *o, void *t, uint64_t k, uint64_t *v)      \
	{ return lb_mh_lookup(S, o, t, k, v); }                                              \
	static inline bool lb_##sym##_insert(void *o, void *t, uint64_t k, uint64_t v)       \
	{ return lb_mh_insert(S, o, t, k, v); }                                              \
	static inline bool lb_##sym##_remove(void *o, void *t, uint64_t k)                   \
	{ return lb_mh_remove(S, o, t, k); }                                                 \
	static inline void lb_##sym##_hold(void *o, void *t, void (*fn)(void *), void *arg)  \
	{ lb_mh_hold(S, o, t, fn, arg); }                                                    \
	static const struct lb_set_ops lb_##sym##_ops = {                                    \
		.base = { .size = sizeof(struct lb_mh),                                      \
			  .tctx_size = sizeof(struct lb_smr_tctx),                           \
			  .init = lb_##sym##_init, .fini = lb_##sym##_fini,                  \
			  .thread_init = lb_##sym##_thread_init,                             \
			  .thread_fini = lb_##sym##_thread_fini,                             \
			  .unavailable = lb_##sym##_unavailable },                           \
		.lookup = lb_##sym##_lookup,                                                 \
		.insert = lb_##sym##_insert,                                                 \
		.remove = lb_##sym##_remove,                                                 \
		.count = lb_mh_count,                                                        \
		.foreach = lb_mh_foreach,                                                    \
		.unreclaimed = lb_mh_unreclaimed,                                            \
		.hold = lb_##sym##_hold,                                                     \
	};

#endif
