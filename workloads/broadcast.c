/* broadcast: one setter wakes everyone, the cost of set() / notify_all().
 *
 * Thread 0 is the setter, threads 1..N-1 the waiters.  Each round r:
 *   event      the waiters wait() on go[r & 1]; the setter sets it.  Two
 *              events take turns so that a waiter that has handled round
 *              r waits on an event cleared before round r began, never on
 *              the one still set for round r (it is cleared only after
 *              every waiter has acknowledged).
 *   condition  the waiters wait under the condition's lock until
 *              round == r; the setter stores r and notify_all()s under it.
 * The setter reads the clock just before set() / notify_all().  Each waiter
 * reads it as soon as it runs (for a condition: back from wait() with the
 * lock), folds it into the round's first and last wake times, does --cs
 * work and acknowledges; the last acknowledgement wakes the setter through
 * a second primitive of the same kind ("done": an event, or a condition
 * the setter waits on until acks == N-1).  The setter then records last
 * wake - set into its latency histogram: the latency columns are the time
 * from set() / notify_all() until the LAST waiter runs; the waiters record
 * none.  Every round is recorded, not sampled: a round costs wake-ups, two
 * clock reads per thread are noise beside it.  The setter does --think
 * work between rounds.  An op is one round for the setter and one wake-up
 * for a waiter, so `ops` counts threads that ran per round (N per round).
 * Extra columns first_wake_p50_ns and first_wake_p99_ns: the same times
 * to the FIRST waiter that runs; with the latency columns they show how
 * the wake-ups spread over the herd.
 *
 * Check: each wake-up must find the round after the last one the waiter
 * handled (no round missed, none seen twice); the setter must find exactly
 * N-1 acknowledgements; after the run every waiter has handled the rounds
 * the setter completed (plus possibly the unfinished last one).
 *
 * Stopping: a thread that leaves its loop counts itself in `closing`, then
 * keeps releasing everything anybody may wait on (sets both go events and
 * done, or notify_all()s both conditions under their locks) until every
 * thread has left.  A thread woken without a new round (waiter) or without
 * all acknowledgements (setter) sees `closing` and then never blocks
 * again: it only polls for the end of the run.  A waiter that leaves does
 * not acknowledge: the setter sees closing instead.  The release is
 * repeated because the setter's clear() can undo a set() that came just
 * before it, after which the setter may block once more; the next set()
 * wakes it.  (A single set() would need seq_cst fences around every
 * clear(), which ThreadSanitizer does not support.)
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "workload.h"

#define BROADCAST_NOBJ 3 /* go[0], go[1], done; the condition kind uses go[0] and done */

struct broadcast_state {
	unsigned waiters;       /* N - 1 */
	void *obj[BROADCAST_NOBJ];
	void **tctx;            /* [nthreads][BROADCAST_NOBJ] */
	struct lb_hist *first;  /* set -> first waiter runs; the setter's, window only */
	/* Written by the setter once a round, read by every waiter. */
	alignas(LB_CACHELINE) _Atomic uint64_t round;
	_Atomic unsigned closing; /* threads that have left their loop */
	/* Written by every waiter once a round. */
	alignas(LB_CACHELINE) _Atomic uint64_t acks;
	_Atomic uint64_t first_wake, last_wake; /* lb_ticks() */
};

#define BROADCAST_GO(s, r) ((s)->obj[(r) & 1])
#define BROADCAST_DONE 2

/* Leave: count ourselves in closing, then run RELEASE (which wakes every
 * thread that may wait) until all n threads have counted themselves.  The
 * increment comes before every RELEASE, so whoever one wakes sees it. */
#define BROADCAST_LEAVE(s, n, RELEASE)                                                     \
	do {                                                                        \
		atomic_fetch_add_explicit(&(s)->closing, 1, memory_order_acq_rel);   \
		for (;;) {                                                          \
			RELEASE;                                                    \
			if (atomic_load_explicit(&(s)->closing, memory_order_acquire) >= (n)) \
				break;                                              \
			sched_yield(); /* let the woken threads run */              \
		}                                                                   \
	} while (0)

static inline bool broadcast_closing(struct broadcast_state *s)
{
	/* acquire: whatever woke us already ordered the leaver's increment. */
	return atomic_load_explicit(&s->closing, memory_order_acquire) != 0;
}

/* Setter, before publishing round r (whose release store orders these). */
static inline void broadcast_reset(struct broadcast_state *s)
{
	atomic_store_explicit(&s->acks, 0, memory_order_relaxed);
	atomic_store_explicit(&s->first_wake, UINT64_MAX, memory_order_relaxed);
	atomic_store_explicit(&s->last_wake, 0, memory_order_relaxed);
}

/* Waiter: fold its wake time into the round's first/last, do --cs work,
 * acknowledge.  True if it was the last acknowledgement. */
static inline bool broadcast_ack(struct lb_worker *w, struct broadcast_state *s, uint64_t tw)
{
	uint64_t v = atomic_load_explicit(&s->last_wake, memory_order_relaxed);
	while (v < tw && !atomic_compare_exchange_weak_explicit(&s->last_wake, &v, tw,
			memory_order_relaxed, memory_order_relaxed))
		;
	v = atomic_load_explicit(&s->first_wake, memory_order_relaxed);
	while (v > tw && !atomic_compare_exchange_weak_explicit(&s->first_wake, &v, tw,
			memory_order_relaxed, memory_order_relaxed))
		;
	lb_busy(w->cs_iters);
	/* acq_rel: releases the wake times above to the setter's acquire (and
	 * chains the earlier acknowledgements' through this RMW). */
	return atomic_fetch_add_explicit(&s->acks, 1, memory_order_acq_rel) + 1 == s->waiters;
}

/* Setter, after all acknowledgements (acquire load of acks): record. */
static inline void broadcast_record(struct lb_worker *w, struct broadcast_state *s, uint64_t t_set)
{
	uint64_t last = atomic_load_explicit(&s->last_wake, memory_order_relaxed);
	uint64_t first = atomic_load_explicit(&s->first_wake, memory_order_relaxed);
	/* Clocks of different CPUs may disagree by a few ticks: clamp at 0. */
	uint64_t dl = last > t_set ? last - t_set : 0, df = first > t_set ? first - t_set : 0;
	lb_hist_record(w->hist, (uint64_t)((double)dl * w->ns_per_tick));
	if (w->seen == LB_CTL_MEASURE) /* the harness resets w->hist at that point */
		lb_hist_record(s->first, (uint64_t)((double)df * w->ns_per_tick));
}

/* ---- event ---- */

static inline __attribute__((always_inline)) void
broadcast_event_leave(struct broadcast_state *s, const struct lb_event_ops *ops)
{
	BROADCAST_LEAVE(s, s->waiters + 1, for (int i = 0; i < BROADCAST_NOBJ; i++) ops->set(s->obj[i]));
}

static inline __attribute__((always_inline)) void
broadcast_event_setter(struct lb_worker *w, const struct lb_event_ops *ops)
{
	struct broadcast_state *s = w->state;
	void **t = w->tctx;
	bool closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, early = 0, extra = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue; /* someone left: never block again */
		uint64_t r = n + 1;
		broadcast_reset(s);
		/* release: the reset above, for the waiters that see round r. */
		atomic_store_explicit(&s->round, r, memory_order_release);
		uint64_t t_set = lb_ticks();
		ops->set(BROADCAST_GO(s, r));
		bool complete = false;
		for (;;) {
			ops->wait(s->obj[BROADCAST_DONE], t[BROADCAST_DONE]);
			/* acquire: the waiters' wake times. */
			uint64_t a = atomic_load_explicit(&s->acks, memory_order_acquire);
			if (a >= s->waiters) {
				extra += a != s->waiters;
				complete = true;
				break;
			}
			if (broadcast_closing(s))
				break;
			/* Woken with acks missing and nobody leaving: no set()
			 * of this round's done did it.  Wait again (done was
			 * cleared last round; only the last ack sets it). */
			early++;
		}
		if (!complete) {
			closed = true;
			continue;
		}
		ops->clear(s->obj[BROADCAST_DONE]);
		ops->clear(BROADCAST_GO(s, r));
		closed = broadcast_closing(s);
		broadcast_record(w, s, t_set);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	broadcast_event_leave(s, ops);
	w->wl[0] = early;
	w->wl[1] = extra;
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void
broadcast_event_waiter(struct lb_worker *w, const struct lb_event_ops *ops)
{
	struct broadcast_state *s = w->state;
	void **t = w->tctx;
	bool closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, my = 0, bad = 0; /* my: the last round handled */

	while (lb_running(w, &h, n)) {
		if (closed)
			continue;
		ops->wait(BROADCAST_GO(s, my + 1), t[(my + 1) & 1]);
		uint64_t tw = lb_ticks();
		/* acquire: pairs with the setter's release store of round. */
		uint64_t r = atomic_load_explicit(&s->round, memory_order_acquire);
		if (r == my) {
			if (broadcast_closing(s))
				closed = true;
			else
				bad++; /* woke, but no new round: not a set() */
			continue;
		}
		bad += r != my + 1; /* a round missed */
		my = r;
		if (broadcast_ack(w, s, tw))
			ops->set(s->obj[BROADCAST_DONE]);
		lb_publish(w, ++n);
	}
	broadcast_event_leave(s, ops);
	w->wl[0] = bad;
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void
broadcast_event_loop(struct lb_worker *w, const struct lb_event_ops *ops)
{
	if (w->tid == 0)
		broadcast_event_setter(w, ops);
	else
		broadcast_event_waiter(w, ops);
}

/* ---- condition ---- */

/* Both conditions, under their locks: a waiter reads closing under the
 * lock before it waits, so one round would do; the loop is the common exit. */
static inline __attribute__((always_inline)) void
broadcast_condition_leave(struct broadcast_state *s, struct lb_worker *w,
			  const struct lb_condition_ops *ops)
{
	void **t = w->tctx;
	BROADCAST_LEAVE(s, s->waiters + 1, for (int i = 0; i < BROADCAST_NOBJ; i += BROADCAST_DONE) {
		ops->lock(s->obj[i], t[i]);
		ops->notify_all(s->obj[i]);
		ops->unlock(s->obj[i], t[i]);
	});
}

static inline __attribute__((always_inline)) void
broadcast_condition_setter(struct lb_worker *w, const struct lb_condition_ops *ops)
{
	struct broadcast_state *s = w->state;
	void **t = w->tctx, *go = s->obj[0], *done = s->obj[BROADCAST_DONE];
	bool closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, extra = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue;
		broadcast_reset(s);
		ops->lock(go, t[0]);
		/* relaxed: under the lock, which the waiters hold to read it. */
		atomic_store_explicit(&s->round, n + 1, memory_order_relaxed);
		uint64_t t_set = lb_ticks();
		ops->notify_all(go);
		ops->unlock(go, t[0]);

		ops->lock(done, t[BROADCAST_DONE]);
		/* acquire: the waiters' wake times; the last acknowledgement
		 * takes this lock after its increment, so it cannot be lost. */
		uint64_t a;
		while ((a = atomic_load_explicit(&s->acks, memory_order_acquire)) < s->waiters &&
		       !atomic_load_explicit(&s->closing, memory_order_relaxed))
			ops->wait(done, t[BROADCAST_DONE]);
		ops->unlock(done, t[BROADCAST_DONE]);
		if (a < s->waiters) {
			closed = true;
			continue;
		}
		extra += a != s->waiters;
		broadcast_record(w, s, t_set);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	broadcast_condition_leave(s, w, ops);
	w->wl[1] = extra; /* wl[0], early wake-ups: the loop above has none */
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void
broadcast_condition_waiter(struct lb_worker *w, const struct lb_condition_ops *ops)
{
	struct broadcast_state *s = w->state;
	void **t = w->tctx, *go = s->obj[0], *done = s->obj[BROADCAST_DONE];
	bool closed = false;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, my = 0, bad = 0;

	while (lb_running(w, &h, n)) {
		if (closed)
			continue;
		uint64_t r;
		ops->lock(go, t[0]);
		/* relaxed: written under the lock.  Spurious wake-ups are
		 * allowed: only the loop's exit is checked. */
		while ((r = atomic_load_explicit(&s->round, memory_order_relaxed)) == my &&
		       !atomic_load_explicit(&s->closing, memory_order_relaxed))
			ops->wait(go, t[0]);
		uint64_t tw = lb_ticks();
		ops->unlock(go, t[0]);
		if (r == my) {
			closed = true; /* left the wait on closing */
			continue;
		}
		bad += r != my + 1;
		my = r;
		if (broadcast_ack(w, s, tw)) {
			ops->lock(done, t[BROADCAST_DONE]);
			ops->notify(done);
			ops->unlock(done, t[BROADCAST_DONE]);
		}
		lb_publish(w, ++n);
	}
	broadcast_condition_leave(s, w, ops);
	w->wl[0] = bad;
	lb_finish(w, n);
}

static inline __attribute__((always_inline)) void
broadcast_condition_loop(struct lb_worker *w, const struct lb_condition_ops *ops)
{
	if (w->tid == 0)
		broadcast_condition_setter(w, ops);
	else
		broadcast_condition_waiter(w, ops);
}

#define BROADCAST_EVENT(sym, id, be, caps, sum) \
	static void broadcast_loop_##sym(struct lb_worker *w) \
	{ broadcast_event_loop(w, &lb_##sym##_ops); }
#define BROADCAST_CONDITION(sym, id, be, caps, sum) \
	static void broadcast_loop_##sym(struct lb_worker *w) \
	{ broadcast_condition_loop(w, &lb_##sym##_ops); }
LB_EVENT_IMPLS(BROADCAST_EVENT)
LB_CONDITION_IMPLS(BROADCAST_CONDITION)

#define BROADCAST_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = broadcast_loop_##sym,
static const lb_loop_fn broadcast_loops[LB_IMPL_COUNT] = {
	LB_EVENT_IMPLS(BROADCAST_ENTRY)
	LB_CONDITION_IMPLS(BROADCAST_ENTRY)
};

static void broadcast_teardown(struct lb_wctx *c)
{
	struct broadcast_state *s = c->state;
	if (!s)
		return;
	for (int i = 0; i < BROADCAST_NOBJ; i++)
		lb_prim_destroy(c->impl, s->obj[i]);
	free(s->tctx);
	free(s->first);
	free(s);
	c->state = NULL;
}

static int broadcast_setup(struct lb_wctx *c)
{
	struct broadcast_state *s = lb_cache_alloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	s->waiters = c->nthreads - 1;
	for (int i = 0; i < BROADCAST_NOBJ; i++)
		s->obj[i] = NULL;
	atomic_init(&s->round, 0);
	atomic_init(&s->closing, 0);
	atomic_init(&s->acks, 0);
	atomic_init(&s->first_wake, UINT64_MAX);
	atomic_init(&s->last_wake, 0);
	s->tctx = calloc((size_t)c->nthreads * BROADCAST_NOBJ, sizeof(*s->tctx));
	s->first = malloc(sizeof(*s->first));
	c->state = s;
	if (!s->tctx || !s->first) {
		broadcast_teardown(c);
		return ENOMEM;
	}
	lb_hist_reset(s->first);
	for (int i = 0; i < BROADCAST_NOBJ; i++) {
		if (i == 1 && lb_impl_kind(c->impl) == LB_KIND_CONDITION)
			continue; /* one condition carries every round */
		int ret = lb_prim_create(c->impl, &c->cfg, &s->obj[i]);
		if (ret) {
			broadcast_teardown(c);
			return ret;
		}
	}
	return 0;
}

static void broadcast_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	struct broadcast_state *s = c->state;
	void **t = &s->tctx[(size_t)w->tid * BROADCAST_NOBJ];
	for (int i = 0; i < BROADCAST_NOBJ; i++) {
		if (s->obj[i])
			lb_prim_thread_detach(c->impl, s->obj[i], t[i]);
		t[i] = NULL;
	}
	w->tctx = NULL;
}

static int broadcast_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct broadcast_state *s = c->state;
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	void **t = &s->tctx[(size_t)w->tid * BROADCAST_NOBJ];
	w->state = s;
	w->tctx = t; /* one context per object, not one primitive's */
	for (int i = 0; i < BROADCAST_NOBJ; i++) {
		int ret = s->obj[i] ? lb_prim_thread_attach(c->impl, s->obj[i], &ti, &t[i]) : 0;
		if (ret) {
			while (i-- > 0)
				if (s->obj[i])
					lb_prim_thread_detach(c->impl, s->obj[i], t[i]);
			w->tctx = NULL;
			return ret;
		}
	}
	return 0;
}

static void broadcast_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct broadcast_state *s = c->state;
	unsigned nw = c->nthreads - 1;
	uint64_t *wakes = calloc(nw ? nw : 1, sizeof(*wakes)), *bad = calloc(nw ? nw : 1,
										sizeof(*bad));

	if (s->first->count) {
		out->extra[0] = (double)lb_hist_quantile(s->first, 0.50);
		out->extra[1] = (double)lb_hist_quantile(s->first, 0.99);
	}
	if (!wakes || !bad) {
		free(wakes);
		free(bad);
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "out of memory for the check");
		return;
	}
	for (unsigned i = 0; i < nw; i++) {
		wakes[i] = ws[i + 1].ops_total;
		bad[i] = ws[i + 1].wl[0];
	}
	struct lb_bc_evidence e = { .waiters = s->waiters, .rounds = ws[0].ops_total,
				    .setter_early = ws[0].wl[0], .setter_extra = ws[0].wl[1],
				    .wakes = wakes, .bad = bad };
	lb_judge_broadcast(out, &e);
	free(wakes);
	free(bad);
}

static int broadcast_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	(void)vals;
	if (nthreads < 2) {
		snprintf(err, len, "broadcast needs a setter and at least one waiter; got %u "
			 "thread(s): give 2 or more", nthreads);
		return -1;
	}
	return 0;
}

static const char *const broadcast_extra[] = { "first_wake_p50_ns", "first_wake_p99_ns", NULL };

static const char *const broadcast_groups[] = { "setter", "waiter", NULL };

/* Thread 0 sets (notifies), the others wait. */
static unsigned broadcast_group_of(const uint64_t *vals, unsigned tid, unsigned nthreads)
{
	(void)vals;
	(void)nthreads;
	return tid != 0;
}

const struct lb_workload lb_wl_broadcast = {
	.name = "broadcast",
	.summary = "one setter wakes N-1 waiters (event set, condition notify_all): "
		   "time until the last waiter runs",
	.checks = "every waiter wakes exactly once per round (N-1 acknowledgements, no round "
		  "missed or seen twice)",
	.extra_cols = broadcast_extra,
	.validate = broadcast_validate,
	.loops = broadcast_loops,
	.setup = broadcast_setup,
	.thread_init = broadcast_thread_init,
	.thread_fini = broadcast_thread_fini,
	.check = broadcast_check,
	.teardown = broadcast_teardown,
	.groups = broadcast_groups,
	.group_of = broadcast_group_of,
};
