/* lockbench: the CLI, in four steps.
 *
 *   options  parse argv (options.c): a usage error exits 2 at once
 *   plan     resolve and validate everything: the workload, implementations,
 *            thread counts, params and durations (lb_plan_make, plan.c: a
 *            value the unit tests check), then the pin and the run
 *            directory (make_plan); nothing is written before it is claimed
 *   sweep    repetitions outermost, implementations innermost (A B C A B C
 *            ...), so machine drift hits every implementation alike; rows
 *            stream to disk as they complete
 *   finish   summary, table, meta.json, plots and report, and the list of
 *            what was actually written
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
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

#define SAMPLE_PERIOD LB_SAMPLE_PERIOD /* latency: time one op in this many */

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	lb_interrupted = 1;
}

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

/* ---- sweep ---- */

#define MAX_FAILURES 64

struct sweep {
	struct lb_row *rows;
	size_t nrows, done;
	struct lb_thread_row *trows;
	struct lb_stream results, threads;
	struct lb_sink sink; /* what every table's rows are written with */
	int failed, stopped, write_error;
	struct lb_diag diag;
	struct lb_failure failures[MAX_FAILURES];
	size_t nfailures;
};

static void note_failure(struct sweep *sw, const struct lb_row *r, const char *msg)
{
	if (sw->nfailures < MAX_FAILURES) {
		struct lb_failure *f = &sw->failures[sw->nfailures++];
		f->impl = r->impl;
		f->threads = r->threads;
		f->rep = r->rep;
		snprintf(f->msg, sizeof(f->msg), "%s", msg);
	}
	if (sw->diag.kind == LB_DIAG_NONE) {
		sw->diag.kind = LB_DIAG_CHECK;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "CHECK FAILED: %s/%s threads=%u rep %u: %s", r->workload, r->impl, r->threads,
			 r->rep, msg);
	}
}

static void run_sweep(const struct plan *p, const struct lb_meta_in *meta, struct sweep *sw)
{
	const struct lb_pin *pin = &p->pin;
	int allowed[LB_MAX_THREADS];
	unsigned nallowed = lb_topo_pus(allowed, LB_MAX_THREADS);

	for (unsigned rep = 1; rep <= p->c.repeat && !sw->stopped; rep++) {
		for (unsigned ti = 0; ti < p->c.nthr && !sw->stopped; ti++) {
			for (unsigned ii = 0; ii < p->c.nimpl && !sw->stopped; ii++) {
				if (lb_interrupted) {
					sw->stopped = 1;
					break;
				}
				unsigned nt = p->c.tcounts[ti];
				const struct lb_impl *im = p->c.impls[ii];
				struct lb_run_cfg rc = {
					.wl = p->c.wl, .impl = im, .nthreads = nt, .pin = pin,
					.duration_s = p->c.duration, .warmup_s = p->c.warmup,
					.watchdog_s = p->c.watchdog, .cs_ns = meta->cs_ns,
					.think_ns = meta->think_ns, .sample_mask = SAMPLE_PERIOD - 1,
					.ncpus = pin->cpus ? pin->ncpus : nallowed,
				};
				memcpy(rc.param, p->c.param, sizeof(rc.param));
				struct lb_row *r = &sw->rows[sw->nrows];
				memset(r, 0, sizeof(*r));
				r->workload = p->c.wl->name;
				r->kind = lb_kind_name(lb_impl_kind(im));
				r->backend = im->backend;
				r->impl = im->id;
				r->threads = nt;
				r->pin = pin->name;
				r->cs_ns = meta->cs_ns;
				r->think_ns = meta->think_ns;
				snprintf(r->param, sizeof(r->param), "%s", p->c.param_text);
				r->rep = rep;
				r->oversubscribed = nt > rc.ncpus;
				for (unsigned k = 0; pin->cpus && k < nt; k++) {
					size_t l = strlen(r->cpus);
					snprintf(r->cpus + l, sizeof(r->cpus) - l, "%s%d", k ? ";" : "",
						 pin->cpus[k % pin->ncpus]);
				}
				/* The probe runs between the first two CPUs this
				 * configuration uses (or could use, unpinned). */
				const int *pc = pin->cpus ? pin->cpus : allowed;
				unsigned pn = pin->cpus ? pin->ncpus : nallowed;
				int pa = pn > 0 ? pc[0] : -1, pb = pn > 1 ? pc[1] : -1;
				r->probe_rtt_ns = lb_probe_rtt(pa, pb);

				struct lb_check chk;
				enum lb_run_status st = lb_run_one(&rc, r, sw->trows, &chk, &sw->diag);
				sw->done++;
				if (st == LB_RUN_STALLED) {
					sw->stopped = 1;
					break;
				}
				if (st == LB_RUN_INTERRUPTED) {
					sw->stopped = 1;
					break;
				}
				if (st != LB_RUN_OK) {
					sw->failed = sw->stopped = 1; /* cannot continue sensibly */
					sw->diag.kind = LB_DIAG_ERROR;
					snprintf(sw->diag.summary, sizeof(sw->diag.summary),
						 "%s/%s threads=%u could not run (see the message above)",
						 p->c.wl->name, im->id, nt);
					break;
				}
				r->probe_rtt_after_ns = lb_probe_rtt(pa, pb);
				lb_results_row(sw->results.f, &sw->sink, r);
				for (unsigned k = 0; k < nt; k++) {
					sw->trows[k].rep = rep;
					lb_threads_row(sw->threads.f, &sw->sink, r, &sw->trows[k]);
				}
				if (lb_stream_flush(&sw->results) || lb_stream_flush(&sw->threads)) {
					sw->write_error = sw->failed = sw->stopped = 1;
					break;
				}
				sw->nrows++;
				if (r->verdict == LB_FAIL) {
					sw->failed = 1;
					note_failure(sw, r, chk.msg);
					fprintf(stderr, "lockbench: CHECK FAILED: %s/%s threads=%u rep %u: "
						"%s\n", p->c.wl->name, r->impl, nt, rep, chk.msg);
				}
				fprintf(stderr, "[%zu/%zu] %-22s threads=%-3u rep %u/%u  %12.0f ops/s"
					"  %s%s\n", sw->done, p->c.nruns, r->impl, nt, rep, p->c.repeat,
					r->ops_per_sec, lb_verdict_name(r->verdict),
					r->starved ? "  (starved: another process had the CPUs)" : "");
			}
		}
	}
	if (lb_interrupted && sw->diag.kind == LB_DIAG_NONE) {
		sw->diag.kind = LB_DIAG_INTERRUPTED;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "interrupted by signal %d after %zu of %zu runs; the completed rows are kept",
			 got_signal ? (int)got_signal : SIGINT, sw->nrows, p->c.nruns);
	}
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

	/* ---- go ---- */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	lb_machine_lock();
	lb_timer_calibrate();

	struct sweep *sw = calloc(1, sizeof(*sw));
	unsigned maxthr = 0;
	for (unsigned i = 0; i < p->c.nthr; i++)
		if (p->c.tcounts[i] > maxthr)
			maxthr = p->c.tcounts[i];
	if (sw) {
		sw->rows = calloc(p->c.nruns, sizeof(*sw->rows));
		sw->trows = calloc(maxthr, sizeof(*sw->trows));
	}
	if (!sw || !sw->rows || !sw->trows) {
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
		.seed = o.seed, .sample_period = SAMPLE_PERIOD, .params = p->c.param_text,
		.started_unix = (double)p->started,
	};
	sw->sink = lb_sink_make(p->run_id, p->host, topo->cpu_model, topo->pus, p->c.wl->extra_cols);
	if (lb_meta_write(p->out_dir, &meta) != 0 ||
	    lb_stream_open(&sw->results, p->out_dir, "results.csv") != 0 ||
	    lb_stream_open(&sw->threads, p->out_dir, "threads.csv") != 0) {
		lb_stream_abort(&sw->results);
		return 1;
	}
	lb_results_header(sw->results.f, &sw->sink);
	lb_threads_header(sw->threads.f, &sw->sink);
	if (lb_stream_flush(&sw->results) || lb_stream_flush(&sw->threads)) {
		lb_stream_abort(&sw->results);
		return 1;
	}

	if (topo->restriction[0])
		fprintf(stderr, "lockbench: restricted to %s\n", topo->restriction);
	fprintf(stderr, "lockbench: %s: %u implementation(s) x %u thread count(s) x %u "
		"repetition(s) = %zu runs of %.2f s (+%.2f s warm-up), about %.0f s; pin %s\n",
		p->c.wl->name, p->c.nimpl, p->c.nthr, p->c.repeat, p->c.nruns, p->c.duration, p->c.warmup,
		(double)p->c.nruns * (p->c.duration + p->c.warmup + 0.01), p->pin.name);
	fprintf(stderr, "lockbench: timer %s, %.1f ns per read (latency floor %.0f ns); busy "
		"loop %.3f ns/iter; writing %s\n", lb_timer.source, lb_timer.cost_ns,
		lb_timer.sample_floor_ns, lb_timer.busy_ns_per_iter, p->out_dir);

	run_sweep(p, &meta, sw);

	/* ---- finish: data files, then the table, meta.json, plots ---- */
	struct lb_summary *sum = NULL;
	size_t nsum = lb_summarize(&sw->sink, sw->rows, sw->nrows, &sum);
	if (sw->write_error) {
		lb_stream_abort(&sw->results);
		lb_stream_abort(&sw->threads);
	} else if (lb_stream_commit(&sw->results) || lb_stream_commit(&sw->threads)) {
		lb_stream_abort(&sw->threads);
		sw->write_error = sw->failed = 1;
	}
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
	free(sw->rows);
	free(sw->trows);
	free(sw->diag.detail);
	free(sw);
	free(sum);
	lb_pin_free(&p->pin); /* workers copied their CPU; a stuck one never reads it */
	free(p);
	if (lb_interrupted) {
		fprintf(stderr, "lockbench: interrupted; the %zu completed rows are kept\n", nrows);
		return 128 + (got_signal ? got_signal : SIGINT); /* 130 SIGINT, 143 SIGTERM */
	}
	return failed ? 1 : 0;
}
