/* The sinks (sinks.h): the end of a run, in order: the data files, then
 * the summary on stdout, meta.json, the plots and report.html, and the
 * list of what was actually written. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "launch.h"
#include "lb_config.h"
#include "lb_paths.h"
#include "sinks.h"

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
					   "fingerprint.csv", "meta.json", NULL };

/* A plot the plot step may write: the fixed ones, throughput-<kind> for
 * a registry kind, extra-<column> for a column name ([A-Za-z0-9_]),
 * sweep-<axis> for a swept --cs or --param key ([a-z][a-z0-9_]*). */
static int known_plot(const char *name)
{
	static const char *const plots[] = {
		"throughput", "fairness", "latency", "cpu", "speedup", "throughput-top",
		"fairness-top", "latency-top", "cpu-top", "speedup-top", "fingerprint-c2c", NULL,
	};
	for (size_t i = 0; plots[i]; i++)
		if (strcmp(name, plots[i]) == 0)
			return 1;
	if (strncmp(name, "throughput-", 11) == 0)
		return lb_kind_find(name + 11) != LB_KIND_COUNT;
	if (strncmp(name, "extra-", 6) == 0 && name[6])
		return strspn(name + 6, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789_") == strlen(name + 6);
	/* a --cs or --param list's axis (report.py's SWEEP_NAME) */
	if (strncmp(name, "sweep-", 6) == 0 && name[6] >= 'a' && name[6] <= 'z')
		return strspn(name + 6, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
		       strlen(name + 6);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **lb_written_files(const char *dir, unsigned *nplots)
{
	static char names[64][64];
	static const char *list[65];
	static const char *const after[] = { "report.html", "speedup.csv", "gnuplot-warnings.txt",
					     NULL };
	size_t n = 0;
	char path[PATH_MAX];

	*nplots = 0;
	for (size_t i = 0; data_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, data_files[i]);
		if (access(path, F_OK) == 0)
			list[n++] = data_files[i];
	}
	for (size_t i = 0; after[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, after[i]);
		if (access(path, F_OK) == 0)
			list[n++] = after[i];
	}
	/* the plots, by their PNG, in name order */
	size_t first = n;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL && n < 60) {
		size_t len = strlen(e->d_name);
		char base[64];
		if (len < 5 || len - 4 >= sizeof(base) || strcmp(e->d_name + len - 4, ".png") != 0)
			continue;
		memcpy(base, e->d_name, len - 4);
		base[len - 4] = '\0';
		if (!known_plot(base))
			continue;
		snprintf(names[n], sizeof(names[n]), "%s", e->d_name);
		list[n] = names[n];
		n++;
		(*nplots)++;
	}
	if (d)
		closedir(d);
	qsort(list + first, n - first, sizeof(list[0]), by_name);
	list[n] = NULL;
	return list;
}

void lb_files_listing(const char *const *files, unsigned nplots, const char *no_plots,
		      char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; files[i]; i++) {
		if (strstr(files[i], ".png"))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? " " : "",
			 files[i]);
	}
	if (nplots)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %u plots (PNG and SVG)", nplots);
	else
		snprintf(buf + strlen(buf), len - strlen(buf), "; no plots%s%s%s",
			 no_plots ? " (" : "", no_plots ? no_plots : "", no_plots ? ")" : "");
}

/* summary.csv, in one piece: 0, or non-zero (reported). */
static int write_summary_csv(const char *dir, const struct lb_sink *sk,
			     const struct lb_summary *sum, size_t nsum)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		lb_summary_write_csv(f, sk, sum, nsum);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	int ret = 0;
	if (!text || lb_write_atomic(dir, "summary.csv", text, len) != 0) {
		if (!text)
			lb_write_failed("summary.csv", ENOMEM);
		ret = -1;
	}
	free(text);
	return ret;
}

/* The summary on stdout, in the format asked for. */
static void print_summary(const struct lb_sweep *sw, const struct lb_meta_in *m,
			  const struct lb_summary *sum, size_t nsum)
{
	const char *format = m->format;
	const struct lb_sink *sk = &sw->sink;
	double floor_ns = NAN;
	for (size_t i = 0; i < nsum; i++)
		if ((lb_impl_find(sum[i].first->impl)->caps & LB_CAP_FLOOR) &&
		    sum[i].first->threads == 1 && sum[i].first->cs_ns == 0 &&
		    sum[i].first->think_ns == 0 && isnan(floor_ns))
			/* the first: a --cs sweep's other settings add work */
			floor_ns = 1e9 / sum[i].st[LB_M_OPS_PER_SEC].median;
	if (strcmp(format, "csv") == 0)
		lb_summary_write_csv(stdout, sk, sum, nsum);
	else if (strcmp(format, "json") == 0)
		lb_write_json(stdout, sk, m, sw->rows, sw->nrows, sum, nsum);
	else if (nsum > 0)
		lb_summary_write_table(stdout, sum, nsum, floor_ns);
	fflush(stdout);
}

int lb_plot_dir(const char *dir)
{
	char script[PATH_MAX];
	snprintf(script, sizeof(script), "%s/plot.sh", LB_SCRIPTS_DIR);
	char *pargv[] = { script, (char *)dir, NULL }; /* exec's type; nothing writes it */
	int st = lb_spawn_wait(pargv, 1);
	if (st < 0)
		fprintf(stderr, "lockbench: cannot start %s: %s; the data files are "
			"complete; retry with: ./bench plot %s\n", script, strerror(-st), dir);
	else if (st != 0 && st != 1) /* 1: plot.sh named what it could not write */
		fprintf(stderr, "lockbench: %s failed (exit status %d); the data files are "
			"complete; retry with: ./bench plot %s\n", script, st, dir);
	return st;
}

int lb_sinks_finish(struct lb_sweep *sw, const struct lb_meta_in *meta, int no_plot, int quiet)
{
	const char *dir = meta->out_dir;
	struct lb_summary *sum = NULL;
	size_t nsum = lb_summarize(&sw->sink, sw->rows, sw->nrows, &sum);

	if (!sw->write_error && write_summary_csv(dir, &sw->sink, sum, nsum) != 0)
		sw->write_error = sw->failed = 1;
	if (sw->write_error && sw->diag.kind != LB_DIAG_STALL &&
	    sw->diag.kind != LB_DIAG_DEADLOCK && sw->diag.kind != LB_DIAG_LIVELOCK) {
		sw->diag.kind = LB_DIAG_WRITE;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "a result file could not be written completely (see stderr)");
	}

	struct lb_meta_in m = *meta;
	char noise[512];
	m.noise = noise_line(sum, nsum, noise, sizeof(noise));

	int stalled = sw->diag.kind == LB_DIAG_STALL || sw->diag.kind == LB_DIAG_DEADLOCK ||
		      sw->diag.kind == LB_DIAG_LIVELOCK;
	unsigned nplots = 0;
	m.finished_unix = (double)time(NULL);
	m.rows = sw->nrows;
	m.finished = 1;
	m.interrupted = lb_interrupted;
	m.stalled = stalled;
	m.failed = sw->failed;
	m.diag = &sw->diag;
	m.failures = sw->failures;
	m.nfailures = sw->nfailures;
	m.files = lb_written_files(dir, &nplots);
	/* stdout: the table (or CSV, or JSON with meta.json's context) */
	print_summary(sw, &m, sum, nsum);
	if (m.noise)
		fprintf(stderr, "lockbench: warning: %s\n", m.noise);
	if (lb_meta_write(dir, &m) != 0)
		sw->write_error = sw->failed = 1;

	/* Plots and report.html, also for a run that stalled or failed a
	 * check (the report shows the diagnosis); not after an interruption
	 * (the user asked to stop) or a write error (the disk is full). */
	const char *no_plots = no_plot ? "--no-plot" : lb_interrupted ? "interrupted"
			       : sw->write_error ? "a write failed" : NULL;
	if (!no_plots) {
		if (quiet)
			setenv("LB_QUIET", "1", 1); /* report.py: no "wrote" line */
		if (lb_plot_dir(dir) != 0)
			sw->failed = 1; /* plots or report.html missing: not a complete run */
		m.files = lb_written_files(dir, &nplots);
		if (lb_meta_write(dir, &m) != 0)
			sw->write_error = sw->failed = 1;
	}

	/* What is really there, nothing more. */
	char listing[1024];
	lb_files_listing(m.files, nplots, no_plots, listing, sizeof(listing));
	fprintf(stderr, "lockbench: %zu rows; results in %s/ (%s)\n", sw->nrows, dir, listing);
	if (sw->diag.kind != LB_DIAG_NONE && sw->diag.kind != LB_DIAG_INTERRUPTED &&
	    sw->diag.kind != LB_DIAG_WRITE) {
		int in_report = 0;
		for (size_t i = 0; m.files[i]; i++)
			in_report |= strcmp(m.files[i], "report.html") == 0;
		fprintf(stderr, "lockbench: %s (the diagnosis is in meta.json%s)\n",
			sw->diag.summary, in_report ? " and report.html" : "");
	}
	free(sum);
	return sw->failed || stalled;
}
