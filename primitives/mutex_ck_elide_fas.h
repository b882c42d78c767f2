/* ck-elide-fas: Concurrency Kit's lock elision (ck_elide.h) over
 * ck_spinlock_fas, used as CK ships it (ck_spinlock.h instantiates it):
 * lock() starts a hardware transaction (Intel TSX RTM: XBEGIN) and only
 * reads the lock word inside it, so critical sections that touch
 * different data run in parallel and commit; a conflict, capacity or
 * explicit abort retries per CK's default configuration, then takes the
 * fas lock for real.  Unlock commits (XEND) if the lock word is free, else
 * releases the lock.
 *
 * Needs RTM in the CPU: most CPUs lack it (AMD never had it; Intel removed
 * or disabled it by microcode on most parts since 2019) and executing XBEGIN
 * without it is an invalid-opcode fault, so unavailable() asks cpuid and the
 * implementation is listed with the reason and left out of runs there.
 * Debian's libck is configured without RTM (ck_md.h: CK_MD_RTM_DISABLE),
 * but the RTM primitives are header-only: meson.build defines
 * CK_MD_RTM_ENABLE on x86-64 so that ck_pr.h provides them and
 * ck_spinlock.h's elided fas is the transactional one.  CK's elision
 * without RTM would be the plain fas lock under another name. */
#ifndef LB_MUTEX_CK_ELIDE_FAS_H
#define LB_MUTEX_CK_ELIDE_FAS_H

#include <ck_spinlock.h>

#include "mutex_ck_fas.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static inline const char *lb_ck_elide_fas_unavailable(void)
{
#if defined(CK_F_PR_RTM) && defined(__x86_64__)
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 11)))
		return NULL;
	return "this CPU has no RTM (cpuid leaf 7, EBX bit 11 is clear): no hardware "
	       "transactions to elide the lock with";
#else
	return "Concurrency Kit's RTM primitives exist only on x86-64 (CK_F_PR_RTM)";
#endif
}

#ifdef CK_F_PR_RTM
static inline void lb_ck_elide_fas_lock(void *obj, void *t)
{
	(void)t;
	CK_ELIDE_LOCK(ck_spinlock_fas, (ck_spinlock_fas_t *)obj);
	LB_TSAN_ACQUIRE(obj); /* pairs with unlock's release (tsan.h) */
}

static inline bool lb_ck_elide_fas_trylock(void *obj, void *t)
{
	(void)t;
	bool ok = CK_ELIDE_TRYLOCK(ck_spinlock_fas, (ck_spinlock_fas_t *)obj);
	if (ok)
		LB_TSAN_ACQUIRE(obj);
	return ok;
}

static inline void lb_ck_elide_fas_unlock(void *obj, void *t)
{
	(void)t;
	LB_TSAN_RELEASE(obj); /* before the store (or commit) that frees it */
	CK_ELIDE_UNLOCK(ck_spinlock_fas, (ck_spinlock_fas_t *)obj);
}
#else
/* Never called: unavailable() says why.  The plain lock keeps the table
 * whole on other architectures. */
#define lb_ck_elide_fas_lock lb_ck_fas_lock
#define lb_ck_elide_fas_trylock lb_ck_fas_trylock
#define lb_ck_elide_fas_unlock lb_ck_fas_unlock
#endif

static const struct lb_mutex_ops lb_ck_elide_fas_ops = {
	.base = { .size = sizeof(ck_spinlock_fas_t), .init = lb_ck_fas_init,
		  .unavailable = lb_ck_elide_fas_unavailable },
	.lock = lb_ck_elide_fas_lock,
	.trylock = lb_ck_elide_fas_trylock,
	.unlock = lb_ck_elide_fas_unlock,
};

#endif
