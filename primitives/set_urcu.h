/* liburcu's resizable lock-free hash table, cds_lfht (Triplett, McKenney
 * and Walpole, "Resizable, scalable, concurrent hash tables via relativistic
 * programming", USENIX ATC 2011; liburcu's split-ordered variant), as set
 * kind implementations (set.h), under two RCU flavours:
 *
 * urcu-lfht-memb  readers in urcu-memb read-side sections;
 * urcu-lfht-qsbr  readers in QSBR sections (free), the workload reporting
 *                 a quiescent state every LB_URCU_QSBR_QS_EVERY ops (as
 *                 readmostly and liburcu's own benchmarks do).
 *
 * Every operation is lock-free, writers included (cds_lfht_add_unique,
 * cds_lfht_del), and runs inside a read-side section as liburcu requires.
 * The table starts at the key range's size (rounded to a power of two) and
 * resizes itself (CDS_LFHT_AUTO_RESIZE, in liburcu's call_rcu worker);
 * liburcu does not expose a resize count, so resizes is NULL.  A removed
 * node goes to call_rcu, whose callback, after a grace period, poisons it
 * (set.h) and frees it.  The functions are out of line, in liburcu-cds.
 *
 * ThreadSanitizer (tsan.h): liburcu's atomics are invisible to it, so an
 * insert releases on its node before publishing it and a lookup acquires
 * on the node it found; each read-side section ends with a release on the
 * table, and the reclaim callback acquires on it before poisoning, the
 * grace period's edge (rwlock_urcu.h does the same).
 */
#ifndef LB_SET_URCU_H
#define LB_SET_URCU_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "urcu_inline.h"

#include "set.h"
#include "smr_hash.h"
#include "tsan.h"

/* One quiescent state per this many ops (a power of two). */
#define LB_LFHT_QS_EVERY 1024u

struct lb_lfht {
	struct cds_lfht *ht;
	char gp_sync; /* TSan's address for the grace period's edge */
};

struct lb_lfht_node {
	struct cds_lfht_node node;
	uint64_t key, val;
	struct lb_lfht *h;
	struct rcu_head rcu;
};

struct lb_lfht_tctx {
	unsigned ops;
};

/* liburcu calls this on nodes it walks: acquire on each (pairs with the
 * insert's release; liburcu links nodes with atomics TSan does not see). */
static int lb_lfht_match(struct cds_lfht_node *n, const void *key)
{
	struct lb_lfht_node *ln = caa_container_of(n, struct lb_lfht_node, node);
	LB_TSAN_ACQUIRE(ln);
	return ln->key == *(const uint64_t *)key;
}

static void lb_lfht_reclaim(struct rcu_head *head)
{
	struct lb_lfht_node *n = caa_container_of(head, struct lb_lfht_node, rcu);
	LB_TSAN_ACQUIRE(n);              /* the insert's writes, n->h among them */
	LB_TSAN_ACQUIRE(&n->h->gp_sync); /* every read section that ended before */
	n->key = n->val = LB_SET_POISON;
	free(n);
}

#define LB_LFHT_FLAVOUR(fl, QS)                                                             \
	static inline int lb_urcu_lfht_##fl##_init(void *obj, const struct lb_prim_cfg *cfg) \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		unsigned long n = 16;                                                       \
		while (n < cfg->permits)                                                    \
			n *= 2;                                                             \
		h->ht = cds_lfht_new_flavor(n, n, 0,                                        \
					    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,     \
					    &urcu_##fl##_flavor, NULL);                     \
		return h->ht ? 0 : ENOMEM;                                                  \
	}                                                                                   \
	/* With no other thread running: empty the table, free the nodes after     \
	 * a grace period, destroy it, and wait for every callback. */                   \
	static inline void lb_urcu_lfht_##fl##_fini(void *obj)                              \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		struct cds_lfht_iter it;                                                    \
		struct cds_lfht_node *cn;                                                   \
		urcu_##fl##_register_thread();                                              \
		urcu_##fl##_read_lock();                                                    \
		cds_lfht_for_each(h->ht, &it, cn)                                           \
			if (cds_lfht_del(h->ht, cn) == 0)                                   \
				urcu_##fl##_call_rcu(                                       \
					&caa_container_of(cn, struct lb_lfht_node, node)->rcu, \
					lb_lfht_reclaim);                                   \
		urcu_##fl##_read_unlock();                                                  \
		QS(urcu_##fl##_thread_offline();)                                           \
		urcu_##fl##_barrier();                                                      \
		(void)cds_lfht_destroy(h->ht, NULL);                                        \
		urcu_##fl##_unregister_thread();                                            \
	}                                                                                   \
	static inline int lb_urcu_lfht_##fl##_thread_init(void *obj, void *t,               \
							  const struct lb_thread_info *ti)  \
	{                                                                                   \
		(void)obj;                                                                  \
		(void)ti;                                                                   \
		((struct lb_lfht_tctx *)t)->ops = 0;                                        \
		urcu_##fl##_register_thread();                                              \
		return 0;                                                                   \
	}                                                                                   \
	static inline void lb_urcu_lfht_##fl##_thread_fini(void *obj, void *t)              \
	{                                                                                   \
		(void)obj;                                                                  \
		(void)t;                                                                    \
		QS(urcu_##fl##_thread_offline();)                                           \
		urcu_##fl##_unregister_thread();                                            \
	}                                                                                   \
	static inline bool lb_urcu_lfht_##fl##_lookup(void *obj, void *t, uint64_t key,     \
						      uint64_t *val)                        \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		struct cds_lfht_iter it;                                                    \
		(void)t;                                                                    \
		urcu_##fl##_read_lock();                                                    \
		cds_lfht_lookup(h->ht, (unsigned long)lb_set_hash(key), lb_lfht_match, &key, \
				&it);                                                       \
		struct cds_lfht_node *cn = cds_lfht_iter_get_node(&it);                     \
		if (cn) {                                                                   \
			struct lb_lfht_node *n = caa_container_of(cn, struct lb_lfht_node,  \
								  node);                    \
			LB_TSAN_ACQUIRE(n); /* pairs with insert's release */              \
			*val = CMM_LOAD_SHARED(n->val);                                     \
		}                                                                           \
		LB_TSAN_RELEASE(&h->gp_sync); /* pairs with the reclaim's acquire */        \
		urcu_##fl##_read_unlock();                                                  \
		return cn != NULL;                                                          \
	}                                                                                   \
	static inline bool lb_urcu_lfht_##fl##_insert(void *obj, void *t, uint64_t key,     \
						      uint64_t val)                         \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		struct lb_lfht_node *n = malloc(sizeof(*n));                                \
		(void)t;                                                                    \
		if (!n)                                                                     \
			abort(); /* out of memory mid-run */                                \
		cds_lfht_node_init(&n->node);                                               \
		n->key = key;                                                               \
		n->val = val;                                                               \
		n->h = h;                                                                   \
		LB_TSAN_RELEASE(n); /* pairs with lookup's acquire */                      \
		urcu_##fl##_read_lock();                                                    \
		struct cds_lfht_node *got = cds_lfht_add_unique(                            \
			h->ht, (unsigned long)lb_set_hash(key), lb_lfht_match, &key, &n->node); \
		LB_TSAN_RELEASE(&h->gp_sync);                                               \
		urcu_##fl##_read_unlock();                                                  \
		if (got != &n->node)                                                        \
			free(n); /* present: ours was never published */                    \
		return got == &n->node;                                                     \
	}                                                                                   \
	static inline bool lb_urcu_lfht_##fl##_remove(void *obj, void *t, uint64_t key)     \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		struct cds_lfht_iter it;                                                    \
		bool ok = false;                                                            \
		(void)t;                                                                    \
		urcu_##fl##_read_lock();                                                    \
		cds_lfht_lookup(h->ht, (unsigned long)lb_set_hash(key), lb_lfht_match, &key, \
				&it);                                                       \
		struct cds_lfht_node *cn = cds_lfht_iter_get_node(&it);                     \
		if (cn && cds_lfht_del(h->ht, cn) == 0) {                                   \
			urcu_##fl##_call_rcu(                                               \
				&caa_container_of(cn, struct lb_lfht_node, node)->rcu,      \
				lb_lfht_reclaim);                                           \
			ok = true;                                                          \
		}                                                                           \
		LB_TSAN_RELEASE(&h->gp_sync);                                               \
		urcu_##fl##_read_unlock();                                                  \
		return ok;                                                                  \
	}                                                                                   \
	static inline void lb_urcu_lfht_##fl##_quiescent(void *obj, void *t)                \
	{                                                                                   \
		struct lb_lfht_tctx *tc = t;                                                \
		(void)obj;                                                                  \
		QS(if (__builtin_expect((++tc->ops & (LB_LFHT_QS_EVERY - 1)) == 0, 0))      \
			   urcu_##fl##_quiescent_state();)                                  \
		(void)tc;                                                                   \
	}                                                                                   \
	static inline void lb_urcu_lfht_##fl##_foreach(                                     \
		void *obj, void (*fn)(void *, uint64_t, uint64_t), void *arg)               \
	{                                                                                   \
		struct lb_lfht *h = obj;                                                    \
		struct cds_lfht_iter it;                                                    \
		struct cds_lfht_node *cn;                                                   \
		urcu_##fl##_register_thread();                                              \
		urcu_##fl##_read_lock();                                                    \
		cds_lfht_for_each(h->ht, &it, cn) {                                         \
			struct lb_lfht_node *n = caa_container_of(cn, struct lb_lfht_node,  \
								  node);                    \
			fn(arg, n->key, n->val);                                            \
		}                                                                           \
		urcu_##fl##_read_unlock();                                                  \
		QS(urcu_##fl##_thread_offline();)                                           \
		urcu_##fl##_unregister_thread();                                            \
	}                                                                                   \
	static inline uint64_t lb_urcu_lfht_##fl##_count(void *obj)                         \
	{                                                                                   \
		uint64_t c = 0;                                                             \
		lb_urcu_lfht_##fl##_foreach(obj, lb_set_count_one, &c);                     \
		return c;                                                                   \
	}                                                                                   \
	static const struct lb_set_ops lb_urcu_lfht_##fl##_ops = {                          \
		.base = { .size = sizeof(struct lb_lfht),                                   \
			  .tctx_size = sizeof(struct lb_lfht_tctx),                         \
			  .init = lb_urcu_lfht_##fl##_init,                                 \
			  .fini = lb_urcu_lfht_##fl##_fini,                                 \
			  .thread_init = lb_urcu_lfht_##fl##_thread_init,                   \
			  .thread_fini = lb_urcu_lfht_##fl##_thread_fini },                 \
		.lookup = lb_urcu_lfht_##fl##_lookup,                                       \
		.insert = lb_urcu_lfht_##fl##_insert,                                       \
		.remove = lb_urcu_lfht_##fl##_remove,                                       \
		.quiescent = lb_urcu_lfht_##fl##_quiescent,                                 \
		.count = lb_urcu_lfht_##fl##_count,                                         \
		.foreach = lb_urcu_lfht_##fl##_foreach,                                     \
	};

#define LB_LFHT_NO_QS(x)
#define LB_LFHT_QS(x) x
LB_LFHT_FLAVOUR(memb, LB_LFHT_NO_QS)
LB_LFHT_FLAVOUR(qsbr, LB_LFHT_QS)

/* The reclamation axis (smr_hash.h): Michael's lock-free hash set,
 * every operation a read-side section of one flavour, removed nodes freed
 * through its call_rcu (urcu-michael-<flavour>). */
LB_MICHAEL_SET(urcu_michael_memb, LB_SMR_MEMB)
LB_MICHAEL_SET(urcu_michael_mb, LB_SMR_MB)
LB_MICHAEL_SET(urcu_michael_signal, LB_SMR_SIGNAL)
LB_MICHAEL_SET(urcu_michael_qsbr, LB_SMR_QSBR)
LB_MICHAEL_SET(urcu_michael_bp, LB_SMR_BP)

#endif
