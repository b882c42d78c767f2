/* The reclamation axis's floor for the set kind (smr_hash.h, smr.h):
 *
 * atomic-michael-leak  Michael's lock-free hash set, plain C11 atomics,
 *                      and nothing unlinked is freed before the object is
 *                      destroyed (LB_SMR_LEAK).  Its unreclaimed memory
 *                      grows with every remove; what the other schemes
 *                      cost is their gap to its throughput.
 */
#ifndef LB_SET_ATOMIC_H
#define LB_SET_ATOMIC_H

#include "smr_hash.h"

LB_MICHAEL_SET(atomic_michael_leak, LB_SMR_LEAK)

#endif
