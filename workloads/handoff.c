/* handoff: ping-pong between pairs of threads, the cost of one wake-up.
 *
 * Threads 2k and 2k+1 form pair k (so the thread count must be even) and
 * pass a turn back and forth through the primitive under test:
 *   event      two events per pair, ping and pong.  Even thread: set(ping),
 *              wait(pong), clear(pong).  Odd thread: wait(ping),
 *              clear(ping), set(pong).
 *   condition  one condition per pair and a `turn` word under its lock.
 *              Each side waits while turn is not its own, then hands the
 *              turn over and notify()s.
 *   semaphore  two semaphores per pair, created with no permits.  Even
 *              releases A and acquires B; odd acquires A and releases B.
 * An op of the even thread is one round trip (its latency sample, taken
 * around hand-over..wake-up, is the round-trip time); an op of the odd
 * thread is one ping handled, and it takes no latency samples.  So `ops`
 * in results.csv counts one-way hand-offs (twice the round trips) and the
 * latency columns are round trips.  --cs is work the odd thread does while
 * it holds the turn (inside the round trip), --think work the even thread
 * does between round trips.
 *
 * Check, inside every hand-off: a sequence word per pair.  The even thread
 * writes 2n+1 before handing over round n and, when it wakes, must read
 * 2n+2; the odd thread must wake to an odd value and writes value + 1
 * before handing back.  A wake-up that reads anything else (an event,
 * condition or semaphore that let a thread through without a hand-off)
 * is a violation, unless the partner has already left.  After the run:
 * pings handled by the odd thread == round trips completed by the even
 * thread, and the sequence word agrees with them.
 *
 * Stopping: a thread leaves only between hand-offs (at the top of its
 * loop), so it never abandons a turn it holds.  On leaving it counts
 * itself in the pair's `closing` and then keeps releasing whatever its
 * partner may wait on (sets the event, releases the semaphore, notify_all
 * under the lock) until the partner has left too.  A thread that wakes
 * and sees `closing` instead of a hand-off never blocks again: it only
 * polls for the end of the run.  The release is repeated, not done once,
 * because the partner's clear() can undo a set() that came just before
 * it, and the partner may then block again before it reads `closing`;
 * the next set() wakes it.  (A single set() would need seq_cst fences
 * around every clear(), which ThreadSanitizer does not support.)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

struct handoff_pair {
	/* event: ping, pong; semaphore: A (even releases), B (odd releases);
	 * condition: a only. */
	void *a, *b;
	/* Everything both threads touch on every hand-off, on one line of
	 * its own.  Relaxed accesses: the primitive's own release/acquire
	 * (set/wait, release/acquire, the condition's lock) orders them. */
	alignas(LB_CACHELINE) _Atomic uint64_t seq;
	_Atomic int turn;    /* condition: 0 even's turn, 1 odd's (under the lock) */
	_Atomic int closing; /* threads of the pair that have left their loop */
};

struct handoff_state {
	unsigned npairs;
	struct handoff_pair *pairs; /* [npairs] */
	void **tctx;                /* [nthreads][2]: contexts for a and b */
};

/* A wake-up's verdict. */
enum { HO_HANDOFF, HO_CLOSED, HO_SPURIOUS };

static inline struct handoff_pair *handoff_pair_of(struct lb_worker *w)
{
	return &((struct handoff_state *)w->state)->pairs[w->tid / 2];
}

/* Leave: count ourselves in closing, then run RELEASE (which wakes the
 * partner) until the partner has counted itself too.  The increment comes
 * before every RELEASE, so a partner woken by one sees closing. */
#define HANDOFF_LEAVE(p, RELEASE)                                                   \
	do {                                                                        \
		atomic_fetch_add_explicit(&(p)->closing, 1, memory_order_acq_rel);   \
		for (;;) {                                                          \
			RELEASE;                                                    \
			if (atomic_load_explicit(&(p)->closing, memory_order_acquire) >= 2) \
				break;                                              \
			sched_yield(); /* let a woken partner run */                \
		}                                                                   \
	} while (0)

/* acquire: the primitive that woke us already ordered the leaving thread's
 * increment; this only reads it. */
static inline bool handoff_closing(struct handoff_pair *p)
{
	return atomic_load_explicit(&p->closing, memory_order_acquire) != 0;
}

/* What a wake-up saw: the hand-off it waited for (ok), the partner gone,
 * or neither. */
static inline int handoff_verdict(bool ok, bool closing)
{
	return ok ? HO_HANDOFF : closing ? HO_CLOSED : HO_SPURIOUS;
}

/* ---- event ---- */

static inline __attribute__((always_inline)) void
handoff_event_loop(struct lb_worker *w, const struct lb_event_ops *ops)
{
	struct handoff_pair *p = handoff_pair_of(w);
	void **t = w->tctx;
	bool even = (w->tid & 1) == 0, closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, bad = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue; /* partner gone: never block again */
		if (even) {
			uint64_t t0 = lb_sample_begin(w, &h, n), want = 2 * n + 2;
			atomic_store_explicit(&p->seq, want - 1, memory_order_relaxed);
			ops->set(p->a);
			int v;
			bool c;
			do {
				ops->wait(p->b, t[1]);
				ops->clear(p->b);
				c = handoff_closing(p);
				v = handoff_verdict(atomic_load_explicit(&p->seq,
						memory_order_relaxed) == want, c);
				bad += v == HO_SPURIOUS;
			} while (v == HO_SPURIOUS);
			closed = c;
			if (v == HO_CLOSED)
				continue;
			lb_sample_end(w, t0);
			lb_busy(h.think_iters);
		} else {
			uint64_t s;
			int v;
			bool c;
			do {
				ops->wait(p->a, t[0]);
				ops->clear(p->a);
				c = handoff_closing(p);
				s = atomic_load_explicit(&p->seq, memory_order_relaxed);
				v = handoff_verdict(s & 1, c);
				bad += v == HO_SPURIOUS;
			} while (v == HO_SPURIOUS);
			closed = c;
			if (v == HO_CLOSED)
				continue;
			lb_busy(h.cs_iters);
			atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
			ops->set(p->b);
		}
		lb_publish(w, ++n);
	}
	HANDOFF_LEAVE(p, ops->set(even ? p->a : p->b));
	w->wl[0] = bad;
	lb_finish(w, n);
}

/* ---- semaphore ---- */

static inline __attribute__((always_inline)) void
handoff_semaphore_loop(struct lb_worker *w, const struct lb_semaphore_ops *ops)
{
	struct handoff_pair *p = handoff_pair_of(w);
	void **t = w->tctx;
	bool even = (w->tid & 1) == 0, closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, bad = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue;
		if (even) {
			uint64_t t0 = lb_sample_begin(w, &h, n), want = 2 * n + 2;
			atomic_store_explicit(&p->seq, want - 1, memory_order_relaxed);
			ops->release(p->a, t[0]);
			int v;
			do {
				ops->acquire(p->b, t[1]);
				v = handoff_verdict(atomic_load_explicit(&p->seq,
						memory_order_relaxed) == want, handoff_closing(p));
				bad += v == HO_SPURIOUS;
			} while (v == HO_SPURIOUS);
			if (v == HO_CLOSED) {
				closed = true;
				continue;
			}
			lb_sample_end(w, t0);
			lb_busy(h.think_iters);
		} else {
			uint64_t s;
			int v;
			do {
				ops->acquire(p->a, t[0]);
				s = atomic_load_explicit(&p->seq, memory_order_relaxed);
				v = handoff_verdict(s & 1, handoff_closing(p));
				bad += v == HO_SPURIOUS;
			} while (v == HO_SPURIOUS);
			if (v == HO_CLOSED) {
				closed = true;
				continue;
			}
			lb_busy(h.cs_iters);
			atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
			ops->release(p->b, t[1]);
		}
		lb_publish(w, ++n);
	}
	/* Permits nobody takes: the partner, if it waits, gets through and
	 * sees closing instead of a hand-off. */
	HANDOFF_LEAVE(p, even ? ops->release(p->a, t[0]) : ops->release(p->b, t[1]));
	w->wl[0] = bad;
	lb_finish(w, n);
}

/* ---- condition ---- */

static inline __attribute__((always_inline)) void
handoff_condition_loop(struct lb_worker *w, const struct lb_condition_ops *ops)
{
	struct handoff_pair *p = handoff_pair_of(w);
	void *cv = p->a, *t = ((void **)w->tctx)[0];
	int me = (int)(w->tid & 1);
	bool closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, bad = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue;
		uint64_t t0 = 0, want = 2 * n + 2, s;
		ops->lock(cv, t);
		if (me == 0) {
			t0 = lb_sample_begin(w, &h, n);
			atomic_store_explicit(&p->seq, want - 1, memory_order_relaxed);
			atomic_store_explicit(&p->turn, 1, memory_order_relaxed);
			ops->notify(cv);
		}
		/* relaxed: both words are written under the lock.  Spurious
		 * wake-ups are allowed: only the loop's exit is checked. */
		while (atomic_load_explicit(&p->turn, memory_order_relaxed) != me &&
		       !atomic_load_explicit(&p->closing, memory_order_relaxed))
			ops->wait(cv, t);
		bool mine = atomic_load_explicit(&p->turn, memory_order_relaxed) == me;
		s = atomic_load_explicit(&p->seq, memory_order_relaxed);
		if (mine && me == 1) {
			bad += !(s & 1);
			lb_busy(h.cs_iters);
			atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
			atomic_store_explicit(&p->turn, 0, memory_order_relaxed);
			ops->notify(cv);
		}
		ops->unlock(cv, t);
		if (!mine) {
			closed = true; /* left the loop on closing, turn not ours */
			continue;
		}
		if (me == 0) {
			bad += s != want;
			lb_sample_end(w, t0);
			lb_busy(h.think_iters);
		}
		lb_publish(w, ++n);
	}
	/* Under the lock: a partner checks closing under it before it waits
	 * (here a single notify_all would do; the loop is the common exit). */
	HANDOFF_LEAVE(p, (ops->lock(cv, t), ops->notify_all(cv), ops->unlock(cv, t)));
	w->wl[0] = bad;
	lb_finish(w, n);
}

#define HANDOFF_EVENT(sym, id, be, caps, sum) \
	static void handoff_loop_##sym(struct lb_worker *w) \
	{ handoff_event_loop(w, &lb_##sym##_ops); }
#define HANDOFF_SEMAPHORE(sym, id, be, caps, sum) \
	static void handoff_loop_##sym(struct lb_worker *w) \
	{ handoff_semaphore_loop(w, &lb_##sym##_ops); }
#define HANDOFF_CONDITION(sym, id, be, caps, sum) \
	static void handoff_loop_##sym(struct lb_worker *w) \
	{ handoff_condition_loop(w, &lb_##sym##_ops); }
LB_EVENT_IMPLS(HANDOFF_EVENT)
LB_SEMAPHORE_IMPLS(HANDOFF_SEMAPHORE)
LB_CONDITION_IMPLS(HANDOFF_CONDITION)

#define HANDOFF_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = handoff_loop_##sym,
static const lb_loop_fn handoff_loops[LB_IMPL_COUNT] = {
	LB_EVENT_IMPLS(HANDOFF_ENTRY)
	LB_SEMAPHORE_IMPLS(HANDOFF_ENTRY)
	LB_CONDITION_IMPLS(HANDOFF_ENTRY)
};

static void handoff_teardown(struct lb_wctx *c)
{
	struct handoff_state *s = c->state;
	if (!s)
		return;
	for (unsigned k = 0; s->pairs && k < s->npairs; k++) {
		lb_prim_destroy(c->impl, s->pairs[k].a);
		lb_prim_destroy(c->impl, s->pairs[k].b);
	}
	free(s->pairs);
	free(s->tctx);
	free(s);
	c->state = NULL;
}

static int handoff_setup(struct lb_wctx *c)
{
	struct handoff_state *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	c->state = s;
	s->npairs = c->nthreads / 2;
	s->pairs = lb_cache_alloc(s->npairs * sizeof(*s->pairs));
	s->tctx = calloc(2 * (size_t)c->nthreads, sizeof(*s->tctx));
	if (!s->pairs || !s->tctx) {
		handoff_teardown(c);
		return ENOMEM;
	}
	for (unsigned k = 0; k < s->npairs; k++) {
		struct handoff_pair *p = &s->pairs[k];
		p->a = p->b = NULL;
		atomic_init(&p->seq, 0);
		atomic_init(&p->turn, 0);
		atomic_init(&p->closing, 0);
	}
	c->cfg.permits = 0;
	int two = lb_impl_kind(c->impl) != LB_KIND_CONDITION;
	for (unsigned k = 0; k < s->npairs; k++) {
		struct handoff_pair *p = &s->pairs[k];
		int ret = lb_prim_create(c->impl, &c->cfg, &p->a);
		if (!ret && two)
			ret = lb_prim_create(c->impl, &c->cfg, &p->b);
		if (ret) {
			handoff_teardown(c);
			return ret;
		}
	}
	return 0;
}

static int handoff_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct handoff_state *s = c->state;
	struct handoff_pair *p = &s->pairs[w->tid / 2];
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	void **t = &s->tctx[2 * (size_t)w->tid];
	int ret = lb_prim_thread_attach(c->impl, p->a, &ti, &t[0]);
	if (!ret && p->b && (ret = lb_prim_thread_attach(c->impl, p->b, &ti, &t[1])) != 0) {
		lb_prim_thread_detach(c->impl, p->a, t[0]);
		t[0] = NULL;
	}
	if (ret)
		return ret;
	w->state = s;
	w->tctx = t; /* our two contexts, not one primitive's */
	return 0;
}

static void handoff_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	struct handoff_state *s = c->state;
	struct handoff_pair *p = &s->pairs[w->tid / 2];
	void **t = &s->tctx[2 * (size_t)w->tid];
	lb_prim_thread_detach(c->impl, p->a, t[0]);
	if (p->b)
		lb_prim_thread_detach(c->impl, p->b, t[1]);
	t[0] = t[1] = NULL;
	w->tctx = NULL;
}

static void handoff_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct handoff_state *s = c->state;
	struct lb_handoff_pair *pairs = calloc(s->npairs ? s->npairs : 1, sizeof(*pairs));

	if (!pairs) {
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "out of memory for the check");
		return;
	}
	for (unsigned k = 0; k < s->npairs; k++)
		pairs[k] = (struct lb_handoff_pair){
			.even_ops = ws[2 * k].ops_total, .odd_ops = ws[2 * k + 1].ops_total,
			.even_bad = ws[2 * k].wl[0], .odd_bad = ws[2 * k + 1].wl[0],
			.seq = atomic_load_explicit(&s->pairs[k].seq, memory_order_relaxed),
		};
	lb_judge_handoff(out, pairs, s->npairs);
	free(pairs);
}

static int handoff_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	(void)vals;
	if (nthreads < 2 || nthreads % 2) {
		snprintf(err, len, "handoff needs an even number of threads (pairs); got %u: "
			 "give 2, 4, 6, ...", nthreads);
		return -1;
	}
	return 0;
}

static const char *const handoff_groups[] = { "ping", "pong", NULL };

/* Even threads ping (they time the round trips), odd ones pong. */
static unsigned handoff_group_of(const uint64_t *vals, unsigned tid, unsigned nthreads)
{
	(void)vals;
	(void)nthreads;
	return tid & 1;
}

const struct lb_workload lb_wl_handoff = {
	.name = "handoff",
	.summary = "ping-pong between thread pairs through events, conditions, semaphores: "
		   "round-trip wake-up latency",
	.checks = "strict alternation (a per-pair sequence word inside every hand-off); "
		  "pings handled == round trips",
	.validate = handoff_validate,
	.loops = handoff_loops,
	.setup = handoff_setup,
	.thread_init = handoff_thread_init,
	.thread_fini = handoff_thread_fini,
	.check = handoff_check,
	.teardown = handoff_teardown,
	.groups = handoff_groups,
	.group_of = handoff_group_of,
};
