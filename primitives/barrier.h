/* The barrier kind: lb_prim_cfg.nthreads threads meet at wait(); none
 * returns from phase k until all have called wait() for phase k.  Reusable
 * for any number of phases.  Every participating thread must attach. */
#ifndef LB_BARRIER_H
#define LB_BARRIER_H

#include "prim.h"

struct lb_barrier_ops {
	struct lb_prim_ops base;
	void (*wait)(void *obj, void *tctx);
};

#endif
