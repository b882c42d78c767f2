/* Deliberately broken queues (after mutex_test.h): they prove that the
 * producer/consumer check fails on a duplicated or a lost item.  Hidden:
 * never part of "all" or a backend selection, listed only under
 * --list --all.
 *
 * Both are otherwise a correct bounded MPMC FIFO: a ring of `permits`
 * slots (0 taken as 1) under futex-mutex (mutex_futex.h), which orders
 * everything, pushing and popping at once and never waiting for the other
 * side, as queue.h asks.  They do not claim LB_CAP_FIFO, on purpose: a
 * duplicate also comes out of order, and the FIFO check would then catch
 * it first, so the test of the exactly-once check would prove nothing.
 *
 * test-queue-dup   the second item handed out by pop(), and every
 *                  LB_TEST_QUEUE_EVERY-th after it, is the previous one
 *                  again: pop() returns true with the item the last pop()
 *                  took, and the ring is left alone.  One duplicate per
 *                  EVERY items, nothing lost.
 * test-queue-drop  the first push() that finds room, and every
 *                  LB_TEST_QUEUE_EVERY-th after it, returns true but
 *                  discards the item.  One loss per EVERY items, nothing
 *                  duplicated, and nothing ever waits for the lost item
 *                  (consumers stop on an empty queue).
 *
 * The first bug comes at once, so any run that moves an item or two
 * fails, however slowly its threads ran (a loaded machine once got a
 * 0.05 s run below 1000 items, and a drop that came only at the
 * 1000th passed).
 *
 * State (all under m): ring[cap], head (the oldest item's slot), count
 * (items in the ring), served (items handed out, duplicates included) or
 * accepted (pushes that returned true, dropped ones included), last (the
 * item the last pop() returned).
 */
#ifndef LB_QUEUE_TEST_H
#define LB_QUEUE_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mutex_futex.h"
#include "queue.h"

#define LB_TEST_QUEUE_EVERY 1000

struct lb_test_queue {
	struct lb_futex_mutex m;
	uint64_t *ring;
	uint64_t cap, head, count;
	uint64_t served, accepted, last;
};

static inline int lb_test_queue_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_test_queue *q = obj;
	q->cap = cfg->permits ? cfg->permits : 1;
	q->ring = lb_shared_calloc(q->cap, sizeof(*q->ring));
	if (!q->ring)
		return ENOMEM;
	q->head = q->count = q->served = q->accepted = q->last = 0;
	return lb_futex_mutex_init(&q->m, cfg);
}

static inline void lb_test_queue_fini(void *obj)
{
	free(((struct lb_test_queue *)obj)->ring);
}

static inline uint64_t lb_test_queue_capacity(void *obj)
{
	return ((struct lb_test_queue *)obj)->cap;
}

/* drop: discard the first accepted item and every EVERY-th after it. */
static inline bool lb_test_queue_push_as(struct lb_test_queue *q, uint64_t item, bool drop)
{
	bool ok = false;
	lb_futex_mutex_lock(&q->m, NULL);
	if (q->count < q->cap) {
		ok = true;
		if (!(drop && ++q->accepted % LB_TEST_QUEUE_EVERY == 1)) { /* the drop bug */
			q->ring[(q->head + q->count) % q->cap] = item;
			q->count++;
		}
	}
	lb_futex_mutex_unlock(&q->m, NULL);
	return ok;
}

/* dup: hand out the previous item again the second time and every
 * EVERY-th time after it. */
static inline bool lb_test_queue_pop_as(struct lb_test_queue *q, uint64_t *item, bool dup)
{
	bool ok = false;
	lb_futex_mutex_lock(&q->m, NULL);
	if (dup && q->served % LB_TEST_QUEUE_EVERY == 1) {
		*item = q->last; /* the duplication bug */
		q->served++;
		ok = true;
	} else if (q->count > 0) {
		*item = q->last = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		q->served++;
		ok = true;
	}
	lb_futex_mutex_unlock(&q->m, NULL);
	return ok;
}

static inline bool lb_test_queue_dup_push(void *obj, void *t, uint64_t item)
{
	(void)t;
	return lb_test_queue_push_as(obj, item, false);
}

static inline bool lb_test_queue_dup_pop(void *obj, void *t, uint64_t *item)
{
	(void)t;
	return lb_test_queue_pop_as(obj, item, true);
}

static inline bool lb_test_queue_drop_push(void *obj, void *t, uint64_t item)
{
	(void)t;
	return lb_test_queue_push_as(obj, item, true);
}

static inline bool lb_test_queue_drop_pop(void *obj, void *t, uint64_t *item)
{
	(void)t;
	return lb_test_queue_pop_as(obj, item, false);
}

static const struct lb_queue_ops lb_test_queue_dup_ops = {
	.base = { .size = sizeof(struct lb_test_queue), .init = lb_test_queue_init,
		  .fini = lb_test_queue_fini },
	.push = lb_test_queue_dup_push,
	.pop = lb_test_queue_dup_pop,
	.capacity = lb_test_queue_capacity,
};

static const struct lb_queue_ops lb_test_queue_drop_ops = {
	.base = { .size = sizeof(struct lb_test_queue), .init = lb_test_queue_init,
		  .fini = lb_test_queue_fini },
	.push = lb_test_queue_drop_push,
	.pop = lb_test_queue_drop_pop,
	.capacity = lb_test_queue_capacity,
};

#endif
