/* queue: capacity(), and push/pop against a model in one thread (full and
 * empty exactly when they should be, FIFO order for LB_CAP_FIFO);
 * producers and consumers: every item popped exactly once with what was
 * written before its push, in push order per producer for LB_CAP_FIFO.
 *
 * stack: the same cases over the same ops (stack.h), the model expecting
 * newest first, and an unbounded stack (permits 0). */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindtest.h"

/* One thread against a model.  The model knows exactly what the queue
 * holds, so every push must succeed exactly while it holds fewer than
 * capacity() items, every pop exactly while it holds any, and each pop must
 * return the oldest item (LB_CAP_FIFO) or one of those held (the others).
 * A fixed walk: pops on empty, a fill past full, a drain past empty, then
 * QB_RANDOM_OPS random pushes and pops (wrapping a ring's indices many
 * times over), then fill and drain again. */
#define QB_ASK 5 /* capacity asked for: not 2^k - 1, so rings round it up */
#define QB_RANDOM_OPS 4000
#define QB_MAX_CAP 64

struct qb_model {
	const struct lb_queue_ops *ops;
	void *o, *t;
	int fifo, lifo;
	uint64_t cap, held[QB_MAX_CAP], count, next, ops_done;
	uint64_t wrong_push, wrong_pop, wrong_item;
};

static void qb_push(struct qb_model *m)
{
	int got = m->ops->push(m->o, m->t, m->next);
	m->wrong_push += got != (m->count < m->cap);
	if (got && m->count < m->cap)
		m->held[m->count++] = m->next;
	m->next++;
	m->ops_done++;
}

static void qb_pop(struct qb_model *m)
{
	uint64_t v = 0;
	int got = m->ops->pop(m->o, m->t, &v);
	m->ops_done++;
	m->wrong_pop += got != (m->count > 0);
	if (!got || m->count == 0)
		return;
	uint64_t i = m->lifo ? m->count - 1 : 0;
	if (!m->fifo && !m->lifo)
		while (i < m->count && m->held[i] != v)
			i++;
	if (i == m->count || m->held[i] != v) {
		m->wrong_item++;
		i = 0; /* drop the oldest, so the model stays the right size */
	}
	memmove(&m->held[i], &m->held[i + 1], (m->count - i - 1) * sizeof(m->held[0]));
	m->count--;
}

static void queue_model(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1, .permits = QB_ASK };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct qb_model m = { .ops = lb_ops_queue(im), .fifo = (im->caps & LB_CAP_FIFO) != 0,
			      .lifo = lb_impl_kind(im) == LB_KIND_STACK, .next = 1 };

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &m.o) != 0 || lb_prim_thread_attach(im, m.o, &ti, &m.t) != 0) {
		tap(0, "%s: model: setup", im->id);
		return;
	}
	m.cap = m.ops->capacity(m.o);
	int cap_ok = m.cap >= QB_ASK && m.cap < 2 * (QB_ASK + 1);
	tap(cap_ok, "%s: capacity() is %llu for %d asked (at least that, and less than twice "
	    "that plus 2: a ring's rounding)", im->id, (unsigned long long)m.cap, QB_ASK);
	if (!cap_ok) {
		lb_prim_thread_detach(im, m.o, m.t);
		lb_prim_destroy(im, m.o);
		return;
	}
	uint64_t full_at = 0, empty_at = 0, rng = 0x9e3779b97f4a7c15u;
	qb_pop(&m);
	qb_pop(&m);
	for (int round = 0; round < 2; round++) {
		for (uint64_t i = 0; i < m.cap + 2; i++) {
			qb_push(&m);
			if (round == 0 && !full_at && m.count == m.cap)
				full_at = m.next - 1;
		}
		for (uint64_t i = 0; i < m.cap + 2; i++)
			qb_pop(&m);
		empty_at = m.count;
		for (int i = 0; round == 0 && i < QB_RANDOM_OPS; i++) {
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			if ((rng >> 33) & 1)
				qb_push(&m);
			else
				qb_pop(&m);
		}
	}
	tap(m.wrong_push == 0 && m.wrong_pop == 0 && m.wrong_item == 0 && full_at == m.cap &&
	    empty_at == 0, "%s: one thread, %llu pushes and pops against a model: push "
	    "fails exactly when %llu items are held (%llu wrong), pop exactly when none "
	    "(%llu wrong), items come out %s (%llu wrong)", im->id,
	    (unsigned long long)m.ops_done, (unsigned long long)m.cap,
	    (unsigned long long)m.wrong_push, (unsigned long long)m.wrong_pop,
	    m.fifo ? "oldest first" : m.lifo ? "newest first" : "exactly once",
	    (unsigned long long)m.wrong_item);
	/* Leave it empty for fini. */
	while (m.count)
		qb_pop(&m);
	lb_prim_thread_detach(im, m.o, m.t);
	lb_prim_destroy(im, m.o);
}

/* np producers and nc consumers for about RUN_MS through a small queue (so
 * that it is often full and often empty).  Producer p pushes (p+1)<<32 | k
 * for k = 0, 1, ..., having first written a payload for it (plain: the
 * push must publish it); consumers pop until every producer is done and a
 * pop fails (with no push in progress, the queue is empty).  Every pushed
 * item must be popped exactly once with its payload, and with LB_CAP_FIFO
 * each consumer must see each producer's items in push order. */
#define QM_CAP 8
#define QM_MAX 200000 /* items per producer at most */

struct qm_shared;
struct qm_thread {
	struct qm_shared *sh;
	unsigned tid, index; /* index: producer or consumer number */
	int producer;
	uint64_t count;      /* pushed or popped */
};

struct qm_shared {
	struct gate g;
	const struct lb_impl *im;
	void *obj;
	unsigned np;
	int fifo;
	_Atomic unsigned producers_done;
	uint64_t *payload;           /* [np][QM_MAX] */
	_Atomic unsigned char *seen; /* [np][QM_MAX] */
	_Atomic uint64_t dups, bad_ids, bad_payload, out_of_order;
	struct qm_thread t[MAXT];
};

static uint64_t qm_mix(uint64_t p, uint64_t k)
{
	return (k + 1) * 0x9e3779b97f4a7c15u ^ p;
}

static void qm_take(struct qm_shared *sh, uint64_t item, int64_t *last)
{
	uint64_t p = (item >> 32) - 1, k = item & 0xffffffffu;
	if ((item >> 32) == 0 || p >= sh->np || k >= QM_MAX) {
		atomic_fetch_add(&sh->bad_ids, 1);
		return;
	}
	if (sh->payload[p * QM_MAX + k] != qm_mix(p, k))
		atomic_fetch_add(&sh->bad_payload, 1);
	if (atomic_exchange_explicit(&sh->seen[p * QM_MAX + k], 1, memory_order_relaxed))
		atomic_fetch_add(&sh->dups, 1);
	if (sh->fifo && (int64_t)k <= last[p])
		atomic_fetch_add(&sh->out_of_order, 1);
	if ((int64_t)k > last[p])
		last[p] = (int64_t)k;
}

static void *qm_worker(void *arg)
{
	struct qm_thread *a = arg;
	struct qm_shared *sh = a->sh;
	const struct lb_queue_ops *ops = lb_ops_queue(sh->im);
	void *t;
	int aerr = kt_attach(sh->im, sh->obj, a->tid, &sh->g, &t);
	kt_gate_pass(&sh->g);
	if (kt_gate_failed(&sh->g, sh->im, sh->obj, aerr, t))
		return NULL;
	if (a->producer) {
		uint64_t p = a->index, k;
		int ran = 0;
		for (k = 0; k < QM_MAX && !kt_stopping(&sh->g); k++) {
			sh->payload[p * QM_MAX + k] = qm_mix(p, k);
			while (!ops->push(sh->obj, t, (p + 1) << 32 | k))
				sched_yield(); /* full */
			kt_gate_ran(&sh->g, &ran);
		}
		a->count = k;
		/* release: our pushes (and counts) happen-before a consumer's
		 * final "empty" pop, which it makes after an acquire load. */
		atomic_fetch_add_explicit(&sh->producers_done, 1, memory_order_release);
	} else {
		int64_t last[MAXT];
		uint64_t item;
		for (unsigned i = 0; i < MAXT; i++)
			last[i] = -1;
		for (;;) {
			if (ops->pop(sh->obj, t, &item)) {
				qm_take(sh, item, last);
				a->count++;
				continue;
			}
			if (atomic_load_explicit(&sh->producers_done, memory_order_acquire) ==
			    sh->np) {
				/* No push in progress: a failed pop now means empty. */
				if (!ops->pop(sh->obj, t, &item))
					break;
				qm_take(sh, item, last);
				a->count++;
				continue;
			}
			sched_yield(); /* empty for now */
		}
	}
	lb_prim_thread_detach(sh->im, sh->obj, t);
	return NULL;
}

static void queue_mpmc(const struct lb_impl *im, unsigned np, unsigned nc)
{
	struct qm_shared *sh = tap_xcalloc(sizeof(*sh));
	unsigned n = np + nc;
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1, .permits = QM_CAP };
	struct team tm = { .n = 0 };

	sh->im = im;
	sh->np = np;
	sh->fifo = (im->caps & LB_CAP_FIFO) != 0;
	sh->payload = tap_xcalloc((size_t)np * QM_MAX * sizeof(sh->payload[0]));
	sh->seen = tap_xcalloc((size_t)np * QM_MAX * sizeof(sh->seen[0]));
	if (lb_prim_create(im, &cfg, &sh->obj) != 0) {
		tap(0, "%s: %u producers, %u consumers: setup", im->id, np, nc);
		free(sh->payload);
		free(sh->seen);
		free(sh);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sh->t[i] = (struct qm_thread){ .sh = sh, .tid = i, .producer = i < np,
					      .index = i < np ? i : i - np };
		kt_team_spawn(&tm, qm_worker, &sh->t[i]);
	}
	kt_gate_open(&sh->g, n);
	kt_gate_run(&sh->g, np); /* every producer has pushed */
	atomic_store(&sh->g.stop, 1);
	unsigned stuck = kt_team_join(&tm, GUARD_MS);
	if (stuck) {
		tap(0, "%s: %u producers, %u consumers: hung (%u threads stuck after %d s)",
		    im->id, np, nc, stuck, GUARD_MS / 1000);
		return;
	}
	uint64_t pushed = 0, popped = 0, missing = 0, phantom = 0;
	for (unsigned i = 0; i < n; i++) {
		if (sh->t[i].producer)
			pushed += sh->t[i].count;
		else
			popped += sh->t[i].count;
	}
	for (unsigned p = 0; p < np; p++)
		for (uint64_t k = 0; k < QM_MAX; k++) {
			int s = atomic_load_explicit(&sh->seen[p * QM_MAX + k],
						     memory_order_relaxed);
			missing += k < sh->t[p].count && !s;
			phantom += k >= sh->t[p].count && s;
		}
	int err = atomic_load(&sh->g.attach_err);
	uint64_t dups = atomic_load(&sh->dups), bad = atomic_load(&sh->bad_ids),
		 pay = atomic_load(&sh->bad_payload), order = atomic_load(&sh->out_of_order);
	tap(!err && pushed > 0 && popped == pushed && missing == 0 && phantom == 0 && dups == 0 &&
	    bad == 0 && pay == 0 && order == 0, "%s: %u producers, %u consumers, capacity %d: "
	    "every item popped exactly once%s (%llu pushed, %llu popped; %llu missing, %llu "
	    "duplicates, %llu never pushed, %llu bad ids, %llu stale payloads, %llu out of "
	    "order%s%s)", im->id, np, nc, QM_CAP, sh->fifo ? ", in push order" : "",
	    (unsigned long long)pushed, (unsigned long long)popped,
	    (unsigned long long)missing, (unsigned long long)dups, (unsigned long long)phantom,
	    (unsigned long long)bad, (unsigned long long)pay, (unsigned long long)order,
	    err ? ", attach: " : "", err ? strerror(err) : "");
	lb_prim_destroy(im, sh->obj);
	free(sh->payload);
	free(sh->seen);
	free(sh);
}

void kindtest_queue(const struct lb_impl *im)
{
	tap_run(im, queue_model, 0, 0, "one-thread model");
	tap_run(im, queue_mpmc, 1, 1, "1 producer, 1 consumer");
	for (unsigned k = 2; !lb_ops_queue(im)->spsc && k <= MAXT / 2; k *= 2)
		tap_run(im, queue_mpmc, k, k, "%u producers, %u consumers", k, k);
	if (lb_ops_queue(im)->unreclaimed)
		kindtest_reclaim(im);
}

/* A stack asked for no bound (permits 0, as the stack workload asks)
 * holds whatever is pushed: capacity() is UINT64_MAX, SB_UNBOUNDED pushes
 * all succeed (several pool chunks' worth), and the pops return them
 * newest first, then report empty. */
#define SB_UNBOUNDED 1000

static void stack_unbounded(const struct lb_impl *im, unsigned n, unsigned x)
{
	struct lb_prim_cfg cfg = { .nthreads = 1, .nclusters = 1, .permits = 0 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	const struct lb_stack_ops *ops = lb_ops_stack(im);
	void *o, *t;
	uint64_t pushed = 0, wrong = 0, v;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: unbounded: setup", im->id);
		return;
	}
	uint64_t cap = ops->capacity(o);
	for (uint64_t i = 1; i <= SB_UNBOUNDED; i++)
		pushed += ops->push(o, t, i * 3);
	for (uint64_t i = SB_UNBOUNDED; i >= 1; i--)
		wrong += !ops->pop(o, t, &v) || v != i * 3;
	int empty = !ops->pop(o, t, &v);
	tap(cap == UINT64_MAX && pushed == SB_UNBOUNDED && wrong == 0 && empty,
	    "%s: unbounded (permits 0): capacity() %s UINT64_MAX, %llu of %d pushes held, "
	    "%llu pops wrong or out of LIFO order, then %s", im->id,
	    cap == UINT64_MAX ? "is" : "is not", (unsigned long long)pushed, SB_UNBOUNDED,
	    (unsigned long long)wrong, empty ? "empty" : "NOT empty");
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

void kindtest_stack(const struct lb_impl *im)
{
	tap_run(im, queue_model, 0, 0, "one-thread model");
	tap_run(im, stack_unbounded, 0, 0, "unbounded");
	tap_run(im, queue_mpmc, 1, 1, "1 pusher, 1 popper");
	for (unsigned k = 2; k <= MAXT / 2; k *= 2)
		tap_run(im, queue_mpmc, k, k, "%u pushers, %u poppers", k, k);
}
