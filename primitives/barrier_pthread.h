/* pthread-barrier: pthread_barrier_t for cfg->nthreads threads. */
#ifndef LB_BARRIER_PTHREAD_H
#define LB_BARRIER_PTHREAD_H

#include <pthread.h>

#include "barrier.h"

static inline int lb_pthread_barrier_init(void *obj, const struct lb_prim_cfg *cfg)
{
	return pthread_barrier_init(obj, NULL, cfg->nthreads ? cfg->nthreads : 1);
}

static inline void lb_pthread_barrier_fini(void *obj)
{
	pthread_barrier_destroy(obj);
}

static inline void lb_pthread_barrier_wait(void *obj, void *t)
{
	(void)t;
	(void)pthread_barrier_wait(obj);
}

static const struct lb_barrier_ops lb_pthread_barrier_ops = {
	.base = { .size = sizeof(pthread_barrier_t), .init = lb_pthread_barrier_init,
		  .fini = lb_pthread_barrier_fini },
	.wait = lb_pthread_barrier_wait,
};

#endif
