/* pthread mutexes: glibc's normal mutex, its adaptive (spin a little, then
 * park) variant, and pthread_spinlock_t.  The baseline every other family
 * is measured against. */
#ifndef LB_MUTEX_PTHREAD_H
#define LB_MUTEX_PTHREAD_H

#include <errno.h>
#include <pthread.h>

#include "mutex.h"

static inline int lb_pthread_mutex_init_kind(void *obj, int type)
{
	pthread_mutexattr_t a;
	int ret = pthread_mutexattr_init(&a);
	if (ret)
		return ret;
	ret = pthread_mutexattr_settype(&a, type);
	if (!ret)
		ret = pthread_mutex_init(obj, &a);
	pthread_mutexattr_destroy(&a);
	return ret;
}

static inline int lb_pthread_mutex_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return lb_pthread_mutex_init_kind(obj, PTHREAD_MUTEX_NORMAL);
}

static inline int lb_pthread_adaptive_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return lb_pthread_mutex_init_kind(obj, PTHREAD_MUTEX_ADAPTIVE_NP);
}

static inline void lb_pthread_mutex_fini(void *obj)
{
	pthread_mutex_destroy(obj);
}

/* A normal mutex used correctly cannot fail to lock or unlock; the return
 * values are the error-checking kinds' business. */
static inline void lb_pthread_mutex_lock(void *obj, void *t)
{
	(void)t;
	(void)pthread_mutex_lock(obj);
}

static inline bool lb_pthread_mutex_trylock(void *obj, void *t)
{
	(void)t;
	return pthread_mutex_trylock(obj) == 0;
}

static inline void lb_pthread_mutex_unlock(void *obj, void *t)
{
	(void)t;
	(void)pthread_mutex_unlock(obj);
}

static const struct lb_mutex_ops lb_pthread_mutex_ops = {
	.base = { .size = sizeof(pthread_mutex_t), .init = lb_pthread_mutex_init,
		  .fini = lb_pthread_mutex_fini },
	.lock = lb_pthread_mutex_lock,
	.trylock = lb_pthread_mutex_trylock,
	.unlock = lb_pthread_mutex_unlock,
};

static const struct lb_mutex_ops lb_pthread_adaptive_ops = {
	.base = { .size = sizeof(pthread_mutex_t), .init = lb_pthread_adaptive_init,
		  .fini = lb_pthread_mutex_fini },
	.lock = lb_pthread_mutex_lock,
	.trylock = lb_pthread_mutex_trylock,
	.unlock = lb_pthread_mutex_unlock,
};

static inline int lb_pthread_spin_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return pthread_spin_init(obj, PTHREAD_PROCESS_PRIVATE);
}

static inline void lb_pthread_spin_fini(void *obj)
{
	pthread_spin_destroy(obj);
}

static inline void lb_pthread_spin_lock(void *obj, void *t)
{
	(void)t;
	(void)pthread_spin_lock(obj);
}

static inline bool lb_pthread_spin_trylock(void *obj, void *t)
{
	(void)t;
	return pthread_spin_trylock(obj) == 0;
}

static inline void lb_pthread_spin_unlock(void *obj, void *t)
{
	(void)t;
	(void)pthread_spin_unlock(obj);
}

static const struct lb_mutex_ops lb_pthread_spin_ops = {
	.base = { .size = sizeof(pthread_spinlock_t), .init = lb_pthread_spin_init,
		  .fini = lb_pthread_spin_fini },
	.lock = lb_pthread_spin_lock,
	.trylock = lb_pthread_spin_trylock,
	.unlock = lb_pthread_spin_unlock,
};

#endif
