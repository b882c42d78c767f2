/* The ck_ec_ops that CK's event counts need to sleep: futex(2) on the
 * counter word (the low half of a 64-bit counter on little-endian x86,
 * which ck_ec documents as sufficient), CLOCK_MONOTONIC for deadlines.
 * Shared by ck-sem, ck-event and ck-cond.
 *
 * Orders checked.  These ops have no atomics of their own and order
 * nothing: a return from the futex sleep is only a hint, ck_ec rereads the
 * counter.  ck_ec documents ck_ec_value and ck_ec_wait as read (acquire)
 * barriers and ck_ec_inc as a write barrier; on top of that, its users:
 *   ck-event  wait returns after ck_ec64_value (or ck_ec64_wait) and then a
 *             ck_pr_fence_acquire on every path; set puts a
 *             ck_pr_fence_release before its increment.
 *   ck-sem    acquire returns only after ck_ec64_value of released
 *             (acquire) and a successful ck_pr CAS on taken followed by
 *             ck_pr_fence_lock; release puts ck_pr_fence_unlock before its
 *             increment.
 *   ck-cond   wait returns only through ck_spinlock_fas_lock (acquire).
 */
#ifndef LB_CK_EC_FUTEX_H
#define LB_CK_EC_FUTEX_H

#include <ck_ec.h>

#include "futex.h"

static inline int lb_ck_ec_gettime(const struct ck_ec_ops *ops, struct timespec *out)
{
	(void)ops;
	return clock_gettime(CLOCK_MONOTONIC, out);
}

/* FUTEX_WAIT takes a relative timeout; ck_ec passes an absolute deadline. */
static inline void lb_ck_ec_wait32(const struct ck_ec_wait_state *st, const uint32_t *addr,
				   uint32_t expected, const struct timespec *deadline)
{
	struct timespec rel, now, *tp = NULL;
	(void)st;
	if (deadline) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		rel.tv_sec = deadline->tv_sec - now.tv_sec;
		rel.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (rel.tv_nsec < 0) {
			rel.tv_sec--;
			rel.tv_nsec += 1000000000L;
		}
		if (rel.tv_sec < 0)
			return;
		tp = &rel;
	}
	lb_futex_wait((_Atomic uint32_t *)addr, expected, tp);
}

static inline void lb_ck_ec_wait64(const struct ck_ec_wait_state *st, const uint64_t *addr,
				   uint64_t expected, const struct timespec *deadline)
{
	lb_ck_ec_wait32(st, (const uint32_t *)addr, (uint32_t)expected, deadline);
}

static inline void lb_ck_ec_wake32(const struct ck_ec_ops *ops, const uint32_t *addr)
{
	(void)ops;
	lb_futex_wake((_Atomic uint32_t *)addr, INT_MAX);
}

static inline void lb_ck_ec_wake64(const struct ck_ec_ops *ops, const uint64_t *addr)
{
	lb_ck_ec_wake32(ops, (const uint32_t *)addr);
}

static const struct ck_ec_ops lb_ck_ec_ops = {
	.gettime = lb_ck_ec_gettime,
	.wait32 = lb_ck_ec_wait32,
	.wait64 = lb_ck_ec_wait64,
	.wake32 = lb_ck_ec_wake32,
	.wake64 = lb_ck_ec_wake64,
};

static const struct ck_ec_mode lb_ck_ec_mode = {
	.ops = &lb_ck_ec_ops,
	.single_producer = false,
};

#endif
