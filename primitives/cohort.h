/* The shape every cohort lock here shares (Dice, Marathe and Shavit, "Lock
 * Cohorting: A General Technique for Designing NUMA Locks", PPoPP 2012),
 * over Concurrency Kit's ck_cohort.h.
 *
 * One global lock, and per cluster (hwloc: the --clusters domain, a NUMA
 * node by default, of the PU a thread is pinned to; prim.h's cluster) a cohort: a local lock plus CK's
 * bookkeeping.  A thread takes its cluster's local lock, then the global
 * lock unless the previous local holder kept it for the cluster; a holder
 * that sees local waiters passes the global lock on inside the cluster,
 * at most CK_COHORT_DEFAULT_LOCAL_PASS_LIMIT (10) times in a row, so the
 * lock's data crosses the interconnect once per batch.  The global lock
 * must be thread-oblivious (released by a thread other than the one that
 * took it): ticket and test-and-set locks are; MCS is not (its node is the
 * acquirer's), so MCS appears only as a local lock.
 *
 * CK's cohort state (release_state, acquire_count) is plain memory guarded
 * by the local lock; ThreadSanitizer cannot see CK's inline-assembly
 * locks, so each inner lock's wrapper annotates its own address (tsan.h),
 * which orders that state and the data the whole lock protects.
 *
 * The object: the global lock on its own line, then the cohorts, one
 * cache-line-sized slot each, allocated for cfg->nclusters. */
#ifndef LB_COHORT_H
#define LB_COHORT_H

#include <errno.h>
#include <stdlib.h>

#include <ck_cohort.h>
#include <ck_spinlock.h>

#include "prim.h"
#include "tsan.h"

/* Slot i of a cohort array whose slots are `size` bytes (a multiple of
 * LB_CACHELINE). */
static inline void *lb_cohort_slot(void *base, size_t size, unsigned i)
{
	return (char *)base + (size_t)i * size;
}

static inline size_t lb_cohort_slot_size(size_t bytes)
{
	return (bytes + LB_CACHELINE - 1) / LB_CACHELINE * LB_CACHELINE;
}

/* The cluster a thread's cohort is: its --clusters domain, or 0 when the lock was
 * made for fewer clusters (unpinned threads report 0 too). */
static inline unsigned lb_cohort_of(unsigned nclusters, const struct lb_thread_info *ti)
{
	return ti->cluster < nclusters ? ti->cluster : 0;
}

/* Inner-lock wrappers with the (lock, context) shape ck_cohort.h calls,
 * each annotated on its own lock (see above). */
static inline void lb_coh_ticket_lock(ck_spinlock_ticket_t *l, void *c)
{
	(void)c;
	ck_spinlock_ticket_lock(l);
	LB_TSAN_ACQUIRE(l);
}

static inline void lb_coh_ticket_unlock(ck_spinlock_ticket_t *l, void *c)
{
	(void)c;
	LB_TSAN_RELEASE(l);
	ck_spinlock_ticket_unlock(l);
}

static inline bool lb_coh_ticket_trylock(ck_spinlock_ticket_t *l, void *c)
{
	(void)c;
	bool ok = ck_spinlock_ticket_trylock(l);
	if (ok)
		LB_TSAN_ACQUIRE(l);
	return ok;
}

static inline bool lb_coh_ticket_locked(ck_spinlock_ticket_t *l, void *c)
{
	(void)c;
	return ck_spinlock_ticket_locked(l);
}

static inline void lb_coh_fas_lock(ck_spinlock_fas_t *l, void *c)
{
	(void)c;
	ck_spinlock_fas_lock(l);
	LB_TSAN_ACQUIRE(l);
}

static inline void lb_coh_fas_unlock(ck_spinlock_fas_t *l, void *c)
{
	(void)c;
	LB_TSAN_RELEASE(l);
	ck_spinlock_fas_unlock(l);
}

static inline bool lb_coh_fas_trylock(ck_spinlock_fas_t *l, void *c)
{
	(void)c;
	bool ok = ck_spinlock_fas_trylock(l);
	if (ok)
		LB_TSAN_ACQUIRE(l);
	return ok;
}

static inline bool lb_coh_fas_locked(ck_spinlock_fas_t *l, void *c)
{
	(void)c;
	return ck_spinlock_fas_locked(l);
}

static inline void lb_coh_mcs_lock(ck_spinlock_mcs_t *l, void *node)
{
	ck_spinlock_mcs_lock(l, node);
	LB_TSAN_ACQUIRE(l);
}

static inline void lb_coh_mcs_unlock(ck_spinlock_mcs_t *l, void *node)
{
	LB_TSAN_RELEASE(l);
	ck_spinlock_mcs_unlock(l, node);
}

static inline bool lb_coh_mcs_trylock(ck_spinlock_mcs_t *l, void *node)
{
	bool ok = ck_spinlock_mcs_trylock(l, node);
	if (ok)
		LB_TSAN_ACQUIRE(l);
	return ok;
}

static inline bool lb_coh_mcs_locked(ck_spinlock_mcs_t *l, void *node)
{
	(void)node;
	return ck_spinlock_mcs_locked(l);
}

#endif
