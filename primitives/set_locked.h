/* A chained hash table behind locks: the set kind's (set.h) lock-based
 * baseline, one table for every lock family.
 *
 * Buckets: the key range (lb_prim_cfg.permits) rounded up to a power of
 * two, at least 16, fixed for the object's life (load factor at most 1
 * at any size the map workload reaches; it never resizes, so resizes is
 * NULL).  A bucket is a singly linked list of malloc'd nodes, newest
 * first.
 *
 * Locks: LB_LOCKED_SET(sym, mutex_ops, rwlock_ops, stripes) makes
 * lb_<sym>_ops over one lock, a mutex (rwlock_ops NULL) or an rwlock
 * (mutex_ops NULL: lookups take it shared), or over `stripes` locks, each
 * on its own cache line, bucket b under lock b mod stripes (lock
 * striping, Herlihy and Shavit, "The Art of Multiprocessor Programming",
 * 13.2.2).  The lock's ops are compile-time constants, inlined here.  The
 * lock must need no per-thread context.
 *
 * Memory: insert allocates its node before taking the lock and frees it
 * again if the key was present; remove unlinks under the lock, then
 * poisons the node (set.h) and frees it after the unlock: no lookup can
 * hold it then, since lookups read nodes only under the lock.
 */
#ifndef LB_SET_LOCKED_H
#define LB_SET_LOCKED_H

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutex.h"
#include "rwlock.h"
#include "set.h"

#define LBH_LOCK_BYTES LB_CACHELINE /* one lock per line */

struct lbh_node {
	struct lbh_node *next;
	uint64_t key, val;
};

struct lbh {
	struct lbh_node **b;  /* [mask + 1] */
	uint64_t mask;
	unsigned char *locks; /* [nlocks * LBH_LOCK_BYTES] */
	unsigned nlocks;      /* a power of two */
};

static inline __attribute__((always_inline)) int
lbh_init(void *obj, const struct lb_prim_cfg *cfg, const struct lb_mutex_ops *m,
	 const struct lb_rwlock_ops *rw, unsigned stripes)
{
	struct lbh *h = obj;
	const struct lb_prim_ops *lo = m ? &m->base : &rw->base;
	uint64_t n = 16;
	while (n < cfg->permits)
		n *= 2;
	if (lo->size > LBH_LOCK_BYTES || lo->tctx_size)
		return EINVAL;
	h->mask = n - 1;
	h->nlocks = stripes < n ? stripes : (unsigned)n;
	h->b = calloc(n, sizeof(*h->b));
	h->locks = lb_shared_aligned_alloc(LB_CACHELINE, (size_t)h->nlocks * LBH_LOCK_BYTES);
	if (!h->b || !h->locks) {
		free(h->b);
		free(h->locks);
		return ENOMEM;
	}
	memset(h->locks, 0, (size_t)h->nlocks * LBH_LOCK_BYTES);
	struct lb_prim_cfg lcfg = { .nthreads = cfg->nthreads, .nclusters = cfg->nclusters };
	for (unsigned i = 0; i < h->nlocks; i++) {
		int ret = lo->init(h->locks + (size_t)i * LBH_LOCK_BYTES, &lcfg);
		if (ret) {
			while (i-- > 0 && lo->fini)
				lo->fini(h->locks + (size_t)i * LBH_LOCK_BYTES);
			free(h->b);
			free(h->locks);
			return ret;
		}
	}
	return 0;
}

static inline __attribute__((always_inline)) void
lbh_fini(void *obj, const struct lb_mutex_ops *m, const struct lb_rwlock_ops *rw)
{
	struct lbh *h = obj;
	const struct lb_prim_ops *lo = m ? &m->base : &rw->base;
	for (uint64_t i = 0; i <= h->mask; i++)
		for (struct lbh_node *n = h->b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	for (unsigned i = 0; lo->fini && i < h->nlocks; i++)
		lo->fini(h->locks + (size_t)i * LBH_LOCK_BYTES);
	free(h->b);
	free(h->locks);
}

static inline __attribute__((always_inline)) void *lbh_lock_of(struct lbh *h, uint64_t bucket)
{
	return h->locks + (size_t)(bucket & (h->nlocks - 1)) * LBH_LOCK_BYTES;
}

static inline __attribute__((always_inline)) bool
lbh_lookup(void *obj, uint64_t key, uint64_t *val, const struct lb_mutex_ops *m,
	   const struct lb_rwlock_ops *rw)
{
	struct lbh *h = obj;
	uint64_t bkt = lb_set_hash(key) & h->mask;
	void *l = lbh_lock_of(h, bkt);
	bool found = false;
	if (m)
		m->lock(l, NULL);
	else
		rw->read_lock(l, NULL);
	for (struct lbh_node *n = h->b[bkt]; n; n = n->next)
		if (n->key == key) {
			*val = n->val;
			found = true;
			break;
		}
	if (m)
		m->unlock(l, NULL);
	else
		rw->read_unlock(l, NULL);
	return found;
}

static inline __attribute__((always_inline)) bool
lbh_insert(void *obj, uint64_t key, uint64_t val, const struct lb_mutex_ops *m,
	   const struct lb_rwlock_ops *rw)
{
	struct lbh *h = obj;
	uint64_t bkt = lb_set_hash(key) & h->mask;
	void *l = lbh_lock_of(h, bkt);
	struct lbh_node *nn = malloc(sizeof(*nn)), *n;
	if (__builtin_expect(!nn, 0))
		abort(); /* out of memory mid-run: nothing sensible is left */
	nn->key = key;
	nn->val = val;
	if (m)
		m->lock(l, NULL);
	else
		rw->write_lock(l, NULL);
	for (n = h->b[bkt]; n && n->key != key; n = n->next)
		;
	if (!n) {
		nn->next = h->b[bkt];
		h->b[bkt] = nn;
	}
	if (m)
		m->unlock(l, NULL);
	else
		rw->write_unlock(l, NULL);
	if (n)
		free(nn);
	return !n;
}

static inline __attribute__((always_inline)) bool
lbh_remove(void *obj, uint64_t key, const struct lb_mutex_ops *m, const struct lb_rwlock_ops *rw)
{
	struct lbh *h = obj;
	uint64_t bkt = lb_set_hash(key) & h->mask;
	void *l = lbh_lock_of(h, bkt);
	struct lbh_node *n, **pp;
	if (m)
		m->lock(l, NULL);
	else
		rw->write_lock(l, NULL);
	for (pp = &h->b[bkt]; (n = *pp) && n->key != key; pp = &n->next)
		;
	if (n)
		*pp = n->next;
	if (m)
		m->unlock(l, NULL);
	else
		rw->write_unlock(l, NULL);
	if (!n)
		return false;
	n->key = n->val = LB_SET_POISON;
	free(n);
	return true;
}

static inline void lbh_foreach(void *obj, void (*fn)(void *arg, uint64_t key, uint64_t val),
			       void *arg)
{
	struct lbh *h = obj;
	for (uint64_t i = 0; i <= h->mask; i++)
		for (struct lbh_node *n = h->b[i]; n; n = n->next)
			fn(arg, n->key, n->val);
}

static inline uint64_t lbh_count(void *obj)
{
	uint64_t c = 0;
	lbh_foreach(obj, lb_set_count_one, &c);
	return c;
}

#define LB_LOCKED_SET(sym, mops, rwops, stripes)                                            \
	static inline int lb_##sym##_init(void *obj, const struct lb_prim_cfg *cfg)         \
	{                                                                                   \
		return lbh_init(obj, cfg, mops, rwops, stripes);                            \
	}                                                                                   \
	static inline void lb_##sym##_fini(void *obj) { lbh_fini(obj, mops, rwops); }       \
	static inline bool lb_##sym##_lookup(void *obj, void *t, uint64_t key, uint64_t *v) \
	{                                                                                   \
		(void)t;                                                                    \
		return lbh_lookup(obj, key, v, mops, rwops);                                \
	}                                                                                   \
	static inline bool lb_##sym##_insert(void *obj, void *t, uint64_t key, uint64_t v)  \
	{                                                                                   \
		(void)t;                                                                    \
		return lbh_insert(obj, key, v, mops, rwops);                                \
	}                                                                                   \
	static inline bool lb_##sym##_remove(void *obj, void *t, uint64_t key)              \
	{                                                                                   \
		(void)t;                                                                    \
		return lbh_remove(obj, key, mops, rwops);                                   \
	}                                                                                   \
	static const struct lb_set_ops lb_##sym##_ops = {                                   \
		.base = { .size = sizeof(struct lbh), .init = lb_##sym##_init,              \
			  .fini = lb_##sym##_fini },                                        \
		.lookup = lb_##sym##_lookup,                                                \
		.insert = lb_##sym##_insert,                                                \
		.remove = lb_##sym##_remove,                                                \
		.count = lbh_count,                                                         \
		.foreach = lbh_foreach,                                                     \
	};

#endif
