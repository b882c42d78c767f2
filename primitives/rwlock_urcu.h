/* The RCU answer to read-mostly data, through the rwlock interface (see
 * rwlock.h for the different semantics, LB_CAP_RCU).
 *
 * urcu-memb  liburcu's "memb" flavour: read_lock/unlock are a per-thread
 *            nesting counter update and a compiler barrier; grace periods
 *            use membarrier(2) (or fences where the kernel lacks it).
 * urcu-mb    the "mb" flavour: as memb, but read_lock/unlock issue full
 *            memory barriers instead of relying on membarrier(2).
 * urcu-signal  the signal flavour: as memb, but a grace period sends
 *            SIGUSR1 (liburcu's SIGRCU) to every registered reader, whose
 *            handler runs the barrier; no process-wide membarrier.
 * urcu-bp    "bulletproof": readers register themselves on their first
 *            read_lock and unregister at thread exit (below).
 * urcu-qsbr  the quiescent-state-based flavour: read-side sections cost
 *            nothing at all; instead every registered reader must report
 *            quiescent states and go offline around blocking waits, or
 *            grace periods (and writers) wait for it forever.
 *
 * The read side is what an RCU user compiles: liburcu's fast paths inline
 * (urcu_inline.h defines _LGPL_SOURCE), not calls into the library.
 *
 * QSBR's quiescent(): a reader that reports a quiescent state after every
 * read pays two full fences and a shared load each time, which is most of
 * the cost of a read.  Real QSBR users report one every so often, from a
 * point where they hold no RCU pointers; liburcu's own benchmark
 * (tests/benchmark/test_urcu_qsbr.c) does it once every 1024 reads.  So
 * does quiescent() here: it counts calls in the thread's context and
 * reports on every LB_URCU_QSBR_QS_EVERY-th.  A grace period therefore
 * waits for each online reader's next 1024 ops at most, and the reader
 * must never stop while online:
 *   - blocking waits: the caller brackets them with offline()/online()
 *     (readmostly.c does so around the writers' mutex); synchronize()
 *     takes the calling thread offline itself while it waits (liburcu);
 *   - leaving the loop: thread_fini goes offline before it unregisters,
 *     and a loop that may block between its last op and thread_fini must
 *     call offline() first.
 * An offline thread must not read: online() before the next read_lock.
 *
 * Writers are serialised by a pthread mutex in the object; synchronize()
 * waits for a grace period.  Every thread registers in thread_init (and is
 * online from then on) and unregisters in thread_fini (liburcu requires
 * registration before the first read-side section).
 *
 * ThreadSanitizer (tsan.h) sees the writers' pthread mutex and the
 * pointer's C11 release/acquire, but not the grace period, which liburcu
 * computes in its uninstrumented library from assembly atomics.  So every
 * read_unlock releases on the object's gp_sync and synchronize() acquires
 * on it when it returns: every read-side section that ended before then
 * happens-before what the writer does next (poison and free the old
 * version).  A section that ends later was not waited for and is not
 * ordered, so a writer that frees without synchronize() is still
 * reported.  Per object, not per flavour (liburcu's grace periods cover
 * every reader of the flavour): the interface promises no more.  QSBR's
 * readers release at read_unlock too: its quiescent state comes later in
 * the same thread, and the grace period waits for that.
 */
#ifndef LB_RWLOCK_URCU_H
#define LB_RWLOCK_URCU_H

#include <pthread.h>

#include "urcu_inline.h"
#include "rwlock.h"
#include "tsan.h"

struct lb_urcu {
	pthread_mutex_t writers;
	/* ThreadSanitizer's grace-period sync address (tsan.h): never read
	 * or written, and apart from the mutex, whose address TSan uses. */
	char gp_sync;
};

static inline int lb_urcu_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return pthread_mutex_init(&((struct lb_urcu *)obj)->writers, NULL);
}

static inline void lb_urcu_fini(void *obj)
{
	pthread_mutex_destroy(&((struct lb_urcu *)obj)->writers);
}

/* ---- asynchronous reclamation: call_rcu ----
 *
 * The *-callrcu implementations are their flavour, whose writers hand the
 * old version to call_rcu instead of waiting in synchronize_rcu: the
 * callback (poison and free, the workload's fn) runs in liburcu's call_rcu
 * thread after a grace period.  Each call allocates a small node for the
 * rcu_head.  fini() runs rcu_barrier, so no callback outlives the object.
 * ThreadSanitizer: the callback acquires gp_sync, as synchronize() does,
 * and the node itself, released before call_rcu (liburcu's queue and its
 * call_rcu thread's wait are assembly and an uninstrumented library). */
struct lb_urcu_deferred {
	struct rcu_head head;
	void *p;
	void (*fn)(void *p);
	void *gp_sync;
};

static void lb_urcu_deferred_run(struct rcu_head *h)
{
	struct lb_urcu_deferred *d = caa_container_of(h, struct lb_urcu_deferred, head);
	/* the node came through liburcu's queue, which TSan cannot see */
	LB_TSAN_ACQUIRE(d);
	LB_TSAN_ACQUIRE(d->gp_sync); /* every reader that ended before the grace period */
	d->fn(d->p);
	free(d);
}

/* defer_free and fini of flavour fl. */
#define LB_URCU_DEFER(fl) \
	static inline void lb_urcu_##fl##_defer_free(void *obj, void *t, void *p, \
						     void (*fn)(void *p)) \
	{ \
		struct lb_urcu_deferred *d = malloc(sizeof(*d)); \
		(void)t; \
		if (!d) { /* no node: reclaim synchronously instead */ \
			urcu_##fl##_synchronize_rcu(); \
			LB_TSAN_ACQUIRE(&((struct lb_urcu *)obj)->gp_sync); \
			fn(p); \
			return; \
		} \
		d->p = p; \
		d->fn = fn; \
		d->gp_sync = &((struct lb_urcu *)obj)->gp_sync; \
		LB_TSAN_RELEASE(d); /* to the callback's thread, through liburcu's queue */ \
		urcu_##fl##_call_rcu(&d->head, lb_urcu_deferred_run); \
	} \
	static inline void lb_urcu_##fl##_callrcu_fini(void *obj) \
	{ \
		urcu_##fl##_barrier(); /* every pending callback has run */ \
		lb_urcu_fini(obj); \
	}

static inline void lb_urcu_write_lock(void *obj, void *t)
{
	(void)t;
	pthread_mutex_lock(&((struct lb_urcu *)obj)->writers);
}

static inline void lb_urcu_write_unlock(void *obj, void *t)
{
	(void)t;
	pthread_mutex_unlock(&((struct lb_urcu *)obj)->writers);
}

/* ---- memb, mb, signal: registered readers, a nesting counter ---- */

/* One rwlock_ops of flavour fl: name, its fini, thread hooks (NULL: none),
 * per-thread context size and unavailable(); what follows names the
 * flavour's own hooks (QSBR's quiescent/offline/online) and defer_free
 * (NULL: the writer reclaims synchronously). */
#define LB_URCU_OPS(name, fl, fini_fn, tinit, tfini, tctx, unavail, ...) \
	static const struct lb_rwlock_ops name = { \
		.base = { .size = sizeof(struct lb_urcu), .tctx_size = (tctx), \
			  .init = lb_urcu_init, .fini = (fini_fn), .thread_init = (tinit), \
			  .thread_fini = (tfini), .unavailable = (unavail) }, \
		.read_lock = lb_urcu_##fl##_rl, \
		.read_unlock = lb_urcu_##fl##_ru, \
		.write_lock = lb_urcu_write_lock, \
		.write_unlock = lb_urcu_write_unlock, \
		.synchronize = lb_urcu_##fl##_sync, \
		__VA_ARGS__ \
	};

/* One flavour whose readers register in thread_init and unregister in
 * thread_fini, and whose read side is a nesting counter: fl is liburcu's
 * prefix (urcu_<fl>_...), unavail its lb_prim_ops.unavailable (or NULL). */
#define LB_URCU_REGISTERED(fl, unavail) \
	static inline int lb_urcu_##fl##_thread_init(void *obj, void *t, \
						     const struct lb_thread_info *ti) \
	{ \
		(void)obj, (void)t, (void)ti; \
		urcu_##fl##_register_thread(); \
		return 0; \
	} \
	static inline void lb_urcu_##fl##_thread_fini(void *obj, void *t) \
	{ \
		(void)obj, (void)t; \
		urcu_##fl##_unregister_thread(); \
	} \
	LB_URCU_READ_SIDE(fl) \
	LB_URCU_OPS(lb_urcu_##fl##_ops, fl, lb_urcu_fini, lb_urcu_##fl##_thread_init, \
		    lb_urcu_##fl##_thread_fini, 0, unavail, .defer_free = NULL) \
	LB_URCU_DEFER(fl) \
	LB_URCU_OPS(lb_urcu_##fl##_callrcu_ops, fl, lb_urcu_##fl##_callrcu_fini, \
		    lb_urcu_##fl##_thread_init, lb_urcu_##fl##_thread_fini, 0, unavail, \
		    .defer_free = lb_urcu_##fl##_defer_free)

/* read_lock, read_unlock and synchronize of flavour fl, with TSan's
 * grace-period edge (see above). */
#define LB_URCU_READ_SIDE(fl) \
	static inline void lb_urcu_##fl##_rl(void *obj, void *t) \
	{ \
		(void)obj, (void)t; \
		urcu_##fl##_read_lock(); \
	} \
	static inline void lb_urcu_##fl##_ru(void *obj, void *t) \
	{ \
		(void)t; \
		LB_TSAN_RELEASE(&((struct lb_urcu *)obj)->gp_sync); /* synchronize's */ \
		urcu_##fl##_read_unlock(); \
	} \
	static inline void lb_urcu_##fl##_sync(void *obj, void *t) \
	{ \
		(void)t; \
		urcu_##fl##_synchronize_rcu(); \
		LB_TSAN_ACQUIRE(&((struct lb_urcu *)obj)->gp_sync); /* every ended reader's */ \
	}

LB_URCU_REGISTERED(memb, NULL)
LB_URCU_REGISTERED(mb, NULL)
LB_URCU_REGISTERED(signal, lb_urcu_signal_unavailable)

/* ---- bp: readers register themselves ---- */

/* The "bulletproof" flavour registers a thread on its first read_lock and
 * unregisters it when the thread exits (a pthread key's destructor), so a
 * library can use RCU in threads it did not create: no thread_init here,
 * by its rules.  The price: read_lock tests the thread's registration and
 * reaches its counter through a pointer (the registry is not in TLS); the
 * barrier against the writer is membarrier(2) where the kernel has it, as
 * memb's. */
LB_URCU_READ_SIDE(bp)

LB_URCU_OPS(lb_urcu_bp_ops, bp, lb_urcu_fini, NULL, NULL, 0, NULL, .defer_free = NULL)
LB_URCU_DEFER(bp)
LB_URCU_OPS(lb_urcu_bp_callrcu_ops, bp, lb_urcu_bp_callrcu_fini, NULL, NULL, 0, NULL,
	    .defer_free = lb_urcu_bp_defer_free)

/* ---- qsbr ---- */

/* liburcu's benchmark: one quiescent state per 1024 reads (a power of
 * two: the test is a mask). */
#define LB_URCU_QSBR_QS_EVERY 1024u

struct lb_urcu_qsbr_tctx {
	unsigned ops; /* quiescent() calls since the thread attached */
};

static inline int lb_urcu_qsbr_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)obj;
	(void)ti;
	((struct lb_urcu_qsbr_tctx *)t)->ops = 0;
	urcu_qsbr_register_thread(); /* online from here on */
	return 0;
}

static inline void lb_urcu_qsbr_thread_fini(void *obj, void *t)
{
	(void)obj;
	(void)t;
	/* Offline first: a thread that stopped while online would hold up
	 * every grace period.  (unregister also does it; saying it here
	 * keeps the rule visible.) */
	urcu_qsbr_thread_offline();
	urcu_qsbr_unregister_thread();
}

static inline void lb_urcu_qsbr_rl(void *obj, void *t)
{
	(void)obj;
	(void)t;
	urcu_qsbr_read_lock();
}

static inline void lb_urcu_qsbr_ru(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(&((struct lb_urcu *)obj)->gp_sync); /* pairs with synchronize's */
	urcu_qsbr_read_unlock();
}

static inline void lb_urcu_qsbr_sync(void *obj, void *t)
{
	(void)t;
	urcu_qsbr_synchronize_rcu();
	LB_TSAN_ACQUIRE(&((struct lb_urcu *)obj)->gp_sync); /* every ended reader's */
}

static inline void lb_urcu_qsbr_quiescent(void *obj, void *t)
{
	struct lb_urcu_qsbr_tctx *tc = t;
	(void)obj;
	if (__builtin_expect((++tc->ops & (LB_URCU_QSBR_QS_EVERY - 1)) == 0, 0))
		urcu_qsbr_quiescent_state();
}

static inline void lb_urcu_qsbr_offline(void *obj, void *t)
{
	(void)obj;
	(void)t;
	urcu_qsbr_thread_offline();
}

static inline void lb_urcu_qsbr_online(void *obj, void *t)
{
	(void)obj;
	(void)t;
	urcu_qsbr_thread_online();
}

/* QSBR's own hooks, in both of its rwlock_ops. */
#define LB_URCU_QSBR_HOOKS \
	.quiescent = lb_urcu_qsbr_quiescent, .offline = lb_urcu_qsbr_offline, \
	.online = lb_urcu_qsbr_online

LB_URCU_OPS(lb_urcu_qsbr_ops, qsbr, lb_urcu_fini, lb_urcu_qsbr_thread_init,
	    lb_urcu_qsbr_thread_fini, sizeof(struct lb_urcu_qsbr_tctx), NULL, LB_URCU_QSBR_HOOKS,
	    .defer_free = NULL)

LB_URCU_DEFER(qsbr)

/* QSBR's writer calls call_rcu online (readmostly brings it back online
 * after the writers' mutex), as liburcu requires. */
LB_URCU_OPS(lb_urcu_qsbr_callrcu_ops, qsbr, lb_urcu_qsbr_callrcu_fini,
	    lb_urcu_qsbr_thread_init, lb_urcu_qsbr_thread_fini, sizeof(struct lb_urcu_qsbr_tctx),
	    NULL, LB_URCU_QSBR_HOOKS, .defer_free = lb_urcu_qsbr_defer_free)

#endif
