/* set: lookup/insert/remove against an exact model in one thread (and
 * count() and foreach() after it), growth far past the size asked for,
 * and threads that each own some keys (exact per-thread models) while all
 * of them fight over shared keys (every success logged): the final
 * contents must be exactly what the logs explain, and no lookup may return
 * a value that was not stored (a freed, poisoned entry shows as one). */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindtest.h"

/* The value stored under a key: a function of it, so any lookup can tell
 * a right value from a wrong one (a poisoned entry, another key's). */
static uint64_t sv(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15u + 1;
}

struct sb_seen {
	uint64_t *present; /* [keys]: times foreach visited the key */
	uint64_t keys, visits, bad;
};

static void sb_visit(void *arg, uint64_t key, uint64_t val)
{
	struct sb_seen *s = arg;
	s->visits++;
	if (key >= s->keys || val != sv(key))
		s->bad++;
	else
		s->present[key]++;
}

#define SB_KEYS 64
#define SB_OPS 6000

static void set_model(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1, .permits = SB_KEYS };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	const struct lb_set_ops *ops = lb_ops_set(im);
	unsigned char model[SB_KEYS] = { 0 };
	uint64_t present[SB_KEYS] = { 0 };
	uint64_t rng = 0x2545f4914f6cdd1du, wrong = 0, held = 0;
	void *o, *t;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: model: setup", im->id);
		return;
	}
	for (int i = 0; i < SB_OPS; i++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		uint64_t k = (rng >> 33) % SB_KEYS, v = 0;
		switch ((rng >> 20) % 3) {
		case 0:
			if (ops->lookup(o, t, k, &v) != (model[k] != 0) || (model[k] && v != sv(k)))
				wrong++;
			break;
		case 1:
			if (ops->insert(o, t, k, sv(k)) != !model[k])
				wrong++;
			held += !model[k];
			model[k] = 1;
			break;
		default:
			if (ops->remove(o, t, k) != (model[k] != 0))
				wrong++;
			held -= model[k];
			model[k] = 0;
			break;
		}
		if (ops->quiescent)
			ops->quiescent(o, t);
	}
	lb_prim_thread_detach(im, o, t);
	struct sb_seen s = { .present = present, .keys = SB_KEYS };
	ops->foreach(o, sb_visit, &s);
	uint64_t mismatch = 0;
	for (int k = 0; k < SB_KEYS; k++)
		mismatch += present[k] != model[k];
	uint64_t count = ops->count(o);
	tap(wrong == 0 && mismatch == 0 && s.bad == 0 && count == held && s.visits == held,
	    "%s: one thread, %d random lookups, inserts and removes on %d keys against a "
	    "model: %llu results wrong; then count() %llu and foreach() %llu visits for %llu "
	    "keys held, %llu keys where they differ, %llu bad entries", im->id, SB_OPS, SB_KEYS,
	    (unsigned long long)wrong, (unsigned long long)count,
	    (unsigned long long)s.visits, (unsigned long long)held,
	    (unsigned long long)mismatch, (unsigned long long)s.bad);
	lb_prim_destroy(im, o);
}

/* Growth: 20000 keys into a set sized for 16; all there, all counted. */
#define SB_GROW 20000

static void set_grow(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1, .permits = 16 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	const struct lb_set_ops *ops = lb_ops_set(im);
	uint64_t inserted = 0, found = 0, v;
	void *o, *t;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: growth: setup", im->id);
		return;
	}
	for (uint64_t k = 0; k < SB_GROW; k++) {
		inserted += ops->insert(o, t, k * 7, sv(k * 7));
		if (ops->quiescent)
			ops->quiescent(o, t);
	}
	for (uint64_t k = 0; k < SB_GROW; k++) {
		found += ops->lookup(o, t, k * 7, &v) && v == sv(k * 7);
		if (ops->quiescent)
			ops->quiescent(o, t);
	}
	lb_prim_thread_detach(im, o, t);
	uint64_t count = ops->count(o);
	uint64_t resizes = ops->resizes ? ops->resizes(o) : 0;
	tap(inserted == SB_GROW && found == SB_GROW && count == SB_GROW &&
	    (!ops->resizes || resizes > 0),
	    "%s: %d keys into a set sized for 16: %llu inserted, %llu found with their value, "
	    "count() %llu%s", im->id, SB_GROW, (unsigned long long)inserted,
	    (unsigned long long)found, (unsigned long long)count,
	    ops->resizes ? (resizes ? " (it resized)" : " (it never resized)") : "");
	lb_prim_destroy(im, o);
}

/* Threads: thread i owns keys i, i + n, i + 2n, ... below SM_OWN * n and
 * keeps an exact model of them; keys from SM_OWN * n to SM_OWN * n +
 * SM_SHARED are everyone's, and each thread logs its successful inserts
 * and removes of each.  A lookup of any key must return its value or
 * nothing. */
#define SM_OWN 64
#define SM_SHARED 16

struct sm_shared;
struct sm_thread {
	struct sm_shared *sh;
	unsigned tid;
	unsigned char own[SM_OWN];  /* model: present */
	int64_t net[SM_SHARED];     /* inserts - removes that succeeded */
	uint64_t wrong_lookup, wrong_update, bad_val, ops;
};

struct sm_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned n;
	struct sm_thread t[MAXT];
};

static void *sm_worker(void *arg)
{
	struct sm_thread *a = arg;
	struct sm_shared *sh = a->sh;
	const struct lb_set_ops *ops = lb_ops_set(sh->im);
	uint64_t rng = 0x9e3779b97f4a7c15u * (a->tid + 1), v;
	void *t;
	int ran = 0;
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	const uint64_t base = (uint64_t)SM_OWN * sh->n;
	while (!kt_stopping(&sh->g)) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		unsigned op = (unsigned)(rng >> 20) % 3, r = (unsigned)(rng >> 33);
		if (rng >> 63) { /* an own key */
			unsigned i = r % SM_OWN;
			uint64_t k = a->tid + (uint64_t)i * sh->n;
			if (op == 0) {
				bool got = ops->lookup(sh->obj, t, k, &v);
				a->wrong_lookup += got != (a->own[i] != 0);
				a->bad_val += got && v != sv(k);
			} else if (op == 1) {
				a->wrong_update += ops->insert(sh->obj, t, k, sv(k)) != !a->own[i];
				a->own[i] = 1;
			} else {
				a->wrong_update += ops->remove(sh->obj, t, k) != (a->own[i] != 0);
				a->own[i] = 0;
			}
		} else { /* a shared key */
			unsigned i = r % SM_SHARED;
			uint64_t k = base + i;
			if (op == 0)
				a->bad_val += ops->lookup(sh->obj, t, k, &v) && v != sv(k);
			else if (op == 1)
				a->net[i] += ops->insert(sh->obj, t, k, sv(k));
			else
				a->net[i] -= ops->remove(sh->obj, t, k);
		}
		if (ops->quiescent)
			ops->quiescent(sh->obj, t);
		a->ops++;
		kt_gate_ran(&sh->g, &ran);
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void set_threads(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct sm_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1,
				   .permits = SM_OWN * n + SM_SHARED };
	struct team tm = { .n = 0 };
	const struct lb_set_ops *ops = lb_ops_set(im);

	(void)x;
	sh->im = im;
	sh->n = n;
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct sm_thread){ .sh = sh, .tid = i };
		kt_team_spawn(&tm, sm_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, n);
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u threads: hung (%u threads stuck after %d s)", im->id, n, stuck,
		    GUARD_MS / 1000);
		return;
	}
	uint64_t keys = (uint64_t)SM_OWN * n + SM_SHARED;
	struct sb_seen s = { .present = tap_xcalloc(keys * sizeof(uint64_t)), .keys = keys };
	ops->foreach(sh->obj, sb_visit, &s);
	uint64_t wrong = 0, wrong_up = 0, bad = 0, total = 0, expect = 0, mismatch = 0, done = 0;
	for (unsigned i = 0; i < n; i++) {
		wrong += sh->t[i].wrong_lookup;
		wrong_up += sh->t[i].wrong_update;
		bad += sh->t[i].bad_val;
		done += sh->t[i].ops;
		for (unsigned j = 0; j < SM_OWN; j++) {
			expect += sh->t[i].own[j];
			mismatch += s.present[i + (uint64_t)j * n] != sh->t[i].own[j];
		}
	}
	for (unsigned j = 0; j < SM_SHARED; j++) {
		int64_t net = 0;
		for (unsigned i = 0; i < n; i++)
			net += sh->t[i].net[j];
		expect += (uint64_t)net;
		mismatch += (net != 0 && net != 1) || s.present[SM_OWN * n + j] != (uint64_t)net;
	}
	total = ops->count(sh->obj);
	tap(wrong == 0 && wrong_up == 0 && bad == 0 && mismatch == 0 && s.bad == 0 && total == expect &&
	    s.visits == expect && done > 0,
	    "%s: %u threads, %llu ops on own and shared keys: %llu own-key lookups and %llu "
	    "updates with a wrong result, "
	    "%llu lookups with a wrong value, %llu keys whose presence the logs do not "
	    "explain, count() %llu and %llu visits for %llu explained, %llu bad entries",
	    im->id, n, (unsigned long long)done, (unsigned long long)wrong,
	    (unsigned long long)wrong_up, (unsigned long long)bad, (unsigned long long)mismatch, (unsigned long long)total,
	    (unsigned long long)s.visits, (unsigned long long)expect, (unsigned long long)s.bad);
	free(s.present);
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

void kindtest_set(const struct lb_impl *im)
{
	tap_run(im, set_model, 0, 0, "one-thread model");
	tap_run(im, set_grow, 0, 0, "growth");
	for (size_t c = 0; c < KT_NCOUNTS; c++)
		tap_run(im, set_threads, kt_counts[c], 0, "%u threads", kt_counts[c]);
	if (lb_ops_set(im)->unreclaimed)
		kindtest_reclaim(im);
}
