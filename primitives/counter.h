/* The lock-free counter kind: the answer to "do I need a lock at all?".
 *
 * add() adds one to the counter on behalf of the calling thread; total()
 * reads the final value once every thread has stopped (the harness joins
 * the threads first, which orders their last add() before total()).
 * Implementations that keep per-thread state (sharded) keep it in the
 * thread context and register it with the object in thread_init.
 *
 * The no-synchronisation implementations (none-racy, none-noop) share this
 * interface but are their own kind, "none".
 */
#ifndef LB_COUNTER_H
#define LB_COUNTER_H

#include <stdint.h>

#include "prim.h"

struct lb_counter_ops {
	struct lb_prim_ops base;
	void (*add)(void *obj, void *tctx);
	uint64_t (*total)(void *obj);
};

#endif
