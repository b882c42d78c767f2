/* The reclamation axis's floor for the queue kind (smr_msq.h, smr.h):
 *
 * atomic-msq-leak  the Michael-Scott queue, plain C11 atomics, and no
 *                  dequeued node freed before the object is destroyed
 *                  (LB_SMR_LEAK): 64 bytes held per item popped.
 */
#ifndef LB_QUEUE_ATOMIC_H
#define LB_QUEUE_ATOMIC_H

#include "smr_msq.h"

LB_MSQ(atomic_msq_leak, LB_SMR_LEAK)

#endif
