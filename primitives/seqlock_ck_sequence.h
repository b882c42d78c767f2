/* ck-sequence: Concurrency Kit's ck_sequence, used as CK ships it.  CK's
 * writers must be serialised by the user, so writers here take a
 * ck_spinlock_fas first, on a line of its own (readers poll only the
 * sequence's line). */
#ifndef LB_SEQLOCK_CK_SEQUENCE_H
#define LB_SEQLOCK_CK_SEQUENCE_H

#include <ck_sequence.h>
#include <ck_spinlock.h>

#include "seqlock.h"
#include "tsan.h"

struct lb_ck_sequence {
	_Alignas(LB_CACHELINE) ck_sequence_t seq;
	_Alignas(LB_CACHELINE) ck_spinlock_fas_t writers;
};

static inline int lb_ck_sequence_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_sequence *s = obj;
	(void)cfg;
	ck_sequence_init(&s->seq);
	ck_spinlock_fas_init(&s->writers);
	return 0;
}

static inline unsigned lb_ck_sequence_read_begin(void *obj)
{
	return ck_sequence_read_begin(&((struct lb_ck_sequence *)obj)->seq);
}

static inline bool lb_ck_sequence_read_retry(void *obj, unsigned seq)
{
	return ck_sequence_read_retry(&((struct lb_ck_sequence *)obj)->seq, seq);
}

static inline void lb_ck_sequence_write_lock(void *obj, void *t)
{
	struct lb_ck_sequence *s = obj;
	(void)t;
	ck_spinlock_fas_lock(&s->writers);
	LB_TSAN_ACQUIRE(&s->writers); /* the last writer's unlock (tsan.h) */
	ck_sequence_write_begin(&s->seq);
}

static inline void lb_ck_sequence_write_unlock(void *obj, void *t)
{
	struct lb_ck_sequence *s = obj;
	(void)t;
	ck_sequence_write_end(&s->seq);
	LB_TSAN_RELEASE(&s->writers);
	ck_spinlock_fas_unlock(&s->writers);
}

static const struct lb_seqlock_ops lb_ck_sequence_ops = {
	.base = { .size = sizeof(struct lb_ck_sequence), .init = lb_ck_sequence_init },
	.read_begin = lb_ck_sequence_read_begin,
	.read_retry = lb_ck_sequence_read_retry,
	.write_lock = lb_ck_sequence_write_lock,
	.write_unlock = lb_ck_sequence_write_unlock,
};

#endif
