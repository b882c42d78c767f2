/* Concurrency Kit's reader-writer locks, used as CK ships them; all spin.
 *
 * ck-rwlock    centralized: a writer flag and a reader count; a writer
 *              announces itself and waits for readers to drain, so waiting
 *              writers hold off new readers.
 * ck-pflock    phase-fair (Brandenburg and Anderson): readers and writers
 *              alternate in phases; neither side starves.
 * ck-brlock    big-reader: each reader registers a private slot (the
 *              thread context), so read_lock touches only its own line; a
 *              writer sweeps every slot.
 * ck-bytelock  one byte per reader slot in one cache line (threads 1-56 on
 *              x86); threads beyond use a shared counter (CK's UNSLOTTED).
 * ck-swlock    single-writer lock: CK assumes one writer at a time (its
 *              write_lock just ORs the writer bit), so writers here are
 *              serialised by a ck_spinlock_fas first.
 * ck-tflock    task-fair ticket rwlock: FIFO across readers and writers.
 * ck-rwcohort-wp, -rp, -neutral
 *              reader-writer cohort locks (ck_rwcohort.h; Calciu, Dice, Lev,
 *              Luchangco, Marathe and Shavit, "NUMA-Aware Reader-Writer
 *              Locks", PPoPP 2013): writers take a cohort lock (cohort.h:
 *              a global ticket lock over a ticket lock per cluster, C-TKT-TKT),
 *              readers count themselves in one shared counter.  wp: a reader
 *              finding the cohort lock held backs out and waits; after 1000
 *              polls it raises a barrier that holds off new writers.  rp: a
 *              writer waits for readers to drain and, after 1000 polls,
 *              raises a barrier that holds off new readers: so it prefers
 *              readers for microseconds only, and is not flagged
 *              LB_CAP_RPREF (the kind test of a reader overtaking a
 *              waiting writer fails on it, as it should).  neutral:
 *              readers take the cohort lock to count themselves in, so
 *              readers and writers queue in one order.  (Only the ticket
 *              composition: ck_cohort_locked in CK 0.7.1 applies the
 *              global lock's test to the local lock and vice versa, which
 *              only a composition of one lock type survives.)
 *
 * ThreadSanitizer (tsan.h) is told each lock's edges by the four helpers
 * below, on the object: a writer's unlock happens-before every later
 * lock, a reader's unlock before every later write lock, and readers do
 * not order each other (their releases go to LB_TSAN_READERS, which only
 * writers acquire).  That is TSan's own model of pthread_rwlock.
 */
#ifndef LB_RWLOCK_CK_H
#define LB_RWLOCK_CK_H

#include <ck_brlock.h>
#include <ck_bytelock.h>
#include <ck_pflock.h>
#include <ck_rwlock.h>
#include <ck_spinlock.h>
#include <ck_swlock.h>
#include <ck_tflock.h>

#include <ck_rwcohort.h>

#include "cohort.h"
#include "rwlock.h"
#include "tsan.h"

/* After read_lock returns. */
static inline void lb_ck_rw_read_locked(void *obj)
{
	LB_TSAN_ACQUIRE(obj); /* pairs with write_unlock's release */
}

/* Before read_unlock. */
static inline void lb_ck_rw_read_unlocking(void *obj)
{
	LB_TSAN_RELEASE(LB_TSAN_READERS(obj)); /* pairs with write_lock's */
}

/* After write_lock returns. */
static inline void lb_ck_rw_write_locked(void *obj)
{
	LB_TSAN_ACQUIRE(obj);                  /* the last writer's unlock */
	LB_TSAN_ACQUIRE(LB_TSAN_READERS(obj)); /* every reader's unlock */
}

/* Before write_unlock. */
static inline void lb_ck_rw_write_unlocking(void *obj)
{
	LB_TSAN_RELEASE(obj); /* pairs with read_lock's and write_lock's */
}

/* Adapters for the locks whose ops take only the lock. */
#define LB_CK_RW_SIMPLE(name, type, initf, rl, ru, wl, wu) \
	static inline int lb_ck_##name##_init(void *obj, const struct lb_prim_cfg *cfg) \
	{ (void)cfg; initf(obj); return 0; } \
	static inline void lb_ck_##name##_rl(void *obj, void *t) \
	{ (void)t; rl(obj); lb_ck_rw_read_locked(obj); } \
	static inline void lb_ck_##name##_ru(void *obj, void *t) \
	{ (void)t; lb_ck_rw_read_unlocking(obj); ru(obj); } \
	static inline void lb_ck_##name##_wl(void *obj, void *t) \
	{ (void)t; wl(obj); lb_ck_rw_write_locked(obj); } \
	static inline void lb_ck_##name##_wu(void *obj, void *t) \
	{ (void)t; lb_ck_rw_write_unlocking(obj); wu(obj); } \
	static const struct lb_rwlock_ops lb_ck_##name##_ops = { \
		.base = { .size = sizeof(type), .init = lb_ck_##name##_init }, \
		.read_lock = lb_ck_##name##_rl, .read_unlock = lb_ck_##name##_ru, \
		.write_lock = lb_ck_##name##_wl, .write_unlock = lb_ck_##name##_wu, \
	};

LB_CK_RW_SIMPLE(rwlock, ck_rwlock_t, ck_rwlock_init, ck_rwlock_read_lock,
		ck_rwlock_read_unlock, ck_rwlock_write_lock, ck_rwlock_write_unlock)
LB_CK_RW_SIMPLE(pflock, ck_pflock_t, ck_pflock_init, ck_pflock_read_lock,
		ck_pflock_read_unlock, ck_pflock_write_lock, ck_pflock_write_unlock)
LB_CK_RW_SIMPLE(tflock, struct ck_tflock_ticket, ck_tflock_ticket_init,
		ck_tflock_ticket_read_lock, ck_tflock_ticket_read_unlock,
		ck_tflock_ticket_write_lock, ck_tflock_ticket_write_unlock)

/* ---- ck-brlock: a registered reader slot per thread ---- */

static inline int lb_ck_brlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_brlock_init(obj);
	return 0;
}

static inline int lb_ck_brlock_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)ti;
	ck_brlock_read_register(obj, t);
	return 0;
}

static inline void lb_ck_brlock_thread_fini(void *obj, void *t)
{
	ck_brlock_read_unregister(obj, t);
}

static inline void lb_ck_brlock_rl(void *obj, void *t)
{
	ck_brlock_read_lock(obj, t);
	lb_ck_rw_read_locked(obj);
}

static inline void lb_ck_brlock_ru(void *obj, void *t)
{
	lb_ck_rw_read_unlocking(obj);
	ck_brlock_read_unlock(t);
}

static inline void lb_ck_brlock_wl(void *obj, void *t)
{
	(void)t;
	ck_brlock_write_lock(obj);
	lb_ck_rw_write_locked(obj);
}

static inline void lb_ck_brlock_wu(void *obj, void *t)
{
	(void)t;
	lb_ck_rw_write_unlocking(obj);
	ck_brlock_write_unlock(obj);
}

static const struct lb_rwlock_ops lb_ck_brlock_ops = {
	.base = { .size = sizeof(struct ck_brlock), .tctx_size = sizeof(struct ck_brlock_reader),
		  .init = lb_ck_brlock_init, .thread_init = lb_ck_brlock_thread_init,
		  .thread_fini = lb_ck_brlock_thread_fini },
	.read_lock = lb_ck_brlock_rl,
	.read_unlock = lb_ck_brlock_ru,
	.write_lock = lb_ck_brlock_wl,
	.write_unlock = lb_ck_brlock_wu,
};

/* ---- ck-bytelock: slot = tid + 1 while it fits the byte array ---- */

struct lb_ck_bytelock_tctx {
	unsigned slot;
};

static inline int lb_ck_bytelock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_bytelock_init(obj);
	return 0;
}

static inline int lb_ck_bytelock_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct ck_bytelock *b = obj;
	unsigned slot = ti->tid + 1;
	((struct lb_ck_bytelock_tctx *)t)->slot =
		slot <= sizeof(b->readers) ? slot : CK_BYTELOCK_UNSLOTTED;
	return 0;
}

static inline void lb_ck_bytelock_rl(void *obj, void *t)
{
	ck_bytelock_read_lock(obj, ((struct lb_ck_bytelock_tctx *)t)->slot);
	lb_ck_rw_read_locked(obj);
}

static inline void lb_ck_bytelock_ru(void *obj, void *t)
{
	lb_ck_rw_read_unlocking(obj);
	ck_bytelock_read_unlock(obj, ((struct lb_ck_bytelock_tctx *)t)->slot);
}

/* The writer's slot only has to be non-zero (it is the owner id) and, if
 * it is a reader slot, the writer's own. */
static inline void lb_ck_bytelock_wl(void *obj, void *t)
{
	unsigned slot = ((struct lb_ck_bytelock_tctx *)t)->slot;
	ck_bytelock_write_lock(obj, slot == CK_BYTELOCK_UNSLOTTED ? UINT_MAX - 1 : slot);
	lb_ck_rw_write_locked(obj);
}

static inline void lb_ck_bytelock_wu(void *obj, void *t)
{
	(void)t;
	lb_ck_rw_write_unlocking(obj);
	ck_bytelock_write_unlock(obj);
}

static const struct lb_rwlock_ops lb_ck_bytelock_ops = {
	.base = { .size = sizeof(struct ck_bytelock),
		  .tctx_size = sizeof(struct lb_ck_bytelock_tctx),
		  .init = lb_ck_bytelock_init, .thread_init = lb_ck_bytelock_thread_init },
	.read_lock = lb_ck_bytelock_rl,
	.read_unlock = lb_ck_bytelock_ru,
	.write_lock = lb_ck_bytelock_wl,
	.write_unlock = lb_ck_bytelock_wu,
};

/* ---- ck-swlock: writers serialised first ---- */

struct lb_ck_swlock {
	ck_swlock_t rw;
	ck_spinlock_fas_t writers;
};

static inline int lb_ck_swlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_swlock *l = obj;
	(void)cfg;
	ck_swlock_init(&l->rw);
	ck_spinlock_fas_init(&l->writers);
	return 0;
}

static inline void lb_ck_swlock_rl(void *obj, void *t)
{
	(void)t;
	ck_swlock_read_lock(&((struct lb_ck_swlock *)obj)->rw);
	lb_ck_rw_read_locked(obj);
}

static inline void lb_ck_swlock_ru(void *obj, void *t)
{
	(void)t;
	lb_ck_rw_read_unlocking(obj);
	ck_swlock_read_unlock(&((struct lb_ck_swlock *)obj)->rw);
}

static inline void lb_ck_swlock_wl(void *obj, void *t)
{
	struct lb_ck_swlock *l = obj;
	(void)t;
	ck_spinlock_fas_lock(&l->writers);
	ck_swlock_write_lock(&l->rw);
	lb_ck_rw_write_locked(obj);
}

static inline void lb_ck_swlock_wu(void *obj, void *t)
{
	struct lb_ck_swlock *l = obj;
	(void)t;
	lb_ck_rw_write_unlocking(obj);
	ck_swlock_write_unlock(&l->rw);
	ck_spinlock_fas_unlock(&l->writers);
}

static const struct lb_rwlock_ops lb_ck_swlock_ops = {
	.base = { .size = sizeof(struct lb_ck_swlock), .init = lb_ck_swlock_init },
	.read_lock = lb_ck_swlock_rl,
	.read_unlock = lb_ck_swlock_ru,
	.write_lock = lb_ck_swlock_wl,
	.write_unlock = lb_ck_swlock_wu,
};

/* ---- reader-writer cohort locks ---- */

CK_COHORT_PROTOTYPE(lb_rwc, lb_coh_ticket_lock, lb_coh_ticket_unlock, lb_coh_ticket_locked,
		    lb_coh_ticket_lock, lb_coh_ticket_unlock, lb_coh_ticket_locked)
CK_RWCOHORT_WP_PROTOTYPE(lb_rwc)
CK_RWCOHORT_RP_PROTOTYPE(lb_rwc)
CK_RWCOHORT_NEUTRAL_PROTOTYPE(lb_rwc)

struct lb_rwc_slot {
	CK_COHORT_INSTANCE(lb_rwc) cohort;
	ck_spinlock_ticket_t local;
};

#define LB_RWC_SLOT lb_cohort_slot_size(sizeof(struct lb_rwc_slot))
#define LB_RWC_WAIT_LIMIT 1000 /* CK_RWCOHORT_WP_DEFAULT_WAIT_LIMIT */

#define LB_RWC_INIT_WP(rw) CK_RWCOHORT_WP_INIT(lb_rwc, rw, LB_RWC_WAIT_LIMIT)
#define LB_RWC_INIT_RP(rw) CK_RWCOHORT_RP_INIT(lb_rwc, rw, LB_RWC_WAIT_LIMIT)
#define LB_RWC_INIT_NEUTRAL(rw) CK_RWCOHORT_NEUTRAL_INIT(lb_rwc, rw)

/* One variant: V is wp, rp or neutral, U its CK name.  The context is the
 * thread's cohort. */
#define LB_CK_RWCOHORT(V, U) \
	struct lb_ck_rwcohort_##V { \
		_Alignas(LB_CACHELINE) ck_spinlock_ticket_t global; \
		_Alignas(LB_CACHELINE) CK_RWCOHORT_##U##_INSTANCE(lb_rwc) rw; \
		_Alignas(LB_CACHELINE) void *slots; \
		unsigned nclusters; \
	}; \
	static inline int lb_ck_rwcohort_##V##_init(void *obj, const struct lb_prim_cfg *cfg) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		l->nclusters = cfg->nclusters ? cfg->nclusters : 1; \
		ck_spinlock_ticket_init(&l->global); \
		LB_RWC_INIT_##U(&l->rw); \
		l->slots = lb_shared_aligned_alloc(LB_CACHELINE, l->nclusters * LB_RWC_SLOT); \
		if (!l->slots) \
			return ENOMEM; \
		for (unsigned c = 0; c < l->nclusters; c++) { \
			struct lb_rwc_slot *s = lb_cohort_slot(l->slots, LB_RWC_SLOT, c); \
			ck_spinlock_ticket_init(&s->local); \
			CK_COHORT_INIT(lb_rwc, &s->cohort, &l->global, &s->local, \
				       CK_COHORT_DEFAULT_LOCAL_PASS_LIMIT); \
		} \
		return 0; \
	} \
	static inline void lb_ck_rwcohort_##V##_fini(void *obj) \
	{ \
		free(((struct lb_ck_rwcohort_##V *)obj)->slots); \
	} \
	static inline int lb_ck_rwcohort_##V##_thread_init(void *obj, void *t, \
							   const struct lb_thread_info *ti) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		*(struct lb_rwc_slot **)t = \
			lb_cohort_slot(l->slots, LB_RWC_SLOT, lb_cohort_of(l->nclusters, ti)); \
		return 0; \
	} \
	static inline void lb_ck_rwcohort_##V##_rl(void *obj, void *t) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		CK_RWCOHORT_##U##_READ_LOCK(lb_rwc, &l->rw, &(*(struct lb_rwc_slot **)t)->cohort, \
					    NULL, NULL); \
		lb_ck_rw_read_locked(obj); \
	} \
	static inline void lb_ck_rwcohort_##V##_ru(void *obj, void *t) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		(void)t; /* CK's read_unlock takes only the instance */ \
		lb_ck_rw_read_unlocking(obj); \
		CK_RWCOHORT_##U##_READ_UNLOCK(lb_rwc, &l->rw, \
					      &(*(struct lb_rwc_slot **)t)->cohort, NULL, NULL); \
	} \
	static inline void lb_ck_rwcohort_##V##_wl(void *obj, void *t) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		CK_RWCOHORT_##U##_WRITE_LOCK(lb_rwc, &l->rw, \
					     &(*(struct lb_rwc_slot **)t)->cohort, NULL, NULL); \
		lb_ck_rw_write_locked(obj); \
	} \
	static inline void lb_ck_rwcohort_##V##_wu(void *obj, void *t) \
	{ \
		struct lb_ck_rwcohort_##V *l = obj; \
		lb_ck_rw_write_unlocking(obj); \
		CK_RWCOHORT_##U##_WRITE_UNLOCK(lb_rwc, &l->rw, \
					       &(*(struct lb_rwc_slot **)t)->cohort, NULL, NULL); \
	} \
	static const struct lb_rwlock_ops lb_ck_rwcohort_##V##_ops = { \
		.base = { .size = sizeof(struct lb_ck_rwcohort_##V), \
			  .tctx_size = sizeof(struct lb_rwc_slot *), \
			  .init = lb_ck_rwcohort_##V##_init, .fini = lb_ck_rwcohort_##V##_fini, \
			  .thread_init = lb_ck_rwcohort_##V##_thread_init }, \
		.read_lock = lb_ck_rwcohort_##V##_rl, \
		.read_unlock = lb_ck_rwcohort_##V##_ru, \
		.write_lock = lb_ck_rwcohort_##V##_wl, \
		.write_unlock = lb_ck_rwcohort_##V##_wu, \
	};

LB_CK_RWCOHORT(wp, WP)
LB_CK_RWCOHORT(rp, RP)
LB_CK_RWCOHORT(neutral, NEUTRAL)

#endif
