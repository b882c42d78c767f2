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
 * nobody else wakes anyone.  This is not the herd that wait morphing
 * (FUTEX_CMP_REQUEUE, futex-cond's notify_all) avoids: an event has no
 * mutex for its waiters to requeue onto, and each woken waiter returns
 * holding nothing, so none of them wakes only to block again.  The one
 * syscall wakes them all; what is left is the kernel's cost per woken
 * thread, which pthread-event pays too, and more: its condvar broadcast
 * wakes every waiter to take its mutex in turn (glibc does not requeue).
 * Generations wrap after 2^30 sets, harmless
 * unless a waiter sleeps through exactly 2^30 set/clear pairs.
 *
 * Orders checked (every write to the word is an RMW, so the release
 * sequence headed by a set()'s CAS runs through every later clear, set and
 * SLEEPERS CAS: a waiter that reads any value written after a set()
 * synchronizes with that set()):
 *   set      the CAS that sets SET is release: what the setter wrote before
 *            set() is visible to whoever returns from wait() on it.  A set()
 *            that finds SET already there writes nothing and publishes
 *            nothing of its own (waiters return on the earlier set()).
 *   clear    relaxed CAS: publishes nothing, but stays in the release
 *            sequence, so a waiter that only sees "generation moved, SET
 *            gone" still synchronizes with the set() it missed.
 *   wait     returns on a value read (a) by the fast path's acquire load,
 *            (b) by the SLEEPERS CAS, success and failure both acquire
 *            (a failed CAS reloads the word, and the loop may return on
 *            that value: before this was audited the failure order was
 *            relaxed, a missing acquire on ARM and POWER), or (c) by the
 *            acquire load after FUTEX_WAIT.  No other return path.
 *   is_set   acquire load, as wait's fast path.
 * A return from FUTEX_WAIT itself orders nothing (futex.h): the reload
 * after it does.
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
		/* acquire, on failure too: a failed CAS reloads v and the loop
		 * may return on it (a set() got in first), so that reload must
		 * pair with set()'s release CAS like every other return path.
		 * On success we only sleep and reload, but C11 forbids a
		 * failure order stronger than the success order. */
		if (!(v & LB_EV_SLEEPERS) &&
		    !atomic_compare_exchange_weak_explicit(w, &v, v | LB_EV_SLEEPERS,
							   memory_order_acquire, memory_order_acquire))
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
