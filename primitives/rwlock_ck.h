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

#endif
