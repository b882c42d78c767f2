/* The implementation registry: one flat table, one line per implementation.
 *
 * Adding an algorithm: write its header (one file, static inline ops and a
 * `static const struct lb_<kind>_ops lb_<sym>_ops`), include it below, and
 * add one X(...) line to its kind's list.  Adding a kind: its ops header,
 * its list and one LB_KINDS line (below).  Workloads instantiate their hot
 * loop once per line (see workloads/workload.h), so the compiler sees each
 * implementation's ops as constants and inlines them.
 *
 * X(sym, "id", backend, caps, "summary")
 *   sym      the id with '-' as '_'; the ops object is lb_<sym>_ops
 *   id       backend-algorithm, lowercase [a-z0-9-]; its header is
 *            <kind>_<sym>.h, or <kind>_<backend>.h for a backend whose
 *            implementations of the kind share code (test_cli checks both)
 *   backend  the family: pthread, futex, ck, atomic, urcu, none, test
 *   caps     LB_CAP_* flags beyond those derived from the ops
 */
#ifndef LB_REGISTRY_H
#define LB_REGISTRY_H

#include <stddef.h>

#include "barrier.h"
#include "condition.h"
#include "counter.h"
#include "event.h"
#include "mutex.h"
#include "queue.h"
#include "recursive.h"
#include "rwlock.h"
#include "semaphore_ops.h"

#include "counter_atomic.h"
#include "counter_ck.h"
#include "counter_none.h"
#include "mutex_ck_anderson.h"
#include "mutex_ck_cas.h"
#include "mutex_ck_clh.h"
#include "mutex_ck_dec.h"
#include "mutex_ck_fas.h"
#include "mutex_ck_hclh.h"
#include "mutex_ck_mcs.h"
#include "mutex_ck_ticket.h"
#include "mutex_futex.h"
#include "mutex_futex_spin_then_park.h"
#include "mutex_pthread.h"
#include "mutex_test.h"
#include "recursive_pthread.h"
#include "recursive_futex.h"
#include "recursive_ck.h"
#include "semaphore_pthread.h"
#include "semaphore_futex.h"
#include "semaphore_ck.h"
#include "event_pthread.h"
#include "event_futex.h"
#include "event_ck.h"
#include "condition_pthread.h"
#include "condition_futex.h"
#include "condition_ck.h"
#include "rwlock_pthread.h"
#include "rwlock_futex.h"
#include "rwlock_ck.h"
#include "rwlock_urcu.h"
#include "barrier_pthread.h"
#include "barrier_futex.h"
#include "barrier_ck.h"
#include "barrier_test.h"
#include "queue_ck.h"
#include "queue_urcu.h"
#include "queue_test.h"

enum lb_cap {
	LB_CAP_TRYLOCK = 1u << 0, /* derived (lb_impl_caps): ops has trylock */
	LB_CAP_TCTX = 1u << 1,    /* derived (lb_impl_caps): per-thread context */
	LB_CAP_PARKS = 1u << 2,   /* waiters sleep in the kernel */
	LB_CAP_SPINS = 1u << 3,   /* waiters spin (burn CPU while waiting) */
	LB_CAP_FIFO = 1u << 4,    /* grants in arrival order */
	LB_CAP_RACY = 1u << 5,    /* loses updates by design: negative control */
	LB_CAP_FLOOR = 1u << 6,   /* the harness-floor no-op */
	LB_CAP_HIDDEN = 1u << 7,  /* deliberately broken, tests only */
	LB_CAP_RCU = 1u << 8,     /* rwlock kind: readers never block (RCU) */
	LB_CAP_OWNER = 1u << 9,   /* recursive: refuses unlock by a non-owner */
	LB_CAP_WPREF = 1u << 10,  /* rwlock: waiting writers hold off new readers */
};

#define LB_MUTEX_IMPLS(X) \
	X(pthread_mutex, "pthread-mutex", "pthread", LB_CAP_PARKS, \
	  "glibc PTHREAD_MUTEX_NORMAL: futex lock, no spinning") \
	X(pthread_adaptive, "pthread-adaptive", "pthread", LB_CAP_PARKS | LB_CAP_SPINS, \
	  "glibc PTHREAD_MUTEX_ADAPTIVE_NP: spins briefly, then parks") \
	X(pthread_spin, "pthread-spin", "pthread", LB_CAP_SPINS, \
	  "pthread_spinlock_t: test-and-set spinning, never parks") \
	X(futex_mutex, "futex-mutex", "futex", LB_CAP_PARKS, \
	  "ours: Drepper's 3-state futex mutex (0 free, 1 locked, 2 contended)") \
	X(futex_spin_then_park, "futex-spin-then-park", "futex", LB_CAP_PARKS | LB_CAP_SPINS, \
	  "ours: 3-state futex mutex that polls 128 times before parking") \
	X(ck_fas, "ck-fas", "ck", LB_CAP_SPINS, "ck_spinlock_fas: swap-based test-and-set") \
	X(ck_cas, "ck-cas", "ck", LB_CAP_SPINS, "ck_spinlock_cas: CAS-based test-and-set") \
	X(ck_dec, "ck-dec", "ck", LB_CAP_SPINS, "ck_spinlock_dec: atomic-decrement lock") \
	X(ck_ticket, "ck-ticket", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_spinlock_ticket: FIFO ticket lock") \
	X(ck_mcs, "ck-mcs", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_spinlock_mcs: MCS queue lock, spins on own node") \
	X(ck_clh, "ck-clh", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_spinlock_clh: CLH queue lock, spins on predecessor's node") \
	X(ck_anderson, "ck-anderson", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_spinlock_anderson: array lock, one slot per waiter") \
	X(ck_hclh, "ck-hclh", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_spinlock_hclh: hierarchical CLH, clusters = packages") \
	X(test_busted, "test-busted", "test", LB_CAP_SPINS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: test and set in two steps, no mutual exclusion") \
	X(test_stuck, "test-stuck", "test", LB_CAP_PARKS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: stops releasing after 1000 unlocks (watchdog test)") \
	X(test_notry, "test-notry", "test", LB_CAP_PARKS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: trylock always fails, even on a free lock")

#define LB_RECURSIVE_IMPLS(X) \
	X(pthread_recursive, "pthread-recursive", "pthread", LB_CAP_PARKS | LB_CAP_OWNER, \
	  "PTHREAD_MUTEX_RECURSIVE") \
	X(futex_recursive, "futex-recursive", "futex", LB_CAP_PARKS | LB_CAP_OWNER, \
	  "ours: owner tid + depth over futex-mutex") \
	X(ck_recursive, "ck-recursive", "ck", LB_CAP_SPINS | LB_CAP_OWNER, \
	  "owner tid + depth over ck_spinlock_fas")

#define LB_SEMAPHORE_IMPLS(X) \
	X(pthread_sem, "pthread-sem", "pthread", LB_CAP_PARKS, "POSIX sem_t") \
	X(futex_sem, "futex-sem", "futex", LB_CAP_PARKS, \
	  "ours: permit count word + sleeper count, futex wait/wake") \
	X(ck_sem, "ck-sem", "ck", LB_CAP_PARKS | LB_CAP_SPINS, \
	  "ck_pr CAS on acquisitions, ck_ec64 event count of releases for sleeping")

#define LB_EVENT_IMPLS(X) \
	X(pthread_event, "pthread-event", "pthread", LB_CAP_PARKS, "mutex + condvar + flag") \
	X(futex_event, "futex-event", "futex", LB_CAP_PARKS, \
	  "ours: one futex word (clear / clear with sleepers / set), wake all") \
	X(ck_event, "ck-event", "ck", LB_CAP_PARKS | LB_CAP_SPINS, "one ck_ec64 event count: odd set, even clear")

#define LB_CONDITION_IMPLS(X) \
	X(pthread_cond, "pthread-cond", "pthread", LB_CAP_PARKS, "pthread_mutex + pthread_cond") \
	X(futex_cond, "futex-cond", "futex", LB_CAP_PARKS, \
	  "ours: sequence-counter futex condvar over futex-mutex") \
	X(ck_cond, "ck-cond", "ck", LB_CAP_PARKS | LB_CAP_SPINS, \
	  "ck_ec64 sequence over ck_spinlock_fas")

#define LB_RWLOCK_IMPLS(X) \
	X(pthread_rwlock, "pthread-rwlock", "pthread", LB_CAP_PARKS, \
	  "glibc default rwlock (reader-preferring)") \
	X(pthread_rwlock_wpref, "pthread-rwlock-wpref", "pthread", LB_CAP_PARKS | LB_CAP_WPREF, \
	  "glibc rwlock, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP") \
	X(futex_rwlock, "futex-rwlock", "futex", LB_CAP_PARKS | LB_CAP_WPREF, \
	  "ours: reader count + writer bit + writer-waiting bit in one futex word") \
	X(ck_rwlock, "ck-rwlock", "ck", LB_CAP_SPINS | LB_CAP_WPREF, "ck_rwlock: centralized") \
	X(ck_pflock, "ck-pflock", "ck", LB_CAP_SPINS | LB_CAP_FIFO, "ck_pflock: phase-fair") \
	X(ck_brlock, "ck-brlock", "ck", LB_CAP_SPINS, \
	  "ck_brlock: big-reader, one registered slot per reader") \
	X(ck_bytelock, "ck-bytelock", "ck", LB_CAP_SPINS, \
	  "ck_bytelock: one byte per reader slot (threads 1-56), a counter beyond") \
	X(ck_swlock, "ck-swlock", "ck", LB_CAP_SPINS | LB_CAP_WPREF, \
	  "ck_swlock: single-writer lock; writers serialised by ck_spinlock_fas") \
	X(ck_tflock, "ck-tflock", "ck", LB_CAP_SPINS | LB_CAP_FIFO, "ck_tflock_ticket: task-fair") \
	X(urcu_memb, "urcu-memb", "urcu", LB_CAP_RCU | LB_CAP_PARKS, \
	  "liburcu memb flavour: lock-free readers, membarrier grace periods") \
	X(urcu_qsbr, "urcu-qsbr", "urcu", LB_CAP_RCU | LB_CAP_PARKS, \
	  "liburcu QSBR flavour: zero-cost readers, explicit quiescent states")

#define LB_BARRIER_IMPLS(X) \
	X(pthread_barrier, "pthread-barrier", "pthread", LB_CAP_PARKS, "pthread_barrier_t") \
	X(futex_barrier, "futex-barrier", "futex", LB_CAP_PARKS | LB_CAP_SPINS, \
	  "ours: arrival count + generation futex word, brief spin then sleep") \
	X(ck_centralized, "ck-centralized", "ck", LB_CAP_SPINS, \
	  "ck_barrier_centralized: sense-reversing counter") \
	X(ck_combining, "ck-combining", "ck", LB_CAP_SPINS, "ck_barrier_combining: combining tree") \
	X(ck_dissemination, "ck-dissemination", "ck", LB_CAP_SPINS, \
	  "ck_barrier_dissemination: log2(n) rounds of pairwise flags") \
	X(ck_tournament, "ck-tournament", "ck", LB_CAP_SPINS, "ck_barrier_tournament") \
	X(ck_mcs_barrier, "ck-mcs-barrier", "ck", LB_CAP_SPINS, \
	  "ck_barrier_mcs: 4-ary arrival tree (not ck-mcs: that id is the MCS lock)") \
	X(test_barrier_early, "test-barrier-early", "test", \
	  LB_CAP_PARKS | LB_CAP_SPINS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: from the 2nd phase on, every 1000th: its first arrival leaves at once")

#define LB_QUEUE_IMPLS(X) \
	X(ck_ring_spsc, "ck-ring-spsc", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_ring SPSC ring: one producer, one consumer (more: one ring per pair)") \
	X(ck_ring_mpmc, "ck-ring-mpmc", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_ring MPMC ring: CAS to reserve a slot, publish in order") \
	X(ck_fifo_mpmc, "ck-fifo-mpmc", "ck", LB_CAP_SPINS | LB_CAP_FIFO, \
	  "ck_fifo_mpmc: MPMC Michael-Scott queue, double-width CAS, ck_epoch reclamation") \
	X(urcu_wfcqueue, "urcu-wfcqueue", "urcu", LB_CAP_SPINS | LB_CAP_PARKS | LB_CAP_FIFO, \
	  "liburcu cds_wfcq: MPMC, wait-free enqueue, dequeue under its mutex") \
	X(urcu_lfstack, "urcu-lfstack", "urcu", LB_CAP_SPINS | LB_CAP_PARKS, \
	  "liburcu cds_lfs: MPMC lock-free stack (LIFO), pop under its mutex") \
	X(test_queue_dup, "test-queue-dup", "test", LB_CAP_PARKS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: the 2nd pop and every 1000th after it hand out the previous item again") \
	X(test_queue_drop, "test-queue-drop", "test", LB_CAP_PARKS | LB_CAP_HIDDEN, \
	  "BROKEN on purpose: the 1st push and every 1000th after it report success but drop the item")

#define LB_COUNTER_IMPLS(X) \
	X(atomic_faa, "atomic-faa", "atomic", 0, "C11 atomic_fetch_add on one shared word") \
	X(atomic_cas, "atomic-cas", "atomic", 0, "C11 compare-exchange retry loop on one word") \
	X(atomic_sharded, "atomic-sharded", "atomic", 0, \
	  "one word per thread on its own cache line, summed at the end") \
	X(ck_faa, "ck-faa", "ck", 0, "ck_pr_faa_64 on one shared word")

#define LB_NONE_IMPLS(X) \
	X(none_racy, "none-racy", "none", LB_CAP_RACY, \
	  "the race condition: separate load and store, loses updates by design") \
	X(none_noop, "none-noop", "none", LB_CAP_FLOOR, \
	  "thread-private increment: the harness floor per op")

/* Every kind, one line each, in table order:
 *
 *   K(a, ENUM, name, ops, IMPLS, try)
 *     ENUM   LB_KIND_<ENUM>
 *     name   the kind as --list and the CSV kind column name it
 *     ops    its ops struct is struct lb_<ops>_ops (kinds may share one:
 *            none's are counters)
 *     IMPLS  its list of implementations above
 *     try    lb_<...>(const void *ops): whether an implementation has a
 *            non-blocking acquire (LB_CAP_TRYLOCK), or lb_prim_no_try
 *   a is passed through to K (LB_KIND_OF needs it).
 *
 * A new kind is its ops header (included above), its list of
 * implementations and one line here; everything else that depends on the
 * kinds is expanded from this list, and so is test_kinds' table of
 * semantics tests (tests/kindtest.h declares a kindtest_<name> for each,
 * written in tests/kinds/<name>.c), so a kind without one does not link. */
#define LB_KINDS(K, a) \
	K(a, MUTEX, mutex, mutex, LB_MUTEX_IMPLS, lb_mutex_can_try) \
	K(a, RECURSIVE, recursive, recursive, LB_RECURSIVE_IMPLS, lb_recursive_can_try) \
	K(a, SEMAPHORE, semaphore, semaphore, LB_SEMAPHORE_IMPLS, lb_semaphore_can_try) \
	K(a, EVENT, event, event, LB_EVENT_IMPLS, lb_prim_no_try) \
	K(a, CONDITION, condition, condition, LB_CONDITION_IMPLS, lb_prim_no_try) \
	K(a, RWLOCK, rwlock, rwlock, LB_RWLOCK_IMPLS, lb_prim_no_try) \
	K(a, BARRIER, barrier, barrier, LB_BARRIER_IMPLS, lb_prim_no_try) \
	K(a, QUEUE, queue, queue, LB_QUEUE_IMPLS, lb_prim_no_try) \
	K(a, COUNTER, counter, counter, LB_COUNTER_IMPLS, lb_prim_no_try) \
	K(a, NONE, none, counter, LB_NONE_IMPLS, lb_prim_no_try)

enum lb_kind {
#define LB_K_ENUM(a, ENUM, name, ops, IMPLS, try) LB_KIND_##ENUM,
	LB_KINDS(LB_K_ENUM, _)
#undef LB_K_ENUM
	LB_KIND_COUNT
};

/* One index per implementation, in table order (kind by kind). */
enum lb_impl_index {
#define LB_X_ENUM(sym, id, be, caps, sum) LB_IMPL_##sym,
#define LB_K_IMPLS(a, ENUM, name, ops, IMPLS, try) IMPLS(LB_X_ENUM)
	LB_KINDS(LB_K_IMPLS, _)
#undef LB_K_IMPLS
#undef LB_X_ENUM
	LB_IMPL_COUNT
};

/* Each kind's last index (LB_LAST_<ENUM>): the kinds' implementations are
 * consecutive, so the next enumerator is the next kind's first. */
#define LB_X_ONE(sym, id, be, caps, sum) +1
enum lb_kind_last {
#define LB_K_LAST(a, ENUM, name, ops, IMPLS, try) \
	LB_FIRST_##ENUM, LB_LAST_##ENUM = LB_FIRST_##ENUM + (0 IMPLS(LB_X_ONE)) - 1,
	LB_KINDS(LB_K_LAST, _)
#undef LB_K_LAST
};
#undef LB_X_ONE

struct lb_impl {
	const char *id;
	const char *backend;
	unsigned caps;
	const char *summary;
	enum lb_impl_index index;
	const struct lb_prim_ops *prim; /* the kind ops' common head: lb_ops_<kind>() */
};

/* The implementation's ops as its kind's struct: lb_ops_mutex(im),
 * lb_ops_none(im) (a struct lb_counter_ops)...  Every ops struct starts
 * with its struct lb_prim_ops, so the head's address is the whole's. */
#define LB_K_ACCESSOR(a, ENUM, name, ops, IMPLS, try) \
	static inline const struct lb_##ops##_ops *lb_ops_##name(const struct lb_impl *im) \
	{ \
		return (const struct lb_##ops##_ops *)(const void *)im->prim; \
	}
LB_KINDS(LB_K_ACCESSOR, _)
#undef LB_K_ACCESSOR

extern const struct lb_impl lb_impls[LB_IMPL_COUNT];

/* The implementation's kind: its index lies in its kind's range. */
static inline enum lb_kind lb_impl_kind(const struct lb_impl *im)
{
#define LB_K_OF(a, ENUM, name, ops, IMPLS, try) \
	if ((int)im->index <= (int)LB_LAST_##ENUM) \
		return LB_KIND_##ENUM;
	LB_KINDS(LB_K_OF, _)
#undef LB_K_OF
	return LB_KIND_COUNT;
}

const char *lb_kind_name(enum lb_kind k);
const struct lb_impl *lb_impl_find(const char *id);
/* caps plus those derived from the ops (TRYLOCK, TCTX). */
unsigned lb_impl_caps(const struct lb_impl *impl);
/* Comma-separated list of backends, for error messages. */
const char *lb_backend_names(void);
int lb_backend_known(const char *name);

/* Create / destroy a primitive object: cache-line aligned, initialised. */
int lb_prim_create(const struct lb_impl *impl, const struct lb_prim_cfg *cfg, void **obj);
void lb_prim_destroy(const struct lb_impl *impl, void *obj);
/* Per-thread context: allocated (cache-line aligned) and attached. */
int lb_prim_thread_attach(const struct lb_impl *impl, void *obj,
			  const struct lb_thread_info *ti, void **tctx);
void lb_prim_thread_detach(const struct lb_impl *impl, void *obj, void *tctx);

#endif
