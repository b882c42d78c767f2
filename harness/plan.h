/* The plan: what a run will do, made from the parsed options and the
 * number of PUs alone, before anything runs or is written.  A value, so
 * tests/test_unit.c builds plans and checks them: the default sweep,
 * '2xpus', thread counts a workload refuses, the time budget.
 *
 *   options (options.c) -> plan (here) -> sweep (sweep.c) -> sinks (sinks.c)
 *
 * Everything the user can get wrong is caught here, with one line naming
 * the bad value and the valid choices; main prints it and exits 2. */
#ifndef LB_PLAN_H
#define LB_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "lockbench.h"

/* Every implementation may be chosen at once (--impl all), and every list
 * of ids and every error naming them fits: registry.c holds each id to
 * LB_ID_MAX bytes. */
#define LB_PLAN_MAX_SERIES LB_IMPL_COUNT
#define LB_PLAN_LIST_MAX (LB_IMPL_COUNT * (LB_ID_MAX + 2) + 64)
#define LB_PLAN_ERR_MAX (LB_PLAN_LIST_MAX + 1024)
#define LB_PLAN_MAX_THREAD_COUNTS 64
#define LB_PLAN_MAX_GIVEN_PARAMS 32
#define LB_PLAN_MAX_SETS 64  /* parameter x --cs combinations of one sweep */
#define LB_PLAN_MAX_RUNS 100000 /* the rows of one run, kept in memory */
#define LB_DEFAULT_REPEAT 3
#define LB_DEFAULT_WATCHDOG_S 10.0
#define LB_AUTO_BUDGET_S 45.0 /* warm-up + window over the whole sweep */

/* The command line, parsed but not yet checked against the registry. */
struct lb_opts {
	const char *workload, *impl, *threads, *pin, *out, *format;
	const char *params[LB_PLAN_MAX_GIVEN_PARAMS];
	unsigned nparams;
	const char *pin_groups[LB_MAX_GROUPS]; /* --pin-group GROUP=POLICY */
	const char *mem;                        /* --mem, or NULL */
	const char *counters;                   /* --counters: auto, software, off */
	const char *c2c_event;                  /* --c2c-event: a libpfm4 name, or NULL */
	unsigned npin_groups;
	double duration, warmup, watchdog; /* < 0: auto / the workload's */
	uint64_t repeat, think_ns, seed;
	const char *cs;     /* --cs as given: ns, or a comma list of them (a sweep) */
	int no_plot;
	int quiet;          /* --quiet: no progress on stderr */
};

struct lb_plan {
	const struct lb_workload *wl;
	const struct lb_impl *impls[LB_PLAN_MAX_SERIES];
	unsigned nimpl;
	unsigned tcounts[LB_PLAN_MAX_THREAD_COUNTS];
	unsigned nthr;
	char threads_text[256];  /* as given, or the default sweep spelled out */
	char impl_text[LB_PLAN_LIST_MAX]; /* the ids, comma-separated */
	const char *param_vals[LB_MAX_PARAMS]; /* given, else the default */
	uint64_t param[LB_MAX_PARAMS];         /* their values, per the spec */
	char param_text[256];    /* "k=v;k2=v2": the CSV param column */
	int quiet;               /* from the options: no progress lines */
	/* The sweep's other axes: every combination of the values given as
	 * lists (--param key=a,b,c, --cs 0,100,1000), in the order given, the
	 * last key varying fastest and --cs slowest.  One set without lists;
	 * param and param_text above are sets[0]'s. */
	struct lb_plan_set {
		uint64_t param[LB_MAX_PARAMS];
		char param_text[256];
		uint64_t cs_ns;
	} sets[LB_PLAN_MAX_SETS];
	unsigned nsets;
	char sweep_text[1024];   /* "cs=0,100;depth=1,2": what varies, or "" */
	double duration, warmup, watchdog;
	unsigned repeat;
	size_t nruns;            /* implementations x thread counts x repetitions */
	/* Thread counts of the default sweep the workload refused (left out,
	 * and said so on stderr), and the workload's reason. */
	/* implementations the --impl items chose but which cannot run here
	 * (lb_impl_unavailable): left out, and the caller says so */
	const struct lb_impl *left_out[LB_PLAN_MAX_SERIES];
	unsigned nleft_out;
	unsigned dropped;
	char dropped_why[256];
};

/* Fill p from o for a machine of pus processing units.  0, or -1 with one
 * line in err (a usage error; LB_PLAN_ERR_MAX bytes hold every list of
 * ids in full; an error that echoes a very long token is cut, safely). */
int lb_plan_make(const struct lb_opts *o, unsigned pus, struct lb_plan *p, char *err,
		 size_t errlen);

/* Seconds of warm-up and timed windows the sweep asks for (the run takes
 * a little more: thread start, probes, checks). */
double lb_plan_seconds(const struct lb_plan *p);

#endif
