/* A 64-bit word whose low half is a futex word: for futex algorithms that
 * keep a value and a sleeper count together, so that one atomic RMW both
 * changes the value and tells whether anyone sleeps (no Dekker pattern
 * across two words, and nothing to touch after the releasing RMW).
 * FUTEX_WAIT/WAKE act on the low 32 bits, which on a little-endian machine
 * are the first four bytes (glibc's new semaphore uses the same layout). */
#ifndef LB_FUTEX64_H
#define LB_FUTEX64_H

#include "futex.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "futex64.h assumes a little-endian machine"
#endif

#define LB_F64_LOW 0xffffffffull
#define LB_F64_HIGH1 (1ull << 32)

static inline _Atomic uint32_t *lb_f64_low(_Atomic uint64_t *w)
{
	return (_Atomic uint32_t *)(void *)w;
}

#endif
