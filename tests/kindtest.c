/* kindtest: the shared machinery of the semantics tests (kindtest.h says
 * what each piece is for). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kindtest.h"

const unsigned kt_counts[3] = {
#if TAP_SANITIZED
	2, 8, 0
#else
	2, 4, 8
#endif
};

int kt_wait_count(_Atomic unsigned *v, unsigned target, long ms)
{
	struct tap_guard g;
	tap_guard_start(&g, 0, ms);
	while (atomic_load(v) < target) {
		if (tap_guard_over(&g))
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

/* A team thread runs fn(arg), then says it is done.  On the heap, not in
 * the team (a case's stack frame): a thread the case gave up on may still
 * finish after the case returned, and writes only here. */
struct kt_member {
	void *(*fn)(void *);
	void *arg;
	_Atomic unsigned done;
};

static void *kt_member_main(void *p)
{
	struct kt_member *m = p;
	void *ret = m->fn(m->arg);
	atomic_store_explicit(&m->done, 1, memory_order_release);
	return ret;
}

void kt_team_spawn(struct team *tm, void *(*fn)(void *), void *arg)
{
	if (tm->n >= MAXT)
		tap_bail("kt_team_spawn: more than %d threads in a team", MAXT);
	struct kt_member *m = tap_xcalloc(sizeof(*m));
	m->fn = fn;
	m->arg = arg;
	tm->m[tm->n] = m;
	tap_spawn(&tm->th[tm->n], kt_member_main, m);
	tm->n++;
}

unsigned kt_team_join(struct team *tm, long ms)
{
	/* Wait for the done flags under the guard (tap_guard: CLOCK_MONOTONIC,
	 * stopped while the threads are kept off the CPUs), as every other
	 * guard here: a step of the wall clock (a VM's clock corrected) must
	 * not end the wait early (pthread_timedjoin_np's deadline is
	 * CLOCK_REALTIME), and pthread_join itself, which ThreadSanitizer
	 * understands (it does not know pthread_clockjoin_np), then joins
	 * those that finished.  ms 0: look once. */
	struct tap_guard g;
	tap_guard_start(&g, 0, ms);
	unsigned stuck = 0;
	for (unsigned i = 0; i < tm->n; i++) {
		while (!atomic_load_explicit(&tm->m[i]->done, memory_order_acquire) &&
		       !tap_guard_over(&g))
			tap_sleep_ms(1);
		tm->stuck[i] = !atomic_load_explicit(&tm->m[i]->done, memory_order_acquire);
		if (tm->stuck[i]) {
			pthread_detach(tm->th[i]); /* and its kt_member leaks: it may still write */
			stuck++;
			continue;
		}
		pthread_join(tm->th[i], NULL);
		free(tm->m[i]);
	}
	return stuck;
}

void kt_gate_pass(struct gate *g)
{
	atomic_fetch_add(&g->ready, 1);
	while (!atomic_load(&g->go))
		sched_yield();
}

void kt_gate_run(struct gate *g, unsigned want)
{
	tap_sleep_ms(RUN_MS);
	kt_wait_count(&g->ran, want, GUARD_MS);
}

int kt_gate_open(struct gate *g, unsigned n)
{
	int ok = kt_wait_count(&g->ready, n, GUARD_MS);
	atomic_store(&g->go, 1);
	return ok;
}

int kt_attach(const struct lb_impl *im, void *obj, unsigned tid, struct gate *g, void **tctx)
{
	struct lb_thread_info ti = { .tid = tid, .cpu = -1, .cluster = 0 };
	int ret = lb_prim_thread_attach(im, obj, &ti, tctx);
	if (ret)
		atomic_store(&g->attach_err, ret);
	return ret;
}

int kt_gate_failed(struct gate *g, const struct lb_impl *im, void *obj, int aerr, void *t)
{
	if (!atomic_load(&g->attach_err))
		return 0;
	if (!aerr)
		lb_prim_thread_detach(im, obj, t);
	return 1;
}

/* ---- one helper thread doing one operation ---- */

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct lb_thread_info ti = { .tid = h->tid, .cpu = -1, .cluster = 0 };
	void *tctx;
	atomic_store(&h->ktid, (pid_t)syscall(SYS_gettid));
	if (lb_prim_thread_attach(h->im, h->obj, &ti, &tctx) != 0) {
		h->result = H_ERR;
	} else {
		atomic_store(&h->started, 1);
		h->result = h->fn(h, tctx);
		lb_prim_thread_detach(h->im, h->obj, tctx);
	}
	atomic_store(&h->started, 1);
	atomic_store(&h->done, 1);
	return NULL;
}

struct helper *kt_helper_spawn(const struct lb_impl *im, void *obj, unsigned tid,
			       int (*fn)(struct helper *, void *), void *arg)
{
	struct helper *h = tap_xcalloc(sizeof(*h));
	*h = (struct helper){ .im = im, .obj = obj, .tid = tid, .fn = fn, .arg = arg };
	tap_spawn(&h->th, helper_main, h);
	return h;
}

int kt_helper_done_within(struct helper *h, long ms)
{
	struct tap_guard g;
	tap_guard_start(&g, 0, ms);
	while (!atomic_load(&h->done)) {
		if (tap_guard_over(&g))
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

int kt_helper_reap(struct helper *h, long ms)
{
	if (!kt_helper_done_within(h, ms)) {
		pthread_detach(h->th);
		return H_HUNG;
	}
	pthread_join(h->th, NULL);
	int r = h->result;
	free(h);
	return r;
}

int kt_run_helper(const struct lb_impl *im, void *obj, unsigned tid,
		  int (*fn)(struct helper *, void *), void *arg)
{
	return kt_helper_reap(kt_helper_spawn(im, obj, tid, fn, arg), GUARD_MS);
}

const char *kt_bool_str(int r)
{
	return r == H_HUNG ? "hung" : r == H_ERR ? "attach failed"
		: r == H_UNLOCK ? "true, but its unlock failed" : r == 1 ? "true"
		: r == 0 ? "false" : "?";
}

const char *kt_err_str(int r)
{
	static char buf[64];
	if (r == H_HUNG)
		return "hung";
	if (r == H_ERR)
		return "attach failed";
	if (r == 0)
		return "0";
	snprintf(buf, sizeof(buf), "%s", strerror(r));
	return buf;
}

int kt_helpers_parked(struct helper **h, unsigned n, long ms)
{
	struct tap_guard g;
	tap_guard_start(&g, 0, ms);
	int streak = 0;
	while (!tap_guard_over(&g)) {
		int all = 1;
		for (unsigned i = 0; i < n; i++)
			all &= atomic_load(&h[i]->started) && !atomic_load(&h[i]->done) &&
			       tap_task_state(atomic_load(&h[i]->ktid)) == 'S';
		streak = all ? streak + 1 : 0;
		if (streak >= 2)
			return 1;
		tap_sleep_ms(10);
	}
	return 0;
}

unsigned kt_count_done(struct helper **h, unsigned n)
{
	unsigned d = 0;
	for (unsigned i = 0; i < n; i++)
		d += atomic_load(&h[i]->done) != 0;
	return d;
}

int kt_all_done_within(struct helper **h, unsigned n, long ms)
{
	struct tap_guard g;
	tap_guard_start(&g, 0, ms);
	while (kt_count_done(h, n) < n) {
		if (tap_guard_over(&g))
			return 0;
		tap_sleep_ms(1);
	}
	return 1;
}

unsigned kt_reap_all(struct helper **h, unsigned n)
{
	unsigned stuck = 0;
	for (unsigned i = 0; i < n; i++)
		stuck += kt_helper_reap(h[i], 0) == H_HUNG;
	return stuck;
}
