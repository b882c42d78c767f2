/* futex-rwlock: a writer-preferring reader-writer lock in one futex word.
 *
 * State encoding of the 32-bit word:
 *   bits 0-28  number of readers holding the lock
 *   bit 29     SLEEPERS: someone is (or is about to be) asleep on the word
 *   bit 30     WRITER: a writer holds it
 *   bit 31     WWAIT: a writer is waiting; new readers hold back
 * Transitions:
 *   read_lock     while neither WRITER nor WWAIT: CAS readers + 1.  Else
 *                 set SLEEPERS and sleep while the word is unchanged.
 *   read_unlock   CAS readers - 1; the last reader out also clears SLEEPERS
 *                 and, if it was set, wakes all sleepers.
 *   write_lock    when no readers and no WRITER: CAS to WRITER, keeping
 *                 SLEEPERS (they are woken at our release) and clearing
 *                 WWAIT (other waiting writers set it again when they
 *                 retry).  Else set WWAIT and SLEEPERS, sleep while
 *                 unchanged.
 *   write_unlock  swap in 0; if SLEEPERS was set, wake all sleepers.
 * Who wakes whom: the last reader out and every writer on release wake all
 * sleepers, who race again (a thundering herd: simple, and correct).  A
 * releaser learns whether anyone sleeps from the same RMW that releases, so
 * it never touches the word afterwards (glibc's rule: the next owner may
 * free it); it only passes its address to FUTEX_WAKE.
 * Writer preference: readers cannot starve writers; a steady stream of
 * writers can starve readers.
 *
 * Orders checked.  Every write to the word is an RMW (CAS or swap), so
 * each release heads a release sequence through every later write:
 *   read_lock     returns only on its CAS readers + 1, acquire: pairs with
 *                 the last write_unlock's release swap.  The sleep helper's
 *                 loads and announcing CAS are relaxed and never end
 *                 read_lock: the loop retries the acquiring CAS.
 *   write_lock    returns only on its CAS to WRITER, acquire: pairs with
 *                 the previous write_unlock and with every read_unlock's
 *                 release CAS since (one release sequence).  Likewise never
 *                 on the sleep helper's relaxed values.
 *   read_unlock   CAS readers - 1, release: the reader's loads happen
 *                 before the next writer's stores.
 *   write_unlock  swap to 0, release, the last access to the word.
 */
#ifndef LB_RWLOCK_FUTEX_H
#define LB_RWLOCK_FUTEX_H

#include "futex.h"
#include "rwlock.h"

#define LB_RW_READERS 0x1fffffffu
#define LB_RW_SLEEPERS 0x20000000u
#define LB_RW_WRITER 0x40000000u
#define LB_RW_WWAIT 0x80000000u

struct lb_futex_rwlock {
	_Atomic uint32_t word;
};

static inline int lb_futex_rwlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init(&((struct lb_futex_rwlock *)obj)->word, 0);
	return 0;
}

/* Announce a sleeper (plus extra bits, WWAIT for writers) on top of v and
 * sleep while the word stays so.  Returns the word to retry with. */
static uint32_t lb_futex_rwlock_sleep(_Atomic uint32_t *w, uint32_t v, uint32_t extra)
{
	uint32_t want = v | LB_RW_SLEEPERS | extra;
	/* relaxed: the flags only announce; FUTEX_WAIT re-reads the word under
	 * the kernel's lock, and the retry's CAS does the acquiring. */
	if (want != v && !atomic_compare_exchange_strong_explicit(w, &v, want,
			memory_order_relaxed, memory_order_relaxed))
		return v; /* changed under us: retry with the new value */
	lb_futex_wait(w, want, NULL);
	return atomic_load_explicit(w, memory_order_relaxed);
}

static inline void lb_futex_rwlock_rdlock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_futex_rwlock *)obj)->word;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	(void)t;
	for (;;) {
		if (v & (LB_RW_WRITER | LB_RW_WWAIT)) {
			v = lb_futex_rwlock_sleep(w, v, 0);
			continue;
		}
		/* acquire: pairs with write_unlock's release swap. */
		if (atomic_compare_exchange_weak_explicit(w, &v, v + 1,
				memory_order_acquire, memory_order_relaxed))
			return;
	}
}

static inline void lb_futex_rwlock_rdunlock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_futex_rwlock *)obj)->word;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed), n;
	(void)t;
	do {
		n = v - 1;
		if ((n & LB_RW_READERS) == 0)
			n &= ~LB_RW_SLEEPERS;
		/* release: our reads happen-before the next writer's writes
		 * (pairs with its acquire CAS). */
	} while (!atomic_compare_exchange_weak_explicit(w, &v, n, memory_order_release,
							memory_order_relaxed));
	if ((n & LB_RW_READERS) == 0 && (v & LB_RW_SLEEPERS))
		lb_futex_wake(w, INT_MAX);
}

static inline void lb_futex_rwlock_wrlock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_futex_rwlock *)obj)->word;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	(void)t;
	for (;;) {
		if (v & (LB_RW_READERS | LB_RW_WRITER)) {
			v = lb_futex_rwlock_sleep(w, v, LB_RW_WWAIT);
			continue;
		}
		/* acquire: pairs with the last holder's release. */
		if (atomic_compare_exchange_weak_explicit(w, &v,
				LB_RW_WRITER | (v & LB_RW_SLEEPERS),
				memory_order_acquire, memory_order_relaxed))
			return;
	}
}

static inline void lb_futex_rwlock_wrunlock(void *obj, void *t)
{
	_Atomic uint32_t *w = &((struct lb_futex_rwlock *)obj)->word;
	(void)t;
	/* release: pairs with the next holder's acquire CAS.  The word is not
	 * ours after this swap: only its address is used below. */
	if (atomic_exchange_explicit(w, 0, memory_order_release) & LB_RW_SLEEPERS)
		lb_futex_wake(w, INT_MAX);
}

static const struct lb_rwlock_ops lb_futex_rwlock_ops = {
	.base = { .size = sizeof(struct lb_futex_rwlock), .init = lb_futex_rwlock_init },
	.read_lock = lb_futex_rwlock_rdlock,
	.read_unlock = lb_futex_rwlock_rdunlock,
	.write_lock = lb_futex_rwlock_wrlock,
	.write_unlock = lb_futex_rwlock_wrunlock,
};

#endif
