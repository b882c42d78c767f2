/* Safe memory reclamation as its own axis: one lock-free structure, built
 * once (smr_hash.h's Michael hash set, smr_msq.h's Michael-Scott queue),
 * run under each way of deciding when an unlinked node may be freed.
 *
 *   LB_SMR_LEAK    never free during the run (the floor: what reclamation
 *                  costs is the gap to it).  Retired nodes wait on a
 *                  per-thread list until the object is destroyed.
 *   LB_SMR_EPOCH   Concurrency Kit's ck_epoch (Fraser's epoch-based
 *                  reclamation, "Practical lock-freedom", 2004): every
 *                  operation is an epoch section; a retired node goes to
 *                  ck_epoch_call and is freed by the retiring thread's
 *                  ck_epoch_poll, every LB_SMR_POLL retirements, once two
 *                  epochs have passed.
 *   LB_SMR_HP      Concurrency Kit's ck_hp (Michael, "Hazard pointers:
 *                  safe memory reclamation for lock-free objects", IEEE
 *                  TPDS 2004): a thread names every node it is about to
 *                  read in one of its LB_SMR_HAZARDS slots, with a full
 *                  fence, and re-validates that the node is still linked;
 *                  ck_hp_free holds a retired node until a scan (every
 *                  LB_SMR_POLL retirements per thread) finds it in nobody's
 *                  slot.
 *   LB_SMR_MEMB, _MB, _SIGNAL, _QSBR, _BP
 *                  each liburcu flavour (rwlock_urcu.h says how they
 *                  differ): every operation is a read-side section, a
 *                  retired node goes to the flavour's call_rcu and its
 *                  call_rcu thread frees it after a grace period.  QSBR
 *                  readers report a quiescent state every
 *                  LB_SMR_QS_EVERY operations, at the end of one.
 *
 * The scheme is a compile-time constant: every function here takes it as
 * its first argument and is inlined into an operation instantiated per
 * scheme, so the switch folds away and an epoch build carries no hazard
 * pointer code (the structures skip HP's re-validations too).
 *
 * Nodes.  Every node starts with a struct lb_smr_hdr: the scheme's own
 * link (ck_epoch_entry_t, ck_hp_hazard_t, rcu_head, or the leak list, in
 * one union, so that a node has the same size under every scheme), and,
 * filled in when it is retired, the object and the retiring thread.  Freeing a node poisons
 * everything after the header (LB_SMR_POISON, set.h's LB_SET_POISON) and
 * then frees it, so a reader that touches freed memory reads poison and
 * the workload's check says so.
 *
 * Unreclaimed memory.  Each thread counts the nodes it retired (its own
 * line, written by it alone) and the nodes of its that were freed (another
 * line: under liburcu the call_rcu thread frees them).  lb_smr_unreclaimed
 * is their difference times the node size, read by the workload's sampler
 * while the run goes on: memory unlinked but not yet given back.  Freed
 * counts are read before retired ones (acquire), so a sample never counts
 * a node freed that it did not count retired.
 *
 * Records (ck_epoch, ck_hp) are one per thread id, in the object,
 * registered on first attach and kept, as ck_epoch_pool.h's are; liburcu
 * registers the OS thread (memb, mb, signal, qsbr) in thread_init and
 * unregisters it in thread_fini (bp registers itself).
 *
 * ThreadSanitizer sees the structures' C11 atomics but not the schemes'
 * grace periods (CK's ck_pr and liburcu are assembly to it).  Epoch and
 * RCU: every section's end releases on the object's gp_sync and every
 * free acquires on it first (rwlock_urcu.h's edge); a node handed to
 * call_rcu is released on and acquired by its callback (liburcu's queue
 * to the call_rcu thread is invisible too), and the callbacks release on
 * cb_done, which fini acquires once the flavour's barrier has returned.  Hazard pointers: a
 * thread releases on a node when it stops naming it (overwrites or clears
 * its slot) and the free acquires on the node: every access made under
 * the node's protection happens before the free.
 */
#ifndef LB_SMR_H
#define LB_SMR_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ck_epoch.h>
#include <ck_hp.h>

#include "urcu_inline.h"

#include "prim.h"
#include "tsan.h"

enum lb_smr_scheme {
	LB_SMR_LEAK, LB_SMR_EPOCH, LB_SMR_HP,
	LB_SMR_MEMB, LB_SMR_MB, LB_SMR_SIGNAL, LB_SMR_QSBR, LB_SMR_BP,
};

#define LB_SMR_HAZARDS 3     /* Michael's list needs three, the queue two */
#define LB_SMR_POLL 64       /* epoch: retirements between polls; HP: before a scan */
#define LB_SMR_QS_EVERY 1024u /* QSBR: operations between quiescent states */
#define LB_SMR_POISON UINT64_C(0xdeadbeefdeadbeef)

struct lb_smr;

struct lb_smr_hdr {
	union {
		ck_epoch_entry_t epoch;
		ck_hp_hazard_t hazard;
		struct rcu_head rcu;
		struct lb_smr_hdr *leaked;
	} u;
	struct lb_smr *smr; /* set when retired */
	uint64_t owner;     /* the retiring thread's id (a whole word: the payload stays aligned) */
};

/* One per thread id. */
struct lb_smr_thr {
	alignas(LB_CACHELINE) _Atomic uint64_t retired; /* by its thread only */
	struct lb_smr_hdr *leaked;                      /* LB_SMR_LEAK's nodes */
	bool registered;                                /* its ck record */
	ck_hp_record_t hrec;
	void *hslot[LB_SMR_HAZARDS];
	ck_epoch_record_t erec; /* cache-line aligned itself */
	alignas(LB_CACHELINE) _Atomic uint64_t freed;   /* by whoever frees */
};

struct lb_smr {
	struct lb_smr_thr *thr; /* [nthr] */
	unsigned nthr;
	size_t node_size;       /* bytes of one node, header included */
	ck_hp_t hp;
	char gp_sync;           /* TSan's address for the grace period's edge */
	char cb_done;           /* TSan's: call_rcu callbacks before the barrier's return */
	alignas(LB_CACHELINE) ck_epoch_t epoch; /* read by every ck_epoch_begin */
};

struct lb_smr_tctx {
	struct lb_smr *smr;
	struct lb_smr_thr *me;
	unsigned ops;     /* QSBR: operations since the last quiescent state */
	unsigned retired; /* epoch: retirements since the last poll */
#if LB_TSAN
	void *named[LB_SMR_HAZARDS]; /* what each hazard slot names */
#endif
};

/* Poison a node's payload, count it freed for the thread that retired
 * it, and free it: every scheme's last step. */
static inline void lb_smr_destroy(struct lb_smr_hdr *h)
{
	struct lb_smr *d = h->smr;
	const uint64_t poison = LB_SMR_POISON;
	char *p = (char *)(h + 1);
	for (size_t i = 0; i + sizeof(poison) <= d->node_size - sizeof(*h); i += sizeof(poison))
		memcpy(p + i, &poison, sizeof(poison));
	/* release: the node's retirement (its owner's count) happens before,
	 * and pairs with lb_smr_unreclaimed's acquire load of freed. */
	atomic_fetch_add_explicit(&d->thr[h->owner].freed, 1, memory_order_release);
	free(h);
}

static void lb_smr_epoch_cb(ck_epoch_entry_t *e)
{
	struct lb_smr_hdr *h = (struct lb_smr_hdr *)((char *)e - offsetof(struct lb_smr_hdr, u));
	LB_TSAN_ACQUIRE(&h->smr->gp_sync); /* every section that ended before */
	lb_smr_destroy(h);
}

static void lb_smr_hp_cb(void *data)
{
	LB_TSAN_ACQUIRE(data); /* every thread that stopped naming it */
	lb_smr_destroy(data);
}

static void lb_smr_rcu_cb(struct rcu_head *r)
{
	struct lb_smr_hdr *h = (struct lb_smr_hdr *)((char *)r - offsetof(struct lb_smr_hdr, u));
	LB_TSAN_ACQUIRE(h);                /* the retirement: h->smr, h->owner */
	struct lb_smr *d = h->smr;
	LB_TSAN_ACQUIRE(&d->gp_sync);      /* every section that ended before */
	lb_smr_destroy(h);
	LB_TSAN_RELEASE(&d->cb_done);      /* fini's barrier waits for us */
}

/* The signal flavour under ThreadSanitizer: see urcu_inline.h. */
static inline const char *lb_smr_unavailable(const enum lb_smr_scheme S)
{
	return S == LB_SMR_SIGNAL ? lb_urcu_signal_unavailable() : NULL;
}

static inline int lb_smr_init(const enum lb_smr_scheme S, struct lb_smr *d,
			      const struct lb_prim_cfg *cfg, size_t node_size)
{
	size_t bytes;
	d->nthr = cfg->nthreads ? cfg->nthreads : 1;
	d->node_size = node_size;
	bytes = d->nthr * sizeof(*d->thr);
	if (!(d->thr = lb_shared_aligned_alloc(LB_CACHELINE, bytes)))
		return ENOMEM;
	memset(d->thr, 0, bytes);
	if (S == LB_SMR_EPOCH)
		ck_epoch_init(&d->epoch);
	if (S == LB_SMR_HP)
		ck_hp_init(&d->hp, LB_SMR_HAZARDS, LB_SMR_POLL, lb_smr_hp_cb);
	return 0;
}

/* With no other thread attached: free what is still waiting (every grace
 * period is over, no slot names anything), then the records. */
static inline void lb_smr_fini(const enum lb_smr_scheme S, struct lb_smr *d)
{
	for (unsigned i = 0; i < d->nthr; i++) {
		struct lb_smr_thr *t = &d->thr[i];
		if (S == LB_SMR_LEAK)
			while (t->leaked) {
				struct lb_smr_hdr *h = t->leaked;
				t->leaked = h->u.leaked;
				lb_smr_destroy(h);
			}
		if (S == LB_SMR_EPOCH && t->registered)
			ck_epoch_reclaim(&t->erec);
		if (S == LB_SMR_HP && t->registered)
			ck_hp_reclaim(&t->hrec);
	}
	/* liburcu: wait for the call_rcu threads to run every callback
	 * queued so far (as set_urcu.h's fini does). */
	switch (S) {
	case LB_SMR_MEMB:
		urcu_memb_register_thread();
		urcu_memb_barrier();
		urcu_memb_unregister_thread();
		break;
	case LB_SMR_MB:
		urcu_mb_register_thread();
		urcu_mb_barrier();
		urcu_mb_unregister_thread();
		break;
	case LB_SMR_SIGNAL:
		urcu_signal_register_thread();
		urcu_signal_barrier();
		urcu_signal_unregister_thread();
		break;
	case LB_SMR_QSBR:
		urcu_qsbr_register_thread();
		urcu_qsbr_thread_offline();
		urcu_qsbr_barrier();
		urcu_qsbr_unregister_thread();
		break;
	case LB_SMR_BP:
		urcu_bp_barrier();
		break;
	default:
		break;
	}
	LB_TSAN_ACQUIRE(&d->cb_done); /* every callback's accesses to the object */
	free(d->thr);
	d->thr = NULL;
}

static inline int lb_smr_thread_init(const enum lb_smr_scheme S, struct lb_smr *d,
				     struct lb_smr_tctx *tc, unsigned tid)
{
	struct lb_smr_thr *me = &d->thr[tid < d->nthr ? tid : 0];
	memset(tc, 0, sizeof(*tc));
	tc->smr = d;
	tc->me = me;
	if (!me->registered) {
		if (S == LB_SMR_EPOCH)
			ck_epoch_register(&d->epoch, &me->erec, NULL);
		if (S == LB_SMR_HP)
			ck_hp_register(&d->hp, &me->hrec, me->hslot);
		me->registered = true;
	}
	switch (S) {
	case LB_SMR_MEMB: urcu_memb_register_thread(); break;
	case LB_SMR_MB: urcu_mb_register_thread(); break;
	case LB_SMR_SIGNAL: urcu_signal_register_thread(); break;
	case LB_SMR_QSBR: urcu_qsbr_register_thread(); break; /* online from here */
	default: break;
	}
	return 0;
}

/* Start an operation: everything it reads stays allocated until
 * lb_smr_exit (epoch, RCU), or while a slot names it (HP). */
static inline __attribute__((always_inline)) void
lb_smr_enter(const enum lb_smr_scheme S, struct lb_smr_tctx *tc)
{
	switch (S) {
	case LB_SMR_EPOCH:
		ck_epoch_begin(&tc->me->erec, NULL);
		/* The section's loads after begin's load of the global epoch
		 * (a no-op on x86; ck_epoch_pool.h says why it is missing). */
		ck_pr_fence_load();
		break;
	case LB_SMR_MEMB: urcu_memb_read_lock(); break;
	case LB_SMR_MB: urcu_mb_read_lock(); break;
	case LB_SMR_SIGNAL: urcu_signal_read_lock(); break;
	case LB_SMR_QSBR: urcu_qsbr_read_lock(); break;
	case LB_SMR_BP: urcu_bp_read_lock(); break;
	default: break;
	}
}

/* Slot i names p; the caller then re-reads the link it loaded p from and
 * retries unless it still holds p (HP only: the fence orders the slot's
 * store before that load, and pairs with the fence before a scan). */
static inline __attribute__((always_inline)) void
lb_smr_protect(const enum lb_smr_scheme S, struct lb_smr_tctx *tc, unsigned i, void *p)
{
	if (S != LB_SMR_HP)
		return;
#if LB_TSAN
	if (tc->named[i])
		LB_TSAN_RELEASE(tc->named[i]); /* our reads of it are over */
	tc->named[i] = p;
#endif
	ck_hp_set_fence(&tc->me->hrec, i, p);
}

static inline __attribute__((always_inline)) void
lb_smr_exit(const enum lb_smr_scheme S, struct lb_smr *d, struct lb_smr_tctx *tc)
{
	(void)d;
	switch (S) {
	case LB_SMR_EPOCH:
		LB_TSAN_RELEASE(&d->gp_sync);
		ck_epoch_end(&tc->me->erec, NULL);
		break;
	case LB_SMR_HP:
#if LB_TSAN
		for (unsigned i = 0; i < LB_SMR_HAZARDS; i++)
			if (tc->named[i]) {
				LB_TSAN_RELEASE(tc->named[i]);
				tc->named[i] = NULL;
			}
#endif
		ck_hp_clear(&tc->me->hrec); /* late is safe: it only keeps nodes longer */
		break;
	case LB_SMR_MEMB:
		LB_TSAN_RELEASE(&d->gp_sync);
		urcu_memb_read_unlock();
		break;
	case LB_SMR_MB:
		LB_TSAN_RELEASE(&d->gp_sync);
		urcu_mb_read_unlock();
		break;
	case LB_SMR_SIGNAL:
		LB_TSAN_RELEASE(&d->gp_sync);
		urcu_signal_read_unlock();
		break;
	case LB_SMR_QSBR:
		LB_TSAN_RELEASE(&d->gp_sync);
		urcu_qsbr_read_unlock();
		if (__builtin_expect((++tc->ops & (LB_SMR_QS_EVERY - 1)) == 0, 0))
			urcu_qsbr_quiescent_state();
		break;
	case LB_SMR_BP:
		LB_TSAN_RELEASE(&d->gp_sync);
		urcu_bp_read_unlock();
		break;
	default:
		break;
	}
}

static inline void lb_smr_thread_fini(const enum lb_smr_scheme S, struct lb_smr_tctx *tc)
{
	if (S == LB_SMR_HP)
		lb_smr_exit(S, NULL, tc); /* name nothing: a detached thread holds up no one */
	switch (S) {
	case LB_SMR_MEMB: urcu_memb_unregister_thread(); break;
	case LB_SMR_MB: urcu_mb_unregister_thread(); break;
	case LB_SMR_SIGNAL: urcu_signal_unregister_thread(); break;
	case LB_SMR_QSBR:
		urcu_qsbr_thread_offline(); /* a stopped online reader holds up every grace period */
		urcu_qsbr_unregister_thread();
		break;
	default:
		break;
	}
}

/* Hand over a node this thread unlinked (its unlinking CAS succeeded, so
 * no one retires it twice).  May be called inside the operation. */
static inline __attribute__((always_inline)) void
lb_smr_retire(const enum lb_smr_scheme S, struct lb_smr_tctx *tc, struct lb_smr_hdr *h)
{
	struct lb_smr_thr *me = tc->me;
	h->smr = tc->smr;
	h->owner = (uint64_t)(me - tc->smr->thr);
	atomic_store_explicit(&me->retired,
			      atomic_load_explicit(&me->retired, memory_order_relaxed) + 1,
			      memory_order_release); /* pairs with the sampler's acquire */
	switch (S) {
	case LB_SMR_LEAK:
		h->u.leaked = me->leaked;
		me->leaked = h;
		break;
	case LB_SMR_EPOCH:
		/* The unlink before the epoch snapshot (a no-op on x86). */
		ck_pr_fence_atomic_load();
		ck_epoch_call(&me->erec, &h->u.epoch, lb_smr_epoch_cb);
		if (__builtin_expect(++tc->retired >= LB_SMR_POLL, 0)) {
			tc->retired = 0;
			ck_epoch_poll(&me->erec);
		}
		break;
	case LB_SMR_HP:
		ck_hp_free(&me->hrec, &h->u.hazard, h, h);
		break;
	case LB_SMR_MEMB:
	case LB_SMR_MB:
	case LB_SMR_SIGNAL:
	case LB_SMR_QSBR:
	case LB_SMR_BP:
		LB_TSAN_RELEASE(h); /* to the call_rcu thread, through liburcu's queue */
		break;
	default:
		break;
	}
	switch (S) {
	case LB_SMR_MEMB: urcu_memb_call_rcu(&h->u.rcu, lb_smr_rcu_cb); break;
	case LB_SMR_MB: urcu_mb_call_rcu(&h->u.rcu, lb_smr_rcu_cb); break;
	case LB_SMR_SIGNAL: urcu_signal_call_rcu(&h->u.rcu, lb_smr_rcu_cb); break;
	case LB_SMR_QSBR: urcu_qsbr_call_rcu(&h->u.rcu, lb_smr_rcu_cb); break;
	case LB_SMR_BP: urcu_bp_call_rcu(&h->u.rcu, lb_smr_rcu_cb); break;
	default: break;
	}
}

/* Bytes unlinked and not yet freed, now (any thread). */
static inline uint64_t lb_smr_unreclaimed(const struct lb_smr *d)
{
	uint64_t freed = 0, retired = 0;
	for (unsigned i = 0; i < d->nthr; i++)
		freed += atomic_load_explicit(&d->thr[i].freed, memory_order_acquire);
	for (unsigned i = 0; i < d->nthr; i++)
		retired += atomic_load_explicit(&d->thr[i].retired, memory_order_acquire);
	return retired > freed ? (retired - freed) * d->node_size : 0;
}

/* A stalled reader's sleep (a hold()'s fn): *(unsigned *)msp
 * milliseconds, through signals (the signal flavour's grace periods
 * interrupt it). */
static inline void lb_smr_sleep_ms(void *msp)
{
	unsigned ms = *(unsigned *)msp;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#endif
