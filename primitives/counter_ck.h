/* ck-faa: Concurrency Kit's ck_pr_faa_64 on one shared word.  Same
 * instruction as atomic-faa on x86; here to show CK's ck_pr layer costs
 * nothing over C11. */
#ifndef LB_COUNTER_CK_H
#define LB_COUNTER_CK_H

#include <ck_pr.h>

#include "counter.h"

struct lb_ck_counter {
	uint64_t v;
};

static inline int lb_ck_faa_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	ck_pr_store_64(&((struct lb_ck_counter *)obj)->v, 0);
	return 0;
}

static inline void lb_ck_faa_add(void *obj, void *t)
{
	(void)t;
	ck_pr_faa_64(&((struct lb_ck_counter *)obj)->v, 1);
}

static inline uint64_t lb_ck_faa_total(void *obj)
{
	return ck_pr_load_64(&((struct lb_ck_counter *)obj)->v);
}

static const struct lb_counter_ops lb_ck_faa_ops = {
	.base = { .size = sizeof(struct lb_ck_counter), .init = lb_ck_faa_init },
	.add = lb_ck_faa_add,
	.total = lb_ck_faa_total,
};

#endif
