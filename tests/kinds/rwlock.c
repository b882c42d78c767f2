/* rwlock: writers exclude everyone, readers exclude writers, a multi-word
 * record is never seen torn (writers keep a plain shadow counter in the
 * critical section: see tap_shadow_ok); RCU (LB_CAP_RCU): readers never
 * see a torn or reclaimed record.  Writer preference (LB_CAP_WPREF): while
 * a reader holds the lock and a writer waits, a new reader waits too, and
 * the writer goes first.  Reader preference (LB_CAP_RPREF): the new reader
 * gets in ahead of the waiting writer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindtest.h"

#define REC_WORDS 8
#define POISON UINT64_C(0xdeadbeefdeadbeef)

struct rcu_rec {
	_Atomic uint64_t w[REC_WORDS];
};

struct rw_shared;
struct rw_thread {
	struct rw_shared *sh;
	unsigned tid;
	int writer;
};

struct rw_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	_Atomic unsigned readers_in, writers_in, peak_readers;
	_Atomic uint64_t reads, writes, excl_bad, torn, poisoned, backwards;
	/* Plain rwlock: written by writers, read by readers, under the lock;
	 * plain so that ThreadSanitizer checks the lock's ordering. */
	uint64_t rec[REC_WORDS];
	int plain;        /* whether wshadow is kept (see tap_shadow_ok) */
	uint64_t wshadow; /* +1 per write section: plain, for TSan */
	/* RCU: the current version; words are atomics since RCU readers run
	 * alongside the writers. */
	struct rcu_rec *_Atomic cur;
	struct rw_thread t[MAXT];
};

static struct rcu_rec *rcu_rec_new(uint64_t v)
{
	struct rcu_rec *r = tap_xcalloc(sizeof(*r));
	for (int i = 0; i < REC_WORDS; i++)
		atomic_store_explicit(&r->w[i], v, memory_order_relaxed);
	return r;
}

/* Versions reclaimed, in this case's process (each case is one): with
 * call_rcu, destroying the object must have run every callback. */
static _Atomic uint64_t rcu_reclaimed;

/* No reader can still see old: poison it, so one that does shows. */
static void rcu_rec_reclaim(void *p)
{
	struct rcu_rec *old = p;
	for (int i = 0; i < REC_WORDS; i++)
		atomic_store_explicit(&old->w[i], POISON, memory_order_relaxed);
	free(old);
	atomic_fetch_add_explicit(&rcu_reclaimed, 1, memory_order_relaxed);
}

static void rw_plain_op(struct rw_shared *sh, void *t, int writer)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	if (writer) {
		ops->write_lock(sh->obj, t);
		unsigned w = atomic_fetch_add_explicit(&sh->writers_in, 1, memory_order_relaxed) + 1;
		unsigned r = atomic_load_explicit(&sh->readers_in, memory_order_relaxed);
		if (w != 1 || r != 0)
			atomic_fetch_add(&sh->excl_bad, 1);
		uint64_t v = sh->rec[0] + 1;
		for (int i = 0; i < REC_WORDS; i++) {
			sh->rec[i] = v;
			__asm__ __volatile__("" ::: "memory"); /* one word at a time */
		}
		if (sh->plain)
			sh->wshadow++;
		atomic_fetch_sub_explicit(&sh->writers_in, 1, memory_order_relaxed);
		ops->write_unlock(sh->obj, t);
		atomic_fetch_add_explicit(&sh->writes, 1, memory_order_relaxed);
	} else {
		ops->read_lock(sh->obj, t);
		unsigned r = atomic_fetch_add_explicit(&sh->readers_in, 1, memory_order_relaxed) + 1;
		kt_max_update(&sh->peak_readers, r);
		if (atomic_load_explicit(&sh->writers_in, memory_order_relaxed) != 0)
			atomic_fetch_add(&sh->excl_bad, 1);
		uint64_t v = sh->rec[0];
		int torn = 0;
		for (int i = 1; i < REC_WORDS; i++) {
			__asm__ __volatile__("" ::: "memory");
			torn |= sh->rec[i] != v;
		}
		if (torn)
			atomic_fetch_add(&sh->torn, 1);
		atomic_fetch_sub_explicit(&sh->readers_in, 1, memory_order_relaxed);
		ops->read_unlock(sh->obj, t);
		atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
	}
}

static void rw_rcu_op(struct rw_shared *sh, void *t, int writer, uint64_t *last)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	if (writer) {
		ops->write_lock(sh->obj, t);
		unsigned w = atomic_fetch_add_explicit(&sh->writers_in, 1, memory_order_relaxed) + 1;
		if (w != 1)
			atomic_fetch_add(&sh->excl_bad, 1);
		struct rcu_rec *old = atomic_load_explicit(&sh->cur, memory_order_relaxed);
		struct rcu_rec *nw =
			rcu_rec_new(atomic_load_explicit(&old->w[0], memory_order_relaxed) + 1);
		/* Publish: pairs with the readers' acquire load. */
		atomic_store_explicit(&sh->cur, nw, memory_order_release);
		if (sh->plain)
			sh->wshadow++;
		atomic_fetch_sub_explicit(&sh->writers_in, 1, memory_order_relaxed);
		ops->write_unlock(sh->obj, t);
		if (ops->defer_free) {
			ops->defer_free(sh->obj, t, old, rcu_rec_reclaim); /* call_rcu */
		} else {
			ops->synchronize(sh->obj, t);
			rcu_rec_reclaim(old);
		}
		atomic_fetch_add_explicit(&sh->writes, 1, memory_order_relaxed);
	} else {
		ops->read_lock(sh->obj, t);
		struct rcu_rec *p = atomic_load_explicit(&sh->cur, memory_order_acquire);
		uint64_t v = atomic_load_explicit(&p->w[0], memory_order_relaxed);
		int torn = 0;
		for (int i = 1; i < REC_WORDS; i++)
			torn |= atomic_load_explicit(&p->w[i], memory_order_relaxed) != v;
		ops->read_unlock(sh->obj, t);
		if (torn)
			atomic_fetch_add(&sh->torn, 1);
		else if (v == POISON)
			atomic_fetch_add(&sh->poisoned, 1);
		else if (v < *last) /* coherence: versions never go back for one reader */
			atomic_fetch_add(&sh->backwards, 1);
		else
			*last = v;
		atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
	}
	if (ops->quiescent)
		ops->quiescent(sh->obj, t);
}

static void *rw_worker(void *arg)
{
	struct rw_thread *a = arg;
	struct rw_shared *sh = a->sh;
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(sh->im);
	int rcu = (sh->im->caps & LB_CAP_RCU) != 0;
	uint64_t last = 0;
	void *t;
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);

	/* A registered QSBR thread that waits must be offline, or it holds up
	 * every grace period.  (online() is only for an offline thread:
	 * liburcu's QSBR online() does not wake a waiting synchronize(), so
	 * calling it on an online thread can stall a grace period forever.) */
	if (!aerr && ops->offline)
		ops->offline(sh->obj, t);
	kt_gate_pass(&sh->g);
	if (!aerr && ops->online)
		ops->online(sh->obj, t);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	while (!kt_stopping(&sh->g)) {
		if (rcu)
			rw_rcu_op(sh, t, a->writer, &last);
		else
			rw_plain_op(sh, t, a->writer);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void rwlock_case(const struct lb_impl *im, unsigned n, unsigned nwriters)
{
	struct rw_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };
	int rcu = (im->caps & LB_CAP_RCU) != 0;

	sh->im = im;
	sh->plain = tap_shadow_ok(im);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	if (rcu)
		atomic_store(&sh->cur, rcu_rec_new(1));
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct rw_thread){ .sh = sh, .tid = i, .writer = i < nwriters };
		kt_team_spawn(&tm, rw_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	tap_sleep_ms(RUN_MS);
	/* Both sides must have had a turn (a reader-preferring lock may make
	 * the writers wait a while). */
	struct tap_guard g;
	tap_guard_start(&g, 0, GUARD_MS);
	while ((atomic_load(&sh->reads) == 0 || atomic_load(&sh->writes) == 0) &&
	       !tap_guard_over(&g))
		tap_sleep_ms(1);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
	uint64_t reads = atomic_load(&sh->reads), writes = atomic_load(&sh->writes);
	if (stuck) {
		tap(0, "%s: %u threads (%u writers): hung (%u threads stuck after %d s; %llu reads, "
		    "%llu writes so far)", im->id, n, nwriters, stuck, GUARD_MS / 1000,
		    (unsigned long long)reads, (unsigned long long)writes);
		return;
	}
	int err = atomic_load(&sh->g.attach_err);
	uint64_t bad = atomic_load(&sh->excl_bad), torn = atomic_load(&sh->torn),
		 poisoned = atomic_load(&sh->poisoned), back = atomic_load(&sh->backwards);
	uint64_t wshadow = sh->plain ? sh->wshadow : writes;
	int ok = !err && reads > 0 && writes > 0 && bad == 0 && torn == 0 && poisoned == 0 &&
		 back == 0 && wshadow == writes;
	if (rcu)
		tap(ok, "%s: %u threads (%u writers): readers never see a torn or reclaimed "
		    "record, writers exclude each other (%llu reads, %llu writes, plain writer "
		    "shadow %llu; %llu torn, %llu poisoned, %llu went back, %llu writer "
		    "overlaps%s%s)", im->id, n, nwriters, (unsigned long long)reads,
		    (unsigned long long)writes, (unsigned long long)wshadow,
		    (unsigned long long)torn, (unsigned long long)poisoned,
		    (unsigned long long)back, (unsigned long long)bad, err ? ", attach: " : "",
		    err ? strerror(err) : "");
	else
		tap(ok, "%s: %u threads (%u writers): writers exclusive, readers shared, no torn "
		    "record (%llu reads, %llu writes, plain writer shadow %llu, peak %u readers; "
		    "%llu exclusion violations, %llu torn%s%s)", im->id, n, nwriters,
		    (unsigned long long)reads, (unsigned long long)writes,
		    (unsigned long long)wshadow, atomic_load(&sh->peak_readers),
		    (unsigned long long)bad, (unsigned long long)torn, err ? ", attach: " : "",
		    err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	if (rcu)
		/* every retired version, synchronously or by call_rcu (whose
		 * callbacks destroy waits for) */
		tap(atomic_load(&rcu_reclaimed) == writes, "%s: %u threads (%u writers): every "
		    "retired version reclaimed by the time the object is destroyed (%llu of %llu%s)",
		    im->id, n, nwriters, (unsigned long long)atomic_load(&rcu_reclaimed),
		    (unsigned long long)writes,
		    lb_ops_rwlock(im)->defer_free ? ", call_rcu" : "");
	free(atomic_load(&sh->cur));
	free(sh);
}

/* In the parent, no threads: 1 if the RCU hooks match LB_CAP_RCU. */
static int rwlock_hooks_ok(const struct lb_impl *im)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(im);
	int rcu = (im->caps & LB_CAP_RCU) != 0;
	int hooks = (ops->synchronize != NULL) + (ops->quiescent != NULL) +
		    (ops->offline != NULL) + (ops->online != NULL);
	/* RCU needs synchronize (the others may be no-ops, hence NULL, but
	 * offline and online come as a pair); plain rwlocks have none. */
	int consistent = rcu ? ops->synchronize && !ops->offline == !ops->online
			     : hooks == 0 && !ops->defer_free;
	tap(consistent, "%s: RCU hooks match LB_CAP_RCU (%s; synchronize %s, quiescent %s, "
	    "offline %s, online %s)", im->id, rcu ? "RCU" : "plain",
	    ops->synchronize ? "set" : "NULL", ops->quiescent ? "set" : "NULL",
	    ops->offline ? "set" : "NULL", ops->online ? "set" : "NULL");
	return consistent;
}

/* ---- writer preference (LB_CAP_WPREF) ----
 * Reader R1 (the main thread) holds the lock; writer W calls write_lock and
 * must wait; then a new reader R2 calls read_lock and must wait too, behind
 * W.  R1 releases: W must get the lock before R2.  The order of acquisition
 * is a counter taken inside the lock.  Reader preference (LB_CAP_RPREF) is
 * the same scene with the opposite verdicts: R2 gets in while R1 still holds
 * the lock and W waits, so R2 goes first.
 *
 * "Waiting" is decided from the thread, never from elapsed time: it is
 * inside the call and either asleep in the kernel (state S at two samples
 * 10 ms apart: a parking lock) or has burned WAIT_CPU_MS of its own CPU time
 * since entering the call (a spinning lock: no uncontended acquire takes
 * that much CPU).  A thread that is merely not scheduled passes neither
 * test, so it is never mistaken for a blocked one.  Only a lock that has
 * announced W by the time W blocks is writer-preferring, and every
 * LB_CAP_WPREF lock announces before it parks or spins for long (the
 * futex rwlocks poll at most 100 times first: far below WAIT_CPU_MS). */

#define WAIT_CPU_MS 20

struct wp_side {
	const char *name;
	int write;
	_Atomic unsigned *seq;   /* acquisition order, shared */
	_Atomic int in_call;     /* set just before the acquiring call */
	_Atomic int64_t cpu0_ns; /* its own CPU time then */
	_Atomic int order;       /* its place in the acquisition order; -1 before */
};

static int64_t cpu_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int wp_acquire(struct helper *h, void *t)
{
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(h->im);
	struct wp_side *s = h->arg;
	atomic_store(&s->cpu0_ns, cpu_ns(CLOCK_THREAD_CPUTIME_ID));
	atomic_store(&s->in_call, 1);
	if (s->write)
		ops->write_lock(h->obj, t);
	else
		ops->read_lock(h->obj, t);
	atomic_store(&s->order, (int)atomic_fetch_add(s->seq, 1));
	if (s->write)
		ops->write_unlock(h->obj, t);
	else
		ops->read_unlock(h->obj, t);
	return 0;
}

/* Polls until the side is provably waiting (1) or has got the lock (0);
 * -1 if neither within ms of entering the call (a hang guard), or if its
 * thread has not reached the call within 2 x ms: on a loaded machine a new
 * thread once took over 10 s to run at all, which says nothing about the
 * lock (the process's own guard still bounds the case).  Both guards stop
 * while the threads are kept off the CPUs (tap_guard): once, on a stalled
 * vCPU, the writer got no CPU at all in 30 s. */
static int wp_wait_blocked(struct helper *h, struct wp_side *s, long ms)
{
	struct tap_guard g;
	tap_guard_start(&g, 0, 2 * ms);
	int asleep = 0, entered = 0;
	clockid_t cid;
	int have_cid = 0;
	while (!tap_guard_over(&g)) {
		if (atomic_load(&s->order) >= 0 || atomic_load(&h->done))
			return 0;
		if (atomic_load(&s->in_call)) {
			if (!entered) {
				entered = 1;
				tap_guard_reset(&g, ms);
			}
			if (!have_cid)
				have_cid = pthread_getcpuclockid(h->th, &cid) == 0;
			int64_t used = have_cid ? cpu_ns(cid) - atomic_load(&s->cpu0_ns) : 0;
			asleep = tap_task_state(atomic_load(&h->ktid)) == 'S' ? asleep + 1 : 0;
			if (atomic_load(&s->order) < 0 &&
			    (asleep >= 2 || used >= (int64_t)WAIT_CPU_MS * 1000000))
				return 1;
		}
		tap_sleep_ms(asleep ? 10 : 1);
	}
	return -1;
}

static const char *wp_lost(struct wp_side *s)
{
	return atomic_load(&s->in_call) ? "in the call, neither got in nor provably waited "
	       "within 30 s" : "never reached the call within 60 s: its thread attach waits, "
	       "or it never got a CPU";
}

static void rwlock_pref(const struct lb_impl *im, unsigned n, unsigned x)
{
	const int wpref = (im->caps & LB_CAP_WPREF) != 0;
	const char *pref = wpref ? "writer preference" : "reader preference";
	const struct lb_rwlock_ops *ops = lb_ops_rwlock(im);
	struct lb_prim_cfg cfg = { .nthreads = 3, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	_Atomic unsigned seq = 0;
	struct wp_side w = { .name = "writer", .write = 1, .seq = &seq },
		       r2 = { .name = "reader R2", .write = 0, .seq = &seq };
	void *o, *t;

	(void)n, (void)x;
	atomic_init(&w.order, -1);
	atomic_init(&r2.order, -1);
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: %s: setup", im->id, pref);
		return;
	}
	ops->read_lock(o, t); /* R1 */
	struct helper *hw = kt_helper_spawn(im, o, 1, wp_acquire, &w);
	int wb = wp_wait_blocked(hw, &w, GUARD_MS);
	tap(wb == 1, "%s: while reader R1 holds the lock, a writer's write_lock waits (%s)",
	    im->id, wb == 1 ? "it waits" : wb == 0 ? "it got in" : wp_lost(&w));
	struct helper *hr = NULL;
	int rb = -2;
	if (wb == 1) {
		hr = kt_helper_spawn(im, o, 2, wp_acquire, &r2);
		rb = wp_wait_blocked(hr, &r2, GUARD_MS);
		if (wpref)
			tap(rb == 1, "%s: while R1 holds it and a writer waits, a new reader "
			    "R2's read_lock waits (%s)", im->id, rb == 1 ? "it waits" :
			    rb == 0 ? "it got in ahead of the writer" : wp_lost(&r2));
		else
			tap(rb == 0, "%s: while R1 holds it and a writer waits, a new reader "
			    "R2 gets in (%s)", im->id, rb == 0 ? "it got in" : rb == 1 ?
			    "it waits behind the writer" : wp_lost(&r2));
	}
	ops->read_unlock(o, t);
	int rw = kt_helper_reap(hw, GUARD_MS), rr = hr ? kt_helper_reap(hr, GUARD_MS) : 0;
	if (rw == H_HUNG || rr == H_HUNG) {
		tap(0, "%s: after R1's release: %s still stuck %d s later", im->id,
		    rw == H_HUNG ? "the writer" : "R2", GUARD_MS / 1000);
		tap_abandon(); /* w, r2 and seq live in this frame */
	}
	if (hr) {
		int ow = atomic_load(&w.order), orr = atomic_load(&r2.order);
		if (wpref)
			tap(ow >= 0 && orr >= 0 && ow < orr, "%s: after R1's release the waiting "
			    "writer gets the lock before R2 (acquisition order: writer %d, R2 %d)",
			    im->id, ow, orr);
		else
			tap(ow >= 0 && orr >= 0 && orr < ow, "%s: R2 gets the lock before the "
			    "writer that waited first (acquisition order: writer %d, R2 %d)",
			    im->id, ow, orr);
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* The preference tests run on the rwlocks the registry flags LB_CAP_WPREF
 * or LB_CAP_RPREF, so the sets follow the registry; this check keeps them
 * from shrinking unseen: our two policies and glibc's two kinds each in the
 * right set, and no lock in both. */
static void pref_set(unsigned cap, char *ids, size_t size, unsigned *n)
{
	size_t len = 0;
	ids[0] = '\0';
	*n = 0;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (lb_impl_kind(im) != LB_KIND_RWLOCK || !(im->caps & cap) ||
		    (im->caps & LB_CAP_HIDDEN))
			continue;
		if (len < size)
			len += (size_t)snprintf(ids + len, size - len, "%s%s", *n ? ", " : "",
						im->id);
		(*n)++;
	}
}

static int pref_has(const char *id, unsigned cap)
{
	const struct lb_impl *im = lb_impl_find(id);
	return im && (im->caps & cap);
}

void kindtest_rwlock_registry(void)
{
	char w[512], r[512];
	unsigned nw, nr, both = 0;
	pref_set(LB_CAP_WPREF, w, sizeof(w), &nw);
	pref_set(LB_CAP_RPREF, r, sizeof(r), &nr);
	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		both += (lb_impls[j].caps & LB_CAP_WPREF) && (lb_impls[j].caps & LB_CAP_RPREF);
	tap(pref_has("futex-rwlock-wpref", LB_CAP_WPREF) &&
	    pref_has("pthread-rwlock-wpref", LB_CAP_WPREF) &&
	    pref_has("futex-rwlock-rpref", LB_CAP_RPREF) &&
	    pref_has("pthread-rwlock", LB_CAP_RPREF) && both == 0,
	    "writer preference is tested on the %u rwlocks flagged LB_CAP_WPREF (%s), reader "
	    "preference on the %u flagged LB_CAP_RPREF (%s): futex-rwlock-wpref and "
	    "pthread-rwlock-wpref in the first, futex-rwlock-rpref and pthread-rwlock in the "
	    "second, %u in both", nw, w, nr, r, both);
}

void kindtest_rwlock(const struct lb_impl *im)
{
	if (!rwlock_hooks_ok(im))
		return;
	for (size_t c = 0; c < KT_NCOUNTS; c++) {
		unsigned n = kt_counts[c];
		tap_run(im, rwlock_case, n, n / 2, "%u threads, %u writers", n, n / 2);
		if (n / 2 != 1)
			tap_run(im, rwlock_case, n, 1, "%u threads, 1 writer", n);
	}
	if (im->caps & (LB_CAP_WPREF | LB_CAP_RPREF))
		tap_run(im, rwlock_pref, 0, 0, "%s preference",
			im->caps & LB_CAP_WPREF ? "writer" : "reader");
}
