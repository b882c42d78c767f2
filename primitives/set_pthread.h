/* The locked hash table (set_locked.h) behind glibc's locks:
 * pthread-mutex-hash (one mutex), pthread-rwlock-hash (one rwlock,
 * lookups shared). */
#ifndef LB_SET_PTHREAD_H
#define LB_SET_PTHREAD_H

#include "mutex_pthread.h"
#include "rwlock_pthread.h"
#include "set_locked.h"

LB_LOCKED_SET(pthread_mutex_hash, &lb_pthread_mutex_ops, NULL, 1)
LB_LOCKED_SET(pthread_rwlock_hash, NULL, &lb_pthread_rwlock_ops, 1)

#endif
