/* ck-sem: a semaphore from Concurrency Kit parts.
 *
 * State: taken, a ck_pr counter of acquisitions; released, a ck_ec64 event
 * count of releases.  Free permits = permits + released - taken.
 *   acquire  read released, then CAS taken t -> t+1 while
 *            t < permits + released.  Otherwise ck_ec64_wait() until
 *            released moves past the value read (ck_ec spins briefly, then
 *            sleeps on a futex: ck_ec_futex.h).
 *   release  ck_ec64_inc(released): wakes every sleeper if any (ck_ec only
 *            wakes all); each re-checks.
 * Both counters are 63/64-bit, so they do not wrap in practice.  The CAS
 * is ck_pr (a full barrier on x86) and ck_ec orders its increment, which
 * gives the acquire/release pairing between a release and the next acquire.
 */
#ifndef LB_SEMAPHORE_CK_H
#define LB_SEMAPHORE_CK_H

#include <ck_pr.h>

#include "ck_ec_futex.h"
#include "semaphore_ops.h"
#include "tsan.h"

struct lb_ck_sem {
	uint64_t taken;
	uint64_t permits;
	struct ck_ec64 released;
};

static inline int lb_ck_sem_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_sem *s = obj;
	s->permits = cfg->permits;
	ck_pr_store_64(&s->taken, 0);
	ck_ec64_init(&s->released, 0);
	return 0;
}

/* Try once against a snapshot of released; *rel returns it. */
static inline bool lb_ck_sem_try_at(struct lb_ck_sem *s, uint64_t *rel)
{
	uint64_t r = ck_ec64_value(&s->released);
	uint64_t t = ck_pr_load_64(&s->taken);
	*rel = r;
	while (t < s->permits + r) {
		if (ck_pr_cas_64_value(&s->taken, t, t + 1, &t)) {
			ck_pr_fence_lock();
			/* pairs with release()'s (tsan.h) */
			LB_TSAN_ACQUIRE(s);
			return true;
		}
	}
	return false;
}

static inline bool lb_ck_sem_try(void *obj, void *t)
{
	uint64_t r;
	(void)t;
	return lb_ck_sem_try_at(obj, &r);
}

static inline void lb_ck_sem_acquire(void *obj, void *t)
{
	struct lb_ck_sem *s = obj;
	uint64_t r;
	(void)t;
	while (!lb_ck_sem_try_at(s, &r))
		ck_ec64_wait(&s->released, &lb_ck_ec_mode, r, NULL);
}

static inline void lb_ck_sem_release(void *obj, void *t)
{
	(void)t;
	/* Every release before an acquire orders it, permit or not: how
	 * TSan models sem_post/sem_wait too. */
	LB_TSAN_RELEASE(obj);
	ck_pr_fence_unlock();
	ck_ec64_inc(&((struct lb_ck_sem *)obj)->released, &lb_ck_ec_mode);
}

static const struct lb_semaphore_ops lb_ck_sem_ops = {
	.base = { .size = sizeof(struct lb_ck_sem), .init = lb_ck_sem_init },
	.acquire = lb_ck_sem_acquire,
	.try_acquire = lb_ck_sem_try,
	.release = lb_ck_sem_release,
};

#endif
