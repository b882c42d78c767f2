/* event: no waiter returns while clear; one set() releases them all;
 * is_set() follows set()/clear(); set() then clear() at once still
 * releases the parked waiters. */
#include <stdatomic.h>

#include "kindtest.h"

static int ev_wait(struct helper *h, void *t)
{
	lb_ops_event(h->im)->wait(h->obj, t);
	return 0;
}

/* n-1 waiters, the main thread sets.  clear_at_once: set() then clear()
 * immediately, once every waiter is parked. */
static void event_wake_all(const struct lb_impl *im, unsigned n, unsigned clear_at_once)
{
	const struct lb_event_ops *ops = lb_ops_event(im);
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct helper *h[MAXT];
	unsigned nw = n - 1;
	void *o, *t;

	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: %u threads: setup", im->id, n);
		return;
	}
	for (unsigned i = 0; i < nw; i++)
		h[i] = kt_helper_spawn(im, o, i + 1, ev_wait, NULL);
	if (!clear_at_once) {
		int is0 = ops->is_set(o);
		tap_sleep_ms(QUIET_MS);
		unsigned early = kt_count_done(h, nw);
		tap(early == 0 && !is0, "%s: %u threads: no waiter returns while the event is "
		    "clear (%u of %u returned, is_set %s)", im->id, n, early, nw, kt_bool_str(is0));
		ops->set(o);
		int all = kt_all_done_within(h, nw, GUARD_MS);
		int is1 = ops->is_set(o);
		tap(all && is1, "%s: %u threads: one set() releases all %u waiters (%u returned, "
		    "is_set %s)", im->id, n, nw, kt_count_done(h, nw), kt_bool_str(is1));
	} else {
		if (!kt_helpers_parked(h, nw, 2000)) {
			ops->set(o);
			tap(1, "%s: %u threads: set() then clear() at once releases the waiters "
			    "# SKIP the waiters did not sleep in the kernel within 2 s", im->id, n);
		} else {
			ops->set(o);
			ops->clear(o);
			int all = kt_all_done_within(h, nw, GUARD_MS);
			int is = ops->is_set(o);
			tap(all && !is, "%s: %u threads: set() then clear() at once releases all "
			    "%u parked waiters (%u returned, is_set after clear %s)", im->id, n, nw,
			    kt_count_done(h, nw), kt_bool_str(is));
			ops->set(o); /* release the stragglers, if any */
		}
	}
	kt_all_done_within(h, nw, GUARD_MS);
	if (kt_reap_all(h, nw)) {
		tap(0, "%s: %u threads: waiters still stuck %d s after set()", im->id, n,
		    GUARD_MS / 1000);
		tap_abandon();
	}
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

static void event_flag(const struct lb_impl *im, unsigned n, unsigned x)
{
	const struct lb_event_ops *ops = lb_ops_event(im);
	struct lb_prim_cfg cfg = { .nthreads = 3, .nclusters = 1 }; /* main + 2 helpers */
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *o, *t;

	(void)n, (void)x;
	if (lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: flag: setup", im->id);
		return;
	}
	ops->set(o);
	ops->set(o); /* setting twice is harmless */
	int is = ops->is_set(o);
	int r = kt_run_helper(im, o, 1, ev_wait, NULL);
	tap(is && r == 0, "%s: while set, is_set() is true (%s) and wait() returns at once (%s)",
	    im->id, kt_bool_str(is), r == 0 ? "returned" : kt_err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	ops->clear(o);
	is = ops->is_set(o);
	struct helper *h = kt_helper_spawn(im, o, 2, ev_wait, NULL);
	kt_helper_done_within(h, QUIET_MS);
	int early = atomic_load(&h->done);
	tap(!is && !early, "%s: after clear(), is_set() is false (%s) and a new waiter waits "
	    "(returned within %d ms: %s)", im->id, kt_bool_str(is), QUIET_MS, early ? "yes" : "no");
	ops->set(o);
	r = kt_helper_reap(h, GUARD_MS);
	tap(r == 0, "%s: set() after clear() releases the new waiter (%s)", im->id,
	    r == 0 ? "it returned" : kt_err_str(r));
	if (r == H_HUNG)
		tap_abandon();
	lb_prim_thread_detach(im, o, t);
	lb_prim_destroy(im, o);
}

void kindtest_event(const struct lb_impl *im)
{
	tap_run(im, event_flag, 0, 0, "flag");
	for (size_t c = 0; c < KT_NCOUNTS; c++) {
		unsigned n = kt_counts[c];
		tap_run(im, event_wake_all, n, 0, "wake all, %u threads", n);
		tap_run(im, event_wake_all, n, 1, "set then clear, %u threads", n);
	}
}
