/* The event kind (Python's threading.Event): a flag threads can wait for.
 * set() sets it and wakes every waiter; clear() resets it; wait() returns
 * at once while it is set, otherwise sleeps until a set(); is_set() reads
 * it.  A waiter woken by set() returns even if clear() follows at once. */
#ifndef LB_EVENT_H
#define LB_EVENT_H

#include "prim.h"

struct lb_event_ops {
	struct lb_prim_ops base;
	void (*set)(void *obj);
	void (*clear)(void *obj);
	void (*wait)(void *obj, void *tctx);
	bool (*is_set)(void *obj);
};

#endif
