/* Per-thread event counters through perf_event_open(2), read at the
 * window's edges only (two read() calls per edge, next to getrusage), so
 * nothing runs on the hot path.  Linux's generic events, no library:
 *
 *   hardware (the PMU): cycles, instructions, cache misses (the generic
 *            "cache-misses" event: last-level misses on x86).  Most VMs
 *            expose no PMU (this one does not); then the columns are
 *            empty and meta.json says why.
 *   c2c      (the PMU, by name): cache lines this thread took from another
 *            core's cache, the cost a contended lock word pays.  No generic
 *            event counts it, so it is named through libpfm4 for the PMU it
 *            finds, first match of c2c_candidates below, or by the user's
 *            --c2c-event.  libpfm4 reads the CPU with cpuid, so on a VM it
 *            may name an event that perf_event_open then refuses: the column
 *            is empty and meta.json says both (the name and the refusal).  Counted user and kernel when
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
#include <perfmon/pfmlib_perf_event.h>
#include <stdlib.h>
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
	/* type and config come from libpfm4 (c2c_encode) */
	[LB_EV_C2C] = { "c2c-transfers", PERF_TYPE_RAW, 0 },
	[LB_EV_CTX] = { "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	[LB_EV_MIGRATIONS] = { "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	[LB_EV_FAULTS] = { "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
};

/* The cross-core transfer event under the names each PMU gives it, tried in
 * order; libpfm4 encodes a name only for a PMU it detected (or was forced
 * to with LIBPFM_FORCE_PMU), so the first that encodes is this CPU's.
 *   Intel: loads that hit a line Modified in another core (HITM), from the
 *     events perf c2c uses, under each generation's name (SPR and later
 *     call it XSNP_FWD).
 *   AMD Zen 2-4: demand fills served by another cache: this CCX's L3 or
 *     another core's L2, another CCX, another node (the PPR's fill sources
 *     minus the local L2 and memory).  Zen's L3 is a victim cache, so a
 *     line another core has just written comes from that core's L2.
 * Zen 1, Zen 5 (libpfm4 4.13 predates it), ARM and the rest: none; the
 * user can still name one with --c2c-event. */
static const char *const c2c_candidates[] = {
	"MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM",       /* Skylake .. Ice Lake */
	"MEM_LOAD_L3_HIT_RETIRED:XSNP_FWD",        /* Sapphire Rapids */
	"MEM_LOAD_UOPS_L3_HIT_RETIRED:XSNP_HITM",  /* Haswell, Broadwell */
	"MEM_LOAD_UOPS_LLC_HIT_RETIRED:XSNP_HITM", /* Sandy/Ivy Bridge */
	"DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:LOCAL_CCX:NEAR_CACHE_NEAR_FAR:FAR_CACHE_NEAR_FAR", /* Zen 4 */
	"DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:INT_CACHE:EXT_CACHE_LCL:EXT_CACHE_RMT",            /* Zen 3 */
	"DATA_CACHE_REFILLS_FROM_SYSTEM:LS_MABRESP_LCL_CACHE:LS_MABRESP_RMT_CACHE",             /* Zen 2 */
};

/* What the probe found: an event is opened by workers only if ok. */
static struct {
	int ok[LB_NEV];
	char why[LB_NEV][320];
	int user_only;
	enum lb_counters_mode mode;
	/* the c2c event as libpfm4 encoded it */
	__u32 c2c_type;
	__u64 c2c_config, c2c_config1, c2c_config2;
	char c2c_name[192];
} probe;

/* The present PMUs' names, for the reason when nothing encodes. */
static void pmu_names(char *buf, size_t len)
{
	size_t at = 0;
	int i;
	buf[0] = 0;
	pfm_for_all_pmus(i) {
		pfm_pmu_info_t pi;
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info((pfm_pmu_t)i, &pi) != PFM_SUCCESS || !pi.is_present)
			continue;
		int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", pi.name);
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
}

static int encode_one(const char *name)
{
	struct perf_event_attr a;
	pfm_perf_encode_arg_t arg;
	char *fstr = NULL;
	memset(&a, 0, sizeof(a));
	memset(&arg, 0, sizeof(arg));
	arg.attr = &a;
	arg.size = sizeof(arg);
	arg.fstr = &fstr;
	int r = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
	if (r != PFM_SUCCESS)
		return r;
	probe.c2c_type = a.type;
	probe.c2c_config = a.config;
	probe.c2c_config1 = a.config1;
	probe.c2c_config2 = a.config2;
	/* "skl::MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM:e=0:...": the PMU and the
	 * name as given are what a reader needs; the defaulted modifiers are
	 * not. */
	const char *colons = strstr(fstr, "::");
	if (strstr(name, "::") || !colons)
		snprintf(probe.c2c_name, sizeof(probe.c2c_name), "%s", name);
	else
		snprintf(probe.c2c_name, sizeof(probe.c2c_name), "%.*s::%s",
			 (int)(colons - fstr), fstr, name);
	free(fstr);
	return PFM_SUCCESS;
}

/* Name the c2c event: the user's, else the first candidate this PMU
 * knows.  0 with probe.c2c_name set, or -1 with the reason in why. */
static int c2c_encode(const char *user, char *why, size_t len)
{
	/* libpfm4 reads an empty LIBPFM_FORCE_PMU as a prefix of every PMU's
	 * name and forces the first (netburst): set but empty means unset. */
	const char *force = getenv("LIBPFM_FORCE_PMU");
	if (force && !*force)
		unsetenv("LIBPFM_FORCE_PMU");
	int r = pfm_initialize();
	if (r != PFM_SUCCESS) {
		snprintf(why, len, "unavailable: libpfm4: %s", pfm_strerror(r));
		return -1;
	}
	int ret = -1;
	if (user) {
		r = encode_one(user);
		if (r == PFM_SUCCESS)
			ret = 0;
		else
			snprintf(why, len, "%s", pfm_strerror(r));
	} else {
		for (size_t i = 0; i < sizeof(c2c_candidates) / sizeof(c2c_candidates[0]); i++)
			if (encode_one(c2c_candidates[i]) == PFM_SUCCESS) {
				ret = 0;
				break;
			}
		if (ret) {
			char pmus[128];
			pmu_names(pmus, sizeof(pmus));
			snprintf(why, len, "unavailable: libpfm4 names no cross-core transfer event "
				 "for this CPU (PMUs it found: %s); name one with --c2c-event",
				 pmus[0] ? pmus : "none");
		}
	}
	pfm_terminate();
	return ret;
}

int lb_counters_c2c_check(const char *name, char *err, size_t len)
{
	char why[256];
	if (c2c_encode(name, why, sizeof(why)) == 0)
		return 0;
	char pmus[128];
	if (pfm_initialize() == PFM_SUCCESS) {
		pmu_names(pmus, sizeof(pmus));
		pfm_terminate();
	} else {
		snprintf(pmus, sizeof(pmus), "none");
	}
	snprintf(err, len, "--c2c-event: libpfm4 cannot encode '%s' (%s); give an event of a "
		 "PMU it found here (%s), as `perf list` or libpfm4's showevtinfo names it",
		 name, why, pmus);
	return -1;
}

const char *lb_counter_name(int ev)
{
	return events[ev].name;
}

static int is_hw(int ev)
{
	return ev < LB_EV_CTX;
}

static int open_event(int ev, int group_fd, int user_only)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = events[ev].type;
	a.config = events[ev].config;
	if (ev == LB_EV_C2C) {
		a.type = probe.c2c_type;
		a.config = probe.c2c_config;
		a.config1 = probe.c2c_config1;
		a.config2 = probe.c2c_config2;
	}
	a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
			PERF_FORMAT_TOTAL_TIME_RUNNING;
	a.disabled = group_fd < 0; /* the leader starts the group */
	a.exclude_kernel = (__u64)user_only;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

void lb_counters_probe(enum lb_counters_mode mode, const char *c2c_event)
{
	memset(&probe, 0, sizeof(probe));
	probe.mode = mode;
	for (int ev = 0; ev < LB_NEV; ev++) {
		if (mode == LB_COUNTERS_OFF || (mode == LB_COUNTERS_SOFTWARE && is_hw(ev))) {
			snprintf(probe.why[ev], sizeof(probe.why[ev]), "off (--counters %s)",
				 mode == LB_COUNTERS_OFF ? "off" : "software");
			continue;
		}
		if (ev == LB_EV_C2C &&
		    c2c_encode(c2c_event, probe.why[ev], sizeof(probe.why[ev])) != 0)
			continue;
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
				 "unavailable: perf_event_open: %s%s%s%s", strerror(e),
				 ev == LB_EV_C2C ? " for " : "", ev == LB_EV_C2C ? probe.c2c_name : "",
				 e == ENOENT || e == EOPNOTSUPP || e == ENODEV
					 ? " (no PMU event of this kind here; most VMs expose none)"
					 : e == EACCES || e == EPERM ? " (see kernel.perf_event_paranoid)"
								    : "");
			continue;
		}
		close(fd);
		probe.ok[ev] = 1;
		snprintf(probe.why[ev], sizeof(probe.why[ev]), "ok%s%s%s%s",
			 is_hw(ev) && probe.user_only ? " (user space only: perf_event_paranoid)"
						      : "",
			 ev == LB_EV_C2C ? " (" : "", ev == LB_EV_C2C ? probe.c2c_name : "",
			 ev == LB_EV_C2C ? ")" : "");
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
