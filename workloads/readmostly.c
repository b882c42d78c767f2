/* readmostly: a shared record that many read and few write.
 *
 * The record is READMOSTLY_WORDS 64-bit words that all hold the same version
 * number.  Each op is a read with probability --param read_pct (default
 * 90), else a write; each thread draws from its own xorshift64* generator,
 * seeded from its thread id and a fixed constant, so a run's mix of reads
 * and writes is deterministic per thread.
 *
 *   read   read_lock, read every word (--cs work between the first and the
 *          rest), read_unlock; the words must all be equal (else a torn
 *          read).  Under a plain rwlock the reader also checks that no
 *          writer is inside.
 *   write  write_lock, store version + 1 into every word (--cs work after
 *          the first), write_unlock.  A writers_in word, incremented on
 *          entry and decremented on exit, must read 1 inside (else two
 *          writers overlapped).
 *
 * Plain rwlocks update the record in place.  RCU (urcu-memb, urcu-qsbr,
 * LB_CAP_RCU) cannot: its readers run alongside writers.  There a write is
 * a copy-update: allocate a new record, fill it, publish its pointer with a
 * release store (readers load it with acquire), write_unlock, synchronize()
 * (wait for every reader that might still see the old record), then
 * poison the old record and free it.  A reader that sees the poison
 * pattern or a torn record caught a grace period that ended too early.
 * The loop calls quiescent() after every op; urcu-qsbr reports a quiescent
 * state on every 1024th call (as liburcu's own benchmark does), and QSBR
 * readers go offline around the writers' mutex (a blocking wait).
 *
 * A seqlock (seqlock.h) takes no lock to read: read_begin, read the words,
 * read_retry, and read them again while it says a writer came by; only the
 * read it accepts is checked (a torn accepted read is a broken seqlock).
 * Writers update in place, as under a plain rwlock.  read_retries counts
 * the discarded reads in the window (empty for the other kinds).
 *
 * Dedicated roles, as RCU's users and liburcu's own benchmarks
 * (tests/benchmark/test_urcu*.c) run it: --param writers=W makes threads
 * 0..W-1 write on every op and the rest read on every op (read_pct does
 * not apply then), and --param write_delay_ns=D makes each writer busy for
 * D ns after each write, outside any lock (liburcu's -d).  --param
 * read_words=1 makes a read load (and check for the poison) only the
 * first word, as liburcu's benchmark reader loads one int: a torn record
 * cannot show then, a reclaimed one still does.
 *
 * Latency: the time to acquire the read or the write side (sampled), for
 * both kinds of op.  RCU's grace-period wait is not in it: it shows in
 * writer_ops_per_sec.
 *
 * Own columns: reader_ops_per_sec and writer_ops_per_sec are the reads and
 * the writes done inside the timed window (each thread snapshots its
 * counters where it sees the window open and close, exactly where the
 * harness counts ops) divided by the window's length, so the two add up to
 * ops_per_sec.  torn_reads counts torn or poisoned reads over the whole
 * run (must be 0).
 *
 * Check, after every repetition: no torn read, no reader alongside a
 * writer (plain rwlocks), no writer alongside a writer, and the final
 * record's version equals the number of writes done (warm-up included);
 * the difference is lost_updates (lost writes).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

#define READMOSTLY_WORDS 8 /* 64 bytes: one x86 cache line of payload */
#define READMOSTLY_POISON 0xdeadbeefdeadbeefull
#define READMOSTLY_SEED 0x6c6f636b62656e63ull /* "lockbenc": deterministic per thread */

struct readmostly_rec {
	_Atomic uint64_t word[READMOSTLY_WORDS];
};

/* What each thread leaves behind, written once as it leaves its loop. */
struct readmostly_result {
	uint64_t reads_win, writes_win; /* inside the timed window */
	uint64_t writes;                /* whole run: the version must match */
	uint64_t torn;                  /* torn or poisoned reads */
	uint64_t reader_excl;           /* reads that saw a writer inside */
	uint64_t writer_excl;           /* writes that saw another writer */
	uint64_t oom;                   /* RCU copies that could not be allocated */
	uint64_t retries_win;           /* seqlock reads discarded, in the window */
};

struct readmostly_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	uint64_t read_below; /* a read when the top 32 random bits are below */
	unsigned writers;    /* dedicated writers (threads 0..writers-1); 0: mixed */
	uint64_t write_delay_iters; /* busy work after each write, outside locks */
	int one_word;        /* read_words=1: a read loads only word 0 */
	struct readmostly_result *res; /* [nthreads] */
	/* RCU: the published record.  Its own line: every reader loads it. */
	alignas(LB_CACHELINE) _Atomic(struct readmostly_rec *) cur;
	/* Plain rwlocks: the record itself, and writers_in next to it (in the
	 * same 128-byte block), so the readers' exclusion check touches no
	 * line they would not touch anyway. */
	alignas(LB_CACHELINE) struct readmostly_rec inplace;
	_Atomic uint64_t writers_in;
};

/* splitmix64 of the thread id: a non-zero, well-mixed xorshift seed. */
static uint64_t readmostly_seed(unsigned tid)
{
	uint64_t z = READMOSTLY_SEED + (uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : READMOSTLY_SEED;
}

/* xorshift64*. */
static inline uint64_t readmostly_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

static inline uint64_t readmostly_load(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline void readmostly_store(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}

/* Reclaim a version no reader can see any more: poison it first, so a
 * reader that could still see it would read the poison. */
static void readmostly_reclaim(void *p)
{
	struct readmostly_rec *old = p;
	for (unsigned i = 0; i < READMOSTLY_WORDS; i++)
		readmostly_store(&old->word[i], READMOSTLY_POISON);
	free(old);
}

/* The thread's read threshold (see read_below): its role's, with
 * dedicated writers; else the mix's.  Above UINT32_MAX: always read. */
static inline uint64_t readmostly_read_below(const struct readmostly_state *s, unsigned tid)
{
	if (!s->writers)
		return s->read_below;
	return tid < s->writers ? 0 : (uint64_t)UINT32_MAX + 1;
}

/* A torn or poisoned record: words that differ, or the poison.  Written
 * out rather than looped: eight loads of one cache line and an OR of
 * differences, so the check costs about what reading the record costs
 * (the compiler keeps a loop over atomics as a loop). */
static inline int readmostly_torn(const struct readmostly_rec *p, uint64_t *version)
{
	_Static_assert(READMOSTLY_WORDS == 8, "readmostly_torn reads eight words");
	uint64_t v = readmostly_load(&p->word[0]);
	uint64_t d = (readmostly_load(&p->word[1]) ^ v) | (readmostly_load(&p->word[2]) ^ v) |
		     (readmostly_load(&p->word[3]) ^ v) | (readmostly_load(&p->word[4]) ^ v) |
		     (readmostly_load(&p->word[5]) ^ v) | (readmostly_load(&p->word[6]) ^ v) |
		     (readmostly_load(&p->word[7]) ^ v);
	*version = v;
	return (d != 0) | (v == READMOSTLY_POISON);
}

/* The loop for one rwlock; rcu is a compile-time constant per instance.
 * Relaxed loads and stores on the record: the lock (or, for RCU, the
 * pointer's release/acquire) orders them; atomics only keep a broken lock
 * from being undefined behaviour. */
static inline __attribute__((always_inline)) void
readmostly_loop(struct lb_worker *w, const struct lb_rwlock_ops *ops, const int rcu)
{
	struct readmostly_state *s = w->state;
	void *l = s->prim, *t = w->tctx;
	/* read_pct=100, or a dedicated reader: no draw at all (a read-only
	 * loop, as liburcu's readers are); the branch is the same every op.
	 * A dedicated writer: read_below 0, never a read. */
	const uint64_t read_below = readmostly_read_below(s, w->tid);
	const int all_reads = read_below > UINT32_MAX;
	const uint64_t write_delay = s->write_delay_iters;
	const int one_word = s->one_word;
	uint64_t rng = readmostly_seed(w->tid);
	struct readmostly_result r = { 0 };
	uint64_t reads = 0, reads_m = 0, writes_m = 0;
	unsigned seen = w->seen;
	int in_window = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		if (__builtin_expect(h.seen != seen, 0)) {
			/* The window just opened: n == reads + writes here, the
			 * harness's ops_at_measure. */
			seen = h.seen;
			reads_m = reads;
			writes_m = r.writes;
			in_window = 1;
		}
		uint64_t t0 = lb_sample_begin(w, &h, n);
		if (all_reads || (readmostly_rand(&rng) >> 32) < read_below) {
			ops->read_lock(l, t);
			lb_sample_end(w, t0);
			const struct readmostly_rec *p;
			if (rcu) {
				/* acquire: pairs with the writer's release store
				 * of the pointer, so the words it filled are
				 * visible. */
				p = atomic_load_explicit(&s->cur, memory_order_acquire);
			} else {
				p = &s->inplace;
				if (readmostly_load(&s->writers_in) != 0)
					r.reader_excl++;
			}
			uint64_t v, v0 = 0;
			if (h.cs_iters) {
				/* --cs work between the first word and the rest */
				v0 = readmostly_load(&p->word[0]);
				lb_busy(h.cs_iters);
			}
			int bad = one_word ? (v = readmostly_load(&p->word[0])) == READMOSTLY_POISON
					   : readmostly_torn(p, &v) | (h.cs_iters && v != v0);
			ops->read_unlock(l, t);
			r.torn += (uint64_t)bad;
			reads++;
		} else {
			if (ops->offline)
				ops->offline(l, t); /* QSBR: the mutex may block */
			ops->write_lock(l, t);
			if (ops->online)
				ops->online(l, t);
			lb_sample_end(w, t0);
			uint64_t in = readmostly_load(&s->writers_in);
			readmostly_store(&s->writers_in, in + 1);
			if (in != 0)
				r.writer_excl++;
			struct readmostly_rec *old = NULL;
			if (!rcu) {
				struct readmostly_rec *p = &s->inplace;
				uint64_t v = readmostly_load(&p->word[0]) + 1;
				readmostly_store(&p->word[0], v);
				lb_busy(h.cs_iters); /* a torn record lives this long */
				for (unsigned i = 1; i < READMOSTLY_WORDS; i++)
					readmostly_store(&p->word[i], v);
			} else {
				/* Writers are serialised, so only we change cur. */
				old = atomic_load_explicit(&s->cur, memory_order_relaxed);
				struct readmostly_rec *p = malloc(sizeof(*p));
				if (p) {
					uint64_t v = readmostly_load(&old->word[0]) + 1;
					for (unsigned i = 0; i < READMOSTLY_WORDS; i++)
						readmostly_store(&p->word[i], v);
					lb_busy(h.cs_iters);
					/* release: pairs with the readers'
					 * acquire load of cur. */
					atomic_store_explicit(&s->cur, p, memory_order_release);
				} else {
					r.oom++;
					old = NULL;
				}
			}
			in = readmostly_load(&s->writers_in);
			if (in != 1)
				r.writer_excl++;
			readmostly_store(&s->writers_in, in - 1);
			ops->write_unlock(l, t);
			if (old && ops->defer_free) {
				/* call_rcu: reclaimed after a grace period,
				 * without waiting for it here */
				ops->defer_free(l, t, old, readmostly_reclaim);
			} else if (old) {
				/* Every reader that could see old has finished:
				 * poison it so that one that had not would see
				 * it, then reclaim. */
				ops->synchronize(l, t);
				readmostly_reclaim(old);
			}
			r.writes++;
			lb_busy(write_delay);
		}
		if (ops->quiescent)
			ops->quiescent(l, t);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	if (!in_window) { /* stopped before the window opened: empty window */
		reads_m = reads;
		writes_m = r.writes;
	}
	r.reads_win = reads - reads_m;
	r.writes_win = r.writes - writes_m;
	s->res[w->tid] = r;
	lb_finish(w, n);
}

/* The loop for one seqlock: readers read the in-place record without a
 * lock and read it again while read_retry says a writer came by. */
static inline __attribute__((always_inline)) void
readmostly_seq_loop(struct lb_worker *w, const struct lb_seqlock_ops *ops)
{
	struct readmostly_state *s = w->state;
	void *l = s->prim, *t = w->tctx;
	const uint64_t read_below = readmostly_read_below(s, w->tid);
	const int all_reads = read_below > UINT32_MAX;
	const uint64_t write_delay = s->write_delay_iters;
	uint64_t rng = readmostly_seed(w->tid);
	struct readmostly_result r = { 0 };
	uint64_t reads = 0, reads_m = 0, writes_m = 0, retries = 0, retries_m = 0;
	unsigned seen = w->seen;
	int in_window = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;
	struct readmostly_rec *p = &s->inplace;

	while (lb_running(w, &h, n)) {
		if (__builtin_expect(h.seen != seen, 0)) {
			seen = h.seen;
			reads_m = reads;
			writes_m = r.writes;
			retries_m = retries;
			in_window = 1;
		}
		uint64_t t0 = lb_sample_begin(w, &h, n);
		if (all_reads || (readmostly_rand(&rng) >> 32) < read_below) {
			unsigned seq = ops->read_begin(l);
			lb_sample_end(w, t0);
			int bad;
			for (;;) {
				uint64_t v, v0 = 0;
				if (h.cs_iters) {
					v0 = readmostly_load(&p->word[0]);
					lb_busy(h.cs_iters);
				}
				bad = readmostly_torn(p, &v) | (h.cs_iters && v != v0);
				if (!ops->read_retry(l, seq))
					break;
				retries++;
				seq = ops->read_begin(l);
			}
			r.torn += (uint64_t)bad; /* only an accepted read counts */
			reads++;
		} else {
			ops->write_lock(l, t);
			lb_sample_end(w, t0);
			uint64_t in = readmostly_load(&s->writers_in);
			readmostly_store(&s->writers_in, in + 1);
			if (in != 0)
				r.writer_excl++;
			uint64_t v = readmostly_load(&p->word[0]) + 1;
			readmostly_store(&p->word[0], v);
			lb_busy(h.cs_iters); /* a torn record lives this long */
			for (unsigned i = 1; i < READMOSTLY_WORDS; i++)
				readmostly_store(&p->word[i], v);
			in = readmostly_load(&s->writers_in);
			if (in != 1)
				r.writer_excl++;
			readmostly_store(&s->writers_in, in - 1);
			ops->write_unlock(l, t);
			r.writes++;
			lb_busy(write_delay);
		}
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	if (!in_window) {
		reads_m = reads;
		writes_m = r.writes;
		retries_m = retries;
	}
	r.reads_win = reads - reads_m;
	r.writes_win = r.writes - writes_m;
	r.retries_win = retries - retries_m;
	s->res[w->tid] = r;
	lb_finish(w, n);
}

#define READMOSTLY_LOOP(sym, id, be, caps, sum) \
	static void readmostly_loop_##sym(struct lb_worker *w) \
	{ readmostly_loop(w, &lb_##sym##_ops, ((caps) & LB_CAP_RCU) != 0); }
LB_RWLOCK_IMPLS(READMOSTLY_LOOP)
#define READMOSTLY_SEQ_LOOP(sym, id, be, caps, sum) \
	static void readmostly_loop_##sym(struct lb_worker *w) \
	{ readmostly_seq_loop(w, &lb_##sym##_ops); }
LB_SEQLOCK_IMPLS(READMOSTLY_SEQ_LOOP)

#define READMOSTLY_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = readmostly_loop_##sym,
static const lb_loop_fn readmostly_loops[LB_IMPL_COUNT] = {
	LB_RWLOCK_IMPLS(READMOSTLY_ENTRY)
	LB_SEQLOCK_IMPLS(READMOSTLY_ENTRY)
};

static int readmostly_setup(struct lb_wctx *c)
{
	struct readmostly_state *s = lb_cache_alloc(sizeof(*s));
	uint64_t pct = c->param[0];
	int ret;

	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	/* pct% of the 2^32 values of the top 32 random bits. */
	s->read_below = (pct << 32) / 100;
	s->writers = (unsigned)c->param[1];
	s->write_delay_iters = lb_busy_iters(c->param[2]);
	s->one_word = c->param[3] == 1;
	atomic_init(&s->writers_in, 0);
	for (unsigned i = 0; i < READMOSTLY_WORDS; i++)
		atomic_init(&s->inplace.word[i], 0);
	s->res = calloc(c->nthreads, sizeof(*s->res));
	struct readmostly_rec *first = malloc(sizeof(*first));
	if (!s->res || !first) {
		free(first);
		ret = ENOMEM;
		goto out_res;
	}
	for (unsigned i = 0; i < READMOSTLY_WORDS; i++)
		atomic_init(&first->word[i], 0);
	atomic_init(&s->cur, first);
	if ((ret = lb_prim_create(c->impl, &c->cfg, &s->prim)) != 0) {
		free(first);
		goto out_res;
	}
	c->state = s;
	return 0;

out_res:
	free(s->res);
	free(s);
	return ret;
}

static void readmostly_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct readmostly_state *s = c->state;
	struct readmostly_result sum = { 0 };
	(void)ws;

	for (unsigned i = 0; i < c->nthreads; i++) {
		const struct readmostly_result *r = &s->res[i];
		sum.reads_win += r->reads_win;
		sum.writes_win += r->writes_win;
		sum.writes += r->writes;
		sum.torn += r->torn;
		sum.reader_excl += r->reader_excl;
		sum.writer_excl += r->writer_excl;
		sum.oom += r->oom;
		sum.retries_win += r->retries_win;
	}

	/* The final record: all words equal, version = writes done. */
	const struct readmostly_rec *p = (c->impl->caps & LB_CAP_RCU)
		? atomic_load_explicit(&s->cur, memory_order_relaxed) : &s->inplace;
	struct lb_rm_evidence e = {
		.writes = sum.writes, .oom = sum.oom, .torn = sum.torn,
		.reader_excl = sum.reader_excl, .writer_excl = sum.writer_excl,
		.version = readmostly_load(&p->word[0]),
	};
	for (unsigned i = 1; i < READMOSTLY_WORDS; i++)
		e.final_torn |= readmostly_load(&p->word[i]) != e.version;
	lb_judge_readmostly(out, &e);
	out->extra[0] = c->window_s > 0 ? (double)sum.reads_win / c->window_s : NAN;
	out->extra[1] = c->window_s > 0 ? (double)sum.writes_win / c->window_s : NAN;
	out->extra[2] = (double)sum.torn;
	out->extra[3] = lb_impl_kind(c->impl) == LB_KIND_SEQLOCK ? (double)sum.retries_win : NAN;
}

static void readmostly_teardown(struct lb_wctx *c)
{
	struct readmostly_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	free(atomic_load_explicit(&s->cur, memory_order_relaxed));
	free(s->res);
	free(s);
	c->state = NULL;
}

static const struct lb_param_spec readmostly_params[] = {
	{ "read_pct", "90", "percentage of ops that are reads, 0-100; the rest are writes",
	  "a percentage", 0, 100, NULL, NULL },
	{ "writers", "0", "dedicated writers: threads that only write, the rest only read "
	  "(read_pct then unused); 0: every thread mixes", "a writer count", 0,
	  LB_MAX_THREADS - 1, NULL, NULL },
	{ "write_delay_ns", "0", "busy work after each write, outside any lock, 0-100000000 "
	  "(liburcu's benchmark -d)", "a delay in ns", 0, 100000000, NULL, NULL },
	{ "read_words", "8", "words a read loads and checks: 8 (the record: torn reads show) or "
	  "1 (liburcu's benchmark reader: only reclaimed reads show; rwlock and RCU kinds)",
	  "a word count", 1, 8, "1 or 8", NULL },
	{ NULL },
};

/* writers=W needs a reader too (read_pct is unused then: every thread's
 * role decides its ops). */
static int readmostly_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	if (vals[3] != 1 && vals[3] != 8) {
		snprintf(err, len, "readmostly: read_words=%llu is not a read size; give 1 or 8",
			 (unsigned long long)vals[3]);
		return -1;
	}
	if (vals[1] && vals[1] >= nthreads) {
		snprintf(err, len, "readmostly: writers=%llu leaves no reader among %u threads; give "
			 "writers=0 (mixed) or 1 to %u", (unsigned long long)vals[1], nthreads,
			 nthreads - 1);
		return -1;
	}
	return 0;
}

static const char *const readmostly_extra[] = {
	"reader_ops_per_sec", "writer_ops_per_sec", "torn_reads", "read_retries", NULL,
};

const struct lb_workload lb_wl_readmostly = {
	.name = "readmostly",
	.summary = "read-mostly record: read_pct% reads of 8 equal words, the rest write "
		   "version+1 (RCU: copy, publish, synchronize, free; seqlock: read, retry)",
	.checks = "no torn or reclaimed read (seqlock: no torn read accepted; retries "
		  "counted); writers (and, for rwlocks, readers and writers) never overlap; "
		  "final version == writes done",
	.extra_cols = readmostly_extra,
	.params = readmostly_params,
	.validate = readmostly_validate,
	.loops = readmostly_loops,
	.setup = readmostly_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = readmostly_check,
	.teardown = readmostly_teardown,
};
