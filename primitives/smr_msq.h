/* The Michael-Scott queue (Michael and Scott, "Simple, fast, and practical
 * non-blocking and blocking concurrent queue algorithms", PODC 1996; with
 * hazard pointers as in Michael, "Hazard pointers", IEEE TPDS 2004,
 * figure 7): the queue kind's structure for the reclamation axis, one
 * algorithm instantiated per smr.h scheme by LB_MSQ (queue_atomic.h,
 * queue_ck.h, queue_urcu.h).  Unlike the pooled queues (queue_pool.h) it
 * really frees: every push mallocs a node and every pop retires one.
 *
 * State encoding: head points at a dummy node whose successor holds the
 * first item; tail points at the last node or, for a moment after a push,
 * at the one before it (anyone who sees tail->next set swings tail on).
 * next is NULL until a push links a node after it, and never changes
 * again.  Empty: head's next is NULL.
 *
 *   push   link the new node after the last one (CAS tail->next: NULL ->
 *          node), then swing tail to it (CAS; failure means someone
 *          helped).
 *   pop    read head, tail and head->next; when head == tail with a
 *          successor, help tail on and retry; else read the successor's
 *          item and swing head to it (CAS).  The old dummy is unlinked:
 *          the thread whose CAS won retires it.
 *
 * Hazard pointers: slot 0 names head (pop) or tail (push), slot 1 head's
 * successor; each is named, fenced, and re-validated by re-reading head or
 * tail (if head still holds the node, it was not dequeued, so it and its
 * successor are linked).  Under the other schemes the operation is one
 * section and the re-validations are compiled out; the algorithm's own
 * re-check of head after reading next stays.
 *
 * Memory order: each CAS is release on success (the new node's item and
 * NULL next reach the acquire loads of next, tail and head that find it);
 * all loads of head, tail and next are acquire.
 *
 * Bound: the queue kind promises a capacity, and this queue is unbounded,
 * so it counts items as queue_pool.h's linked queues do (lbq_take,
 * lbq_give: one more contended line, the same price as theirs).
 */
#ifndef LB_SMR_MSQ_H
#define LB_SMR_MSQ_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "queue.h"
#include "queue_pool.h"
#include "smr.h"

struct lb_msq_node {
	struct lb_smr_hdr h;
	_Atomic uintptr_t next;
	uint64_t item;
};

struct lb_msq {
	struct lb_smr smr;
	uint64_t cap;
	alignas(LB_CACHELINE) _Atomic uint64_t count; /* items pushed and not popped */
	alignas(LB_CACHELINE) _Atomic uintptr_t head;
	alignas(LB_CACHELINE) _Atomic uintptr_t tail;
};

static inline int lb_msq_init(const enum lb_smr_scheme S, void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_msq *q = obj;
	struct lb_msq_node *dummy = calloc(1, sizeof(*dummy));
	if (!dummy)
		return ENOMEM;
	int ret = lb_smr_init(S, &q->smr, cfg, sizeof(struct lb_msq_node));
	if (ret) {
		free(dummy);
		return ret;
	}
	atomic_init(&dummy->next, 0);
	q->cap = cfg->permits ? cfg->permits : 1;
	atomic_init(&q->count, 0);
	atomic_init(&q->head, (uintptr_t)dummy);
	atomic_init(&q->tail, (uintptr_t)dummy);
	return 0;
}

/* With no thread attached: the dummy and what is still queued were never
 * retired; free them, then what the scheme holds. */
static inline void lb_msq_fini(const enum lb_smr_scheme S, void *obj)
{
	struct lb_msq *q = obj;
	uintptr_t n = atomic_load_explicit(&q->head, memory_order_relaxed);
	while (n) {
		uintptr_t next = atomic_load_explicit(&((struct lb_msq_node *)n)->next,
						      memory_order_relaxed);
		free((void *)n);
		n = next;
	}
	lb_smr_fini(S, &q->smr);
}

static inline uint64_t lb_msq_capacity(void *obj)
{
	return ((struct lb_msq *)obj)->cap;
}

static inline __attribute__((always_inline)) bool
lb_msq_push(const enum lb_smr_scheme S, void *obj, void *t, uint64_t item)
{
	struct lb_msq *q = obj;
	struct lb_smr_tctx *tc = t;
	if (!lbq_take(&q->count, q->cap))
		return false;
	struct lb_msq_node *n = malloc(sizeof(*n));
	if (!n)
		lbq_oom();
	n->item = item;
	atomic_store_explicit(&n->next, 0, memory_order_relaxed); /* published by the link CAS */
	lb_smr_enter(S, tc);
	for (;;) {
		uintptr_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
		struct lb_msq_node *last = (struct lb_msq_node *)tail;
		if (S == LB_SMR_HP) {
			lb_smr_protect(S, tc, 0, last);
			if (atomic_load_explicit(&q->tail, memory_order_acquire) != tail)
				continue;
		}
		uintptr_t next = atomic_load_explicit(&last->next, memory_order_acquire);
		if (atomic_load_explicit(&q->tail, memory_order_acquire) != tail)
			continue;
		if (next) { /* tail lags: help it on */
			atomic_compare_exchange_strong_explicit(&q->tail, &tail, next,
								memory_order_release,
								memory_order_relaxed);
			continue;
		}
		if (atomic_compare_exchange_strong_explicit(&last->next, &next, (uintptr_t)n,
							    memory_order_release,
							    memory_order_relaxed)) {
			atomic_compare_exchange_strong_explicit(&q->tail, &tail, (uintptr_t)n,
								memory_order_release,
								memory_order_relaxed);
			break;
		}
	}
	lb_smr_exit(S, &q->smr, tc);
	return true;
}

static inline __attribute__((always_inline)) bool
lb_msq_pop(const enum lb_smr_scheme S, void *obj, void *t, uint64_t *item)
{
	struct lb_msq *q = obj;
	struct lb_smr_tctx *tc = t;
	bool got = false;
	lb_smr_enter(S, tc);
	for (;;) {
		uintptr_t head = atomic_load_explicit(&q->head, memory_order_acquire);
		struct lb_msq_node *first = (struct lb_msq_node *)head;
		if (S == LB_SMR_HP) {
			lb_smr_protect(S, tc, 0, first);
			if (atomic_load_explicit(&q->head, memory_order_acquire) != head)
				continue;
		}
		uintptr_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
		uintptr_t next = atomic_load_explicit(&first->next, memory_order_acquire);
		lb_smr_protect(S, tc, 1, (void *)next);
		if (atomic_load_explicit(&q->head, memory_order_acquire) != head)
			continue;
		if (!next)
			break; /* empty */
		if (head == tail) { /* tail lags behind a push: help it on */
			atomic_compare_exchange_strong_explicit(&q->tail, &tail, next,
								memory_order_release,
								memory_order_relaxed);
			continue;
		}
		uint64_t v = ((struct lb_msq_node *)next)->item;
		if (atomic_compare_exchange_strong_explicit(&q->head, &head, next,
							    memory_order_release,
							    memory_order_relaxed)) {
			lb_smr_retire(S, tc, &first->h);
			*item = v;
			got = true;
			break;
		}
	}
	lb_smr_exit(S, &q->smr, tc);
	if (got)
		lbq_give(&q->count);
	return got;
}

static inline uint64_t lb_msq_unreclaimed(void *obj)
{
	return lb_smr_unreclaimed(&((struct lb_msq *)obj)->smr);
}

/* The stalled consumer: it names the head (HP) and calls fn(arg) inside
 * the section. */
static inline void lb_msq_hold(const enum lb_smr_scheme S, void *obj, void *t,
			       void (*fn)(void *), void *arg)
{
	struct lb_msq *q = obj;
	struct lb_smr_tctx *tc = t;
	lb_smr_enter(S, tc);
	for (;;) {
		uintptr_t head = atomic_load_explicit(&q->head, memory_order_acquire);
		lb_smr_protect(S, tc, 0, (void *)head);
		if (atomic_load_explicit(&q->head, memory_order_acquire) == head)
			break;
	}
	fn(arg);
	lb_smr_exit(S, &q->smr, tc);
}

/* One queue kind implementation: sym under scheme S. */
#define LB_MSQ(sym, S)                                                                       \
	static inline int lb_##sym##_init(void *o, const struct lb_prim_cfg *c)              \
	{ return lb_msq_init(S, o, c); }                                                     \
	static inline void lb_##sym##_fini(void *o) { lb_msq_fini(S, o); }                   \
	static inline int lb_##sym##_thread_init(void *o, void *t,                           \
						 const struct lb_thread_info *ti)            \
	{ return lb_smr_thread_init(S, &((struct lb_msq *)o)->smr, t, ti->tid); }            \
	static inline void lb_##sym##_thread_fini(void *o, void *t)                          \
	{ (void)o; lb_smr_thread_fini(S, t); }                                               \
	static inline const char *lb_##sym##_unavailable(void) { return lb_smr_unavailable(S); } \
	static inline bool lb_##sym##_push(void *o, void *t, uint64_t item)                  \
	{ return lb_msq_push(S, o, t, item); }                                               \
	static inline bool lb_##sym##_pop(void *o, void *t, uint64_t *item)                  \
	{ return lb_msq_pop(S, o, t, item); }                                                \
	static inline void lb_##sym##_hold(void *o, void *t, void (*fn)(void *), void *arg)  \
	{ lb_msq_hold(S, o, t, fn, arg); }                                                   \
	static const struct lb_queue_ops lb_##sym##_ops = {                                  \
		.base = { .size = sizeof(struct lb_msq),                                     \
			  .tctx_size = sizeof(struct lb_smr_tctx),                           \
			  .init = lb_##sym##_init, .fini = lb_##sym##_fini,                  \
			  .thread_init = lb_##sym##_thread_init,                             \
			  .thread_fini = lb_##sym##_thread_fini,                             \
			  .unavailable = lb_##sym##_unavailable },                           \
		.push = lb_##sym##_push,                                                     \
		.pop = lb_##sym##_pop,                                                       \
		.capacity = lb_msq_capacity,                                                 \
		.unreclaimed = lb_msq_unreclaimed,                                           \
		.hold = lb_##sym##_hold,                                                     \
	};

#endif
