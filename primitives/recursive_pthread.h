/* pthread-recursive: PTHREAD_MUTEX_RECURSIVE.  glibc keeps the owner and a
 * count, and its unlock returns EPERM to a thread that does not own it. */
#ifndef LB_RECURSIVE_PTHREAD_H
#define LB_RECURSIVE_PTHREAD_H

#include <pthread.h>

#include "mutex_pthread.h"
#include "recursive.h"

static inline int lb_pthread_recursive_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return lb_pthread_mutex_init_kind(obj, PTHREAD_MUTEX_RECURSIVE);
}

static inline int lb_pthread_recursive_unlock(void *obj, void *t)
{
	(void)t;
	return pthread_mutex_unlock(obj);
}

static const struct lb_recursive_ops lb_pthread_recursive_ops = {
	.base = { .size = sizeof(pthread_mutex_t), .init = lb_pthread_recursive_init,
		  .fini = lb_pthread_mutex_fini },
	.lock = lb_pthread_mutex_lock,
	.trylock = lb_pthread_mutex_trylock,
	.unlock = lb_pthread_recursive_unlock,
};

#endif
