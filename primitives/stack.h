/* The stack kind: an unbounded LIFO stack of 64-bit items, the lock-free
 * structure whose correctness hangs on memory reclamation (ABA).
 *
 * Its ops are the queue kind's (queue.h): push() adds one item, pop()
 * takes the newest item, or returns false at once when the stack is empty;
 * neither waits.  A push that returned true happens-before the pop that
 * takes its item; each item is taken by exactly one pop.  With one thread,
 * items come out newest first (the kind test holds every implementation
 * to that; with several, "newest" is a matter of linearization, and only
 * exactly-once is checked).
 *
 * Capacity: lb_prim_cfg.permits bounds the items held, as for a queue
 * (prodcons needs a bounded buffer); permits 0 means unbounded (the stack
 * workload), and capacity() then returns UINT64_MAX.  The bound is a
 * counter beside the stack (queue_pool.h), one more contended line per op,
 * so the stack workload leaves it off.
 *
 * Nodes: the linked stacks carry items in nodes from queue_pool.h's
 * per-thread pools, type-stable until fini.  What makes reusing a popped
 * node safe is each implementation's own answer to ABA, which is the point
 * of the kind: a generation counter (ck-stack-mpmc), a grace period before
 * reuse (ck-stack-upmc through ck_epoch), hazard pointers (ck-hp-stack),
 * a mutex among poppers (urcu-lfstack, urcu-wfstack), a mutex around
 * everything (the locked stacks), or nothing at all (test-treiber-aba,
 * broken on purpose).
 */
#ifndef LB_STACK_H
#define LB_STACK_H

#include "queue.h"

/* One ops struct for both kinds: registry.h's K line names the stack
 * kind's ops "stack" (so its headers are stack_*.h), and they are the
 * queue kind's push, pop and capacity. */
#define lb_stack_ops lb_queue_ops

#endif
