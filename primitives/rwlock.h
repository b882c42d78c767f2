/* The rwlock kind: shared readers, exclusive writers.
 *
 * A writer excludes readers and other writers; readers exclude writers.
 * Acquire/release semantics as for a mutex.
 *
 * RCU (urcu-memb, urcu-qsbr) shares this interface with different
 * semantics, marked LB_CAP_RCU: read_lock() takes no lock and never waits;
 * readers run alongside a writer, so writers publish new versions (with
 * rcu_assign_pointer) and call synchronize() before reclaiming the old one:
 * it returns once every reader that might still see it has finished.
 * write_lock() only serialises writers.  quiescent() must be called by
 * readers between read-side sections (a no-op except for QSBR), and
 * offline()/online() bracket any blocking wait of a registered thread.
 * For plain rwlocks synchronize, quiescent, offline and online are NULL.
 *
 * defer_free() is RCU's asynchronous reclamation (call_rcu): it hands p to
 * fn(p) once a grace period has passed, and returns at once; a writer that
 * has it uses it instead of synchronize() and freeing.  NULL where the
 * implementation reclaims synchronously.  fini() waits for every pending
 * fn to have run (rcu_barrier).
 */
#ifndef LB_RWLOCK_H
#define LB_RWLOCK_H

#include "prim.h"

struct lb_rwlock_ops {
	struct lb_prim_ops base;
	void (*read_lock)(void *obj, void *tctx);
	void (*read_unlock)(void *obj, void *tctx);
	void (*write_lock)(void *obj, void *tctx);
	void (*write_unlock)(void *obj, void *tctx);
	void (*synchronize)(void *obj, void *tctx);
	void (*quiescent)(void *obj, void *tctx);
	void (*offline)(void *obj, void *tctx);
	void (*online)(void *obj, void *tctx);
	void (*defer_free)(void *obj, void *tctx, void *p, void (*fn)(void *p));
};

#endif
