/* condition: producer/consumer hand-off through a one-slot buffer (every
 * item consumed exactly once), notify() wakes a waiter, notify_all() wakes
 * all of them. */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindtest.h"

/* Hand-off: producers put item ids into a one-slot buffer, consumers take
 * them.  Only consumers ever wait on the condition (a producer that finds
 * the slot full unlocks, yields and retries), so every waiter waits for the
 * same predicate and notify() -- one waiter -- is the right call: with
 * producers waiting too, a correct notify() could wake the wrong side and
 * deadlock.  Producers notify alternately inside and outside the lock. */
#define CV_CAP 1
#define CV_MAX_ITEMS 200000
#define CV_PILL UINT64_MAX

struct cv_shared;
struct cv_thread {
	struct cv_shared *sh;
	unsigned tid;
	int producer;
	uint64_t consumed, sum;
};

struct cv_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned nconsumers;
	_Atomic unsigned producers_left;
	/* Protected by the condition's lock: plain, so that ThreadSanitizer
	 * checks the lock's ordering. */
	uint64_t slot[CV_CAP];
	unsigned head, count;
	uint64_t next_id;
	_Atomic uint64_t dups, out_of_range;
	_Atomic unsigned char seen[CV_MAX_ITEMS];
	struct cv_thread t[MAXT];
};

/* Puts a new item (or a pill); 0 when the ids are used up. */
static int cv_put(struct cv_shared *sh, void *t, int pill)
{
	const struct lb_condition_ops *ops = lb_ops_condition(sh->im);
	for (;;) {
		ops->lock(sh->obj, t);
		if (sh->count < CV_CAP)
			break;
		ops->unlock(sh->obj, t);
		if (atomic_load_explicit(&sh->g.abandon, memory_order_relaxed))
			return 0; /* the case hung: do not spin forever */
		sched_yield();
	}
	uint64_t id;
	if (pill) {
		id = CV_PILL;
	} else if (sh->next_id >= CV_MAX_ITEMS) {
		ops->unlock(sh->obj, t);
		return 0;
	} else {
		id = sh->next_id++;
	}
	sh->slot[(sh->head + sh->count) % CV_CAP] = id;
	sh->count++;
	if (id & 1) {
		ops->notify(sh->obj);
		ops->unlock(sh->obj, t);
	} else {
		ops->unlock(sh->obj, t);
		ops->notify(sh->obj);
	}
	return 1;
}

static void *cv_worker(void *arg)
{
	struct cv_thread *a = arg;
	struct cv_shared *sh = a->sh;
	const struct lb_condition_ops *ops = lb_ops_condition(sh->im);
	void *t;
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	if (a->producer) {
		int ran = 0;
		while (!kt_stopping(&sh->g) && cv_put(sh, t, 0))
			kt_gate_ran(&sh->g, &ran);
		if (atomic_fetch_sub(&sh->producers_left, 1) == 1)
			for (unsigned i = 0; i < sh->nconsumers; i++)
				cv_put(sh, t, 1);
	} else {
		for (;;) {
			ops->lock(sh->obj, t);
			while (sh->count == 0)
				ops->wait(sh->obj, t);
			uint64_t id = sh->slot[sh->head];
			sh->head = (sh->head + 1) % CV_CAP;
			sh->count--;
			ops->unlock(sh->obj, t);
			if (id == CV_PILL)
				break;
			if (id >= CV_MAX_ITEMS)
				atomic_fetch_add(&sh->out_of_range, 1);
			else if (atomic_exchange_explicit(&sh->seen[id], 1, memory_order_relaxed))
				atomic_fetch_add(&sh->dups, 1);
			a->consumed++;
			a->sum += id;
		}
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void condition_handoff(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct cv_shared *sh = tap_xcalloc(sizeof(*sh));
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct team tm = { .n = 0 };
	unsigned np = n / 2;

	(void)x;
	sh->im = im;
	sh->nconsumers = n - np;
	atomic_store(&sh->producers_left, np);
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct cv_thread){ .sh = sh, .tid = i, .producer = i < np };
		kt_team_spawn(&tm, cv_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, 1);
	atomic_store(&sh->g.stop, 1);
	uint64_t t0 = tap_now_ms();
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
	if (stuck) {
		/* who, and what the shared state was: a consumer stuck with a
		 * pill in the slot is a lost wake-up */
		char who[256] = "";
		for (unsigned i = 0; i < n; i++)
			if (tm.stuck[i])
				snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%s %u",
					 who[0] ? ", " : "", i < np ? "producer" : "consumer", i);
		atomic_store(&sh->g.abandon, 1);
		tap(0, "%s: %u threads: hand-off hung (%u threads stuck after %d s; waited %llu ms; "
		    "%s; %u producers left, %u in the slot)", im->id, n, stuck, GUARD_MS / 1000,
		    (unsigned long long)(tap_now_ms() - t0), who,
		    atomic_load(&sh->producers_left), sh->count);
		return;
	}
	uint64_t consumed = 0, sum = 0, produced = sh->next_id;
	for (unsigned i = 0; i < n; i++) {
		consumed += sh->t[i].consumed;
		sum += sh->t[i].sum;
	}
	uint64_t want = produced * (produced - 1) / 2;
	uint64_t dups = atomic_load(&sh->dups), oor = atomic_load(&sh->out_of_range);
	int err = atomic_load(&sh->g.attach_err);
	tap(!err && produced > 0 && consumed == produced && sum == want && dups == 0 && oor == 0 &&
	    sh->count == 0,
	    "%s: %u threads (%u producers): every item handed over exactly once (%llu produced, "
	    "%llu consumed, checksum %s, %llu duplicates, %llu bad ids%s%s)", im->id, n, np,
	    (unsigned long long)produced, (unsigned long long)consumed,
	    sum == want ? "ok" : "wrong", (unsigned long long)dups, (unsigned long long)oor,
	    err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh);
}

/* Waiters for notify()/notify_all(): the predicate lives under the
 * condition's lock. */
struct nf_shared {
	int flag;
	unsigned tokens, waiting;
	_Atomic unsigned returned;
};

static int nf_wait_flag(struct helper *h, void *t)
{
	const struct lb_condition_ops *ops = lb_ops_condition(h->im);
	struct nf_shared *s = h->arg;
	ops->lock(h->obj, t);
	s->waiting++;
	while (!s->flag)
		ops->wait(h->obj, t);
	ops->unlock(h->obj, t);
	atomic_fetch_add(&s->returned, 1);
	return 0;
}

static int nf_wait_token(struct helper *h, void *t)
{
	const struct lb_condition_ops *ops = lb_ops_condition(h->im);
	struct nf_shared *s = h->arg;
	ops->lock(h->obj, t);
	s->waiting++;
	while (s->tokens == 0)
		ops->wait(h->obj, t);
	s->tokens--;
	ops->unlock(h->obj, t);
	atomic_fetch_add(&s->returned, 1);
	return 0;
}

/* 1 once all nw helpers are inside wait(): they count themselves under the
 * lock and wait() releases it in the same section, so once the main thread
 * reads nw under the lock, every one of them is waiting. */
static int nf_all_waiting(const struct lb_impl *im, void *o, void *t, struct nf_shared *s,
			  unsigned nw)
{
	const struct lb_condition_ops *ops = lb_ops_condition(im);
	struct tap_guard g;
	tap_guard_start(&g, 0, GUARD_MS);
	for (;;) {
		ops->lock(o, t);
		unsigned w = s->waiting;
		ops->unlock(o, t);
		if (w >= nw)
			return 1;
		if (tap_guard_over(&g))
			return 0;
		tap_sleep_ms(1);
	}
}

static void condition_notify(const struct lb_impl *im, unsigned n, unsigned all)
{
	const struct lb_condition_ops *ops = lb_ops_condition(im);
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct nf_shared *s = tap_xcalloc(sizeof(*s));
	struct helper *h[MAXT];
	unsigned nw = n - 1;
	void *o, *t;

	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		return;
	}
	for (unsigned i = 0; i < nw; i++)
		h[i] = kt_helper_spawn(im, o, i + 1, all ? nf_wait_flag : nf_wait_token, s);
	if (!nf_all_waiting(im, o, t, s, nw)) {
		tap(0, "%s: %u threads: waiters did not get the lock within %d s", im->id, n,
		    GUARD_MS / 1000);
		return;
	}
	if (all) {
		ops->lock(o, t);
		s->flag = 1;
		ops->notify_all(o);
		ops->unlock(o, t);
		int ok = kt_wait_count(&s->returned, nw, GUARD_MS);
		tap(ok, "%s: %u threads: one notify_all() wakes all %u waiters (%u returned)",
		    im->id, n, nw, atomic_load(&s->returned));
	} else {
		ops->lock(o, t);
		s->tokens = 1;
		ops->unlock(o, t);
		ops->notify(o); /* outside the lock: allowed */
		int ok = kt_wait_count(&s->returned, 1, GUARD_MS);
		tap(ok, "%s: %u threads: one notify() wakes a waiter (%u of %u returned)", im->id,
		    n, atomic_load(&s->returned), nw);
		/* Let the others go. */
		ops->lock(o, t);
		s->tokens += nw - 1;
		ops->notify_all(o);
		ops->unlock(o, t);
	}
	kt_all_done_within(h, nw, GUARD_MS);
	unsigned stuck = kt_reap_all(h, nw);
	if (stuck) {
		tap(0, "%s: %u threads: %u waiters still stuck after notify_all()", im->id, n,
		    stuck);
		tap_abandon();
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
	free(s);
}

void kindtest_condition(const struct lb_impl *im)
{
	for (size_t c = 0; c < KT_NCOUNTS; c++) {
		unsigned n = kt_counts[c];
		tap_run(im, condition_handoff, n, 0, "hand-off, %u threads", n);
		tap_run(im, condition_notify, n, 0, "notify, %u threads", n);
		tap_run(im, condition_notify, n, 1, "notify_all, %u threads", n);
	}
}
