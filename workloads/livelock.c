/* livelock: the two polite people in a corridor.
 *
 * Threads work in pairs (2k, 2k+1), each pair with two locks; thread side s
 * owns lock s.  To cross, a thread needs both: it takes its own lock, then
 * tries the other's with trylock.  With --param backoff=fixed (the
 * default) both are perfectly polite and perfectly symmetric: each takes
 * its own lock, looks up (waits until the partner has taken its own too:
 * the lock-step that identical timing would give), finds the other lock
 * taken, waits until the partner has looked too, steps back (unlocks),
 * waits for the partner to step back as well, and tries again.  Both stay busy forever and nobody crosses: the
 * watchdog sees failed attempts moving but no completed op, reports a
 * LIVELOCK (not a deadlock: nothing is blocked), and the run exits 1; a
 * window shorter than the watchdog ends with the same verdict from the
 * check (failed attempts, no crossing in the window).
 *
 * --param backoff=random is the fix: after a failed try each thread backs
 * off for a random time of up to 2 x backoff_ns and does not wait for its
 * partner, so the symmetry breaks and one of them gets both locks.  Those
 * runs are verified like counter: the shared counter, incremented holding
 * both locks of the pair, equals the crossings.
 *
 * Drives every mutex with a trylock.  One op = one crossing; failed tries
 * are published as attempts for the watchdog.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

struct livelock_pair {
	void *lock[2];
	alignas(LB_CACHELINE) _Atomic uint64_t step[2]; /* lock-step progress per side */
	alignas(LB_CACHELINE) _Atomic uint64_t value;   /* protected by both locks */
};

struct livelock_state {
	struct livelock_pair *pair; /* [nthreads / 2] */
	unsigned npairs;
	int random;
	uint64_t backoff_iters;
	_Atomic uint64_t crossings_total;
};

struct livelock_tctx {
	void *t[2];
	uint64_t rng;
};

/* xorshift64*: cheap per-thread randomness for the back-off. */
static inline uint64_t livelock_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

#define LIVELOCK_LEFT UINT64_MAX /* a step value: this side has left the corridor */

/* Wait until the partner has reached step k too.  false: the run is over
 * or the partner has left; the caller backs out so that lb_running()
 * records the stop before any further crossing, and a side that gives up
 * says so (LIVELOCK_LEFT) before it releases its lock. */
static inline bool livelock_sync(struct lb_worker *w, struct livelock_pair *p, unsigned side,
				 uint64_t k)
{
	uint64_t v;
	/* release/acquire: the partner's lock and unlock happened before its
	 * step store, so after the wait we see the lock state it saw. */
	atomic_store_explicit(&p->step[side], k, memory_order_release);
	while ((v = atomic_load_explicit(&p->step[1 - side], memory_order_acquire)) < k) {
		if (atomic_load_explicit(w->ctl, memory_order_relaxed) == LB_CTL_STOP) {
			atomic_store_explicit(&p->step[side], LIVELOCK_LEFT, memory_order_release);
			return false;
		}
		lb_cpu_relax();
	}
	return v != LIVELOCK_LEFT;
}

static inline bool livelock_partner_left(struct livelock_pair *p, unsigned side)
{
	/* acquire: pairs with the LIVELOCK_LEFT store, made before that side's unlock */
	return atomic_load_explicit(&p->step[1 - side], memory_order_acquire) == LIVELOCK_LEFT;
}

static inline __attribute__((always_inline)) void
livelock_loop(struct lb_worker *w, const struct lb_mutex_ops *ops)
{
	struct livelock_state *s = w->state;
	struct livelock_tctx *c = w->tctx;
	unsigned side = w->tid % 2;
	struct livelock_pair *p = &s->pair[w->tid / 2];
	void *own = p->lock[side], *other = p->lock[1 - side];
	void *town = c->t[side], *tother = c->t[1 - side];
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0, attempts = 0, k = 0;

	while (lb_running(w, &h, n)) {
		uint64_t t0 = lb_sample_begin(w, &h, n);
		ops->lock(own, town);
		if (!s->random && !livelock_sync(w, p, side, ++k)) { /* both hold their own lock */
			ops->unlock(own, town);
			continue;
		}
		if (ops->trylock(other, tother)) {
			if (!s->random && livelock_partner_left(p, side)) {
				/* The partner gave up at the stop and let go: not a
				 * crossing of the symmetric protocol. */
				ops->unlock(other, tother);
				ops->unlock(own, town);
				continue;
			}
			lb_sample_end(w, t0);
			atomic_store_explicit(&p->value,
				atomic_load_explicit(&p->value, memory_order_relaxed) + 1,
				memory_order_relaxed);
			lb_busy(h.cs_iters);
			ops->unlock(other, tother);
			ops->unlock(own, town);
			lb_busy(h.think_iters);
			lb_publish(w, ++n);
			continue;
		}
		if (!s->random && !livelock_sync(w, p, side, ++k)) { /* both looked and failed */
			ops->unlock(own, town);
			continue;
		}
		ops->unlock(own, town); /* step back, politely */
		lb_publish_attempt(w, ++attempts);
		if (s->random) {
			lb_busy(livelock_rand(&c->rng) % (2 * s->backoff_iters + 1));
		} else {
			(void)livelock_sync(w, p, side, ++k); /* both stepped back */
			lb_busy(s->backoff_iters);
		}
	}
	w->wl[0] = attempts;
	lb_finish(w, n);
}

#define LIVELOCK_LOOP(sym, id, be, caps, sum) \
	static void livelock_loop_##sym(struct lb_worker *w) \
	{ livelock_loop(w, &lb_##sym##_ops); }
LB_MUTEX_IMPLS(LIVELOCK_LOOP)

/* Not the broken ones; only those with a trylock (requires_caps). */
#define LIVELOCK_ENTRY(sym, id, be, caps, sum) \
	[LB_IMPL_##sym] = ((caps) & LB_CAP_HIDDEN) ? NULL : livelock_loop_##sym,
static const lb_loop_fn livelock_loops[LB_IMPL_COUNT] = {
	LB_MUTEX_IMPLS(LIVELOCK_ENTRY)
};

enum { LIVELOCK_BACKOFF, LIVELOCK_BACKOFF_NS };
enum { LIVELOCK_FIXED, LIVELOCK_RANDOM }; /* the words of backoff= */
static const char *const livelock_backoff_words[] = { "fixed", "random", NULL };
static const struct lb_param_spec livelock_params[] = {
	[LIVELOCK_BACKOFF] = { "backoff", "fixed", "fixed (symmetric, lock-step: livelocks) or "
			       "random (the fix)", "a back-off policy", 0, 0, NULL,
			       livelock_backoff_words },
	[LIVELOCK_BACKOFF_NS] = { "backoff_ns", "1000", "back-off after a failed try (random: up "
				  "to twice it), 0-100000000", "a duration", 0, 100000000u, NULL,
				  NULL },
	{ NULL },
};

static int livelock_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	(void)vals;
	if (nthreads < 2 || nthreads % 2) {
		snprintf(err, len, "livelock needs an even number of threads (pairs in a corridor); "
			 "got %u", nthreads);
		return -1;
	}
	return 0;
}

static void livelock_teardown(struct lb_wctx *c);

static int livelock_setup(struct lb_wctx *c)
{
	struct livelock_state *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s)
		return ENOMEM;
	c->state = s;
	s->random = c->param[LIVELOCK_BACKOFF] == LIVELOCK_RANDOM;
	s->backoff_iters = lb_busy_iters(c->param[LIVELOCK_BACKOFF_NS]);
	s->npairs = c->nthreads / 2;
	s->pair = lb_cache_alloc(s->npairs * sizeof(*s->pair));
	if (!s->pair) {
		free(s);
		c->state = NULL;
		return ENOMEM;
	}
	memset(s->pair, 0, s->npairs * sizeof(*s->pair));
	struct lb_prim_cfg cfg = c->cfg;
	cfg.nthreads = 2;
	for (unsigned i = 0; i < s->npairs && !ret; i++)
		for (int l = 0; l < 2 && !ret; l++)
			ret = lb_prim_create(c->impl, &cfg, &s->pair[i].lock[l]);
	if (ret)
		livelock_teardown(c);
	return ret;
}

static int livelock_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct livelock_state *s = c->state;
	struct livelock_pair *p = &s->pair[w->tid / 2];
	struct lb_thread_info ti = { .tid = w->tid % 2, .cpu = w->cpu, .cluster = w->cluster };
	struct livelock_tctx *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return ENOMEM;
	t->rng = 0x9e3779b97f4a7c15ull * (w->tid + 1);
	for (int l = 0; l < 2; l++)
		if ((ret = lb_prim_thread_attach(c->impl, p->lock[l], &ti, &t->t[l])) != 0) {
			if (l)
				lb_prim_thread_detach(c->impl, p->lock[0], t->t[0]);
			free(t);
			return ret;
		}
	w->state = s;
	w->tctx = t;
	return 0;
}

static void livelock_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	struct livelock_state *s = c->state;
	struct livelock_tctx *t = w->tctx;
	for (int l = 0; l < 2; l++)
		lb_prim_thread_detach(c->impl, s->pair[w->tid / 2].lock[l], t->t[l]);
	free(t);
	w->tctx = NULL;
}

static void livelock_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct livelock_state *s = c->state;
	uint64_t crossings = 0, value = 0, attempts = 0, window = 0;
	for (unsigned i = 0; i < c->nthreads; i++) {
		crossings += ws[i].ops_total;
		attempts += ws[i].wl[0];
		window += ws[i].ops_at_stop - ws[i].ops_at_measure;
	}
	for (unsigned i = 0; i < s->npairs; i++)
		value += atomic_load(&s->pair[i].value);
	lb_judge_count(out, crossings, value, false, "crossings");
	out->extra[0] = crossings + attempts ? (double)attempts / (double)(crossings + attempts)
					     : 0.0;
	if (out->verdict == LB_OK && !s->random && window == 0 && attempts > 0) {
		/* A window shorter than the watchdog: the same verdict, from the
		 * counts (busy, no progress).  Only for the symmetric protocol:
		 * with random back-off a short window on an oversubscribed FIFO
		 * spinlock can simply be slow; the watchdog judges that. */
		out->verdict = LB_FAIL;
		snprintf(out->msg, sizeof(out->msg), "LIVELOCK: %llu failed attempts and no "
			 "crossing in the timed window; fix: --param backoff=random",
			 (unsigned long long)attempts);
	}
}

static void livelock_teardown(struct lb_wctx *c)
{
	struct livelock_state *s = c->state;
	if (!s)
		return;
	for (unsigned i = 0; s->pair && i < s->npairs; i++)
		for (int l = 0; l < 2; l++)
			if (s->pair[i].lock[l])
				lb_prim_destroy(c->impl, s->pair[i].lock[l]);
	free(s->pair);
	free(s);
	c->state = NULL;
}

/* The symmetric protocol's signature: a pair with polite retries and no
 * crossing is livelocked, whatever the idle interval happened to see (an
 * oversubscribed FIFO spinlock can spend the last watchdog interval waiting
 * for a descheduled partner between two retries). */
static enum lb_diag_kind livelock_describe(struct lb_wctx *c, struct lb_worker *ws, FILE *f)
{
	struct livelock_state *s = c->state;
	int lockstep = 0;
	for (unsigned i = 0; i < s->npairs; i++) {
		uint64_t a0 = atomic_load(&ws[2 * i].pub_attempts);
		uint64_t a1 = atomic_load(&ws[2 * i + 1].pub_attempts);
		uint64_t o0 = atomic_load(&ws[2 * i].pub_ops), o1 = atomic_load(&ws[2 * i + 1].pub_ops);
		lockstep |= !s->random && a0 + a1 > 0 && o0 + o1 == 0;
		fprintf(f, "  pair %u (threads %u and %u): %llu and %llu polite retries, %llu and "
			"%llu crossings%s\n", i, 2 * i, 2 * i + 1, (unsigned long long)a0,
			(unsigned long long)a1, (unsigned long long)o0, (unsigned long long)o1,
			!s->random && a0 + a1 > 0 && o0 + o1 == 0
				? ": each takes its own lock, finds the other's taken, steps back, "
				  "in lock-step" : "");
	}
	if (!s->random)
		fprintf(f, "  fix: break the symmetry with a random back-off "
			"(--param backoff=random)\n");
	return lockstep ? LB_DIAG_LIVELOCK : LB_DIAG_NONE;
}

static const char *const livelock_extra[] = { "retry_ratio", NULL };

const struct lb_workload lb_wl_livelock = {
	.name = "livelock",
	.summary = "polite pairs in a corridor: own lock, trylock the other's, step back on failure",
	.checks = "the watchdog reports a LIVELOCK (busy, no progress) and exits 1; "
		  "backoff=random runs clean (counter == crossings)",
	.params = livelock_params,
	.validate = livelock_validate,
	.extra_cols = livelock_extra,
	.loops = livelock_loops,
	.requires_caps = LB_CAP_TRYLOCK,
	.setup = livelock_setup,
	.thread_init = livelock_thread_init,
	.thread_fini = livelock_thread_fini,
	.check = livelock_check,
	.teardown = livelock_teardown,
	.describe_stall = livelock_describe,
	.watchdog_s = 2,
};
