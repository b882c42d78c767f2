/* The queue kind: a bounded queue of 64-bit items (the producer/consumer
 * workload's lock-free answer to a lock-protected ring buffer).
 *
 * push() adds one item and returns true, or returns false at once when the
 * queue is full (nothing was added); pop() takes one item into *item and
 * returns true, or returns false at once when the queue is empty.  Neither
 * ever waits for the other side: callers that must wait spin (and back off)
 * themselves.  A push that returned true happens-before the pop that takes
 * its item, so what a producer wrote before push() is visible after pop().
 * Each item is taken by exactly one pop.  A pop that returns false while no
 * push is in progress means the queue was empty.
 *
 * Capacity: lb_prim_cfg.permits is the number of items the queue must hold
 * (the free slots a producer may take; 0 is taken as 1).  Ring buffers
 * round it up to their natural size: capacity() says how many items this
 * object holds at most.
 *
 * Order: implementations flagged LB_CAP_FIFO in the registry hand out the
 * items in push order (linearizable FIFO): the items one producer pushed
 * reach any one consumer in the order they were pushed.  The others (a
 * stack) only promise exactly-once.
 *
 * spsc: true when the object allows one pushing thread and one popping
 * thread at a time, no more (ck_ring's SPSC mode); workloads that run more
 * threads give each producer-consumer pair its own object.
 *
 * Reclamation (smr.h; NULL for queues that recycle their nodes):
 * unreclaimed() is the bytes of dequeued nodes not yet freed, read by the
 * workload's sampler from another thread during the run; hold() calls
 * fn(arg) inside one read-side section (HP: naming the head), the stalled
 * consumer of --param stall_ms and of the tests.
 *
 * Every function takes the object and the calling thread's context (node
 * pools live there for the linked queues; NULL where there is none).
 */
#ifndef LB_QUEUE_H
#define LB_QUEUE_H

#include <stdint.h>

#include "prim.h"

struct lb_queue_ops {
	struct lb_prim_ops base;
	bool (*push)(void *obj, void *tctx, uint64_t item);
	bool (*pop)(void *obj, void *tctx, uint64_t *item);
	uint64_t (*capacity)(void *obj);
	bool spsc;
	uint64_t (*unreclaimed)(void *obj);
	void (*hold)(void *obj, void *tctx, void (*fn)(void *arg), void *arg);
};

#endif
