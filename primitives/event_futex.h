/* futex-event: an event in one futex word.
 *
 * State encoding of the 32-bit word:
 *   bit 0      SET: the event is set
 *   bit 1      SLEEPERS: the event is clear and someone is (or was about
 *              to be) asleep on the word
 *   bits 2-31  generation, advanced by every set() that sets a clear event
 * Transitions:
 *   wait   SET: return.  Else note generation g, CAS in SLEEPERS and sleep
 *          while the word is unchanged; return as soon as SET is seen or
 *          the generation differs from g (a set() happened, even if a
 *          clear() already followed: Python's Event semantics).
 *   set    if SET already, nothing.  Else CAS to (g + 1, SET, no
 *          SLEEPERS); if SLEEPERS was there, wake every sleeper.  A word
 *          without SLEEPERS proves nobody sleeps: no syscall.
 *   clear  SET -> clear, generation kept.
 * Who wakes whom: set wakes all sleepers at once (FUTEX_WAKE INT_MAX);
 * nobody else wakes anyone.  Generations wrap after 2^30 sets, harmless
 * unless a waiter sleeps through exactly 2^30 set/clear pairs.
 */
#ifndef LB_EVENT_FUTEX_H
#define LB_EVENT_FUTEX_H

#include "event.h"
#include "futex.h"

#define LB_EV_SET 1u
#define LB_EV_SLEEPERS 2u
#define LB_EV_FLAGS 3u
#define LB_EV_GEN 4u

struct lb_futex_event {
	_Atomic uint32_t word;
};

static inline int lb_futex_event_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_event *)obj)->word, 0);
	return 0;
}

static inline void lb_futex_event_set(void *obj)
{
	_Atomic uint32_t *w = &((struct lb_futex_event *)obj)->word;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	for (;;) {
		if (v & LB_EV_SET)
			return; /* already set: nothing to publish, nobody asleep */
		uint32_t n = ((v & ~LB_EV_FLAGS) + LB_EV_GEN) | LB_EV_SET;
		/* release: pairs with the waiter's acquire load, so what the
		 * setter wrote before set() is visible after wait(). */
		if (atomic_compare_exchange_weak_explicit(w, &v, n, memory_order_release,
							  memory_order_relaxed))
			break;
	}
	if (v & LB_EV_SLEEPERS)
		lb_futex_wake(w, INT_MAX);
}

static inline void lb_futex_event_clear(void *obj)
{
	_Atomic uint32_t *w = &((struct lb_futex_event *)obj)->word;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	/* relaxed: clearing publishes nothing. */
	while ((v & LB_EV_SET) &&
	       !atomic_compare_exchange_weak_explicit(w, &v, v & ~LB_EV_FLAGS,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

static void lb_futex_event_wait_slow(_Atomic uint32_t *w, uint32_t v)
{
	uint32_t gen = v & ~LB_EV_FLAGS;
	for (;;) {
		if ((v & LB_EV_SET) || (v & ~LB_EV_FLAGS) != gen)
			return;
		if (!(v & LB_EV_SLEEPERS) &&
		    !atomic_compare_exchange_weak_explicit(w, &v, v | LB_EV_SLEEPERS,
							   memory_order_relaxed, memory_order_relaxed))
			continue; /* v reloaded: re-check */
		lb_futex_wait(w, v | LB_EV_SLEEPERS, NULL);
		/* acquire: pairs with set()'s release CAS. */
		v = atomic_load_explicit(w, memory_order_acquire);
	}
}

static inline void lb_futex_event_wait(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_futex_event *)obj)->word;
	/* acquire: pairs with set()'s release CAS. */
	uint32_t v = atomic_load_explicit(w, memory_order_acquire);
	(void)t;
	if (__builtin_expect(v & LB_EV_SET, 1))
		return;
	lb_futex_event_wait_slow(w, v);
}

static inline bool lb_futex_event_is_set(void *obj)
{
	/* acquire: as wait(). */
	return atomic_load_explicit(&((struct lb_futex_event *)obj)->word,
				    memory_order_acquire) & LB_EV_SET;
}

static const struct lb_event_ops lb_futex_event_ops = {
	.base = { .size = sizeof(struct lb_futex_event), .init = lb_futex_event_init },
	.set = lb_futex_event_set,
	.clear = lb_futex_event_clear,
	.wait = lb_futex_event_wait,
	.is_set = lb_futex_event_is_set,
};

#endif
