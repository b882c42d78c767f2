/* The condition kind, with its own lock (Python's threading.Condition).
 * lock()/unlock() take and release the condition's lock.  wait() must be
 * called holding it: it releases the lock while waiting and holds it again
 * when it returns.  notify() wakes at least one waiter, notify_all() every
 * waiter that was waiting when it was called; both may be called with or
 * without the lock.  Spurious wake-ups are allowed (callers re-check their
 * predicate in a loop, as with POSIX), lost wake-ups are not: a notify
 * after a waiter released the lock in wait() always wakes it. */
#ifndef LB_CONDITION_H
#define LB_CONDITION_H

#include "prim.h"

struct lb_condition_ops {
	struct lb_prim_ops base;
	void (*lock)(void *obj, void *tctx);
	void (*unlock)(void *obj, void *tctx);
	void (*wait)(void *obj, void *tctx);
	void (*notify)(void *obj);
	void (*notify_all)(void *obj);
};

#endif
