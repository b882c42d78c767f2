/* pthread-mutex-stack: the locked stack (stack_locked.h) behind glibc's
 * default mutex. */
#ifndef LB_STACK_PTHREAD_H
#define LB_STACK_PTHREAD_H

#include "mutex_pthread.h"
#include "stack_locked.h"

LB_LOCKED_STACK(pthread_mutex_stack, lb_pthread_mutex_ops)

#endif
