/* Concurrency Kit's hash sets, and the locked hash table behind CK's
 * locks, as set kind implementations (set.h).
 *
 * ck-fas-hash    set_locked.h's table behind one ck_spinlock_fas.
 * ck-rwlock-hash set_locked.h's table behind one ck_rwlock (lookups
 *                shared).
 * ck-ht-fas      ck_ht in CK_HT_MODE_DIRECT: keys and values stored in the
 *                table's slots (key + 1: CK reserves 0 and ~0).  CK
 *                0.7.1's ck_ht_put_spmc reuses the first tombstone on the
 *                probe path even when the key sits further along it, so a
 *                put after a remove can insert a present key twice (fixed
 *                upstream in 75d137d, "ck_ht: fix tombstone re-use on put
 *                operations", June 2026; Debian ships 0.7.1).  The set
 *                kind test caught it (6000 model ops: 119 wrong results);
 *                insert therefore looks the key up first, under the
 *                writer lock, and puts only when it is absent.
 * ck-hs-fas      ck_hs in CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE: the table
 *                holds pointers to malloc'd nodes {key, val}.
 * ck-rhs-fas     ck_rhs (Robin Hood hashing) in CK_RHS_MODE_OBJECT, the
 *                same nodes.  Never fewer than LB_CK_RHS_MIN_SLOTS (1024,
 *                CK_RHS_G) slots: a lock-free ck_rhs_get retries when the
 *                generation counter generation[hash & 1023] moved during
 *                its probe, but the backward-shift delete bumps
 *                generation[home & 1023] for each entry it moves, where
 *                home = hash & (slots - 1).  The two agree only when the
 *                table has at least 1024 slots; below that, a lookup racing
 *                a remove can miss a key that is present.  The set kind
 *                test caught it (2 threads: 1-2 wrong lookups in 2M ops,
 *                8 runs of 10 at 256 slots; 0 of 8 at 4096); it is in
 *                CK 0.7.1 and in CK's master as fetched on 2026-12-02
 *                (src/ck_rhs.c, ck_rhs_do_backward_shift_delete).
 *
 * ck_ht, ck_hs and ck_rhs are single-writer, many-reader (SPMC): readers
 * run lock-free, writers serialise on a ck_spinlock_fas (the id's "fas").
 * What a writer unlinks (a removed node; the old slot array after a grow)
 * may still be read by a reader, so it is reclaimed through ck_epoch
 * (Fraser's epoch-based reclamation): every lookup runs inside an epoch
 * section, the writer hands the memory to ck_epoch_call with a destructor
 * that poisons it (set.h) and frees it, and polls every LB_CK_SET_POLL
 * retirements.  CK's tables free their old slot arrays through the
 * ck_malloc callbacks with defer = true; the callbacks have no context
 * argument, so the writer names its object in a thread-local pointer
 * before each write (it holds the writer lock then).  The same callbacks
 * count the grows (resizes).
 *
 * Memory order: ck_epoch's two missing fences on weakly ordered machines
 * (ck_epoch_pool.h) are added as there: a load fence after begin, an
 * atomic-load fence before ck_epoch_call.
 *
 * ThreadSanitizer: a writer's unlock releases on the object (the lock
 * does), and a lookup acquires on it after its get (tsan.h), the edge
 * from an insert to the lookup that sees it.  CK's own accesses to its
 * slots are in its headers or its uninstrumented library.
 */
#ifndef LB_SET_CK_H
#define LB_SET_CK_H

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ck_epoch.h>
#include <ck_hs.h>
#include <ck_ht.h>
#include <ck_malloc.h>
#include <ck_rhs.h>
#include <ck_spinlock.h>

#include "mutex_ck_fas.h"
#include "rwlock_ck.h"
#include "set.h"
#include "set_locked.h"
#include "smr_hash.h"
#include "tsan.h"

LB_LOCKED_SET(ck_fas_hash, &lb_ck_fas_ops, NULL, 1)
LB_LOCKED_SET(ck_rwlock_hash, NULL, &lb_ck_rwlock_ops, 1)

/* ---- what the SPMC tables share: the writer lock, epoch records ---- */

#define LB_CK_SET_POLL 64

struct lb_ck_set_rec {
	ck_epoch_record_t r; /* cache-line aligned itself */
	bool registered;
};

struct lb_ck_set {
	alignas(LB_CACHELINE) ck_spinlock_fas_t wlock;
	uint64_t resizes;      /* grows, counted by the malloc callback */
	unsigned nrecs;
	bool ready;            /* past init: a table allocation now is a grow */
	struct lb_ck_set_rec *recs;
	alignas(LB_CACHELINE) ck_epoch_t epoch;
};

struct lb_ck_set_tctx {
	ck_epoch_record_t *rec;
	unsigned retired;
};

/* The writer's object, for the ck_malloc callbacks (see the header). */
static _Thread_local struct lb_ck_set *lb_ck_set_cur;
static _Thread_local ck_epoch_record_t *lb_ck_set_cur_rec;

struct lb_ck_set_deferred {
	ck_epoch_entry_t e;
	void *p;
	size_t bytes;
};

static void lb_ck_set_poison_free(void *p, size_t bytes)
{
	uint64_t *w = p;
	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		w[i] = LB_SET_POISON;
	free(p);
}

/* TSan's address for the grace period's edge: every read section ends
 * with a release on it, a destructor (after the grace period) acquires. */
static char lb_ck_set_gp;

static void lb_ck_set_destroy(ck_epoch_entry_t *e)
{
	struct lb_ck_set_deferred *d = (struct lb_ck_set_deferred *)e;
	LB_TSAN_ACQUIRE(&lb_ck_set_gp);
	lb_ck_set_poison_free(d->p, d->bytes);
	free(d);
}

/* Retire p (bytes long) through the calling writer's epoch record. */
static void lb_ck_set_retire(ck_epoch_record_t *rec, void *p, size_t bytes)
{
	struct lb_ck_set_deferred *d = malloc(sizeof(*d));
	if (!d)
		abort(); /* out of memory mid-run */
	d->p = p;
	d->bytes = bytes;
	ck_pr_fence_atomic_load(); /* the unlink before the epoch snapshot */
	ck_epoch_call(rec, &d->e, lb_ck_set_destroy);
}

static void *lb_ck_set_malloc(size_t n)
{
	if (lb_ck_set_cur && lb_ck_set_cur->ready)
		lb_ck_set_cur->resizes++;
	return malloc(n);
}

static void *lb_ck_set_realloc(void *p, size_t old, size_t n, bool defer)
{
	(void)old;
	(void)defer; /* CK 0.7.1's tables never realloc a live map */
	return realloc(p, n);
}

static void lb_ck_set_free(void *p, size_t n, bool defer)
{
	if (defer && lb_ck_set_cur_rec)
		lb_ck_set_retire(lb_ck_set_cur_rec, p, n);
	else
		free(p); /* init, destroy: nobody reads it */
}

static struct ck_malloc lb_ck_set_allocator = {
	.malloc = lb_ck_set_malloc, .realloc = lb_ck_set_realloc, .free = lb_ck_set_free,
};

static inline int lb_ck_set_init(struct lb_ck_set *s, const struct lb_prim_cfg *cfg)
{
	ck_spinlock_fas_init(&s->wlock);
	s->resizes = 0;
	s->ready = false;
	s->nrecs = cfg->nthreads ? cfg->nthreads : 1;
	size_t bytes = s->nrecs * sizeof(*s->recs);
	s->recs = lb_shared_aligned_alloc(LB_CACHELINE, (bytes + LB_CACHELINE - 1) /
							     LB_CACHELINE * LB_CACHELINE);
	if (!s->recs)
		return ENOMEM;
	memset(s->recs, 0, bytes);
	ck_epoch_init(&s->epoch);
	lb_ck_set_cur = s;
	lb_ck_set_cur_rec = NULL;
	return 0;
}

/* After the table's destroy: every record's retired memory is freed
 * (nobody is in a section any more). */
static inline void lb_ck_set_fini(struct lb_ck_set *s)
{
	for (unsigned i = 0; i < s->nrecs; i++)
		if (s->recs[i].registered)
			ck_epoch_barrier(&s->recs[i].r);
	free(s->recs);
}

static inline int lb_ck_set_thread_init(struct lb_ck_set *s, struct lb_ck_set_tctx *tc,
					const struct lb_thread_info *ti)
{
	if (ti->tid >= s->nrecs)
		return EINVAL;
	struct lb_ck_set_rec *r = &s->recs[ti->tid];
	if (!r->registered) {
		ck_epoch_register(&s->epoch, &r->r, NULL);
		r->registered = true;
	}
	tc->rec = &r->r;
	tc->retired = 0;
	return 0;
}

static inline void lb_ck_set_thread_fini(struct lb_ck_set_tctx *tc)
{
	ck_epoch_poll(tc->rec); /* what is ready; the rest waits for fini */
}

static inline void lb_ck_set_read_begin(struct lb_ck_set_tctx *tc)
{
	ck_epoch_begin(tc->rec, NULL);
	ck_pr_fence_load(); /* (ck_epoch_pool.h) */
}

static inline void lb_ck_set_read_end(struct lb_ck_set *s, struct lb_ck_set_tctx *tc)
{
	LB_TSAN_ACQUIRE(s); /* pairs with the writers' release */
	LB_TSAN_RELEASE(&lb_ck_set_gp); /* pairs with lb_ck_set_destroy's acquire */
	ck_epoch_end(tc->rec, NULL);
}

static inline void lb_ck_set_write_begin(struct lb_ck_set *s, struct lb_ck_set_tctx *tc)
{
	ck_spinlock_fas_lock(&s->wlock);
	LB_TSAN_ACQUIRE(s);
	lb_ck_set_cur = s;
	lb_ck_set_cur_rec = tc->rec;
}

static inline void lb_ck_set_write_end(struct lb_ck_set *s, struct lb_ck_set_tctx *tc,
				       unsigned retired)
{
	lb_ck_set_cur_rec = NULL;
	LB_TSAN_RELEASE(s);
	ck_spinlock_fas_unlock(&s->wlock);
	if ((tc->retired += retired) >= LB_CK_SET_POLL) {
		tc->retired = 0;
		ck_epoch_poll(tc->rec);
	}
}

/* ---- ck-ht-fas ---- */

struct lb_ck_ht {
	struct lb_ck_set c;
	ck_ht_t ht;
};

static inline int lb_ck_ht_fas_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_ht *h = obj;
	int ret = lb_ck_set_init(&h->c, cfg);
	if (ret)
		return ret;
	if (!ck_ht_init(&h->ht, CK_HT_MODE_DIRECT, NULL,
			&lb_ck_set_allocator, cfg->permits ? cfg->permits : 16, 0x9e3779b97f4a7c15u)) {
		free(h->c.recs);
		return ENOMEM;
	}
	h->c.ready = true;
	return 0;
}

static inline void lb_ck_ht_fas_fini(void *obj)
{
	struct lb_ck_ht *h = obj;
	ck_ht_destroy(&h->ht);
	lb_ck_set_fini(&h->c);
}

static inline int lb_ck_ht_fas_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	return lb_ck_set_thread_init(&((struct lb_ck_ht *)obj)->c, t, ti);
}

static inline void lb_ck_ht_fas_thread_fini(void *obj, void *t)
{
	(void)obj;
	lb_ck_set_thread_fini(t);
}

static inline bool lb_ck_ht_fas_lookup(void *obj, void *t, uint64_t key, uint64_t *val)
{
	struct lb_ck_ht *h = obj;
	ck_ht_entry_t e;
	ck_ht_hash_t hv;
	lb_ck_set_read_begin(t);
	ck_ht_hash_direct(&hv, &h->ht, (uintptr_t)key + 1);
	ck_ht_entry_key_set_direct(&e, (uintptr_t)key + 1);
	bool found = ck_ht_get_spmc(&h->ht, hv, &e);
	if (found)
		*val = ck_ht_entry_value_direct(&e);
	lb_ck_set_read_end(&h->c, t);
	return found;
}

static inline bool lb_ck_ht_fas_insert(void *obj, void *t, uint64_t key, uint64_t val)
{
	struct lb_ck_ht *h = obj;
	ck_ht_entry_t e;
	ck_ht_hash_t hv;
	ck_ht_hash_direct(&hv, &h->ht, (uintptr_t)key + 1);
	ck_ht_entry_set_direct(&e, hv, (uintptr_t)key + 1, (uintptr_t)val);
	ck_ht_entry_t probe;
	ck_ht_entry_key_set_direct(&probe, (uintptr_t)key + 1);
	lb_ck_set_write_begin(&h->c, t);
	/* CK 0.7.1's put reuses a tombstone met before the key and so
	 * duplicates a present key (see the header): look first. */
	bool ok = !ck_ht_get_spmc(&h->ht, hv, &probe) && ck_ht_put_spmc(&h->ht, hv, &e);
	lb_ck_set_write_end(&h->c, t, 0);
	return ok;
}

static inline bool lb_ck_ht_fas_remove(void *obj, void *t, uint64_t key)
{
	struct lb_ck_ht *h = obj;
	ck_ht_entry_t e;
	ck_ht_hash_t hv;
	ck_ht_hash_direct(&hv, &h->ht, (uintptr_t)key + 1);
	ck_ht_entry_key_set_direct(&e, (uintptr_t)key + 1);
	lb_ck_set_write_begin(&h->c, t);
	bool ok = ck_ht_remove_spmc(&h->ht, hv, &e);
	lb_ck_set_write_end(&h->c, t, 0);
	return ok;
}

static inline uint64_t lb_ck_ht_fas_count(void *obj)
{
	return ck_ht_count(&((struct lb_ck_ht *)obj)->ht);
}

static inline void lb_ck_ht_fas_foreach(void *obj, void (*fn)(void *, uint64_t, uint64_t),
					void *arg)
{
	struct lb_ck_ht *h = obj;
	ck_ht_iterator_t it = CK_HT_ITERATOR_INITIALIZER;
	ck_ht_entry_t *e;
	while (ck_ht_next(&h->ht, &it, &e))
		fn(arg, ck_ht_entry_key_direct(e) - 1, ck_ht_entry_value_direct(e));
}

static inline uint64_t lb_ck_ht_fas_resizes(void *obj)
{
	return ((struct lb_ck_ht *)obj)->c.resizes;
}

static const struct lb_set_ops lb_ck_ht_fas_ops = {
	.base = { .size = sizeof(struct lb_ck_ht), .tctx_size = sizeof(struct lb_ck_set_tctx),
		  .init = lb_ck_ht_fas_init, .fini = lb_ck_ht_fas_fini,
		  .thread_init = lb_ck_ht_fas_thread_init,
		  .thread_fini = lb_ck_ht_fas_thread_fini },
	.lookup = lb_ck_ht_fas_lookup,
	.insert = lb_ck_ht_fas_insert,
	.remove = lb_ck_ht_fas_remove,
	.count = lb_ck_ht_fas_count,
	.foreach = lb_ck_ht_fas_foreach,
	.resizes = lb_ck_ht_fas_resizes,
};

/* ---- ck-hs-fas, ck-rhs-fas: the same API under two prefixes ---- */

struct lb_ck_set_node {
	uint64_t key, val;
};

static unsigned long lb_ck_set_node_hash(const void *k, unsigned long seed)
{
	return (unsigned long)lb_set_hash(((const struct lb_ck_set_node *)k)->key ^ seed);
}

/* CK calls this on nodes it finds in the table: acquire on the stored one
 * (a), pairing with the insert's release, since CK publishes it with
 * assembly TSan does not see. */
static bool lb_ck_set_node_eq(const void *a, const void *b)
{
	LB_TSAN_ACQUIRE(a);
	return ((const struct lb_ck_set_node *)a)->key == ((const struct lb_ck_set_node *)b)->key;
}

#define LB_CK_SET_OBJ(sym, P, T, MODE, HASHM, MINCAP)                                       \
	struct lb_##sym {                                                                   \
		struct lb_ck_set c;                                                         \
		T hs;                                                                       \
	};                                                                                  \
	static inline int lb_##sym##_init(void *obj, const struct lb_prim_cfg *cfg)         \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		int ret = lb_ck_set_init(&h->c, cfg);                                       \
		if (ret)                                                                    \
			return ret;                                                         \
		if (!P##_init(&h->hs, MODE, lb_ck_set_node_hash, lb_ck_set_node_eq,         \
			      &lb_ck_set_allocator,                                         \
			      cfg->permits > (MINCAP) ? cfg->permits : (MINCAP),            \
			      0x9e3779b97f4a7c15u)) {                                       \
			free(h->c.recs);                                                    \
			return ENOMEM;                                                      \
		}                                                                           \
		h->c.ready = true;                                                          \
		return 0;                                                                   \
	}                                                                                   \
	static inline void lb_##sym##_fini(void *obj)                                       \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		P##_iterator_t it;                                                          \
		P##_iterator_init(&it);                                                    \
		void *p;                                                                    \
		while (P##_next(&h->hs, &it, &p))                                           \
			free(p);                                                            \
		P##_destroy(&h->hs);                                                        \
		lb_ck_set_fini(&h->c);                                                      \
	}                                                                                   \
	static inline int lb_##sym##_thread_init(void *obj, void *t,                        \
						 const struct lb_thread_info *ti)           \
	{                                                                                   \
		return lb_ck_set_thread_init(&((struct lb_##sym *)obj)->c, t, ti);          \
	}                                                                                   \
	static inline void lb_##sym##_thread_fini(void *obj, void *t)                       \
	{                                                                                   \
		(void)obj;                                                                  \
		lb_ck_set_thread_fini(t);                                                   \
	}                                                                                   \
	static inline bool lb_##sym##_lookup(void *obj, void *t, uint64_t key, uint64_t *v) \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		struct lb_ck_set_node k = { .key = key };                                   \
		lb_ck_set_read_begin(t);                                                    \
		const struct lb_ck_set_node *n =                                            \
			P##_get(&h->hs, HASHM(&h->hs, lb_ck_set_node_hash, &k), &k);        \
		if (n)                                                                      \
			*v = ck_pr_load_64(&n->val);                                        \
		lb_ck_set_read_end(&h->c, t);                                               \
		return n != NULL;                                                           \
	}                                                                                   \
	static inline bool lb_##sym##_insert(void *obj, void *t, uint64_t key, uint64_t v)  \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		struct lb_ck_set_node *n = malloc(sizeof(*n));                              \
		if (!n)                                                                     \
			abort(); /* out of memory mid-run */                                \
		n->key = key;                                                               \
		n->val = v;                                                                 \
		LB_TSAN_RELEASE(n); /* pairs with lb_ck_set_node_eq's acquire */           \
		unsigned long hv = HASHM(&h->hs, lb_ck_set_node_hash, n);                   \
		lb_ck_set_write_begin(&h->c, t);                                            \
		bool ok = P##_put(&h->hs, hv, n); /* false: present */                      \
		lb_ck_set_write_end(&h->c, t, 0);                                           \
		if (!ok)                                                                    \
			free(n); /* never published */                                      \
		return ok;                                                                  \
	}                                                                                   \
	static inline bool lb_##sym##_remove(void *obj, void *t, uint64_t key)              \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		struct lb_ck_set_tctx *tc = t;                                              \
		struct lb_ck_set_node k = { .key = key };                                   \
		unsigned long hv = HASHM(&h->hs, lb_ck_set_node_hash, &k);                  \
		lb_ck_set_write_begin(&h->c, tc);                                           \
		void *n = P##_remove(&h->hs, hv, &k);                                       \
		if (n)                                                                      \
			lb_ck_set_retire(tc->rec, n, sizeof(struct lb_ck_set_node));        \
		lb_ck_set_write_end(&h->c, tc, n != NULL);                                  \
		return n != NULL;                                                           \
	}                                                                                   \
	static inline void lb_##sym##_foreach(void *obj, void (*fn)(void *, uint64_t, uint64_t), \
					      void *arg)                                    \
	{                                                                                   \
		struct lb_##sym *h = obj;                                                   \
		P##_iterator_t it;                                                          \
		P##_iterator_init(&it);                                                    \
		void *p;                                                                    \
		while (P##_next(&h->hs, &it, &p))                                           \
			fn(arg, ((struct lb_ck_set_node *)p)->key,                          \
			   ((struct lb_ck_set_node *)p)->val);                              \
	}                                                                                   \
	static inline uint64_t lb_##sym##_count(void *obj)                                  \
	{                                                                                   \
		uint64_t c = 0;                                                             \
		lb_##sym##_foreach(obj, lb_set_count_one, &c);                              \
		return c;                                                                   \
	}                                                                                   \
	static inline uint64_t lb_##sym##_resizes(void *obj)                                \
	{                                                                                   \
		return ((struct lb_##sym *)obj)->c.resizes;                                 \
	}                                                                                   \
	static const struct lb_set_ops lb_##sym##_ops = {                                   \
		.base = { .size = sizeof(struct lb_##sym),                                  \
			  .tctx_size = sizeof(struct lb_ck_set_tctx),                       \
			  .init = lb_##sym##_init, .fini = lb_##sym##_fini,                 \
			  .thread_init = lb_##sym##_thread_init,                            \
			  .thread_fini = lb_##sym##_thread_fini },                          \
		.lookup = lb_##sym##_lookup,                                                \
		.insert = lb_##sym##_insert,                                                \
		.remove = lb_##sym##_remove,                                                \
		.count = lb_##sym##_count,                                                  \
		.foreach = lb_##sym##_foreach,                                              \
		.resizes = lb_##sym##_resizes,                                              \
	};

LB_CK_SET_OBJ(ck_hs_fas, ck_hs, ck_hs_t, CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT |
	      CK_HS_MODE_DELETE, CK_HS_HASH, 16)
/* At least LB_CK_RHS_MIN_SLOTS: see the header. */
#define LB_CK_RHS_MIN_SLOTS 1024
LB_CK_SET_OBJ(ck_rhs_fas, ck_rhs, ck_rhs_t, CK_RHS_MODE_SPMC | CK_RHS_MODE_OBJECT, CK_RHS_HASH,
	      LB_CK_RHS_MIN_SLOTS)

/* The reclamation axis (smr_hash.h): Michael's lock-free hash set with
 * ck_epoch (ck-michael-epoch) and with ck_hp (ck-michael-hp). */
LB_MICHAEL_SET(ck_michael_epoch, LB_SMR_EPOCH)
LB_MICHAEL_SET(ck_michael_hp, LB_SMR_HP)

#endif
