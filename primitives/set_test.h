/* test-set-uaf: a set that reads freed memory, broken on purpose: it
 * proves that the map workload's value check catches a use after free.
 * Hidden: never part of "all" or a backend selection, listed only under
 * --list --all.
 *
 * It is set_locked.h's table behind one futex mutex, except that remove()
 * does what a structure without safe reclamation lets a reader see: it
 * poisons the entry (set.h) as a free would, and leaves it where lookups
 * still find it.  An insert of the key rearms the entry.  So the first
 * lookup of a removed key returns LB_SET_POISON; any run with removes and
 * lookups over a small key range fails at once.
 */
#ifndef LB_SET_TEST_H
#define LB_SET_TEST_H

#include "mutex_futex.h"
#include "set_locked.h"

static inline int lb_test_set_uaf_init(void *obj, const struct lb_prim_cfg *cfg)
{
	return lbh_init(obj, cfg, &lb_futex_mutex_ops, NULL, 1);
}

static inline void lb_test_set_uaf_fini(void *obj)
{
	lbh_fini(obj, &lb_futex_mutex_ops, NULL);
}

/* The node of key, with h's lock held; NULL if none. */
static inline struct lbh_node *lb_test_set_uaf_find(struct lbh *h, uint64_t key)
{
	struct lbh_node *n = h->b[lb_set_hash(key) & h->mask];
	while (n && n->key != key)
		n = n->next;
	return n;
}

static inline bool lb_test_set_uaf_lookup(void *obj, void *t, uint64_t key, uint64_t *val)
{
	struct lbh *h = obj;
	(void)t;
	lb_futex_mutex_ops.lock(h->locks, NULL);
	struct lbh_node *n = lb_test_set_uaf_find(h, key);
	if (n)
		*val = n->val; /* LB_SET_POISON after a remove: the bug */
	lb_futex_mutex_ops.unlock(h->locks, NULL);
	return n != NULL;
}

static inline bool lb_test_set_uaf_insert(void *obj, void *t, uint64_t key, uint64_t val)
{
	struct lbh *h = obj;
	bool ok = true;
	(void)t;
	lb_futex_mutex_ops.lock(h->locks, NULL);
	struct lbh_node *n = lb_test_set_uaf_find(h, key);
	if (n && n->val != LB_SET_POISON) {
		ok = false;
	} else if (n) {
		n->val = val; /* rearmed */
	} else if ((n = malloc(sizeof(*n))) != NULL) {
		uint64_t b = lb_set_hash(key) & h->mask;
		n->key = key;
		n->val = val;
		n->next = h->b[b];
		h->b[b] = n;
	} else {
		ok = false;
	}
	lb_futex_mutex_ops.unlock(h->locks, NULL);
	return ok;
}

static inline bool lb_test_set_uaf_remove(void *obj, void *t, uint64_t key)
{
	struct lbh *h = obj;
	(void)t;
	lb_futex_mutex_ops.lock(h->locks, NULL);
	struct lbh_node *n = lb_test_set_uaf_find(h, key);
	bool ok = n && n->val != LB_SET_POISON;
	if (ok)
		n->val = LB_SET_POISON; /* "freed", still linked */
	lb_futex_mutex_ops.unlock(h->locks, NULL);
	return ok;
}

static const struct lb_set_ops lb_test_set_uaf_ops = {
	.base = { .size = sizeof(struct lbh), .init = lb_test_set_uaf_init,
		  .fini = lb_test_set_uaf_fini },
	.lookup = lb_test_set_uaf_lookup,
	.insert = lb_test_set_uaf_insert,
	.remove = lb_test_set_uaf_remove,
	.count = lbh_count,
	.foreach = lbh_foreach,
};

#endif
