/* liburcu, compiled inline: the one way into its headers for the whole
 * project (rwlock_urcu.h, queue_urcu.h, stack_urcu.h).
 *
 * _LGPL_SOURCE before the first liburcu header turns liburcu's fast paths
 * into static inline code in the caller: read_lock/read_unlock (memb: a
 * per-thread nesting counter and a compiler barrier; QSBR: nothing),
 * quiescent_state, thread_online/offline, rcu_dereference and the wfcqueue
 * and lfstack ops.  Without it each is a call into liburcu-memb.so or
 * liburcu-qsbr.so, which is not what an RCU user compiles (liburcu's own
 * benchmarks define it too) and made lockbench's read side several times
 * slower than liburcu's (issue 8, section 9).
 *
 * It has to be defined before the first liburcu header of a translation
 * unit, and in every unit alike: one that got a liburcu header some other
 * way first would silently call the library instead, so that is an error.
 * Defining _LGPL_SOURCE on the compiler's command line works too.
 *
 * Two conditions from liburcu's README: define it only in code whose
 * licence is LGPL- or GPL-compatible (lockbench's MIT licence is), and
 * rebuild after a liburcu upgrade, since the inlined code now depends on
 * the library's internals (./bench rebuilds whatever changed).
 */
#ifndef LB_URCU_INLINE_H
#define LB_URCU_INLINE_H

#if !defined(_LGPL_SOURCE) && \
	(defined(_URCU_MEMB_H) || defined(_URCU_QSBR_H) || defined(_URCU_POINTER_H) || \
	 defined(_URCU_MB_H) || defined(_URCU_SIGNAL_H) || defined(_URCU_BP_H) || \
	 defined(_URCU_WFCQUEUE_H) || defined(_URCU_LFSTACK_H) || defined(_URCU_WFSTACK_H) || \
	 defined(_URCU_RCULFHASH_H))
#error "a liburcu header was included before primitives/urcu_inline.h: its fast paths would be calls here"
#endif
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif

#include <urcu/urcu-bp.h>
#include <urcu/urcu-mb.h>
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>
#include <urcu/urcu-signal.h>
#include <urcu/lfstack.h>
#include <urcu/wfcqueue.h>
#include <urcu/wfstack.h>
#include <urcu/rculfhash.h>

#include "tsan.h"

/* call_rcu and rcu_barrier of each flavour: liburcu's headers declare them
 * only for the first flavour a translation unit includes (urcu/call-rcu.h
 * is included once), so the others are declared here, as each library
 * exports them (liburcu-<flavour>.so.8). */
#define LB_URCU_DECLARE_CALL_RCU(fl) \
	void urcu_##fl##_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head)); \
	void urcu_##fl##_barrier(void);
LB_URCU_DECLARE_CALL_RCU(bp)
LB_URCU_DECLARE_CALL_RCU(mb)
LB_URCU_DECLARE_CALL_RCU(memb)
LB_URCU_DECLARE_CALL_RCU(qsbr)
LB_URCU_DECLARE_CALL_RCU(signal)
#undef LB_URCU_DECLARE_CALL_RCU

/* The flavour objects cds_lfht_new_flavor takes (liburcu-<flavour>.so),
 * declared for the same reason. */
extern const struct rcu_flavor_struct urcu_memb_flavor;
extern const struct rcu_flavor_struct urcu_qsbr_flavor;

/* The signal flavour cannot run under ThreadSanitizer: TSan holds an
 * asynchronous signal back until the thread's next intercepted call, and
 * a reader spinning in a loop of inlined code makes none, so the grace
 * period's SIGUSR1 is never handled and synchronize() never returns (the
 * watchdog reports the stall). */
static inline const char *lb_urcu_signal_unavailable(void)
{
	return LB_TSAN ? "in a ThreadSanitizer build: TSan delivers the grace period's "
			 "SIGUSR1 only at a reader's next intercepted call, which a spinning "
			 "reader never makes"
		       : NULL;
}

#endif
