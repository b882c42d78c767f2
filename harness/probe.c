/* Platform-state probe: a cache-line ping-pong between two PUs.
 *
 * The round trip is two cache-line transfers.  On a VM whose host moves the
 * vCPUs around it jumps between a few levels (same core, same CCX, across
 * sockets) from one second to the next, and contended results move with
 * it; recording it before and after each configuration lets a reader tell a
 * placement change from a real difference. */
#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>

#include "lockbench.h"

#define PROBE_WARM 200
#define PROBE_ROUNDS 2000
/* A bound on the probe's time: on a machine so loaded that the two
 * threads are rarely on their CPUs together, every round trip waits for a
 * time slice, and 2200 of them would take minutes.  The probe then stops
 * early and reports what it measured (thousands of ns: not co-scheduled). */
#define PROBE_BUDGET_NS 20000000u /* 20 ms */
#define PROBE_STOP UINT32_MAX

struct probe {
	alignas(LB_CACHELINE) _Atomic uint32_t ball; /* the bounced line */
	_Atomic int ready; /* 0 starting, 1 pinned, 2 could not pin */
	int cpu;
};

static void *probe_peer(void *arg)
{
	struct probe *p = arg;
	int ok = lb_pin_self(p->cpu) == 0;
	/* release/acquire: nothing else to publish; just the verdict. */
	atomic_store_explicit(&p->ready, ok ? 1 : 2, memory_order_release);
	if (!ok)
		return NULL;
	/* Return every odd serve as the next even number, until the stop.
	 * acquire/release: the line carries nothing else, but the pair keeps
	 * the loads from being satisfied early and models a lock hand-off. */
	for (;;) {
		uint32_t b = atomic_load_explicit(&p->ball, memory_order_acquire);
		if (b == PROBE_STOP)
			return NULL;
		if (b & 1)
			atomic_store_explicit(&p->ball, b + 1, memory_order_release);
	}
}

double lb_probe_rtt(int cpu_a, int cpu_b)
{
	struct probe p = { .cpu = cpu_b };
	pthread_t th;
	uint64_t t0 = 0;
	double rtt = NAN;
	int ret;

	if (cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b)
		return NAN;
	atomic_init(&p.ball, 0);
	atomic_init(&p.ready, 0);

	/* The calling thread is the main thread: pin it for the probe, then
	 * give it back the whole machine. */
	cpu_set_t saved;
	if (pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) != 0)
		return NAN;
	if (lb_pin_self(cpu_a) != 0)
		return NAN;
	if ((ret = pthread_create(&th, NULL, probe_peer, &p)) != 0)
		goto out;
	int r;
	while ((r = atomic_load_explicit(&p.ready, memory_order_acquire)) == 0)
		;
	if (r != 1)
		goto join;
	uint64_t start = lb_now_ns();
	uint32_t i;
	t0 = start;
	for (i = 0; i < PROBE_WARM + PROBE_ROUNDS; i++) {
		if (i == PROBE_WARM)
			t0 = lb_now_ns();
		if (i % 64 == 0 && lb_now_ns() - start > PROBE_BUDGET_NS)
			break;
		atomic_store_explicit(&p.ball, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&p.ball, memory_order_acquire) != 2 * i + 2)
			;
	}
	/* The measured rounds; if the budget ran out in the warm-up, those. */
	uint32_t counted = i > PROBE_WARM ? i - PROBE_WARM : i;
	rtt = (double)(lb_now_ns() - t0) / (counted ? counted : 1);
	/* release: nothing to publish; the stop ends the peer's loop */
	atomic_store_explicit(&p.ball, PROBE_STOP, memory_order_release);
join:
	pthread_join(th, NULL);
out:
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	return rtt;
}
