/* ck-event: a flag (ck_pr) plus a ck_ec64 generation to sleep on.
 *   set    flag = 1 (release), then ck_ec64_inc(gen): wakes all sleepers.
 *   clear  flag = 0.
 *   wait   g = gen; if flag is set return; ck_ec64_wait(gen, g) (spins a
 *          little, then a futex sleep, ck_ec_futex.h); return once gen
 *          moved, even if a clear already followed the set.
 * The flag is re-read after reading g, so a set between the two is seen:
 * either as the flag, or as gen != g making the wait return at once. */
#ifndef LB_EVENT_CK_H
#define LB_EVENT_CK_H

#include <ck_pr.h>

#include "ck_ec_futex.h"
#include "event.h"

struct lb_ck_event {
	unsigned flag;
	struct ck_ec64 gen;
};

static inline int lb_ck_event_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_event *e = obj;
	(void)cfg;
	ck_pr_store_uint(&e->flag, 0);
	ck_ec64_init(&e->gen, 0);
	return 0;
}

static inline void lb_ck_event_set(void *obj)
{
	struct lb_ck_event *e = obj;
	ck_pr_fence_store(); /* release: the setter's writes before the flag */
	ck_pr_store_uint(&e->flag, 1);
	ck_ec64_inc(&e->gen, &lb_ck_ec_mode);
}

static inline void lb_ck_event_clear(void *obj)
{
	ck_pr_store_uint(&((struct lb_ck_event *)obj)->flag, 0);
}

static inline void lb_ck_event_wait(void *obj, void *t)
{
	struct lb_ck_event *e = obj;
	(void)t;
	uint64_t g = ck_ec64_value(&e->gen);
	ck_pr_fence_load(); /* read gen before the flag */
	if (ck_pr_load_uint(&e->flag)) {
		ck_pr_fence_acquire();
		return;
	}
	ck_ec64_wait(&e->gen, &lb_ck_ec_mode, g, NULL);
	ck_pr_fence_acquire(); /* pairs with set's store fence */
}

static inline bool lb_ck_event_is_set(void *obj)
{
	bool r = ck_pr_load_uint(&((struct lb_ck_event *)obj)->flag);
	ck_pr_fence_acquire();
	return r;
}

static const struct lb_event_ops lb_ck_event_ops = {
	.base = { .size = sizeof(struct lb_ck_event), .init = lb_ck_event_init },
	.set = lb_ck_event_set,
	.clear = lb_ck_event_clear,
	.wait = lb_ck_event_wait,
	.is_set = lb_ck_event_is_set,
};

#endif
