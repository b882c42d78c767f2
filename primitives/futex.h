/* Raw futex(2) calls, one documented static inline per operation (after
 * perf's futex.h).  All calls here use FUTEX_PRIVATE_FLAG: our words never
 * live in shared memory between processes, and the private hash is cheaper.
 *
 * futex_wait(uaddr, val): sleep while *uaddr == val.  The kernel rereads the
 *   word under its hash-bucket lock, so a wake between our load and the
 *   syscall is never lost: the call just returns EAGAIN.  Returns 0 after a
 *   wake, or -1 with errno EAGAIN (value changed), EINTR (signal) or
 *   ETIMEDOUT.  Spurious returns are allowed: callers always recheck.
 * futex_wake(uaddr, n): wake up to n sleepers on uaddr; returns how many.
 * futex_cmp_requeue: below.
 *   Waking a word that has since been freed is harmless to the kernel (it
 *   only hashes the address), which is why unlock may wake after its
 *   releasing store but must never read or write the word then.
 *
 * A return from lb_futex_wait() orders nothing and proves nothing (it may
 * be spurious): every algorithm rereads its word with an acquire load or
 * an acquire RMW before it returns to its caller.  Each futex header's
 * "Orders checked" block names that load for every return path.
 */
#ifndef LB_FUTEX_H
#define LB_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "prim.h"

static inline long lb_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
				 const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)uaddr,
		       FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, timeout, NULL, 0);
}

static inline long lb_futex_wake(_Atomic uint32_t *uaddr, int n)
{
	return syscall(SYS_futex, (uint32_t *)uaddr,
		       FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

/* futex_cmp_requeue(uaddr, val, nwake, nrequeue, uaddr2): if *uaddr ==
 * val (checked under the kernel's hash-bucket locks), wake up to nwake
 * sleepers on uaddr and move up to nrequeue of the others onto uaddr2's
 * queue, where a FUTEX_WAKE of uaddr2 wakes them; they return from their
 * FUTEX_WAIT then, as if woken on uaddr.  Returns how many were woken or
 * moved, or -1 with errno EAGAIN (*uaddr != val). */
static inline long lb_futex_cmp_requeue(_Atomic uint32_t *uaddr, uint32_t val, int nwake,
					int nrequeue, _Atomic uint32_t *uaddr2)
{
	/* the kernel takes nrequeue from the timeout argument's place */
	return syscall(SYS_futex, (uint32_t *)uaddr, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG,
		       nwake, (unsigned long)nrequeue, (uint32_t *)uaddr2, val);
}

/* CLOCK_MONOTONIC in ns: for the algorithms that switch policy after a
 * waiter has waited some time (futex-starvation, the parking lot's fair
 * hand-off).  Only on slow paths: it costs a vDSO call. */
static inline uint64_t lb_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


#endif
