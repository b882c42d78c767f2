/* lockbench: the CLI, in four steps.
 *
 *   options  parse argv (options.c): a usage error exits 2 at once
 *   plan     resolve and validate everything: the workload, implementations,
 *            thread counts, params and durations (lb_plan_make, plan.c: a
 *            value the unit tests check), then the pin and the run
 *            directory (make_plan); nothing is written before it is claimed
 *   sweep    every configuration and repetition, rows to disk as they
 *            complete (sweep.c)
 *   finish   summary, table, meta.json, plots and report, and the list of
 *            what was actually written
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "lb_config.h"
#include "lockbench.h"
#include "launch.h"
#include "options.h"
#include "plan.h"
#include "sweep.h"
#include "timer.h"

/* ---- plan ---- */

struct plan {
	struct lb_plan c;      /* what to run: plan.c */
	struct lb_pin pin;
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

static void make_plan(const struct lb_opts *o, int argc, char **argv, struct plan *p)
{
	const struct lb_topo_info *topo = lb_topo();
	char err[512];

	memset(p, 0, sizeof(*p));
	if (lb_plan_make(o, topo->pus, &p->c, err, sizeof(err)) != 0)
		lb_usage_error("%s", err);
	if (p->c.dropped)
		fprintf(stderr, "lockbench: %s: %u thread count(s) of the default sweep do not "
			"apply and were left out (%s)\n", p->c.wl->name, p->c.dropped,
			p->c.dropped_why);

	int ret = lb_pin_resolve(o->pin, &p->pin, err, sizeof(err));
	if (ret == 2)
		lb_usage_error("%s", err);
	if (ret)
		lb_usage_error("--pin: could not resolve '%s'", o->pin);

	/* The run directory, claimed atomically: of two runs started at the
	 * same instant with the same --out, one is refused here. */
	safe_host(p->host, sizeof(p->host));
	p->started = time(NULL);
	struct tm tm;
	localtime_r(&p->started, &tm);
	char stamp[64];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(p->run_id, sizeof(p->run_id), "%s-%s-%d", stamp, p->c.wl->name, (int)getpid());
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

/* ---- finish ---- */

/* One line on the likeliest cause of the noisy configurations. */
static char *noise_line(const struct lb_summary *sum, size_t n, char *buf, size_t len)
{
	unsigned noisy = 0, by[LB_NOISE_COUNT] = { 0 };
	for (size_t i = 0; i < n; i++) {
		enum lb_noise c = lb_summary_noise(&sum[i]);
		if (c != LB_NOISE_NONE) {
			noisy++;
			by[c]++;
		}
	}
	if (!noisy)
		return NULL;
	snprintf(buf, len, "%u of %zu configurations vary by more than 10%% (CV) across "
		 "repetitions; likeliest cause: %u CPU share (their threads did not get the CPUs "
		 "they asked for: see cpu_share, cpu_wait_share, starved), %u placement (the "
		 "probe_rtt_ns round trip moved), %u neither", noisy, n, by[LB_NOISE_CPU],
		 by[LB_NOISE_PLACEMENT], by[LB_NOISE_OTHER]);
	return buf;
}

static const char *const data_files[] = { "results.csv", "threads.csv", "summary.csv",
					   "meta.json", NULL };

/* The files of the run directory that exist, NULL-terminated (names point
 * into a static buffer). */
static const char **written_files(const char *dir, unsigned *nplots)
{
	static char names[64][64];
	static const char *list[65];
	size_t n = 0;
	char path[PATH_MAX];
	static const char *const plots[] = {
		"throughput", "fairness", "latency", "cpu", "speedup", "throughput-top",
		"fairness-top", "latency-top", "cpu-top", "speedup-top", NULL,
	};

	*nplots = 0;
	for (size_t i = 0; data_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, data_files[i]);
		if (access(path, F_OK) == 0)
			list[n++] = data_files[i];
	}
	snprintf(path, sizeof(path), "%s/report.html", dir);
	if (access(path, F_OK) == 0)
		list[n++] = "report.html";
	for (size_t i = 0; plots[i] && n < 60; i++) {
		snprintf(path, sizeof(path), "%s/%s.png", dir, plots[i]);
		if (access(path, F_OK) == 0) {
			snprintf(names[n], sizeof(names[n]), "%s.png", plots[i]);
			list[n] = names[n];
			n++;
			(*nplots)++;
		}
	}
	list[n] = NULL;
	return list;
}

int main(int argc, char **argv)
{
	struct lb_opts o;
	int ret;

	lb_options_parse(argc, argv, &o);
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
		.threads = p->c.threads_text, .pin = p->pin.name, .format = o.format,
		.duration_s = p->c.duration, .warmup_s = p->c.warmup, .watchdog_s = p->c.watchdog,
		.repeat = p->c.repeat, .cs_ns = o.cs_ns, .think_ns = o.think_ns,
		.cs_iters = lb_busy_iters(o.cs_ns), .think_iters = lb_busy_iters(o.think_ns),
		.seed = o.seed, .sample_period = LB_SAMPLE_PERIOD, .params = p->c.param_text,
		.started_unix = (double)p->started,
	};
	/* meta.json first, unfinished: a run that dies still says what it was. */
	if (lb_meta_write(p->out_dir, &meta) != 0 || lb_sweep_open(sw, p->out_dir) != 0)
		return 1;

	lb_sweep_run(sw, &p->c, &p->pin, &meta);

	/* ---- finish: data files, then the table, meta.json, plots ---- */
	struct lb_summary *sum = NULL;
	size_t nsum = lb_summarize(&sw->sink, sw->rows, sw->nrows, &sum);
	if (!sw->write_error) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			lb_summary_write_csv(f, &sw->sink, sum, nsum);
			if (fclose(f) != 0) {
				free(text);
				text = NULL;
			}
		}
		if (!text || lb_write_atomic(p->out_dir, "summary.csv", text, len) != 0) {
			if (!text)
				lb_write_failed("summary.csv", ENOMEM);
			sw->write_error = sw->failed = 1;
		}
		free(text);
	}
	if (sw->write_error && sw->diag.kind != LB_DIAG_STALL &&
	    sw->diag.kind != LB_DIAG_DEADLOCK && sw->diag.kind != LB_DIAG_LIVELOCK) {
		sw->diag.kind = LB_DIAG_WRITE;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "a result file could not be written completely (see stderr)");
	}

	double floor_ns = NAN;
	for (size_t i = 0; i < nsum; i++)
		if ((lb_impl_find(sum[i].first->impl)->caps & LB_CAP_FLOOR) &&
		    sum[i].first->threads == 1)
			floor_ns = 1e9 / sum[i].st[LB_M_OPS_PER_SEC].median;
	if (strcmp(o.format, "csv") == 0)
		lb_summary_write_csv(stdout, &sw->sink, sum, nsum);
	else if (strcmp(o.format, "json") == 0)
		lb_summary_write_json(stdout, &sw->sink, sum, nsum);
	else if (nsum > 0)
		lb_summary_write_table(stdout, sum, nsum, floor_ns);
	fflush(stdout);
	char noise[512];
	meta.noise = noise_line(sum, nsum, noise, sizeof(noise));
	if (meta.noise)
		fprintf(stderr, "lockbench: warning: %s\n", meta.noise);

	int stalled = sw->diag.kind == LB_DIAG_STALL || sw->diag.kind == LB_DIAG_DEADLOCK ||
		      sw->diag.kind == LB_DIAG_LIVELOCK;
	unsigned nplots = 0;
	meta.finished_unix = (double)time(NULL);
	meta.rows = sw->nrows;
	meta.finished = 1;
	meta.interrupted = lb_interrupted;
	meta.stalled = stalled;
	meta.failed = sw->failed;
	meta.diag = &sw->diag;
	meta.failures = sw->failures;
	meta.nfailures = sw->nfailures;
	meta.files = written_files(p->out_dir, &nplots);
	if (lb_meta_write(p->out_dir, &meta) != 0)
		sw->write_error = sw->failed = 1;

	/* Plots and report.html, also for a run that stalled or failed a
	 * check (the report shows the diagnosis); not after an interruption
	 * (the user asked to stop) or a write error (the disk is full). */
	const char *no_plots = o.no_plot ? "--no-plot" : lb_interrupted ? "interrupted"
			       : sw->write_error ? "a write failed" : NULL;
	if (!no_plots) {
		char script[PATH_MAX];
		snprintf(script, sizeof(script), "%s/plot.sh", LB_SCRIPTS_DIR);
		char *pargv[] = { script, p->out_dir, NULL };
		int st = lb_spawn_wait(pargv, 1);
		if (st < 0)
			fprintf(stderr, "lockbench: cannot start %s: %s; the data files are "
				"complete; retry with: ./bench plot %s\n", script, strerror(-st),
				p->out_dir);
		else if (st != 0 && st != 1) /* 1: plot.sh named what it could not write */
			fprintf(stderr, "lockbench: %s failed (exit status %d); the data files are "
				"complete; retry with: ./bench plot %s\n", script, st, p->out_dir);
		if (st != 0)
			sw->failed = 1; /* plots or report.html missing: not a complete run */
		meta.files = written_files(p->out_dir, &nplots);
		if (lb_meta_write(p->out_dir, &meta) != 0)
			sw->write_error = sw->failed = 1;
	}

	/* What is really there, nothing more. */
	char listing[1024] = "";
	for (size_t i = 0; meta.files[i]; i++) {
		if (strstr(meta.files[i], ".png"))
			continue;
		snprintf(listing + strlen(listing), sizeof(listing) - strlen(listing), "%s%s",
			 listing[0] ? " " : "", meta.files[i]);
	}
	if (nplots)
		snprintf(listing + strlen(listing), sizeof(listing) - strlen(listing),
			 ", %u plots (PNG and SVG)", nplots);
	else
		snprintf(listing + strlen(listing), sizeof(listing) - strlen(listing),
			 "; no plots%s%s%s", no_plots ? " (" : "", no_plots ? no_plots : "",
			 no_plots ? ")" : "");
	fprintf(stderr, "lockbench: %zu rows; results in %s/ (%s)\n", sw->nrows, p->out_dir,
		listing);
	if (sw->diag.kind != LB_DIAG_NONE && sw->diag.kind != LB_DIAG_INTERRUPTED &&
	    sw->diag.kind != LB_DIAG_WRITE) {
		int in_report = 0;
		for (size_t i = 0; meta.files[i]; i++)
			in_report |= strcmp(meta.files[i], "report.html") == 0;
		fprintf(stderr, "lockbench: %s (the diagnosis is in meta.json%s)\n",
			sw->diag.summary, in_report ? " and report.html" : "");
	}

	int failed = sw->failed || stalled;
	size_t nrows = sw->nrows;
	lb_sweep_free(sw);
	free(sum);
	lb_pin_free(&p->pin); /* workers copied their CPU; a stuck one never reads it */
	free(p);
	if (lb_interrupted) {
		fprintf(stderr, "lockbench: interrupted; the %zu completed rows are kept\n", nrows);
		return 128 + lb_sweep_signal(); /* 130 SIGINT, 143 SIGTERM */
	}
	return failed ? 1 : 0;
}
