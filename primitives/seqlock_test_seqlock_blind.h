/* test-seqlock-blind: BROKEN on purpose, the negative control of the
 * seqlock kind's torn-read check: writers are futex-seqlock's, but readers
 * neither wait for a writer nor ever retry, so a read that a write
 * overlapped is accepted torn.  Hidden: never in a sweep; the tests name
 * it to prove that readmostly and the kind test catch it. */
#ifndef LB_SEQLOCK_TEST_SEQLOCK_BLIND_H
#define LB_SEQLOCK_TEST_SEQLOCK_BLIND_H

#include "seqlock_futex_seqlock.h"

static inline unsigned lb_test_seqlock_blind_read_begin(void *obj)
{
	(void)obj;
	return 0;
}

static inline bool lb_test_seqlock_blind_read_retry(void *obj, unsigned seq)
{
	(void)obj, (void)seq;
	return false;
}

static const struct lb_seqlock_ops lb_test_seqlock_blind_ops = {
	.base = { .size = sizeof(_Atomic uint32_t), .init = lb_futex_seqlock_init },
	.read_begin = lb_test_seqlock_blind_read_begin,
	.read_retry = lb_test_seqlock_blind_read_retry,
	.write_lock = lb_futex_seqlock_write_lock,
	.write_unlock = lb_futex_seqlock_write_unlock,
};

#endif
