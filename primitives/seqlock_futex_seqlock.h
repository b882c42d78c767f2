/* futex-seqlock: a seqlock whose writers sleep on a futex when another
 * writer is inside, instead of spinning; our code.  One 32-bit word is the
 * sequence, the writers' lock and the futex.
 *
 * State encoding (the word):
 *   bit 0        WRITER: a writer is inside (the sequence is "odd")
 *   bit 1        SLEEPERS: a writer sleeps, or may, on the word
 *   bits 2-31    the generation: +1 per completed write
 * Readers see the word without SLEEPERS: a reader's snapshot is the
 * generation with WRITER clear; it must be read again if the word (less
 * SLEEPERS) changed by the time the reads are done.
 *
 * Transitions:
 *   write_lock    CAS clear WRITER -> set (keeping SLEEPERS and the
 *                 generation): ours.  Else CAS SLEEPERS on and FUTEX_WAIT
 *                 while the word is exactly what we set; after any wake a
 *                 writer takes the word with SLEEPERS set (Drepper's "2":
 *                 other sleepers may remain), so nobody is left asleep.
 *   write_unlock  swap in (generation + 1), WRITER and SLEEPERS clear; if
 *                 SLEEPERS was set, FUTEX_WAKE one writer.
 *   read_begin    load (acquire) until WRITER is clear (readers spin: a
 *                 write is short and readers never sleep in a seqlock).
 *   read_retry    acquire fence, load, compare less SLEEPERS.
 *
 * Orders checked (seqlock.h for the readers' side).  write_lock returns
 * only from a successful CAS with acquire, which pairs with the release
 * swap of the previous writer's unlock: the writers' critical sections
 * are ordered.  After setting WRITER, a release fence keeps the data
 * stores after it for any reader that reads them (a reader whose acquire
 * fence follows a load of new data then loads WRITER or a new generation).
 * The unlock's release swap orders the data stores before the new
 * generation, paired with read_begin's acquire load.
 */
#ifndef LB_SEQLOCK_FUTEX_SEQLOCK_H
#define LB_SEQLOCK_FUTEX_SEQLOCK_H

#include "futex.h"
#include "seqlock.h"
#include "tsan.h"

/* The seqlock's two fences.  ThreadSanitizer does not model C11 fences
 * (GCC refuses them under -fsanitize=thread, -Werror=tsan); on x86-64 an
 * acquire or a release fence compiles to no instruction at all (TSO), only
 * a compiler barrier, so that is what a TSan build gets there.  TSan has
 * nothing to check across them anyway: the data a seqlock guards are
 * atomics. */
#if LB_TSAN && defined(__x86_64__)
#define LB_SQ_FENCE_ACQUIRE() __asm__ __volatile__("" ::: "memory")
#define LB_SQ_FENCE_RELEASE() __asm__ __volatile__("" ::: "memory")
#else
#define LB_SQ_FENCE_ACQUIRE() atomic_thread_fence(memory_order_acquire)
#define LB_SQ_FENCE_RELEASE() atomic_thread_fence(memory_order_release)
#endif

#define LB_SQ_WRITER 1u
#define LB_SQ_SLEEPERS 2u
#define LB_SQ_GEN 4u

static inline int lb_futex_seqlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	atomic_init((_Atomic uint32_t *)obj, 0);
	return 0;
}

static inline unsigned lb_futex_seqlock_read_begin(void *obj)
{
	_Atomic uint32_t *w = obj;
	uint32_t v;
	/* acquire pairs with write_unlock's release swap */
	while ((v = atomic_load_explicit(w, memory_order_acquire)) & LB_SQ_WRITER)
		lb_cpu_relax();
	return v & ~LB_SQ_SLEEPERS;
}

static inline bool lb_futex_seqlock_read_retry(void *obj, unsigned seq)
{
	/* the data loads before this fence, the word's load after it: pairs
	 * with write_lock's release fence (seqlock.h) */
	LB_SQ_FENCE_ACQUIRE();
	return (atomic_load_explicit((_Atomic uint32_t *)obj, memory_order_relaxed) &
		~LB_SQ_SLEEPERS) != seq;
}

static void lb_futex_seqlock_write_wait(_Atomic uint32_t *w, uint32_t v)
{
	for (;;) {
		if (!(v & LB_SQ_WRITER)) {
			/* after sleeping, keep SLEEPERS: others may sleep too */
			if (atomic_compare_exchange_weak_explicit(
				    w, &v, v | LB_SQ_WRITER | LB_SQ_SLEEPERS, memory_order_acquire,
				    memory_order_relaxed))
				return; /* acquire pairs with the unlock's release swap */
			continue;
		}
		if (!(v & LB_SQ_SLEEPERS) &&
		    !atomic_compare_exchange_weak_explicit(w, &v, v | LB_SQ_SLEEPERS,
							   memory_order_relaxed, memory_order_relaxed))
			continue;
		lb_futex_wait(w, v | LB_SQ_SLEEPERS, NULL);
		v = atomic_load_explicit(w, memory_order_relaxed);
	}
}

static inline void lb_futex_seqlock_write_lock(void *obj, void *t)
{
	_Atomic uint32_t *w = obj;
	(void)t;
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	/* acquire pairs with the previous writer's release swap */
	if (__builtin_expect(v & LB_SQ_WRITER, 0) ||
	    !atomic_compare_exchange_strong_explicit(w, &v, v | LB_SQ_WRITER, memory_order_acquire,
						     memory_order_relaxed))
		lb_futex_seqlock_write_wait(w, v);
	/* the data stores that follow stay after WRITER for readers (seqlock.h) */
	LB_SQ_FENCE_RELEASE();
}

static inline void lb_futex_seqlock_write_unlock(void *obj, void *t)
{
	_Atomic uint32_t *w = obj;
	(void)t;
	/* only the writer changes the word now, except a sleeper setting
	 * SLEEPERS: the swap keeps that bit's news */
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
	uint32_t next = ((v & ~(LB_SQ_WRITER | LB_SQ_SLEEPERS)) + LB_SQ_GEN);
	/* release pairs with read_begin's and write_lock's acquire */
	uint32_t old = atomic_exchange_explicit(w, next, memory_order_release);
	if (old & LB_SQ_SLEEPERS)
		lb_futex_wake(w, 1);
}

static const struct lb_seqlock_ops lb_futex_seqlock_ops = {
	.base = { .size = sizeof(_Atomic uint32_t), .init = lb_futex_seqlock_init },
	.read_begin = lb_futex_seqlock_read_begin,
	.read_retry = lb_futex_seqlock_read_retry,
	.write_lock = lb_futex_seqlock_write_lock,
	.write_unlock = lb_futex_seqlock_write_unlock,
};

#endif
