/* seqlock: a read that no writer overlapped is accepted (read_retry false),
 * one that a writer overlapped is not; read_begin waits while a writer is
 * inside; writers exclude each other; and under concurrent readers and
 * writers no accepted read is ever torn.  The record's words are relaxed
 * atomics, as seqlock.h requires; the writers keep a plain shadow counter
 * inside the write lock, so that ThreadSanitizer checks the writers'
 * ordering. */
#include <stdatomic.h>
#include <string.h>

#include "kindtest.h"

#define SQ_WORDS 8

/* ---- one thread: what read_retry says ---- */

static void seq_single(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)n, (void)x;
	const struct lb_seqlock_ops *ops = lb_ops_seqlock(im);
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: setup", im->id);
		return;
	}
	unsigned s0 = ops->read_begin(o);
	int r0 = ops->read_retry(o, s0);
	ops->write_lock(o, t);
	ops->write_unlock(o, t);
	int r1 = ops->read_retry(o, s0);
	unsigned s1 = ops->read_begin(o);
	int r2 = ops->read_retry(o, s1);
	tap(!r0 && r1 && !r2 && s1 != s0, "%s: a read with no writer in between is accepted "
	    "(retry %s), one with a write in between is not (retry %s), and the next read "
	    "begins at a new sequence (%u -> %u, retry %s)", im->id, kt_bool_str(r0),
	    kt_bool_str(r1), s0, s1, kt_bool_str(r2));
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* ---- a writer inside: readers and writers wait ---- */

static int sq_read_begin(struct helper *h, void *t)
{
	(void)t;
	lb_ops_seqlock(h->im)->read_begin(h->obj);
	return 1;
}

static int sq_write(struct helper *h, void *t)
{
	const struct lb_seqlock_ops *ops = lb_ops_seqlock(h->im);
	ops->write_lock(h->obj, t);
	ops->write_unlock(h->obj, t);
	return 1;
}

static void seq_writer_inside(const struct lb_impl *im, unsigned n, unsigned x)
{
	(void)n, (void)x;
	const struct lb_seqlock_ops *ops = lb_ops_seqlock(im);
	struct lb_prim_cfg cfg = { .nthreads = 3, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: setup", im->id);
		return;
	}
	ops->write_lock(o, t);
	struct helper *rd = kt_helper_spawn(im, o, 1, sq_read_begin, NULL);
	struct helper *wr = kt_helper_spawn(im, o, 2, sq_write, NULL);
	tap_sleep_ms(QUIET_MS);
	int rd_early = atomic_load(&rd->done), wr_early = atomic_load(&wr->done);
	ops->write_unlock(o, t);
	int rd_res = kt_helper_reap(rd, GUARD_MS), wr_res = kt_helper_reap(wr, GUARD_MS);
	tap(!rd_early && !wr_early && rd_res == 1 && wr_res == 1,
	    "%s: while a writer is inside, read_begin waits (%s) and another writer's "
	    "write_lock waits (%s); both return after write_unlock (%s, %s)", im->id,
	    rd_early ? "it returned" : "it waits", wr_early ? "it returned" : "it waits",
	    kt_bool_str(rd_res), kt_bool_str(wr_res));
	if (rd_res == H_HUNG || wr_res == H_HUNG)
		tap_abandon();
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

/* ---- readers and writers together ---- */

struct sq_shared;
struct sq_thread {
	struct sq_shared *sh;
	unsigned tid;
	int writer;
};

struct sq_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	_Atomic uint64_t rec[SQ_WORDS];
	_Atomic unsigned writers_in;
	_Atomic uint64_t reads, writes, retries, torn, excl_bad;
	int plain;
	uint64_t wshadow; /* +1 per write section: plain, for TSan */
	struct sq_thread t[MAXT];
};

static void *sq_worker(void *arg)
{
	struct sq_thread *a = arg;
	struct sq_shared *sh = a->sh;
	const struct lb_seqlock_ops *ops = lb_ops_seqlock(sh->im);
	void *t;
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	while (!kt_stopping(&sh->g)) {
		if (a->writer) {
			ops->write_lock(sh->obj, t);
			if (atomic_fetch_add_explicit(&sh->writers_in, 1, memory_order_relaxed) != 0)
				atomic_fetch_add(&sh->excl_bad, 1);
			uint64_t v = atomic_load_explicit(&sh->rec[0], memory_order_relaxed) + 1;
			for (int i = 0; i < SQ_WORDS; i++)
				atomic_store_explicit(&sh->rec[i], v, memory_order_relaxed);
			if (sh->plain)
				sh->wshadow++;
			atomic_fetch_sub_explicit(&sh->writers_in, 1, memory_order_relaxed);
			ops->write_unlock(sh->obj, t);
			atomic_fetch_add_explicit(&sh->writes, 1, memory_order_relaxed);
		} else {
			int torn;
			unsigned seq = ops->read_begin(sh->obj);
			for (;;) {
				uint64_t v = atomic_load_explicit(&sh->rec[0], memory_order_relaxed);
				torn = 0;
				for (int i = 1; i < SQ_WORDS; i++)
					torn |= atomic_load_explicit(&sh->rec[i],
								     memory_order_relaxed) != v;
				if (!ops->read_retry(sh->obj, seq))
					break;
				atomic_fetch_add_explicit(&sh->retries, 1, memory_order_relaxed);
				seq = ops->read_begin(sh->obj);
			}
			if (torn)
				atomic_fetch_add(&sh->torn, 1);
			atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
		}
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

/* A team of n threads, nwriters of them writers.  test-seqlock-blind
 * (hidden, broken on purpose) must be caught instead: a write leaves the
 * record torn between its first and last store, and with writers and
 * readers on both CPUs some read lands there; the case waits for one. */
static void seq_team(const struct lb_impl *im, unsigned n, unsigned nwriters)
{
	int broken = (im->caps & LB_CAP_HIDDEN) != 0;
	struct sq_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };

	sh->im = im;
	sh->plain = tap_shadow_ok(im);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct sq_thread){ .sh = sh, .tid = i, .writer = i < nwriters };
		kt_team_spawn(&tm, sq_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	tap_sleep_ms(RUN_MS);
	struct tap_guard g;
	tap_guard_start(&g, 0, GUARD_MS);
	while ((broken ? atomic_load(&sh->torn) == 0
		       : atomic_load(&sh->reads) == 0 || atomic_load(&sh->writes) == 0) &&
	       !tap_guard_over(&g))
		tap_sleep_ms(1);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
	uint64_t reads = atomic_load(&sh->reads), writes = atomic_load(&sh->writes);
	if (stuck) {
		tap(0, "%s: %u threads (%u writers): hung (%u threads stuck; %llu reads, %llu "
		    "writes so far)", im->id, n, nwriters, stuck, (unsigned long long)reads,
		    (unsigned long long)writes);
		return;
	}
	uint64_t torn = atomic_load(&sh->torn), bad = atomic_load(&sh->excl_bad);
	uint64_t wshadow = sh->plain ? sh->wshadow : writes;
	uint64_t final = atomic_load(&sh->rec[0]);
	if (broken)
		tap(torn > 0, "%s (broken on purpose: the check must catch it): %llu torn reads "
		    "accepted over %llu reads", im->id, (unsigned long long)torn,
		    (unsigned long long)reads);
	else
		tap(!atomic_load(&sh->g.attach_err) && reads > 0 && writes > 0 && torn == 0 &&
			    bad == 0 && wshadow == writes && final == writes,
		    "%s: %u threads (%u writers): no accepted read is torn, writers exclude "
		    "each other (%llu reads accepted, %llu retried, %llu writes, final version "
		    "%llu, plain writer shadow %llu; %llu torn, %llu writer overlaps)", im->id, n,
		    nwriters, (unsigned long long)reads,
		    (unsigned long long)atomic_load(&sh->retries), (unsigned long long)writes,
		    (unsigned long long)final, (unsigned long long)wshadow,
		    (unsigned long long)torn, (unsigned long long)bad);
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

void kindtest_seqlock(const struct lb_impl *im)
{
	if (im->caps & LB_CAP_HIDDEN) {
		tap_run(im, seq_team, 4, 2, "caught");
		return;
	}
	tap_run(im, seq_single, 0, 0, "read_retry");
	tap_run(im, seq_writer_inside, 0, 0, "a writer inside");
	for (size_t c = 0; c < KT_NCOUNTS; c++) {
		unsigned n = kt_counts[c];
		tap_run(im, seq_team, n, n / 2, "%u threads, %u writers", n, n / 2);
		if (n / 2 != 1)
			tap_run(im, seq_team, n, 1, "%u threads, 1 writer", n);
	}
}
