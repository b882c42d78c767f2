/* map: lookups, inserts and removes on integer keys, the concurrent
 * data-structure benchmarks' workload (Synchrobench, ASCYLIB: a key range,
 * an update percentage), run over every set implementation (set.h).
 *
 * Each op picks a key (uniformly over --param keys, or from a Zipf
 * distribution: dist=zipf:S) and, with probability update_pct %, updates
 * it (an insert or a remove, half each, so the size stays near half the
 * range), else looks it up.  Before the threads start, `prefill` keys
 * (default half the range, a seeded random choice) are inserted.  The
 * latency sample is one op.  The value stored under key k is always
 * map_val(k), so every lookup knows what it must see.
 *
 * Zipf: the probability of rank r (0 = hottest = key 0) is proportional
 * to 1 / (r + 1)^S; each thread draws MAP_ZRING keys from the
 * distribution before the run (inverse CDF, binary search) and cycles
 * through them, so the draw costs one load per op.
 *
 * Logs: each thread counts, per key, its successful inserts minus its
 * successful removes (an int32 array over the key range: keys x threads x
 * 4 bytes, refused above 1 GiB), and counts its lookups and updates, in
 * the window and in all.  A lookup that finds the key must find
 * map_val(k); anything else (a poisoned entry, memory reused) is counted.
 *
 * Check, after every repetition: no lookup returned a wrong value; for
 * every key, prefilled (0 or 1) + the sum of the threads' logs is 0 or 1
 * and equals its presence in the final set (foreach()), whose entries all
 * hold map_val(k); count() = prefill + inserts - removes.  lost_updates =
 * that expected size - count().
 *
 * Own columns: lookups_per_sec and updates_per_sec (in the window; an
 * update counts whether or not it changed the set), final_size (count()
 * after the run) and resizes (the table's grows over the run, where the
 * implementation exposes them; empty elsewhere), and for the sets that
 * reclaim memory (set.h's unreclaimed(): smr.h's schemes) the peak and
 * mean of the bytes unlinked and not yet freed, sampled by the harness's
 * main thread every 10 ms through the whole run (map_sample) and once
 * after it; empty elsewhere.
 *
 * Stall (--param stall_ms=N): when the window opens, thread 0 stays N ms
 * inside one read-side section (set.h's hold(): an epoch or RCU section,
 * or naming nodes in its hazard pointers), or, where the set has none,
 * sleeps N ms between two ops.  The other threads go on; the peak column
 * shows what each reclamation scheme holds meanwhile.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "workload.h"

#define FAIL(out, ...) do {                                                   \
		(out)->verdict = LB_FAIL;                                     \
		snprintf((out)->msg, sizeof((out)->msg), __VA_ARGS__);        \
	} while (0)

#define MAP_MAX_KEYS (UINT64_C(1) << 24)
#define MAP_ZRING 65536u /* a power of two */
#define MAP_MAX_LOG_BYTES (UINT64_C(1) << 30)

enum { MAP_P_KEYS, MAP_P_UPDATE, MAP_P_PREFILL, MAP_P_DIST, MAP_P_STALL };
static const char *const map_dist_words[] = { "uniform", "zipf:0.5", "zipf:0.8", "zipf:0.9",
					      "zipf:0.99", "zipf:1.2", NULL };
static const double map_zipf_s[] = { 0, 0.5, 0.8, 0.9, 0.99, 1.2 };
static const char *const map_prefill_words[] = { "half", NULL };

static inline uint64_t map_val(uint64_t key)
{
	return key * UINT64_C(0x9e3779b97f4a7c15) + 1;
}

/* One per thread, on its own cache lines: written by its thread only. */
struct map_thread {
	alignas(LB_CACHELINE) uint64_t lookups, updates;  /* in all */
	uint64_t lookups_win, updates_win;                /* in the timed window */
	uint64_t inserted, removed;                       /* that succeeded */
	uint64_t bad, bad_key, bad_val;                   /* wrong lookups, the first */
	int32_t *net;     /* [keys] */
	uint64_t *zring;  /* [MAP_ZRING], NULL for uniform */
};

struct map_state {
	void *prim; /* first member: lb_single_thread_init() relies on it */
	uint64_t keys, prefill;
	uint32_t update_thresh; /* update when 16 random bits are below it */
	unsigned nthreads;
	unsigned stall_ms;
	unsigned char *pre; /* [keys]: prefilled */
	struct map_thread *th;
	struct lb_mem_samples mem; /* the main thread's (map_sample) */
};

static inline uint64_t map_rand(uint64_t *s) /* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* --param stall_ms: thread 0 stops inside one read-side section, where
 * the implementation has one to stall in (set.h's hold()), else between
 * two ops. */
static __attribute__((noinline, cold)) void map_stall(const struct lb_set_ops *ops, void *l,
						      void *t, unsigned ms)
{
	if (ops->hold)
		ops->hold(l, t, lb_smr_sleep_ms, &ms);
	else
		lb_smr_sleep_ms(&ms);
}

static inline __attribute__((always_inline)) void
map_loop(struct lb_worker *w, const struct lb_set_ops *ops)
{
	struct map_state *s = w->state;
	struct map_thread *th = &s->th[w->tid];
	void *l = s->prim, *t = w->tctx;
	const uint64_t keys = s->keys;
	const uint32_t thresh = s->update_thresh;
	const uint64_t *zring = th->zring;
	int32_t *net = th->net;
	uint64_t rng = UINT64_C(0x9e3779b97f4a7c15) * (w->tid + 1) | 1;
	uint64_t lookups = 0, updates = 0, lk_m = 0, up_m = 0, bad = 0;
	unsigned zi = 0, seen = w->seen;
	int in_window = 0;
	struct lb_hot h = lb_hot(w);
	uint64_t n = 0;

	while (lb_running(w, &h, n)) {
		if (__builtin_expect(h.seen != seen, 0)) {
			seen = h.seen; /* the window just opened */
			lk_m = lookups;
			up_m = updates;
			in_window = 1;
			if (s->stall_ms && w->tid == 0)
				map_stall(ops, l, t, s->stall_ms);
		}
		uint64_t r = map_rand(&rng), v;
		uint64_t key = zring ? zring[zi++ & (MAP_ZRING - 1)]
				     : ((r >> 32) * keys) >> 32; /* keys <= 2^24: no overflow */
		uint64_t t0 = lb_sample_begin(w, &h, n);
		if ((uint32_t)(r & 0xffff) < thresh) {
			if (r & 0x10000) {
				if (ops->insert(l, t, key, map_val(key))) {
					net[key]++;
					th->inserted++;
				}
			} else if (ops->remove(l, t, key)) {
				net[key]--;
				th->removed++;
			}
			updates++;
		} else {
			if (ops->lookup(l, t, key, &v) && __builtin_expect(v != map_val(key), 0)) {
				if (!bad++) {
					th->bad_key = key;
					th->bad_val = v;
				}
			}
			lookups++;
		}
		lb_sample_end(w, t0);
		if (ops->quiescent)
			ops->quiescent(l, t);
		lb_busy(h.think_iters);
		lb_publish(w, ++n);
	}
	if (!in_window) {
		lk_m = lookups;
		up_m = updates;
	}
	th->lookups = lookups;
	th->updates = updates;
	th->lookups_win = lookups - lk_m;
	th->updates_win = updates - up_m;
	th->bad = bad;
	lb_finish(w, n);
}

#define MAP_LOOP(sym, id, be, caps, sum) \
	static void map_loop_##sym(struct lb_worker *w) \
	{ map_loop(w, &lb_##sym##_ops); }
LB_SET_IMPLS(MAP_LOOP)

#define MAP_ENTRY(sym, id, be, caps, sum) [LB_IMPL_##sym] = map_loop_##sym,
static const lb_loop_fn map_loops[LB_IMPL_COUNT] = {
	LB_SET_IMPLS(MAP_ENTRY)
};

static uint64_t map_prefill_of(const uint64_t *vals)
{
	return vals[MAP_P_PREFILL] > MAP_MAX_KEYS ? vals[MAP_P_KEYS] / 2 : vals[MAP_P_PREFILL];
}

static int map_validate(const uint64_t *vals, unsigned nthreads, char *err, size_t len)
{
	uint64_t keys = vals[MAP_P_KEYS], prefill = map_prefill_of(vals);
	if (prefill > keys) {
		snprintf(err, len, "map: prefill=%llu is more than the %llu keys; give 0 to %llu or "
			 "half", (unsigned long long)prefill, (unsigned long long)keys,
			 (unsigned long long)keys);
		return -1;
	}
	if (keys * nthreads * sizeof(int32_t) > MAP_MAX_LOG_BYTES) {
		snprintf(err, len, "map: keys=%llu at %u threads needs %llu MiB of per-thread logs, "
			 "over the 1024 MiB allowed; give fewer keys or threads",
			 (unsigned long long)keys, nthreads,
			 (unsigned long long)(keys * nthreads * sizeof(int32_t) >> 20));
		return -1;
	}
	return 0;
}

static void map_free(struct map_state *s)
{
	for (unsigned i = 0; s->th && i < s->nthreads; i++) {
		free(s->th[i].net);
		free(s->th[i].zring);
	}
	free(s->th);
	free(s->pre);
	free(s);
}

/* Each thread's ring of Zipf-distributed keys, from the inverse CDF. */
static int map_zipf(struct map_state *s, double S)
{
	double *cdf = malloc(s->keys * sizeof(double)), sum = 0;
	if (!cdf)
		return ENOMEM;
	for (uint64_t r = 0; r < s->keys; r++)
		cdf[r] = (sum += 1.0 / pow((double)(r + 1), S));
	for (unsigned i = 0; i < s->nthreads; i++) {
		uint64_t rng = UINT64_C(0xd1b54a32d192ed03) * (i + 1) | 1;
		if (!(s->th[i].zring = malloc(MAP_ZRING * sizeof(uint64_t)))) {
			free(cdf);
			return ENOMEM;
		}
		for (unsigned j = 0; j < MAP_ZRING; j++) {
			double u = (double)(map_rand(&rng) >> 11) / 9007199254740992.0 * sum;
			uint64_t lo = 0, hi = s->keys - 1;
			while (lo < hi) {
				uint64_t mid = lo + (hi - lo) / 2;
				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			s->th[i].zring[j] = lo;
		}
	}
	free(cdf);
	return 0;
}

static int map_setup(struct lb_wctx *c)
{
	struct map_state *s = lb_cache_alloc(sizeof(*s));
	int ret = ENOMEM;
	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	s->keys = c->param[MAP_P_KEYS];
	s->prefill = map_prefill_of(c->param);
	s->update_thresh = (uint32_t)(c->param[MAP_P_UPDATE] * 65536 / 100);
	s->stall_ms = (unsigned)c->param[MAP_P_STALL];
	s->nthreads = c->nthreads;
	s->th = lb_shared_aligned_alloc(LB_CACHELINE, c->nthreads * sizeof(*s->th));
	s->pre = calloc(s->keys, 1);
	if (!s->th || !s->pre)
		goto fail;
	memset(s->th, 0, c->nthreads * sizeof(*s->th));
	for (unsigned i = 0; i < c->nthreads; i++)
		if (!(s->th[i].net = calloc(s->keys, sizeof(int32_t))))
			goto fail;
	if (c->param[MAP_P_DIST] && (ret = map_zipf(s, map_zipf_s[c->param[MAP_P_DIST]])) != 0)
		goto fail;
	c->cfg.permits = (unsigned)s->keys;
	if ((ret = lb_prim_create(c->impl, &c->cfg, &s->prim)) != 0)
		goto fail;
	c->state = s;
	/* The prefill: a seeded partial Fisher-Yates shuffle of the keys,
	 * inserted with thread 0's context while no worker runs. */
	struct lb_thread_info ti = { .tid = 0, .cpu = -1, .cluster = 0 };
	const struct lb_set_ops *ops = lb_ops_set(c->impl);
	uint64_t *perm = malloc(s->keys * sizeof(uint64_t)), rng = 0x853c49e6748fea9bu;
	void *t;
	if (!perm || (ret = lb_prim_thread_attach(c->impl, s->prim, &ti, &t)) != 0) {
		free(perm);
		ret = ret ? ret : ENOMEM;
		lb_prim_destroy(c->impl, s->prim);
		c->state = NULL;
		goto fail;
	}
	for (uint64_t k = 0; k < s->keys; k++)
		perm[k] = k;
	for (uint64_t i = 0; i < s->prefill; i++) {
		uint64_t j = i + map_rand(&rng) % (s->keys - i), k = perm[j];
		perm[j] = perm[i];
		perm[i] = k;
		s->pre[k] = 1;
		ops->insert(s->prim, t, k, map_val(k));
		if (ops->quiescent)
			ops->quiescent(s->prim, t);
	}
	lb_prim_thread_detach(c->impl, s->prim, t);
	free(perm);
	return 0;
fail:
	map_free(s);
	return ret;
}

struct map_seen {
	const struct map_state *s;
	unsigned char *present;
	uint64_t visits, bad, bad_key, bad_val;
};

static void map_visit(void *arg, uint64_t key, uint64_t val)
{
	struct map_seen *m = arg;
	m->visits++;
	if (key >= m->s->keys || val != map_val(key) || m->present[key]++) {
		if (!m->bad++) {
			m->bad_key = key;
			m->bad_val = val;
		}
	}
}

static void map_check(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out)
{
	struct map_state *s = c->state;
	const struct lb_set_ops *ops = lb_ops_set(c->impl);
	uint64_t lk = 0, up = 0, ins = 0, rem = 0, bad = 0, bad_key = 0, bad_val = 0;
	(void)ws;

	for (unsigned i = 0; i < s->nthreads; i++) {
		const struct map_thread *th = &s->th[i];
		lk += th->lookups_win;
		up += th->updates_win;
		ins += th->inserted;
		rem += th->removed;
		if (th->bad && !bad) {
			bad_key = th->bad_key;
			bad_val = th->bad_val;
		}
		bad += th->bad;
	}
	if (ops->unreclaimed) /* the last word: the run is over */
		lb_mem_sample(&s->mem, ops->unreclaimed(s->prim));
	uint64_t size = ops->count(s->prim), want = s->prefill + ins - rem;
	out->extra[0] = c->window_s > 0 ? (double)lk / c->window_s : NAN;
	out->extra[1] = c->window_s > 0 ? (double)up / c->window_s : NAN;
	out->extra[2] = (double)size;
	out->extra[3] = ops->resizes ? (double)ops->resizes(s->prim) : NAN;
	out->extra[4] = ops->unreclaimed ? (double)s->mem.peak : NAN;
	out->extra[5] = ops->unreclaimed ? (double)s->mem.sum / (double)s->mem.n : NAN;
	out->has_lost = 1;
	out->lost_updates = (int64_t)(want - size);
	out->verdict = LB_OK;
	if (bad) {
		FAIL(out, "%llu lookups returned a value never stored under their key (the first: "
		     "key %llu gave %#llx%s)", (unsigned long long)bad, (unsigned long long)bad_key,
		     (unsigned long long)bad_val,
		     bad_val == LB_SET_POISON ? ", the poison of freed memory" : "");
		return;
	}
	struct map_seen m = { .s = s, .present = calloc(s->keys, 1) };
	if (!m.present) {
		FAIL(out, "out of memory checking the final contents");
		return;
	}
	ops->foreach(s->prim, map_visit, &m);
	uint64_t unexplained = 0, first = 0;
	for (uint64_t k = 0; k < s->keys; k++) {
		int64_t net = s->pre[k];
		for (unsigned i = 0; i < s->nthreads; i++)
			net += s->th[i].net[k];
		if ((net != 0 && net != 1) || (uint64_t)net != m.present[k])
			if (!unexplained++)
				first = k;
	}
	free(m.present);
	if (m.bad)
		FAIL(out, "the final set holds %llu entries that are wrong or repeated (the first: "
		     "key %llu with %#llx)", (unsigned long long)m.bad, (unsigned long long)m.bad_key,
		     (unsigned long long)m.bad_val);
	else if (unexplained)
		FAIL(out, "%llu keys' presence after the run is not what the threads' logs of "
		     "successful inserts and removes say (the first: key %llu)",
		     (unsigned long long)unexplained, (unsigned long long)first);
	else if (size != want || m.visits != want)
		FAIL(out, "the set holds %llu keys (count) and %llu (visited) where prefill %llu + "
		     "inserts %llu - removes %llu = %llu", (unsigned long long)size,
		     (unsigned long long)m.visits, (unsigned long long)s->prefill,
		     (unsigned long long)ins, (unsigned long long)rem, (unsigned long long)want);
}

static void map_sample(struct lb_wctx *c)
{
	struct map_state *s = c->state;
	const struct lb_set_ops *ops = lb_ops_set(c->impl);
	if (s && ops->unreclaimed)
		lb_mem_sample(&s->mem, ops->unreclaimed(s->prim));
}

static void map_teardown(struct lb_wctx *c)
{
	struct map_state *s = c->state;
	if (!s)
		return;
	lb_prim_destroy(c->impl, s->prim);
	map_free(s);
	c->state = NULL;
}

static const struct lb_param_spec map_params[] = {
	{ "keys", "1024", "key range: keys 0 to keys-1, 1-16777216", "a key range", 1,
	  MAP_MAX_KEYS, NULL, NULL },
	{ "update_pct", "10", "percent of ops that update (half inserts, half removes), 0-100",
	  "a percentage", 0, 100, NULL, NULL },
	{ "prefill", "half", "keys inserted before the run: a count up to keys, or half",
	  "a key count", 0, MAP_MAX_KEYS, NULL, map_prefill_words },
	{ "dist", "uniform", "key distribution: uniform, or zipf:S (S 0.5, 0.8, 0.9, 0.99, 1.2)",
	  "a key distribution", 0, 0, NULL, map_dist_words },
	{ "stall_ms", "0", "thread 0 stops this long once, when the window opens, inside a "
	  "read-side section (where the set has one), 0-5000", "a stall in milliseconds", 0, 5000,
	  NULL, NULL },
	{ NULL },
};

static const char *const map_extra[] = { "lookups_per_sec", "updates_per_sec", "final_size",
					  "resizes", "unreclaimed_peak_bytes",
					  "unreclaimed_mean_bytes", NULL };

const struct lb_workload lb_wl_map = {
	.name = "map",
	.summary = "lookups, inserts and removes on --param keys integer keys, update_pct % "
		   "updates, prefilled to half the range (sets and maps)",
	.checks = "no lookup returns a value not stored (poisoned or freed memory), every key's "
		  "presence explained by the threads' logs, final size = prefill + inserts - "
		  "removes",
	.extra_cols = map_extra,
	.params = map_params,
	.validate = map_validate,
	.loops = map_loops,
	.setup = map_setup,
	.thread_init = lb_single_thread_init,
	.thread_fini = lb_single_thread_fini,
	.check = map_check,
	.sample = map_sample,
	.teardown = map_teardown,
};
