/* futex-mutex-stack: the locked stack (stack_locked.h) behind our
 * 3-state futex mutex (mutex_futex.h). */
#ifndef LB_STACK_FUTEX_H
#define LB_STACK_FUTEX_H

#include "mutex_futex.h"
#include "stack_locked.h"

LB_LOCKED_STACK(futex_mutex_stack, lb_futex_mutex_ops)

#endif
