/* Memory orders on the return paths of event wait(), as ThreadSanitizer
 * sees them.  TAP output.
 *
 * Round k: the setter writes a plain (non-atomic) word data = k and then
 * pulses the event (set, clear, set, clear, ...) until every waiter has
 * called wait() WAITS times and read data back after each return; it must
 * read k.  Nothing but the event orders the write before those reads, so if
 * any return path of wait() is not an acquire that pairs with set()'s
 * release, TSan reports a data race on data (and aborts:
 * TSAN_OPTIONS=halt_on_error=1 in ./bench test).  On x86 the value check
 * itself cannot fail (TSO): this test is for the ThreadSanitizer build.
 *
 * Why pulses: a waiter that finds the event clear reads the word, then
 * announces itself with a CAS; with the word changing every few hundred
 * nanoseconds, that CAS often fails on a word a set() or a set() + clear()
 * just wrote, and wait() returns on the failed CAS's reload.  That is the
 * path futex-event's audit fixed (the reload was relaxed): with a single
 * set() per round TSan saw it in about one round in a hundred (3 runs of 10
 * under load caught it); with pulses, hundreds of times per run on an idle
 * machine.  Under load it is rarer (a waiter meets a changing word only
 * while the setter is on a CPU too): see DEFAULT_ROUNDS.
 *
 * Waiters learn that round k began from an acquire load of `round`, which
 * the setter stores before it writes data: that store orders nothing about
 * data, so it cannot hide a missing acquire in wait().  A waiter that saw
 * round k also sees the clear() made before it, so its wait() can only
 * return on a set() of round k.  The setter starts round k + 1 only after
 * every waiter said it is done with round k (release/acquire on `done`),
 * so the plain accesses of consecutive rounds never race.
 *
 * Each implementation is one case of lbtap's runner (a child process under
 * its hang guard, lbtap.h).  For CK's, TSan sees the edges its wrapper
 * declares (primitives/tsan.h): the test checks that wait()'s every
 * return declares the acquire.
 *
 * usage: test_prim_orders [--backend NAME]... [--impl ID]...  (default: all)
 * LB_TEST_ORDER_ROUNDS=N overrides the number of rounds; LB_TEST_GUARD_S
 * the hang guard (lbtap.h).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbtap.h"
#include "registry.h"

#define NWAITERS 2
#define WAITS 32 /* wait() calls per waiter per round */
#define PULSE_GAP 4
/* Only under ThreadSanitizer do the rounds matter (elsewhere the test
 * checks values and memory errors): measured with the audit's bug put
 * back and the second CPU busy, 500 rounds caught it in 7 runs of 10,
 * 1000 in 8, 2000 in 29 of 30; 4000 leave a miss a rare event. */
#if defined(__SANITIZE_THREAD__)
#define DEFAULT_ROUNDS 4000
#else
#define DEFAULT_ROUNDS 200
#endif

struct ev_shared {
	const struct lb_impl *im;
	void *ev;
	unsigned rounds;
	_Atomic unsigned round;    /* the round the waiters may enter */
	_Atomic unsigned done;     /* waiter-rounds finished */
	_Atomic unsigned attached;
	_Atomic unsigned long bad; /* data read back wrong */
	unsigned data;             /* plain on purpose: only the event orders it */
};

struct ev_thread {
	struct ev_shared *sh;
	unsigned tid;
	int err;
};

/* A few spin hints between pulses: without them the setter owns the
 * event's cache line and the waiters hardly get a turn; with many more,
 * the word changes too rarely to catch a waiter between its load and its
 * CAS (measured: 4 gives the most such returns, in the release and the
 * TSan build alike). */
static void pulse_gap(void)
{
	for (int i = 0; i < PULSE_GAP; i++)
		lb_cpu_relax();
}

static void spin_until(_Atomic unsigned *w, unsigned want)
{
	/* acquire: pairs with the release store or fetch-add that made it so. */
	for (unsigned i = 0; atomic_load_explicit(w, memory_order_acquire) < want; i++)
		if ((i & 63) == 63)
			sched_yield(); /* 2 CPUs: let the thread we wait for run */
}

static void *ev_waiter(void *arg)
{
	struct ev_thread *a = arg;
	struct ev_shared *sh = a->sh;
	const struct lb_event_ops *ops = lb_ops_event(sh->im);
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *t;

	a->err = lb_prim_thread_attach(sh->im, sh->ev, &ti, &t);
	atomic_fetch_add(&sh->attached, 1);
	if (a->err)
		return NULL;
	for (unsigned k = 1; k <= sh->rounds; k++) {
		spin_until(&sh->round, k);
		for (int i = 0; i < WAITS; i++) {
			ops->wait(sh->ev, t);
			if (sh->data != k) /* the plain read TSan checks */
				atomic_fetch_add_explicit(&sh->bad, 1, memory_order_relaxed);
		}
		/* release: our reads of data happen before the setter's next
		 * write of it (pairs with its acquire in spin_until). */
		atomic_fetch_add_explicit(&sh->done, 1, memory_order_release);
	}
	lb_prim_thread_detach(sh->im, sh->ev, t);
	return NULL;
}

static void event_orders(const struct lb_impl *im, unsigned rounds, unsigned x)
{
	struct ev_shared sh = { .im = im, .rounds = rounds };
	struct ev_thread th[NWAITERS];
	pthread_t tid[NWAITERS];
	struct lb_prim_cfg cfg = { .nthreads = NWAITERS, .nclusters = 1 };
	const struct lb_event_ops *ops = lb_ops_event(im);
	unsigned long pulses = 0;
	int err;

	(void)x;
	if ((err = lb_prim_create(im, &cfg, &sh.ev)) != 0)
		tap_bail("%s: create: %s", im->id, strerror(err));
	for (unsigned i = 0; i < NWAITERS; i++) {
		th[i] = (struct ev_thread){ .sh = &sh, .tid = i };
		tap_spawn(&tid[i], ev_waiter, &th[i]);
	}
	spin_until(&sh.attached, NWAITERS);
	for (unsigned i = 0; i < NWAITERS; i++)
		if (th[i].err) /* the other waiter spins on round 1 for ever */
			tap_bail("%s: attach: %s", im->id, strerror(th[i].err));
	for (unsigned k = 1; k <= rounds; k++) {
		spin_until(&sh.done, (k - 1) * NWAITERS);
		ops->clear(sh.ev);
		/* release: lets the waiters in and orders the clear() before
		 * their wait()s; data is written after it, so this orders
		 * nothing about data. */
		atomic_store_explicit(&sh.round, k, memory_order_release);
		sh.data = k;
		/* relaxed: only ends the pulses; the acquire is at the top of
		 * the next round. */
		while (atomic_load_explicit(&sh.done, memory_order_relaxed) < k * NWAITERS) {
			ops->set(sh.ev);
			pulse_gap();
			ops->clear(sh.ev);
			pulse_gap();
			pulses++;
		}
	}
	for (unsigned i = 0; i < NWAITERS; i++)
		pthread_join(tid[i], NULL);
	tap(atomic_load(&sh.bad) == 0, "%s: %u rounds x %d waiters x %d waits, %lu pulses: "
	    "every wait() returns after the set()'s writes (%lu wrong reads)", im->id, rounds,
	    NWAITERS, WAITS, pulses, atomic_load(&sh.bad));
	lb_prim_destroy(im, sh.ev);
}

int main(int argc, char **argv)
{
	unsigned rounds = DEFAULT_ROUNDS;
	const char *env = getenv("LB_TEST_ORDER_ROUNDS");

	tap_init(argc, argv);
	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);
		if (*end || v == 0 || v > 100000000ul) {
			fprintf(stderr, "test_prim_orders: LB_TEST_ORDER_ROUNDS='%s' is not a "
				"count; give 1 to 100000000\n", env);
			return 2;
		}
		rounds = (unsigned)v;
	}
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (lb_impl_kind(im) != LB_KIND_EVENT || !tap_selected(im) || (im->caps & LB_CAP_HIDDEN))
			continue;
		tap_run(im, event_orders, rounds, 0, "wait() orders, %u rounds", rounds);
	}
	return tap_done();
}
