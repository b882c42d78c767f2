/* lockbench: the CLI, along its data path.
 *
 *   options  argv to struct lb_opts (options.c); --help, --list and the
 *            like answer and exit, a usage error exits 2 at once
 *   plan     the configurations and their time estimate (lb_plan_make,
 *            plan.c: a value the unit tests check), then placed on this
 *            machine (make_plan, here): the pin, the host, the run id and
 *            the run directory, claimed; nothing is written before it is
 *   sweep    every configuration and repetition, rows to disk as they
 *            complete (sweep.c)
 *   sinks    summary, table, meta.json, plots and report, and the list of
 *            what was actually written (sinks.c)
 *
 * Exit status: 0 all checks passed, 1 a check failed or the run could not
 * complete, 2 a usage error, 128 + the signal when interrupted. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "lb_config.h"
#include "lb_paths.h"
#include "lockbench.h"
#include "options.h"
#include "plan.h"
#include "sinks.h"
#include "sweep.h"
#include "timer.h"

/* ---- plan ---- */

struct plan {
	struct lb_plan c;      /* what to run: plan.c */
	struct lb_pin pin;
	struct lb_mem mem;
	char host[256], run_id[128], out_dir[PATH_MAX - 64];
	char cmdline[4096];
	time_t started;
};

/* The hostname as a directory name and CSV identifier: letters, digits,
 * '.', '_' and '-' only, so that no name can escape results/ or need
 * quoting anywhere. */
static void safe_host(char *host, size_t len)
{
	if (gethostname(host, len) != 0)
		snprintf(host, len, "unknown");
	host[len - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	if (!host[0] || host[0] == '.')
		host[0] = '_';
}

static void claim_run_dir(const struct lb_opts *o, const char *name, int argc, char **argv,
			  struct plan *p);

static void make_plan(const struct lb_opts *o, int argc, char **argv, struct plan *p)
{
	const struct lb_topo_info *topo = lb_topo();
	char err[LB_PLAN_ERR_MAX];

	memset(p, 0, sizeof(*p));
	if (lb_plan_make(o, topo->pus, &p->c, err, sizeof(err)) != 0)
		lb_usage_error("%s", err);

	int ret = lb_pin_resolve(o->pin, &p->pin, err, sizeof(err));
	if (ret == 2)
		lb_usage_error("%s", err);
	if (ret)
		lb_usage_error("--pin: could not resolve '%s'", o->pin);
	if (lb_mem_resolve(o->mem, &p->mem, err, sizeof(err)) != 0)
		lb_usage_error("%s", err);
	if (o->c2c_event && o->counters && strcmp(o->counters, "auto") != 0)
		lb_usage_error("--c2c-event names a hardware event; --counters %s counts none "
			    "(drop one of the two)", o->counters);
	if (o->c2c_event && lb_counters_c2c_check(o->c2c_event, err, sizeof(err)) != 0)
		lb_usage_error("%s", err);
	lb_counters_probe(!o->counters || strcmp(o->counters, "auto") == 0 ? LB_COUNTERS_AUTO
			  : strcmp(o->counters, "software") == 0 ? LB_COUNTERS_SOFTWARE
								 : LB_COUNTERS_OFF,
			  o->c2c_event);
	for (unsigned g = 0; g < o->npin_groups; g++) {
		ret = lb_pin_add_group(&p->pin, p->c.wl, o->pin_groups[g], err, sizeof(err));
		if (ret == 2)
			lb_usage_error("%s", err);
		if (ret)
			lb_usage_error("--pin-group: could not resolve '%s'", o->pin_groups[g]);
	}

	claim_run_dir(o, p->c.wl->name, argc, argv, p);

	/* Notes, once nothing can be a usage error any more (that is one
	 * line alone). */
	if (p->c.dropped)
		fprintf(stderr, "lockbench: %s: %u thread count(s) of the default sweep do not "
			"apply and were left out (%s)\n", p->c.wl->name, p->c.dropped,
			p->c.dropped_why);
	for (unsigned i = 0; i < p->c.nleft_out; i++)
		fprintf(stderr, "lockbench: %s: %s is left out: unavailable here (%s)\n",
			p->c.wl->name, p->c.left_out[i]->id, lb_impl_unavailable(p->c.left_out[i]));
}

/* The run directory, claimed atomically: of two runs started at the same
 * instant with the same --out, one is refused here.  Also the host, the
 * run id and the command line. */
static void claim_run_dir(const struct lb_opts *o, const char *name, int argc, char **argv,
			  struct plan *p)
{
	char err[LB_PLAN_ERR_MAX];
	safe_host(p->host, sizeof(p->host));
	p->started = time(NULL);
	struct tm tm;
	localtime_r(&p->started, &tm);
	char stamp[64];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(p->run_id, sizeof(p->run_id), "%s-%s-%d", stamp, name, (int)getpid());
	if (o->out && (!*o->out || strlen(o->out) >= sizeof(p->out_dir)))
		lb_usage_error("--out: '%s' is not a usable path (empty or longer than %zu bytes)",
			    o->out, sizeof(p->out_dir) - 1);
	if (o->out)
		snprintf(p->out_dir, sizeof(p->out_dir), "%s", o->out);
	else
		snprintf(p->out_dir, sizeof(p->out_dir), "%s/results/%s/%s", LB_SOURCE_DIR,
			 p->host, p->run_id);
	if (lb_dir_claim(p->out_dir, p->run_id, err, sizeof(err)) != 0)
		lb_usage_error("%s", err);

	lb_command_line(argc, argv, p->cmdline, sizeof(p->cmdline));
}

/* ./bench --workload fingerprint: the machine, not an implementation. */
static int fingerprint_main(const struct lb_opts *o, int argc, char **argv, struct plan *p)
{
	const struct lb_topo_info *topo = lb_topo();
	const char *given = strcmp(o->impl, "all") != 0 ? "--impl" : o->threads ? "--threads"
			    : o->nparams ? "--param" : o->cs ? "--cs" : o->think_ns ? "--think"
			    : strcmp(o->pin, "compact") != 0 ? "--pin" : o->npin_groups ? "--pin-group"
			    : o->mem ? "--mem" : o->counters ? "--counters"
			    : o->c2c_event ? "--c2c-event"
			    : o->duration >= 0 ? "--duration" : o->warmup >= 0 ? "--warmup"
			    : o->repeat != LB_DEFAULT_REPEAT ? "--repeat"
			    : strcmp(o->format, "table") != 0 ? "--format" : NULL;
	if (given)
		lb_usage_error("%s: the fingerprint measures the machine, not an implementation; "
			    "it takes --out, --no-plot and --quiet only", given);
	memset(p, 0, sizeof(*p));
	claim_run_dir(o, "fingerprint", argc, argv, p);
	lb_sweep_catch_signals();
	lb_machine_lock();
	lb_timer_calibrate();
	struct lb_meta_in meta = {
		.run_id = p->run_id, .host = p->host, .out_dir = p->out_dir,
		.command_line = p->cmdline, .restriction = topo->restriction,
		.workload = "fingerprint", .impls = "", .threads = "", .pin = "", .mem = "",
		.format = o->format, .params = "", .sweep = "", .repeat = 1,
		.sample_period = LB_SAMPLE_PERIOD, .started_unix = (double)p->started,
	};
	if (lb_meta_write(p->out_dir, &meta) != 0)
		return 1;
	if (!o->quiet)
		fprintf(stderr, "lockbench: fingerprint of %s (%s): core-to-core round trips, "
			"atomics, futex wake-ups, timers; writing %s\n", p->host, topo->summary,
			p->out_dir);
	size_t rows = 0;
	int failed = 0;
	int ret = lb_fingerprint(p->out_dir, p->run_id, p->host, o->quiet, &failed, &rows);
	unsigned nplots = 0;
	meta.finished_unix = (double)time(NULL);
	meta.finished = ret == 0;
	meta.rows = rows;
	meta.interrupted = lb_interrupted;
	meta.failed = ret != 0 || failed;
	meta.files = lb_written_files(p->out_dir, &nplots);
	if (lb_meta_write(p->out_dir, &meta) != 0)
		return 1;
	const char *no_plots = o->no_plot ? "--no-plot" : ret ? "the fingerprint did not finish"
									: NULL;
	if (!no_plots) {
		if (o->quiet)
			setenv("LB_QUIET", "1", 1);
		if (lb_plot_dir(p->out_dir) != 0)
			failed = 1;
		meta.files = lb_written_files(p->out_dir, &nplots);
		if (lb_meta_write(p->out_dir, &meta) != 0)
			return 1;
	}
	char listing[1024];
	lb_files_listing(meta.files, nplots, no_plots, listing, sizeof(listing));
	fprintf(stderr, "lockbench: results in %s/ (%s)\n", p->out_dir, listing);
	if (lb_interrupted)
		return 128 + lb_sweep_signal();
	return ret || failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct lb_opts o;
	int ret;

	lb_options_parse(argc, argv, &o);
	/* Each worker holds up to 8 descriptors (schedstat, stat, 6 event
	 * counters): at the default soft limit of 1024, a run of 128 threads
	 * would lose its counters. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	struct plan *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "lockbench: out of memory\n");
		return 1;
	}
	if ((ret = lb_topo_init()) != 0) {
		fprintf(stderr, "lockbench: hwloc could not load the topology: %s\n", strerror(ret));
		return 1;
	}
	const struct lb_topo_info *topo = lb_topo();
	if (o.workload && strcmp(o.workload, "fingerprint") == 0) {
		ret = fingerprint_main(&o, argc, argv, p);
		free(p);
		return ret;
	}
	make_plan(&o, argc, argv, p);

	lb_sweep_catch_signals();
	lb_machine_lock();
	lb_timer_calibrate();

	struct lb_sweep *sw = lb_sweep_new(&p->c, lb_sink_make(p->run_id, p->host, topo->cpu_model,
							      topo->pus, p->c.wl->extra_cols));
	if (!sw) {
		fprintf(stderr, "lockbench: out of memory\n");
		return 1;
	}
	struct lb_meta_in meta = {
		.run_id = p->run_id, .host = p->host, .out_dir = p->out_dir,
		.command_line = p->cmdline, .restriction = topo->restriction,
		.extra_cols = p->c.wl->extra_cols, .workload = p->c.wl->name, .impls = p->c.impl_text,
		.threads = p->c.threads_text, .pin = p->pin.name, .mem = p->mem.name,
		.format = o.format,
		.duration_s = p->c.duration, .warmup_s = p->c.warmup, .watchdog_s = p->c.watchdog,
		.repeat = p->c.repeat, .cs_ns = p->c.sets[0].cs_ns, .think_ns = o.think_ns,
		.cs_iters = lb_busy_iters(p->c.sets[0].cs_ns),
		.think_iters = lb_busy_iters(o.think_ns), .sweep = p->c.sweep_text,
		.seed = o.seed, .sample_period = LB_SAMPLE_PERIOD, .params = p->c.param_text,
		.started_unix = (double)p->started,
	};
	/* meta.json first, unfinished: a run that dies still says what it was. */
	if (lb_meta_write(p->out_dir, &meta) != 0 || lb_sweep_open(sw, p->out_dir) != 0)
		return 1;

	if (o.mem && p->mem.nnodes == 1 && !o.quiet)
		fprintf(stderr, "lockbench: --mem %s: this machine has one NUMA node, so every "
			"placement puts memory on node 0 (the mem_nodes column says where it was)\n",
			o.mem);
	lb_sweep_run(sw, &p->c, &p->pin, &p->mem, &meta);
	int failed = lb_sinks_finish(sw, &meta, o.no_plot, o.quiet);

	size_t nrows = sw->nrows;
	lb_sweep_free(sw);
	lb_pin_free(&p->pin); /* workers copied their CPU; a stuck one never reads it */
	free(p);
	if (lb_interrupted) {
		fprintf(stderr, "lockbench: interrupted; the %zu completed rows are kept\n", nrows);
		return 128 + lb_sweep_signal(); /* 130 SIGINT, 143 SIGTERM */
	}
	return failed ? 1 : 0;
}
