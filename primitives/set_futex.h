/* The locked hash table (set_locked.h) behind our futex locks:
 * futex-mutex-hash (one 3-state mutex), futex-rwlock-hash (one
 * reader-preferring futex rwlock, lookups shared), futex-striped-hash
 * (LB_FUTEX_STRIPES mutexes, one per bucket modulo that: lock striping). */
#ifndef LB_SET_FUTEX_H
#define LB_SET_FUTEX_H

#include "mutex_futex.h"
#include "rwlock_futex.h"
#include "set_locked.h"

#define LB_FUTEX_STRIPES 256

LB_LOCKED_SET(futex_mutex_hash, &lb_futex_mutex_ops, NULL, 1)
LB_LOCKED_SET(futex_rwlock_hash, NULL, &lb_futex_rwlock_rpref_ops, 1)
LB_LOCKED_SET(futex_striped_hash, &lb_futex_mutex_ops, NULL, LB_FUTEX_STRIPES)

#endif
