/* pthread-rwlock (glibc's default kind, PTHREAD_RWLOCK_PREFER_READER_NP:
 * readers may starve writers) and pthread-rwlock-wpref (writers first:
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP). */
#ifndef LB_RWLOCK_PTHREAD_H
#define LB_RWLOCK_PTHREAD_H

#include <pthread.h>

#include "rwlock.h"

static inline int lb_pthread_rwlock_init_kind(void *obj, int kind)
{
	pthread_rwlockattr_t a;
	int ret = pthread_rwlockattr_init(&a);
	if (ret)
		return ret;
	ret = pthread_rwlockattr_setkind_np(&a, kind);
	if (!ret)
		ret = pthread_rwlock_init(obj, &a);
	pthread_rwlockattr_destroy(&a);
	return ret;
}

static inline int lb_pthread_rwlock_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return lb_pthread_rwlock_init_kind(obj, PTHREAD_RWLOCK_PREFER_READER_NP);
}

static inline int lb_pthread_rwlock_wpref_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	return lb_pthread_rwlock_init_kind(obj, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
}

static inline void lb_pthread_rwlock_fini(void *obj)
{
	pthread_rwlock_destroy(obj);
}

static inline void lb_pthread_rwlock_rdlock(void *obj, void *t)
{
	(void)t;
	(void)pthread_rwlock_rdlock(obj);
}

static inline void lb_pthread_rwlock_wrlock(void *obj, void *t)
{
	(void)t;
	(void)pthread_rwlock_wrlock(obj);
}

static inline void lb_pthread_rwlock_unlock(void *obj, void *t)
{
	(void)t;
	(void)pthread_rwlock_unlock(obj);
}

static const struct lb_rwlock_ops lb_pthread_rwlock_ops = {
	.base = { .size = sizeof(pthread_rwlock_t), .init = lb_pthread_rwlock_init,
		  .fini = lb_pthread_rwlock_fini },
	.read_lock = lb_pthread_rwlock_rdlock,
	.read_unlock = lb_pthread_rwlock_unlock,
	.write_lock = lb_pthread_rwlock_wrlock,
	.write_unlock = lb_pthread_rwlock_unlock,
};

static const struct lb_rwlock_ops lb_pthread_rwlock_wpref_ops = {
	.base = { .size = sizeof(pthread_rwlock_t), .init = lb_pthread_rwlock_wpref_init,
		  .fini = lb_pthread_rwlock_fini },
	.read_lock = lb_pthread_rwlock_rdlock,
	.read_unlock = lb_pthread_rwlock_unlock,
	.write_lock = lb_pthread_rwlock_wrlock,
	.write_unlock = lb_pthread_rwlock_unlock,
};

#endif
