/* ./bench --workload fingerprint: what explains every lock number on a
 * machine, measured in about a minute, into fingerprint.csv.
 *
 *   c2c_rtt      a cache-line ping-pong round trip (load, then CAS the
 *                reply, as the platform probe does) for every ordered
 *                pair of PUs; above 64 PUs, the pairs of 64 PUs spread
 *                over the machine (scatter order).  The two directions of
 *                a pair run in alternating blocks, so that a host moving
 *                vCPUs hits both alike; their medians must agree within
 *                25% + 20 ns (the check).
 *   atomic       CAS, fetch-add and exchange: on a line the thread holds
 *                (relation local: ns per op in a loop), and on a line
 *                another PU holds (half the round trip of a ping-pong in
 *                which each side passes the turn with that op), once per
 *                relation the machine has: same-core (SMT siblings),
 *                same-llc, cross-llc, cross-package.
 *   futex        FUTEX_WAKE with no waiter (one syscall), and the time from
 *                a FUTEX_WAKE until the woken thread runs: on the same
 *                CPU (the waker then sleeps, so it includes the switch)
 *                and at each relation.
 *   timer        the cost of one rdtsc, rdtscp and clock_gettime read,
 *                and the busy loop's ns per iteration (--cs / --think).
 *
 * Each row: p50 and p99 of its samples (a sample is one round trip, one
 * op averaged over a batch, one wake-up), how many samples, and its check
 * (every figure positive; c2c symmetric): ok, fail, or starved when a
 * ping-pong ran out of its 50 ms before half its samples (another process
 * had the CPUs: a warning, not a failure).  The exit status is 1 if any
 * check failed.  The heat map of c2c_rtt (scripts/fingerprint.gp) draws
 * the package and LLC boundaries over the matrix.
 */
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hwloc.h>

#include "files.h"
#include "lockbench.h"
#include "timer.h"

#define FP_MAX_PUS 64          /* c2c: all pairs of at most this many PUs */
#define FP_BLOCKS 10           /* c2c: alternating blocks per direction */
#define FP_BLOCK_TRIPS 100     /* round trips per block */
#define FP_OP_TRIPS 1000       /* remote atomic ping-pong round trips */
#define FP_LOCAL_BATCHES 200   /* local atomics / timers: batches of ... */
#define FP_BATCH 100           /* ... this many ops */
#define FP_WAKES 200           /* wake-to-run samples per relation */
#define FP_BUDGET_NS 50000000u /* a stuck ping-pong gives up after 50 ms */

enum fp_op { OP_LOADCAS, OP_CAS, OP_FAA, OP_XCHG };
static const char *const op_name[] = { "load-cas", "cas", "faa", "xchg" };

/* ---- sample sets ---- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

struct fp_stat {
	double p50, p99;
	unsigned n;
};

/* Percentiles of n samples in ticks or ns (scale converts to ns). */
static struct fp_stat stat_of(uint64_t *v, unsigned n, double scale)
{
	struct fp_stat s = { NAN, NAN, n };
	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_u64);
	s.p50 = (double)v[(n - 1) / 2] * scale;
	s.p99 = (double)v[(unsigned)((n - 1) * 0.99)] * scale;
	return s;
}

/* ---- pinned helper threads ---- */

static int pin_to(int cpu)
{
	return cpu < 0 ? 0 : lb_pin_self(cpu);
}

/* ---- ping-pong: a line bounced between two PUs ---- */

struct pingpong {
	alignas(LB_CACHELINE) _Atomic uint32_t ball;
	/* Its own line, read-shared by the peer: the ball cannot carry the
	 * stop, since a faa or xchg in flight would overwrite it. */
	alignas(LB_CACHELINE) _Atomic int stop;
	alignas(LB_CACHELINE) _Atomic int ready; /* 1 pinned, 2 could not pin */
	enum fp_op op;
	int cpu;
};

/* Pass the turn: the ball is b (ours); make it b + 1 with op. */
static inline void pass(_Atomic uint32_t *ball, uint32_t b, enum fp_op op)
{
	switch (op) {
	case OP_LOADCAS:
	case OP_CAS:
		/* release: models a hand-off; pairs with the peer's acquire load. */
		atomic_compare_exchange_strong_explicit(ball, &b, b + 1, memory_order_release,
							memory_order_relaxed);
		break;
	case OP_FAA:
		atomic_fetch_add_explicit(ball, 1, memory_order_release);
		break;
	case OP_XCHG:
		atomic_exchange_explicit(ball, b + 1, memory_order_release);
		break;
	}
}

static void *pp_peer(void *arg)
{
	struct pingpong *p = arg;
	int ok = pin_to(p->cpu) == 0;
	/* release: publishes the verdict; pairs with the acquire load. */
	atomic_store_explicit(&p->ready, ok ? 1 : 2, memory_order_release);
	if (!ok)
		return NULL;
	/* relaxed: the stop publishes nothing; the peer only leaves. */
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		/* acquire: pairs with the other side's release pass. */
		uint32_t b = atomic_load_explicit(&p->ball, memory_order_acquire);
		if (b & 1)
			pass(&p->ball, b, p->op);
	}
	return NULL;
}

/* Round trips from a (this thread) to b and back, each timed in ticks into
 * out[0..n); returns how many were measured (fewer if b stopped
 * answering within the budget), or -1 if a thread could not be pinned. */
static int pingpong(int a, int b, enum fp_op op, uint64_t *out, unsigned n)
{
	struct pingpong p = { .op = op, .cpu = b };
	pthread_t th;
	int r, got = 0;

	atomic_init(&p.ball, 0);
	atomic_init(&p.stop, 0);
	atomic_init(&p.ready, 0);
	if (pin_to(a) != 0 || pthread_create(&th, NULL, pp_peer, &p) != 0)
		return -1;
	/* acquire: pairs with the peer's release of its verdict. */
	while ((r = atomic_load_explicit(&p.ready, memory_order_acquire)) == 0)
		sched_yield();
	if (r == 1) {
		uint64_t start = lb_now_ns();
		for (unsigned i = 0; i < n + 50; i++) { /* 50 warm-up trips */
			uint32_t serve = 2 * i; /* ours, even: pass it to odd */
			uint64_t t0 = lb_ticks();
			pass(&p.ball, serve, op);
			unsigned spins = 0;
			while (atomic_load_explicit(&p.ball, memory_order_acquire) != serve + 2)
				if (++spins % 4096 == 0 && lb_now_ns() - start > FP_BUDGET_NS)
					goto stop;
			uint64_t t1 = lb_ticks();
			if (i >= 50)
				out[got++] = t1 - t0;
		}
	}
stop:
	atomic_store_explicit(&p.stop, 1, memory_order_relaxed);
	pthread_join(th, NULL);
	return r == 1 ? got : -1;
}

/* ---- wake-to-run ---- */

struct waker {
	alignas(LB_CACHELINE) _Atomic uint32_t go;    /* round number to run */
	alignas(LB_CACHELINE) _Atomic uint32_t ack;   /* last round handled */
	_Atomic uint64_t t_wake;                      /* ns: just before FUTEX_WAKE */
	uint64_t *lat;
	unsigned n;
	int cpu, ok;
};

static long fp_futex(_Atomic uint32_t *w, int op, uint32_t v)
{
	return syscall(SYS_futex, (uint32_t *)w, op | FUTEX_PRIVATE_FLAG, v, NULL, NULL, 0);
}

static void *sleeper(void *arg)
{
	struct waker *w = arg;
	w->ok = pin_to(w->cpu) == 0;
	for (uint32_t r = 1; r <= w->n + 1; r++) {
		/* acquire: pairs with the waker's release store of go. */
		while (atomic_load_explicit(&w->go, memory_order_acquire) < r)
			fp_futex(&w->go, FUTEX_WAIT, r - 1);
		uint64_t t = lb_now_ns();
		if (r <= w->n)
			w->lat[r - 1] = t - atomic_load_explicit(&w->t_wake, memory_order_relaxed);
		/* release: our sample, then the ack, for the waker. */
		atomic_store_explicit(&w->ack, r, memory_order_release);
		fp_futex(&w->ack, FUTEX_WAKE, 1);
	}
	return NULL;
}

/* n wake-ups of a thread sleeping on cpu b by this thread on cpu a. */
static int wake_to_run(int a, int b, uint64_t *lat, unsigned n)
{
	struct waker w = { .lat = lat, .n = n, .cpu = b };
	pthread_t th;
	atomic_init(&w.go, 0);
	atomic_init(&w.ack, 0);
	atomic_init(&w.t_wake, 0);
	if (pin_to(a) != 0 || pthread_create(&th, NULL, sleeper, &w) != 0)
		return -1;
	for (uint32_t r = 1; r <= n + 1; r++) {
		/* Let the sleeper get to sleep: it acked r - 1 and is waiting. */
		usleep(200);
		atomic_store_explicit(&w.t_wake, lb_now_ns(), memory_order_relaxed);
		/* release: t_wake before go; pairs with the sleeper's acquire. */
		atomic_store_explicit(&w.go, r, memory_order_release);
		fp_futex(&w.go, FUTEX_WAKE, 1);
		/* acquire: pairs with the sleeper's release of ack. */
		while (atomic_load_explicit(&w.ack, memory_order_acquire) < r)
			fp_futex(&w.ack, FUTEX_WAIT, r - 1);
	}
	pthread_join(th, NULL);
	return w.ok ? (int)n : -1;
}

/* ---- the rows ---- */

struct fp_out {
	FILE *f;
	const char *run_id, *host, *cpu_model;
	unsigned pus, rows, failed, starved;
	int quiet;
};

/* ok: the row's check; a row whose measurement ran out of time before
 * it had half its samples (another process had the CPUs) is "starved"
 * instead: neither a pass nor a failure of the machine. */
#define FP_STARVED (-1)

static void row(struct fp_out *o, const char *measure, const char *op, const char *rel,
		int a, int b, struct fp_stat s, int ok)
{
	char ca[16] = "", cb[16] = "";
	if (a >= 0)
		snprintf(ca, sizeof(ca), "%d", a);
	if (b >= 0)
		snprintf(cb, sizeof(cb), "%d", b);
	fprintf(o->f, "%s,%s,%s,%u,%s,%s,%s,%s,%s,", o->run_id, o->host, o->cpu_model, o->pus,
		measure, op, rel, ca, cb);
	if (isfinite(s.p50))
		fprintf(o->f, "%.1f,%.1f", s.p50, s.p99);
	else
		fputc(',', o->f);
	fprintf(o->f, ",%u,%s\n", s.n, ok == FP_STARVED ? "starved" : ok ? "ok" : "fail");
	o->rows++;
	o->failed += !ok;
	o->starved += ok == FP_STARVED;
	if (!ok && !o->quiet)
		fprintf(stderr, "lockbench: fingerprint: %s %s %s %s %s: check failed (p50 %.1f ns, "
			"%u samples)\n", measure, op, rel, ca, cb, s.p50, s.n);
}

/* How two PUs relate, from hwloc's tree. */
static const char *relation(int a, int b)
{
	hwloc_topology_t t = lb_topo_handle();
	hwloc_obj_t pa = hwloc_get_pu_obj_by_os_index(t, (unsigned)a);
	hwloc_obj_t pb = hwloc_get_pu_obj_by_os_index(t, (unsigned)b);
	if (a == b)
		return "same-cpu";
	if (!pa || !pb)
		return "unknown";
	hwloc_obj_t c = hwloc_get_common_ancestor_obj(t, pa, pb);
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pa);
	if (core && hwloc_bitmap_isset(core->cpuset, pb->os_index))
		return "same-core";
	hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_L3CACHE, pa);
	if (l3 && hwloc_bitmap_isset(l3->cpuset, pb->os_index))
		return "same-llc";
	hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, pa);
	if (pkg && hwloc_bitmap_isset(pkg->cpuset, pb->os_index))
		return hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_L3CACHE) > 0 ? "cross-llc" : "same-llc";
	(void)c;
	return "cross-package";
}

static const char *const relations[] = { "same-core", "same-llc", "cross-llc", "cross-package" };
#define NREL 4

int lb_fingerprint(const char *dir, const char *run_id, const char *host, int quiet,
		   int *failed, size_t *rows)
{
	const struct lb_topo_info *ti = lb_topo();
	int *pu = calloc(ti->pus ? ti->pus : 1, sizeof(int));
	unsigned npu = 0;
	uint64_t *v = calloc(FP_BLOCKS * FP_BLOCK_TRIPS + FP_OP_TRIPS +
				     FP_LOCAL_BATCHES + FP_WAKES + 16, sizeof(uint64_t));
	uint64_t *v2 = calloc(FP_BLOCKS * FP_BLOCK_TRIPS, sizeof(uint64_t));
	struct lb_stream st;
	struct fp_out o = { .run_id = run_id, .host = host, .cpu_model = ti->cpu_model,
			    .pus = ti->pus, .quiet = quiet };
	cpu_set_t saved;
	int ret = 0;

	if (!pu || !v || !v2) {
		ret = ENOMEM;
		goto out;
	}
	pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	/* Above FP_MAX_PUS, PUs spread over the machine: the first ones of
	 * the scatter order. */
	struct lb_pin sc;
	char perr[256];
	if (lb_pin_resolve("scatter", &sc, perr, sizeof(perr)) != 0) {
		ret = EINVAL;
		goto out;
	}
	npu = sc.ncpus < FP_MAX_PUS ? sc.ncpus : FP_MAX_PUS;
	memcpy(pu, sc.cpus, npu * sizeof(int));
	lb_pin_free(&sc);
	qsort(pu, npu, sizeof(int), cmp_int);

	if ((ret = lb_stream_open(&st, dir, "fingerprint.csv")) != 0)
		goto out;
	o.f = st.f;
	fprintf(o.f, "run_id,host,cpu_model,pus,measure,op,relation,cpu_a,cpu_b,p50_ns,p99_ns,"
		     "samples,check\n");
	double tick = lb_timer.ns_per_tick;

	/* Timers and the busy loop. */
	{
		static const char *const names[] = { "rdtsc", "rdtscp", "clock_gettime" };
		for (int k = LB_HAVE_RDTSC ? 0 : 2; k < 3; k++) {
			unsigned n = 0;
			for (unsigned bt = 0; bt < FP_LOCAL_BATCHES; bt++) {
				uint64_t t0 = lb_now_ns();
				for (unsigned i = 0; i < FP_BATCH; i++) {
#if LB_HAVE_RDTSC
					unsigned aux;
					if (k == 0) {
						(void)__rdtsc();
						continue;
					}
					if (k == 1) {
						(void)__rdtscp(&aux);
						continue;
					}
#endif
					(void)lb_now_ns();
				}
				v[n++] = lb_now_ns() - t0;
			}
			struct fp_stat s = stat_of(v, n, 1.0 / FP_BATCH);
			row(&o, "timer", names[k], "local", -1, -1, s, s.p50 > 0);
		}
		struct fp_stat s = { lb_timer.busy_ns_per_iter, lb_timer.busy_ns_per_iter, 1 };
		row(&o, "timer", "busy-loop-iter", "local", -1, -1, s, s.p50 > 0);
	}

	/* Core to core: every ordered pair, directions in alternating blocks. */
	for (unsigned i = 0; i < npu && !lb_interrupted; i++) {
		for (unsigned j = i + 1; j < npu && !lb_interrupted; j++) {
			unsigned na = 0, nb = 0;
			int bad = 0;
			for (unsigned blk = 0; blk < FP_BLOCKS && !bad; blk++) {
				int g1 = pingpong(pu[i], pu[j], OP_LOADCAS, v + na, FP_BLOCK_TRIPS);
				int g2 = pingpong(pu[j], pu[i], OP_LOADCAS, v2 + nb, FP_BLOCK_TRIPS);
				if (g1 < 0 || g2 < 0)
					bad = 1;
				else
					na += (unsigned)g1, nb += (unsigned)g2;
			}
			struct fp_stat sa = stat_of(v, na, tick), sb = stat_of(v2, nb, tick);
			double hi = sa.p50 > sb.p50 ? sa.p50 : sb.p50;
			int sym = !bad && sa.p50 > 0 && sb.p50 > 0 &&
				  fabs(sa.p50 - sb.p50) <= 0.25 * hi + 20.0;
			if (!bad && (2 * na < FP_BLOCKS * FP_BLOCK_TRIPS ||
				     2 * nb < FP_BLOCKS * FP_BLOCK_TRIPS))
				sym = FP_STARVED;
			const char *rel = relation(pu[i], pu[j]);
			row(&o, "c2c_rtt", "load-cas", rel, pu[i], pu[j], sa, sym);
			row(&o, "c2c_rtt", "load-cas", rel, pu[j], pu[i], sb, sym);
		}
		if (!quiet && npu > 8 && (i + 1) % 8 == 0)
			fprintf(stderr, "lockbench: fingerprint: core to core, %u of %u PUs\n", i + 1,
				npu);
	}

	/* Atomics on a line held here. */
	for (int op = OP_CAS; op <= OP_XCHG; op++) {
		alignas(LB_CACHELINE) static _Atomic uint32_t line;
		unsigned n = 0;
		pin_to(pu[0]);
		for (unsigned bt = 0; bt < FP_LOCAL_BATCHES; bt++) {
			uint64_t t0 = lb_ticks();
			for (unsigned k = 0; k < FP_BATCH; k++) {
				uint32_t x = atomic_load_explicit(&line, memory_order_relaxed);
				pass(&line, x, (enum fp_op)op);
			}
			v[n++] = lb_ticks() - t0;
		}
		struct fp_stat s = stat_of(v, n, tick / FP_BATCH);
		row(&o, "atomic", op_name[op], "local", pu[0], -1, s, s.p50 > 0);
	}

	/* One pair per relation the machine has: atomics on a line the other
	 * PU holds, and wake-to-run; then wake-to-run on one CPU. */
	for (int r = 0; r < NREL && !lb_interrupted; r++) {
		int a = -1, b = -1;
		for (unsigned i = 0; i < npu && a < 0; i++)
			for (unsigned j = 0; j < npu && a < 0; j++)
				if (i != j && strcmp(relation(pu[i], pu[j]), relations[r]) == 0)
					a = pu[i], b = pu[j];
		if (a < 0)
			continue;
		for (int op = OP_CAS; op <= OP_XCHG; op++) {
			int g = pingpong(a, b, (enum fp_op)op, v, FP_OP_TRIPS);
			struct fp_stat s = stat_of(v, g > 0 ? (unsigned)g : 0, tick / 2);
			row(&o, "atomic", op_name[op], relations[r], a, b, s,
			    g >= 0 && 2 * g < FP_OP_TRIPS ? FP_STARVED : g > 0 && s.p50 > 0);
		}
		int g = wake_to_run(a, b, v, FP_WAKES);
		struct fp_stat s = stat_of(v, g > 0 ? (unsigned)g : 0, 1.0);
		row(&o, "futex", "wake-to-run", relations[r], a, b, s, g > 0 && s.p50 > 0);
	}
	{
		int g = wake_to_run(pu[0], pu[0], v, FP_WAKES);
		struct fp_stat s = stat_of(v, g > 0 ? (unsigned)g : 0, 1.0);
		row(&o, "futex", "wake-to-run", "same-cpu", pu[0], pu[0], s, g > 0 && s.p50 > 0);
		alignas(LB_CACHELINE) static _Atomic uint32_t word;
		unsigned n = 0;
		pin_to(pu[0]);
		for (unsigned bt = 0; bt < FP_LOCAL_BATCHES; bt++) {
			uint64_t t0 = lb_now_ns();
			for (unsigned k = 0; k < FP_BATCH; k++)
				fp_futex(&word, FUTEX_WAKE, 1);
			v[n++] = lb_now_ns() - t0;
		}
		s = stat_of(v, n, 1.0 / FP_BATCH);
		row(&o, "futex", "wake-no-waiter", "local", pu[0], -1, s, s.p50 > 0);
	}
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (lb_interrupted) {
		lb_stream_abort(&st);
		ret = EINTR;
		goto out;
	}
	if ((ret = lb_stream_flush(&st)) == 0)
		ret = lb_stream_commit(&st);
	*failed = o.failed != 0;
	*rows = o.rows;
	if (!quiet)
		fprintf(stderr, "lockbench: fingerprint: %u rows, %u checks failed\n", o.rows,
			o.failed);
	if (o.starved)
		fprintf(stderr, "lockbench: warning: fingerprint: %u row(s) starved: their threads "
			"did not get the CPUs long enough to measure (another process had them); "
			"rerun on a quiet machine\n", o.starved);
out:
	free(pu);
	free(v);
	free(v2);
	return ret;
}
