/* pthread-cond: pthread_mutex_t + pthread_cond_t. */
#ifndef LB_CONDITION_PTHREAD_H
#define LB_CONDITION_PTHREAD_H

#include <pthread.h>

#include "condition.h"

struct lb_pthread_cond {
	pthread_mutex_t m;
	pthread_cond_t c;
};

static inline int lb_pthread_cond_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_pthread_cond *c = obj;
	int ret;
	(void)cfg;
	if ((ret = pthread_mutex_init(&c->m, NULL)) != 0)
		return ret;
	if ((ret = pthread_cond_init(&c->c, NULL)) != 0)
		pthread_mutex_destroy(&c->m);
	return ret;
}

static inline void lb_pthread_cond_fini(void *obj)
{
	struct lb_pthread_cond *c = obj;
	pthread_cond_destroy(&c->c);
	pthread_mutex_destroy(&c->m);
}

static inline void lb_pthread_cond_lock(void *obj, void *t)
{
	(void)t;
	pthread_mutex_lock(&((struct lb_pthread_cond *)obj)->m);
}

static inline void lb_pthread_cond_unlock(void *obj, void *t)
{
	(void)t;
	pthread_mutex_unlock(&((struct lb_pthread_cond *)obj)->m);
}

static inline void lb_pthread_cond_wait(void *obj, void *t)
{
	struct lb_pthread_cond *c = obj;
	(void)t;
	pthread_cond_wait(&c->c, &c->m);
}

static inline void lb_pthread_cond_notify(void *obj)
{
	pthread_cond_signal(&((struct lb_pthread_cond *)obj)->c);
}

static inline void lb_pthread_cond_notify_all(void *obj)
{
	pthread_cond_broadcast(&((struct lb_pthread_cond *)obj)->c);
}

static const struct lb_condition_ops lb_pthread_cond_ops = {
	.base = { .size = sizeof(struct lb_pthread_cond), .init = lb_pthread_cond_init,
		  .fini = lb_pthread_cond_fini },
	.lock = lb_pthread_cond_lock,
	.unlock = lb_pthread_cond_unlock,
	.wait = lb_pthread_cond_wait,
	.notify = lb_pthread_cond_notify,
	.notify_all = lb_pthread_cond_notify_all,
};

#endif
