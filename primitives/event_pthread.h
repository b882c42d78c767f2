/* pthread-event: the textbook event: a flag under a mutex, a condition
 * variable broadcast on set.  A generation counter, advanced by every
 * set, lets a waiter return once a set happened even if a clear() came
 * before it could run (the flag alone would send it back to sleep). */
#ifndef LB_EVENT_PTHREAD_H
#define LB_EVENT_PTHREAD_H

#include <pthread.h>
#include <stdint.h>

#include "event.h"

struct lb_pthread_event {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool flag;
	uint64_t gen;
};

static inline int lb_pthread_event_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_pthread_event *e = obj;
	int ret;
	(void)cfg;
	if ((ret = pthread_mutex_init(&e->m, NULL)) != 0)
		return ret;
	if ((ret = pthread_cond_init(&e->c, NULL)) != 0) {
		pthread_mutex_destroy(&e->m);
		return ret;
	}
	e->flag = false;
	e->gen = 0;
	return 0;
}

static inline void lb_pthread_event_fini(void *obj)
{
	struct lb_pthread_event *e = obj;
	pthread_cond_destroy(&e->c);
	pthread_mutex_destroy(&e->m);
}

static inline void lb_pthread_event_set(void *obj)
{
	struct lb_pthread_event *e = obj;
	pthread_mutex_lock(&e->m);
	e->flag = true;
	e->gen++;
	pthread_cond_broadcast(&e->c);
	pthread_mutex_unlock(&e->m);
}

static inline void lb_pthread_event_clear(void *obj)
{
	struct lb_pthread_event *e = obj;
	pthread_mutex_lock(&e->m);
	e->flag = false;
	pthread_mutex_unlock(&e->m);
}

static inline void lb_pthread_event_wait(void *obj, void *t)
{
	struct lb_pthread_event *e = obj;
	(void)t;
	pthread_mutex_lock(&e->m);
	uint64_t g = e->gen;
	while (!e->flag && e->gen == g)
		pthread_cond_wait(&e->c, &e->m);
	pthread_mutex_unlock(&e->m);
}

static inline bool lb_pthread_event_is_set(void *obj)
{
	struct lb_pthread_event *e = obj;
	pthread_mutex_lock(&e->m);
	bool f = e->flag;
	pthread_mutex_unlock(&e->m);
	return f;
}

static const struct lb_event_ops lb_pthread_event_ops = {
	.base = { .size = sizeof(struct lb_pthread_event), .init = lb_pthread_event_init,
		  .fini = lb_pthread_event_fini },
	.set = lb_pthread_event_set,
	.clear = lb_pthread_event_clear,
	.wait = lb_pthread_event_wait,
	.is_set = lb_pthread_event_is_set,
};

#endif
