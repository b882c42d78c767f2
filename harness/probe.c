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
	/* Return every odd serve as the next even number.  acquire/release:
	 * the line carries nothing else, but the pair keeps the loads from
	 * being satisfied early and models a lock hand-off. */
	for (uint32_t i = 0; i < PROBE_WARM + PROBE_ROUNDS; i++) {
		uint32_t want = 2 * i + 1;
		while (atomic_load_explicit(&p->ball, memory_order_acquire) != want)
			;
		atomic_store_explicit(&p->ball, want + 1, memory_order_release);
	}
	return NULL;
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
	for (uint32_t i = 0; i < PROBE_WARM + PROBE_ROUNDS; i++) {
		if (i == PROBE_WARM)
			t0 = lb_now_ns();
		atomic_store_explicit(&p.ball, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&p.ball, memory_order_acquire) != 2 * i + 2)
			;
	}
	rtt = (double)(lb_now_ns() - t0) / PROBE_ROUNDS;
join:
	pthread_join(th, NULL);
out:
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	return rtt;
}
