/* pthread-sem: POSIX sem_t (glibc: a futex word of value + waiter count). */
#ifndef LB_SEMAPHORE_PTHREAD_H
#define LB_SEMAPHORE_PTHREAD_H

#include <errno.h>
#include <semaphore.h>

#include "semaphore_ops.h"

static inline int lb_pthread_sem_init(void *obj, const struct lb_prim_cfg *cfg)
{
	return sem_init(obj, 0, cfg->permits) == 0 ? 0 : errno;
}

static inline void lb_pthread_sem_fini(void *obj)
{
	sem_destroy(obj);
}

static inline void lb_pthread_sem_acquire(void *obj, void *t)
{
	(void)t;
	while (sem_wait(obj) != 0 && errno == EINTR)
		;
}

static inline bool lb_pthread_sem_try(void *obj, void *t)
{
	(void)t;
	return sem_trywait(obj) == 0;
}

static inline void lb_pthread_sem_release(void *obj, void *t)
{
	(void)t;
	sem_post(obj);
}

static const struct lb_semaphore_ops lb_pthread_sem_ops = {
	.base = { .size = sizeof(sem_t), .init = lb_pthread_sem_init, .fini = lb_pthread_sem_fini },
	.acquire = lb_pthread_sem_acquire,
	.try_acquire = lb_pthread_sem_try,
	.release = lb_pthread_sem_release,
};

#endif
