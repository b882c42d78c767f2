/* The sweep (sweep.h): a plan's runs in order, their rows to disk as they
 * complete, and the bookkeeping of what failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_config.h"
#include "sweep.h"
#include "timer.h"

#define SAMPLE_PERIOD LB_SAMPLE_PERIOD /* latency: time one op in this many */

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	lb_interrupted = 1;
}

void lb_sweep_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int lb_sweep_signal(void)
{
	return got_signal ? (int)got_signal : SIGINT;
}

/* ---- the sweep ---- */

struct lb_sweep *lb_sweep_new(const struct lb_plan *c, struct lb_sink sink)
{
	struct lb_sweep *sw = calloc(1, sizeof(*sw));
	unsigned maxthr = 0;
	for (unsigned i = 0; i < c->nthr; i++)
		if (c->tcounts[i] > maxthr)
			maxthr = c->tcounts[i];
	if (sw) {
		sw->rows = calloc(c->nruns, sizeof(*sw->rows));
		sw->trows = calloc(maxthr, sizeof(*sw->trows));
	}
	if (!sw || !sw->rows || !sw->trows) {
		lb_sweep_free(sw);
		return NULL;
	}
	sw->sink = sink;
	return sw;
}

void lb_sweep_free(struct lb_sweep *sw)
{
	if (!sw)
		return;
	free(sw->rows);
	free(sw->trows);
	free(sw->diag.detail);
	free(sw);
}

int lb_sweep_open(struct lb_sweep *sw, const char *dir)
{
	if (lb_stream_open(&sw->results, dir, "results.csv") != 0 ||
	    lb_stream_open(&sw->threads, dir, "threads.csv") != 0) {
		lb_stream_abort(&sw->results);
		return -1;
	}
	lb_results_header(sw->results.f, &sw->sink);
	lb_threads_header(sw->threads.f, &sw->sink);
	if (lb_stream_flush(&sw->results) || lb_stream_flush(&sw->threads)) {
		lb_stream_abort(&sw->results);
		return -1;
	}
	return 0;
}

void lb_sweep_note_failure(struct lb_sweep *sw, const struct lb_row *r, const char *msg)
{
	if (sw->nfailures < LB_SWEEP_MAX_FAILURES) {
		struct lb_failure *f = &sw->failures[sw->nfailures++];
		f->impl = r->impl;
		f->threads = r->threads;
		f->rep = r->rep;
		snprintf(f->setting, sizeof(f->setting), "%s", r->setting);
		snprintf(f->msg, sizeof(f->msg), "%s", msg);
	}
	if (sw->diag.kind == LB_DIAG_NONE) {
		sw->diag.kind = LB_DIAG_CHECK;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "CHECK FAILED: %s/%s threads=%u%s%s rep %u: %s", r->workload, r->impl,
			 r->threads, r->setting[0] ? " " : "", r->setting, r->rep, msg);
	}
}

void lb_sweep_run(struct lb_sweep *sw, const struct lb_plan *c, const struct lb_pin *pin,
		  const struct lb_mem *mem, const struct lb_meta_in *meta)
{
	int allowed[LB_MAX_THREADS];
	unsigned nallowed = lb_topo_pus(allowed, LB_MAX_THREADS);

	if (meta->restriction[0] && !c->quiet)
		fprintf(stderr, "lockbench: restricted to %s\n", meta->restriction);
	if (!c->quiet) {
		char sets[1100] = "";
		if (c->nsets > 1)
			snprintf(sets, sizeof(sets), " x %u settings (%s)", c->nsets, c->sweep_text);
		fprintf(stderr, "lockbench: %s: %u implementation(s) x %u thread count(s)%s x %u "
			"repetition(s) = %zu runs of %.2f s (+%.2f s warm-up), about %.0f s; pin %s\n",
			c->wl->name, c->nimpl, c->nthr, sets, c->repeat, c->nruns, c->duration,
			c->warmup, (double)c->nruns * (c->duration + c->warmup + 0.01), pin->name);
		fprintf(stderr, "lockbench: timer %s, %.1f ns per read (latency floor %.0f ns); "
			"busy loop %.3f ns/iter; writing %s\n", lb_timer.source, lb_timer.cost_ns,
			lb_timer.sample_floor_ns, lb_timer.busy_ns_per_iter, meta->out_dir);
	}
	uint64_t t_start = lb_now_ns();

	for (unsigned rep = 1; rep <= c->repeat && !sw->stopped; rep++) {
		for (unsigned si = 0; si < c->nsets && !sw->stopped; si++) {
			const struct lb_plan_set *set = &c->sets[si];
			for (unsigned ti = 0; ti < c->nthr && !sw->stopped; ti++) {
				for (unsigned ii = 0; ii < c->nimpl && !sw->stopped; ii++) {
					if (lb_interrupted) {
						sw->stopped = 1;
						break;
					}
					unsigned nt = c->tcounts[ti];
					const struct lb_impl *im = c->impls[ii];
					struct lb_run_cfg rc = {
						.wl = c->wl, .impl = im, .nthreads = nt, .pin = pin,
						.duration_s = c->duration, .warmup_s = c->warmup,
						.watchdog_s = c->watchdog, .cs_ns = set->cs_ns,
						.think_ns = meta->think_ns, .sample_mask = SAMPLE_PERIOD - 1,
						.ncpus = lb_pin_span(pin, set->param, nt, nallowed),
						.mem = mem,
					};
					memcpy(rc.param, set->param, sizeof(rc.param));
					struct lb_row *r = &sw->rows[sw->nrows];
					memset(r, 0, sizeof(*r));
					r->workload = c->wl->name;
					r->kind = lb_kind_name(lb_impl_kind(im));
					r->backend = im->backend;
					r->impl = im->id;
					r->threads = nt;
					r->pin = pin->name;
					r->mem = mem->name;
					r->cs_ns = set->cs_ns;
					r->think_ns = meta->think_ns;
					snprintf(r->param, sizeof(r->param), "%s", set->param_text);
					r->set = si;
					if (c->sweep_text[0])
						snprintf(r->setting, sizeof(r->setting), "cs=%llu %s",
							 (unsigned long long)set->cs_ns, set->param_text);
					r->rep = rep;
					r->oversubscribed = nt > rc.ncpus;
					for (unsigned k = 0; (pin->cpus || pin->wl) && k < nt; k++) {
						size_t l = strlen(r->cpus);
						int cpu = lb_pin_cpu(pin, set->param, k, nt);
						if (cpu >= 0)
							snprintf(r->cpus + l, sizeof(r->cpus) - l, "%s%d",
								 k ? ";" : "", cpu);
						else /* unpinned, beside a pinned group */
							snprintf(r->cpus + l, sizeof(r->cpus) - l, "%s*",
								 k ? ";" : "");
					}
					/* The probe runs between the first two CPUs this
					 * configuration uses (or could use, unpinned); with
					 * groups placed apart, between thread 0 and the first
					 * thread of another group. */
					const int *pc = pin->cpus ? pin->cpus : allowed;
					unsigned pn = pin->cpus ? pin->ncpus : nallowed;
					int pa = pn > 0 ? pc[0] : -1, pb = pn > 1 ? pc[1] : -1;
					if (pin->wl && nt > 1) {
						unsigned g0 = c->wl->group_of(set->param, 0, nt), o = 1;
						for (unsigned k = 1; k < nt; k++)
							if (c->wl->group_of(set->param, k, nt) != g0) {
								o = k;
								break;
							}
						int a = lb_pin_cpu(pin, set->param, 0, nt);
						int b = lb_pin_cpu(pin, set->param, o, nt);
						if (a >= 0 && b >= 0 && a != b) {
							pa = a;
							pb = b;
						}
					}
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
							 c->wl->name, im->id, nt);
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
						lb_sweep_note_failure(sw, r, chk.msg);
						fprintf(stderr, "lockbench: CHECK FAILED: %s/%s threads=%u%s%s rep "
							"%u: %s\n", c->wl->name, r->impl, nt,
							r->setting[0] ? " " : "", r->setting, rep, chk.msg);
					}
					if (c->quiet)
						continue;
					/* the rest at the pace so far: every run takes
					 * about as long (fixed window and warm-up) */
					double eta = (double)(lb_now_ns() - t_start) / 1e9 / (double)sw->done *
						     (double)(c->nruns - sw->done);
					char axes[330] = "";
					if (r->setting[0]) /* which set: its cs and params */
						snprintf(axes, sizeof(axes), " %s", r->setting);
					fprintf(stderr, "[%zu/%zu] %-22s threads=%-3u%s rep %u/%u  %12.0f "
						"ops/s  %s  eta %.0f s%s\n", sw->done, c->nruns, r->impl, nt,
						axes, rep, c->repeat, r->ops_per_sec,
						lb_verdict_name(r->verdict), eta,
						r->starved ? "  (starved: another process had the CPUs)" : "");
				}
			}
		}
	}
	if (lb_interrupted && sw->diag.kind == LB_DIAG_NONE) {
		sw->diag.kind = LB_DIAG_INTERRUPTED;
		snprintf(sw->diag.summary, sizeof(sw->diag.summary),
			 "interrupted by signal %d after %zu of %zu runs; the completed rows are kept",
			 lb_sweep_signal(), sw->nrows, c->nruns);
	}

	/* Each of the two files complete, or absent. */
	if (sw->write_error) {
		lb_stream_abort(&sw->results);
		lb_stream_abort(&sw->threads);
	} else if (lb_stream_commit(&sw->results) || lb_stream_commit(&sw->threads)) {
		lb_stream_abort(&sw->threads);
		sw->write_error = sw->failed = 1;
	}
}
