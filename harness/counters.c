/* Per-thread event counters through perf_event_open(2), read at the
 * window's edges only (two read() calls per edge, next to getrusage), so
 * nothing runs on the hot path.  Linux's generic events, no library:
 *
 *   hardware (the PMU): cycles, instructions, cache misses (the generic
 *            "cache-misses" event: last-level misses on x86).  Most VMs
 *            expose no PMU (this one does not); then the columns are
 *            empty and meta.json says why.  Counted user and kernel when
 *            allowed, user space only under perf_event_paranoid >= 2
 *            without CAP_PERFMON (said in meta.json too).
 *   software (the kernel, everywhere): context switches, CPU migrations,
 *            page faults.
 *
 * Each thread opens two groups for itself (pid 0, any CPU): the hardware
 * events under cycles, the software ones under context switches, each
 * read in one read() with PERF_FORMAT_GROUP.  When the kernel had to
 * multiplex a group (time running < time enabled), the window's counts are
 * scaled by the window's enabled / running time, as perf stat does.
 *
 * lb_counters_probe() opens each event once in the main thread to learn
 * what this machine allows: workers open only those, and meta.json gets
 * one line per event ("ok" or the reason).  --counters software skips the
 * hardware events, --counters off all of them.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lockbench.h"

static const struct {
	const char *name;
	__u32 type;
	__u64 config;
} events[LB_NEV] = {
	[LB_EV_CYCLES] = { "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	[LB_EV_INSTRUCTIONS] = { "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	[LB_EV_CACHE_MISSES] = { "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
	[LB_EV_CTX] = { "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	[LB_EV_MIGRATIONS] = { "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	[LB_EV_FAULTS] = { "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
};

/* What the probe found: an event is opened by workers only if ok. */
static struct {
	int ok[LB_NEV];
	char why[LB_NEV][160];
	int user_only;
	enum lb_counters_mode mode;
} probe;

const char *lb_counter_name(int ev)
{
	return events[ev].name;
}

static int is_hw(int ev)
{
	return events[ev].type == PERF_TYPE_HARDWARE;
}

static int open_event(int ev, int group_fd, int user_only)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = events[ev].type;
	a.config = events[ev].config;
	a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
			PERF_FORMAT_TOTAL_TIME_RUNNING;
	a.disabled = group_fd < 0; /* the leader starts the group */
	a.exclude_kernel = (__u64)user_only;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

void lb_counters_probe(enum lb_counters_mode mode)
{
	memset(&probe, 0, sizeof(probe));
	probe.mode = mode;
	for (int ev = 0; ev < LB_NEV; ev++) {
		if (mode == LB_COUNTERS_OFF || (mode == LB_COUNTERS_SOFTWARE && is_hw(ev))) {
			snprintf(probe.why[ev], sizeof(probe.why[ev]), "off (--counters %s)",
				 mode == LB_COUNTERS_OFF ? "off" : "software");
			continue;
		}
		/* Software events always count kernel context too (a context
		 * switch happens there); only hardware events fall back to user
		 * space, exactly as the workers open them (open_group). */
		int fd = open_event(ev, -1, is_hw(ev) && probe.user_only);
		if (fd < 0 && (errno == EACCES || errno == EPERM) && is_hw(ev) && !probe.user_only) {
			/* perf_event_paranoid >= 2: user space only is allowed. */
			probe.user_only = 1;
			fd = open_event(ev, -1, 1);
		}
		if (fd < 0) {
			int e = errno;
			snprintf(probe.why[ev], sizeof(probe.why[ev]),
				 "unavailable: perf_event_open: %s%s", strerror(e),
				 e == ENOENT || e == EOPNOTSUPP || e == ENODEV
					 ? " (no PMU event of this kind here; most VMs expose none)"
					 : e == EACCES || e == EPERM ? " (see kernel.perf_event_paranoid)"
								    : "");
			continue;
		}
		close(fd);
		probe.ok[ev] = 1;
		snprintf(probe.why[ev], sizeof(probe.why[ev]), "ok%s",
			 is_hw(ev) && probe.user_only ? " (user space only: perf_event_paranoid)"
						      : "");
	}
}

const char *lb_counter_status(int ev)
{
	return probe.why[ev][0] ? probe.why[ev] : "not probed";
}

int lb_counter_ok(int ev)
{
	return probe.ok[ev];
}

/* Open one group: the events of [lo, hi) that the probe allowed. */
static void open_group(struct lb_counters *c, int lo, int hi, int *leader)
{
	*leader = -1;
	for (int ev = lo; ev < hi; ev++) {
		c->fd[ev] = -1;
		if (!probe.ok[ev])
			continue;
		int fd = open_event(ev, *leader, is_hw(ev) && probe.user_only);
		if (fd < 0)
			continue; /* this thread's column stays empty: n/a */
		c->fd[ev] = fd;
		if (*leader < 0)
			*leader = fd;
	}
	if (*leader >= 0)
		ioctl(*leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

void lb_counters_none(struct lb_counters *c)
{
	for (int ev = 0; ev < LB_NEV; ev++)
		c->fd[ev] = -1;
	c->leader[0] = c->leader[1] = -1;
}

void lb_counters_open(struct lb_counters *c)
{
	lb_counters_none(c);
	open_group(c, LB_EV_CYCLES, LB_EV_CTX, &c->leader[0]);
	open_group(c, LB_EV_CTX, LB_NEV, &c->leader[1]);
}

void lb_counters_close(struct lb_counters *c)
{
	for (int ev = 0; ev < LB_NEV; ev++)
		if (c->fd[ev] >= 0)
			close(c->fd[ev]);
	lb_counters_none(c);
}

/* Read both groups: raw counts into v[], and each group's time enabled and
 * running into en[]/run[] (scaling is done on the window's deltas, in
 * lb_counters_delta); an event that could not be read gets valid 0. */
void lb_counters_read(struct lb_counters *c, uint64_t v[LB_NEV], int valid[LB_NEV],
		      uint64_t en[2], uint64_t run[2])
{
	static const int lo[2] = { LB_EV_CYCLES, LB_EV_CTX }, hi[2] = { LB_EV_CTX, LB_NEV };
	for (int ev = 0; ev < LB_NEV; ev++)
		valid[ev] = 0;
	for (int g = 0; g < 2; g++) {
		uint64_t buf[3 + LB_NEV];
		if (c->leader[g] < 0)
			continue;
		ssize_t r = read(c->leader[g], buf, sizeof(buf));
		if (r < (ssize_t)(3 * sizeof(uint64_t)))
			continue;
		uint64_t nr = buf[0];
		en[g] = buf[1];
		run[g] = buf[2];
		unsigned k = 0;
		for (int ev = lo[g]; ev < hi[g] && k < nr; ev++) {
			if (c->fd[ev] < 0)
				continue;
			v[ev] = buf[3 + k++];
			valid[ev] = 1;
		}
	}
}

double lb_counters_delta(int ev, const uint64_t v0[LB_NEV], const uint64_t v1[LB_NEV],
			 const uint64_t en0[2], const uint64_t run0[2], const uint64_t en1[2],
			 const uint64_t run1[2])
{
	int g = ev < LB_EV_CTX ? 0 : 1;
	uint64_t den = en1[g] - en0[g], drun = run1[g] - run0[g];
	if (v1[ev] < v0[ev] || drun == 0)
		return NAN; /* never scheduled on the PMU in the window */
	/* Multiplexed: the kernel counted drun of den ns; scale as perf stat
	 * does, over the window only. */
	return (double)(v1[ev] - v0[ev]) * (drun < den ? (double)den / (double)drun : 1.0);
}
