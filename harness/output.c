/* results.csv, threads.csv, summary.csv, the stdout table and JSON.
 *
 * Column lists live here, once: the header and the rows are written from
 * the same tables so they cannot drift apart.  A value that does not apply
 * (no latency samples, no lost-update check, one CPU so no probe) is an
 * empty cell, never 0 or -1. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lockbench.h"

const char *lb_verdict_name(enum lb_verdict v)
{
	return v == LB_OK ? "ok" : v == LB_RACY ? "racy" : "fail";
}

/* ---- cells ----
 *
 * Every cell of every CSV goes through these: text through lb_csv_field()
 * (RFC 4180 quoting where needed), numbers in fixed point, and a value that
 * does not apply (NaN, an infinity, a missing count) as an empty cell.  A
 * struct csv counts its cells, so a separator can never be forgotten. */

struct csv {
	FILE *f;
	unsigned n;
};

static void c_sep(struct csv *c)
{
	if (c->n++)
		fputc(',', c->f);
}

static void c_text(struct csv *c, const char *s)
{
	c_sep(c);
	lb_csv_field(c->f, s);
}

static void c_u(struct csv *c, uint64_t v)
{
	c_sep(c);
	fprintf(c->f, "%llu", (unsigned long long)v);
}

static void c_i(struct csv *c, int64_t v)
{
	c_sep(c);
	fprintf(c->f, "%lld", (long long)v);
}

static void c_f(struct csv *c, double v, int prec)
{
	c_sep(c);
	if (isfinite(v))
		fprintf(c->f, "%.*f", prec, v);
}

/* A workload's own column: a whole number (a count: capacity, phases,
 * torn reads) as an integer, anything else with 4 decimals. */
static int integral(double v)
{
	return isfinite(v) && v == floor(v) && fabs(v) < 1e15;
}

static void c_x(struct csv *c, double v)
{
	if (integral(v)) {
		c_sep(c);
		fprintf(c->f, "%.0f", v);
	} else {
		c_f(c, v, 4);
	}
}

static void c_empty(struct csv *c)
{
	c_sep(c);
}

static void c_end(struct csv *c)
{
	fputc('\n', c->f);
	c->n = 0;
}

struct lb_sink lb_sink_make(const char *run_id, const char *host, const char *cpu_model,
			    unsigned pus, const char *const *extras)
{
	struct lb_sink s = { .run_id = run_id, .host = host, .cpu_model = cpu_model, .pus = pus,
			     .extras = extras };
	while (extras && extras[s.n_extra] && s.n_extra < LB_MAX_EXTRA)
		s.n_extra++;
	return s;
}

/* The cells every table starts with (run_id, host): which run, on which
 * machine. */
static void id_cells(struct csv *c, const struct lb_sink *s)
{
	c_text(c, s->run_id);
	c_text(c, s->host);
}

static void header(FILE *f, const char *const *cols, size_t n, const struct lb_sink *s,
		   int extras)
{
	struct csv c = { f, 0 };
	for (size_t i = 0; i < n; i++)
		c_text(&c, cols[i]);
	for (unsigned i = 0; extras && i < s->n_extra; i++)
		c_text(&c, s->extras[i]);
	c_end(&c);
}

/* ---- results.csv ---- */

static const char *const results_cols[] = {
	"run_id", "host", "cpu_model", "pus", "workload", "kind", "backend", "impl",
	"threads", "pin", "cpus", "cs_ns", "think_ns", "param", "rep", "duration_s",
	"ops", "ops_per_sec", "fairness", "thread_ops_min", "thread_ops_max",
	"lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "cpu_s",
	"ctx_voluntary", "ctx_involuntary", "probe_rtt_ns", "lost_updates", "verified",
	/* beyond the required set */
	"ops_per_cpu_s", "lat_samples", "probe_rtt_after_ns", "oversubscribed",
	"lat_floor_ns", "cpu_share", "cpu_wait_share", "starved", "mem", "mem_nodes",
	"cycles_per_op", "instructions_per_op", "cache_misses_per_op", "context_switches",
	"cpu_migrations", "page_faults", "c2c_per_op",
};
#define NRESULTS (sizeof(results_cols) / sizeof(results_cols[0]))

void lb_results_header(FILE *f, const struct lb_sink *s)
{
	header(f, results_cols, NRESULTS, s, 1);
}

void lb_results_row(FILE *f, const struct lb_sink *s, const struct lb_row *r)
{
	struct csv c = { f, 0 };
	id_cells(&c, s);
	c_text(&c, s->cpu_model);
	c_u(&c, s->pus);
	c_text(&c, r->workload);
	c_text(&c, r->kind);
	c_text(&c, r->backend);
	c_text(&c, r->impl);
	c_u(&c, r->threads);
	c_text(&c, r->pin);
	c_text(&c, r->cpus);
	c_u(&c, r->cs_ns);
	c_u(&c, r->think_ns);
	c_text(&c, r->param);
	c_u(&c, r->rep);
	c_f(&c, r->duration_s, 6);
	c_u(&c, r->ops);
	c_f(&c, r->ops_per_sec, 1);
	c_f(&c, r->fairness, 4);
	c_u(&c, r->thread_ops_min);
	c_u(&c, r->thread_ops_max);
	c_f(&c, r->lat_p50_ns, 0);
	c_f(&c, r->lat_p99_ns, 0);
	c_f(&c, r->lat_p999_ns, 0);
	c_f(&c, r->lat_max_ns, 0);
	c_f(&c, r->cpu_s, 6);
	c_u(&c, r->ctx_voluntary);
	c_u(&c, r->ctx_involuntary);
	c_f(&c, r->probe_rtt_ns, 1);
	if (r->has_lost)
		c_i(&c, r->lost_updates);
	else
		c_empty(&c);
	c_text(&c, lb_verdict_name(r->verdict));
	c_f(&c, r->ops_per_cpu_s, 1);
	c_u(&c, r->lat_samples);
	c_f(&c, r->probe_rtt_after_ns, 1);
	c_u(&c, (uint64_t)r->oversubscribed);
	c_f(&c, r->lat_floor_ns, 1);
	c_f(&c, r->cpu_share, 4);
	c_f(&c, r->cpu_wait_share, 4);
	if (isnan(r->cpu_wait_share))
		c_empty(&c);
	else
		c_u(&c, (uint64_t)r->starved);
	c_text(&c, r->mem ? r->mem : "");
	c_text(&c, r->mem_nodes);
	for (int ev = LB_EV_CYCLES; ev <= LB_EV_CACHE_MISSES; ev++)
		c_f(&c, r->ops > 0 ? r->ev[ev] / (double)r->ops : NAN, 2);
	for (int ev = LB_EV_CTX; ev <= LB_EV_FAULTS; ev++)
		c_f(&c, r->ev[ev], 0);
	c_f(&c, r->ops > 0 ? r->ev[LB_EV_C2C] / (double)r->ops : NAN, 3);
	for (unsigned i = 0; i < s->n_extra; i++)
		c_x(&c, r->extra[i]);
	c_end(&c);
}

/* ---- threads.csv ---- */

static const char *const thread_cols[] = {
	"run_id", "host", "workload", "impl", "threads", "pin", "cs_ns", "think_ns", "param", "rep", "tid",
	"cpu", "cpu_at_end", "ops", "ops_per_sec", "lat_p50_ns", "lat_p99_ns",
	"lat_p999_ns", "lat_max_ns", "lat_samples", "cpu_s", "ctx_voluntary",
	"ctx_involuntary", "warmup_ops",
};

void lb_threads_header(FILE *f, const struct lb_sink *s)
{
	header(f, thread_cols, sizeof(thread_cols) / sizeof(thread_cols[0]), s, 0);
}

void lb_threads_row(FILE *f, const struct lb_sink *s, const struct lb_row *r,
		    const struct lb_thread_row *t)
{
	struct csv c = { f, 0 };
	id_cells(&c, s);
	c_text(&c, r->workload);
	c_text(&c, r->impl);
	c_u(&c, r->threads);
	c_text(&c, r->pin);
	c_u(&c, r->cs_ns);
	c_u(&c, r->think_ns);
	c_text(&c, r->param);
	c_u(&c, r->rep);
	c_u(&c, t->tid);
	if (t->cpu >= 0)
		c_u(&c, (uint64_t)t->cpu);
	else
		c_empty(&c);
	if (t->cpu_at_end >= 0)
		c_u(&c, (uint64_t)t->cpu_at_end);
	else
		c_empty(&c);
	c_u(&c, t->ops);
	c_f(&c, t->ops_per_sec, 1);
	c_f(&c, t->lat_p50_ns, 0);
	c_f(&c, t->lat_p99_ns, 0);
	c_f(&c, t->lat_p999_ns, 0);
	c_f(&c, t->lat_max_ns, 0);
	c_u(&c, t->lat_samples);
	c_f(&c, t->cpu_s, 6);
	c_u(&c, t->ctx_voluntary);
	c_u(&c, t->ctx_involuntary);
	c_u(&c, t->warmup_ops);
	c_end(&c);
}

/* ---- summary ---- */

const char *const lb_metric_names[LB_M_COUNT] = {
	"ops_per_sec", "ops_per_cpu_s", "fairness", "thread_ops_min", "thread_ops_max",
	"lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "cpu_s",
	"ctx_voluntary", "ctx_involuntary", "probe_rtt_ns", "duration_s", "lat_floor_ns",
	"cpu_share", "cpu_wait_share",
};

static const int metric_prec[LB_M_COUNT] = { 1, 1, 4, 0, 0, 0, 0, 0, 0, 6, 0, 0, 1, 6, 1, 4, 4 };

static double metric(const struct lb_row *r, enum lb_metric m)
{
	switch (m) {
	case LB_M_OPS_PER_SEC: return r->ops_per_sec;
	case LB_M_OPS_PER_CPU_S: return r->ops_per_cpu_s;
	case LB_M_FAIRNESS: return r->fairness;
	case LB_M_THREAD_OPS_MIN: return (double)r->thread_ops_min;
	case LB_M_THREAD_OPS_MAX: return (double)r->thread_ops_max;
	case LB_M_LAT_P50: return r->lat_p50_ns;
	case LB_M_LAT_P99: return r->lat_p99_ns;
	case LB_M_LAT_P999: return r->lat_p999_ns;
	case LB_M_LAT_MAX: return r->lat_max_ns;
	case LB_M_CPU_S: return r->cpu_s;
	case LB_M_CTX_VOL: return (double)r->ctx_voluntary;
	case LB_M_CTX_INVOL: return (double)r->ctx_involuntary;
	case LB_M_PROBE: return r->probe_rtt_ns;
	case LB_M_DURATION: return r->duration_s;
	case LB_M_LAT_FLOOR: return r->lat_floor_ns;
	case LB_M_CPU_SHARE: return r->cpu_share;
	case LB_M_CPU_WAIT: return r->cpu_wait_share;
	default: return NAN;
	}
}

static int same_config(const struct lb_row *a, const struct lb_row *b)
{
	return strcmp(a->workload, b->workload) == 0 && strcmp(a->impl, b->impl) == 0 &&
	       a->threads == b->threads && strcmp(a->pin, b->pin) == 0 &&
	       a->cs_ns == b->cs_ns && a->think_ns == b->think_ns &&
	       strcmp(a->param, b->param) == 0;
}

/* The same group for ranking: everything of the configuration but the
 * implementation and the thread count, and the same kind. */
static int same_group(const struct lb_row *a, const struct lb_row *b)
{
	return strcmp(a->workload, b->workload) == 0 && strcmp(a->kind, b->kind) == 0 &&
	       strcmp(a->pin, b->pin) == 0 && a->cs_ns == b->cs_ns &&
	       a->think_ns == b->think_ns && strcmp(a->param, b->param) == 0;
}

/* Controls are reference lines, never ranked: the harness floor and the
 * race (kind none). */
static int is_control(const struct lb_row *r)
{
	return lb_kind_find(r->kind) == LB_KIND_NONE;
}

static void rank_summaries(struct lb_summary *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct lb_row *r = s[i].first;
		if (s[i].rank_threads)
			continue; /* its group is done */
		/* the group's thread count: the largest not oversubscribed,
		 * else the smallest */
		unsigned t = 0, tmin = UINT_MAX;
		for (size_t j = i; j < n; j++) {
			const struct lb_row *q = s[j].first;
			if (!same_group(r, q))
				continue;
			if (!q->oversubscribed && q->threads > t)
				t = q->threads;
			if (q->threads < tmin)
				tmin = q->threads;
		}
		if (!t)
			t = tmin;
		for (size_t j = i; j < n; j++)
			if (same_group(r, s[j].first))
				s[j].rank_threads = t;
		/* each ranked configuration at t: 1 + how many beat it */
		for (size_t j = i; j < n; j++) {
			const struct lb_row *q = s[j].first;
			if (!same_group(r, q) || q->threads != t || is_control(q) ||
			    s[j].verdict == LB_FAIL || isnan(s[j].st[LB_M_OPS_PER_SEC].median))
				continue;
			unsigned rank = 1;
			for (size_t k = i; k < n; k++) {
				const struct lb_row *o = s[k].first;
				if (k == j || !same_group(r, o) || o->threads != t || is_control(o) ||
				    s[k].verdict == LB_FAIL)
					continue;
				double a = s[j].st[LB_M_OPS_PER_SEC].median;
				double b = s[k].st[LB_M_OPS_PER_SEC].median;
				/* a tie: the alphabetically first id first */
				rank += b > a || (b == a && strcmp(o->impl, q->impl) < 0);
			}
			/* every row of the implementation in the group */
			for (size_t k = i; k < n; k++)
				if (same_group(r, s[k].first) && strcmp(s[k].first->impl, q->impl) == 0)
					s[k].rank = rank;
		}
	}
}

static int cmp_summary(const void *x, const void *y)
{
	const struct lb_summary *sa = x, *sb = y;
	const struct lb_row *a = sa->first, *b = sb->first;
	int c;
	if ((c = strcmp(a->workload, b->workload)))
		return c;
	if ((c = (int)lb_kind_find(a->kind) - (int)lb_kind_find(b->kind)))
		return c;
	/* a sweep's settings in the order given (depth=1,2,10, not 1,10,2) */
	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if ((c = strcmp(a->param, b->param)))
		return c;
	if (a->cs_ns != b->cs_ns)
		return a->cs_ns < b->cs_ns ? -1 : 1;
	if (a->think_ns != b->think_ns)
		return a->think_ns < b->think_ns ? -1 : 1;
	if ((c = strcmp(a->pin, b->pin)))
		return c;
	/* ranked first, by rank; the unranked after them */
	unsigned ra = sa->rank ? sa->rank : UINT_MAX, rb = sb->rank ? sb->rank : UINT_MAX;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((c = strcmp(a->impl, b->impl)))
		return c;
	return (a->threads > b->threads) - (a->threads < b->threads);
}

size_t lb_summarize(const struct lb_sink *sk, const struct lb_row *rows, size_t n,
		    struct lb_summary **out)
{
	struct lb_summary *s = calloc(n ? n : 1, sizeof(*s));
	double *v = malloc((n ? n : 1) * sizeof(double));
	char *used = calloc(n ? n : 1, 1);
	size_t ns = 0;

	if (!s || !v || !used) {
		free(s);
		free(v);
		free(used);
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (used[i])
			continue;
		struct lb_summary *cur = &s[ns++];
		cur->first = &rows[i];
		cur->verdict = LB_OK;
		for (int m = 0; m < LB_M_COUNT; m++) {
			size_t k = 0;
			for (size_t j = i; j < n; j++)
				if (!used[j] && same_config(&rows[i], &rows[j]))
					v[k++] = metric(&rows[j], (enum lb_metric)m);
			lb_stat_compute(&cur->st[m], v, k);
		}
		for (unsigned x = 0; x < sk->n_extra; x++) {
			size_t k = 0;
			for (size_t j = i; j < n; j++)
				if (!used[j] && same_config(&rows[i], &rows[j]))
					v[k++] = rows[j].extra[x];
			lb_stat_compute(&cur->xst[x], v, k);
		}
		for (size_t j = i; j < n; j++) {
			if (used[j] || !same_config(&rows[i], &rows[j]))
				continue;
			used[j] = 1;
			cur->reps++;
			if (rows[j].has_lost) {
				cur->has_lost = 1;
				cur->lost_total += rows[j].lost_updates;
			}
			cur->starved_reps += rows[j].starved != 0;
			if (rows[j].verdict == LB_FAIL)
				cur->verdict = LB_FAIL;
			else if (rows[j].verdict == LB_RACY && cur->verdict == LB_OK)
				cur->verdict = LB_RACY;
		}
	}
	rank_summaries(s, ns);
	qsort(s, ns, sizeof(*s), cmp_summary);
	free(v);
	free(used);
	*out = s;
	return ns;
}

static void stat_cells(struct csv *c, const struct lb_stat *st, int prec)
{
	c_f(c, st->median, prec);
	c_f(c, st->ci_lo, prec);
	c_f(c, st->ci_hi, prec);
	c_f(c, st->min, prec);
	c_f(c, st->max, prec);
}

/* The same for a workload's own column (c_x). */
static void stat_cells_x(struct csv *c, const struct lb_stat *st)
{
	c_x(c, st->median);
	c_x(c, st->ci_lo);
	c_x(c, st->ci_hi);
	c_x(c, st->min);
	c_x(c, st->max);
}

static void stat_header(struct csv *c, const char *name)
{
	static const char *const suffix[] = { "median", "ci_lo", "ci_hi", "min", "max" };
	char buf[128];
	for (int k = 0; k < 5; k++) {
		snprintf(buf, sizeof(buf), "%s_%s", name, suffix[k]);
		c_text(c, buf);
	}
}

void lb_summary_write_csv(FILE *f, const struct lb_sink *sk, const struct lb_summary *s,
			  size_t n)
{
	static const char *const keys[] = {
		"run_id", "host", "workload", "kind", "backend", "impl", "threads", "pus", "pin", "cs_ns",
		"think_ns", "param", "oversubscribed", "reps",
	};
	struct csv c = { f, 0 };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		c_text(&c, keys[k]);
	for (int m = 0; m < LB_M_COUNT; m++)
		stat_header(&c, lb_metric_names[m]);
	for (unsigned x = 0; x < sk->n_extra; x++)
		stat_header(&c, sk->extras[x]);
	c_text(&c, "ci_level");
	c_text(&c, "ops_per_sec_cv");
	c_text(&c, "lost_updates");
	c_text(&c, "starved_reps");
	c_text(&c, "verified");
	c_text(&c, "rank");
	c_text(&c, "rank_threads");
	c_text(&c, "noise");
	c_end(&c);
	for (size_t i = 0; i < n; i++) {
		const struct lb_row *r = s[i].first;
		id_cells(&c, sk);
		c_text(&c, r->workload);
		c_text(&c, r->kind);
		c_text(&c, r->backend);
		c_text(&c, r->impl);
		c_u(&c, r->threads);
		c_u(&c, sk->pus);
		c_text(&c, r->pin);
		c_u(&c, r->cs_ns);
		c_u(&c, r->think_ns);
		c_text(&c, r->param);
		c_u(&c, (uint64_t)r->oversubscribed);
		c_u(&c, s[i].reps);
		for (int m = 0; m < LB_M_COUNT; m++)
			stat_cells(&c, &s[i].st[m], metric_prec[m]);
		for (unsigned x = 0; x < sk->n_extra; x++)
			stat_cells_x(&c, &s[i].xst[x]);
		c_f(&c, s[i].st[LB_M_OPS_PER_SEC].ci_level, 4);
		c_f(&c, s[i].st[LB_M_OPS_PER_SEC].cv, 4);
		if (s[i].has_lost)
			c_i(&c, s[i].lost_total);
		else
			c_empty(&c);
		c_u(&c, s[i].starved_reps);
		c_text(&c, lb_verdict_name(s[i].verdict));
		if (s[i].rank)
			c_u(&c, s[i].rank);
		else
			c_empty(&c);
		c_u(&c, s[i].rank_threads);
		c_text(&c, lb_noise_name(lb_summary_noise(&s[i])));
		c_end(&c);
	}
}

/* Human units: 12.3M, 456k. */
static const char *human(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* Fixed-point for the table; "-" for a value that does not apply. */
static const char *num(double v, int prec, char *buf, size_t len)
{
	if (isnan(v) || isinf(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

#define CV_WARN 0.10

enum lb_noise lb_summary_noise(const struct lb_summary *s)
{
	const struct lb_stat *ops = &s->st[LB_M_OPS_PER_SEC];
	const struct lb_stat *share = &s->st[LB_M_CPU_SHARE];
	const struct lb_stat *wait = &s->st[LB_M_CPU_WAIT];
	const struct lb_stat *probe = &s->st[LB_M_PROBE];

	if (!(ops->cv > CV_WARN))
		return LB_NOISE_NONE;
	/* Where the kernel reports run-queue waits, they decide; without it,
	 * a CPU share that moved by more than a fifth between repetitions. */
	if (s->starved_reps || (isnan(wait->median) && share->min > 0 &&
				share->min < 0.8 * share->max))
		return LB_NOISE_CPU;
	if (probe->min > 0 && probe->max / probe->min > 1.5)
		return LB_NOISE_PLACEMENT;
	return LB_NOISE_OTHER;
}

const char *lb_noise_name(enum lb_noise v)
{
	static const char *const names[LB_NOISE_COUNT] = { "", "cpu", "placement", "other" };
	return (unsigned)v < LB_NOISE_COUNT ? names[v] : "";
}

void lb_summary_write_table(FILE *f, const struct lb_summary *s, size_t n, double floor_ns)
{
	static const char *const noise_mark[LB_NOISE_COUNT] = {
		"", "  ! noisy: CPU share", "  ! noisy: placement", "  ! noisy",
	};
	char a[32], b[32], c[32], d[32];
	/* a sweep of --param or --cs lists: each kind once per setting, and
	 * the heading names it */
	int sweep = 0;
	for (size_t i = 1; i < n && !sweep; i++)
		sweep = strcmp(s[i].first->kind, s[0].first->kind) == 0 &&
			!same_group(s[i].first, s[0].first);
	for (size_t i = 0; i < n; i++) {
		const struct lb_row *r = s[i].first;
		/* a new kind (or workload, or configuration): its heading */
		if (i == 0 || !same_group(r, s[i - 1].first)) {
			char set[320] = "";
			if (i)
				fputc('\n', f);
			if (sweep)
				snprintf(set, sizeof(set), " (cs=%llu %s)", (unsigned long long)r->cs_ns,
					 r->param);
			if (is_control(r))
				fprintf(f, "%s%s: reference lines (the harness floor and the race), "
					"not ranked\n", r->kind, set);
			else
				fprintf(f, "%s%s: ranked by ops/s at %u thread%s, fastest first\n",
					r->kind, set, s[i].rank_threads, s[i].rank_threads == 1 ? "" : "s");
			fprintf(f, "%3s %-22s %4s %9s %7s %5s %8s %8s %9s %6s %7s %6s %s\n", "#",
				"impl", "thr", "ops/s", "+-CI%", "fair", "p50 ns", "p99 ns",
				"ops/cpu-s", "vcsw/s", "icsw/s", "rtt ns", "check");
		}
		const struct lb_stat *o = &s[i].st[LB_M_OPS_PER_SEC];
		double dur = s[i].st[LB_M_DURATION].median;
		/* No interval from one repetition: "-", not a perfect 0.0. */
		double half = (o->ci_hi - o->ci_lo) / 2 / o->median * 100;
		char check[64], rank[16] = "";
		if (s[i].verdict == LB_OK)
			snprintf(check, sizeof(check), "ok");
		else
			snprintf(check, sizeof(check), "%s (%lld lost)", lb_verdict_name(s[i].verdict),
				 (long long)s[i].lost_total);
		/* the rank on the implementation's first row */
		if (s[i].rank && (i == 0 || strcmp(s[i - 1].first->impl, r->impl) != 0 ||
				  !same_group(r, s[i - 1].first)))
			snprintf(rank, sizeof(rank), "%u", s[i].rank);
		char fair[16], p50[32], p99[32], rtt[32], ci[16];
		num(s[i].st[LB_M_FAIRNESS].median, 3, fair, sizeof(fair));
		num(s[i].st[LB_M_LAT_P50].median, 0, p50, sizeof(p50));
		num(s[i].st[LB_M_LAT_P99].median, 0, p99, sizeof(p99));
		num(s[i].st[LB_M_PROBE].median, 0, rtt, sizeof(rtt));
		num(half, 1, ci, sizeof(ci));
		fprintf(f, "%3s %-22s %3u%s %9s %7s %5s %8s %8s %9s %6s %7s %6s %s%s\n",
			rank, r->impl, r->threads, r->oversubscribed ? "+" : " ",
			human(o->median, a, sizeof(a)), ci, fair, p50, p99,
			human(s[i].st[LB_M_OPS_PER_CPU_S].median, b, sizeof(b)),
			human(s[i].st[LB_M_CTX_VOL].median / dur, c, sizeof(c)),
			human(s[i].st[LB_M_CTX_INVOL].median / dur, d, sizeof(d)),
			rtt, check, noise_mark[lb_summary_noise(&s[i])]);
	}
	fprintf(f, "\nthr+ = more threads than CPUs (oversubscribed).  ops/s is the median of "
		"the repetitions; +-CI%% is half its confidence interval (- with one "
		"repetition: no interval).\n");
	if (n > 0 && isfinite(s[0].st[LB_M_LAT_FLOOR].median))
		fprintf(f, "latency floor: %.0f ns of every p50/p99 figure is the timer's own "
			"cost (an empty sample)\n", s[0].st[LB_M_LAT_FLOOR].median);
	if (!isnan(floor_ns))
		fprintf(f, "harness floor (none-noop, 1 thread): %.2f ns/op\n", floor_ns);
}

/* A number for JSON, null where it does not apply (JSON has no NaN: json_pack
 * refuses one, and with one repetition, whose interval is NaN, every
 * metric used to vanish from the output); a workload's own number as an
 * integer where it is a whole number (c_x). */
static json_t *json_num(double v, int whole_as_int)
{
	if (whole_as_int && integral(v))
		return json_integer((json_int_t)v);
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *stat_json(const struct lb_stat *st, int whole_as_int)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "median", json_num(st->median, whole_as_int),
			 "ci_lo", json_num(st->ci_lo, whole_as_int),
			 "ci_hi", json_num(st->ci_hi, whole_as_int),
			 "min", json_num(st->min, whole_as_int), "max", json_num(st->max, whole_as_int));
}

/* A configuration's name, as google benchmark's run_name: workload/impl
 * and what varies, threads last. */
static json_t *run_name(const struct lb_row *r)
{
	return json_sprintf("%s/%s/param:%s/cs:%llu/think:%llu/pin:%s/threads:%u", r->workload,
			    r->impl, r->param, (unsigned long long)r->cs_ns,
			    (unsigned long long)r->think_ns, r->pin, r->threads);
}

/* What google benchmark's readers expect of an entry: time per op (ns,
 * over all threads: 1 / throughput) and items_per_second. */
static void gbench_fields(json_t *o, const struct lb_row *r, double ops_per_sec,
			  double ops_per_cpu_s, const char *run_type, unsigned reps)
{
	json_object_set_new(o, "name", run_name(r));
	json_object_set_new(o, "run_name", run_name(r));
	json_object_set_new(o, "run_type", json_string(run_type));
	json_object_set_new(o, "repetitions", json_integer(reps));
	json_object_set_new(o, "threads", json_integer(r->threads));
	json_object_set_new(o, "real_time", json_num(ops_per_sec > 0 ? 1e9 / ops_per_sec : NAN, 0));
	json_object_set_new(o, "cpu_time",
			    json_num(ops_per_cpu_s > 0 ? 1e9 / ops_per_cpu_s : NAN, 0));
	json_object_set_new(o, "time_unit", json_string("ns"));
	json_object_set_new(o, "items_per_second", json_num(ops_per_sec, 0));
}

static json_t *summary_json(const struct lb_sink *sk, const struct lb_summary *si)
{
	const struct lb_row *r = si->first;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:s, s:b, "
			      "s:i, s:s}",
		"run_id", sk->run_id, "host", sk->host, "workload", r->workload, "kind", r->kind,
		"backend", r->backend, "impl", r->impl, "threads", (int)r->threads, "pin", r->pin,
		"cs_ns", (json_int_t)r->cs_ns, "think_ns", (json_int_t)r->think_ns,
		"param", r->param, "oversubscribed", r->oversubscribed,
		"reps", (int)si->reps, "verified", lb_verdict_name(si->verdict));
	if (!o)
		return NULL;
	for (int m = 0; m < LB_M_COUNT; m++) {
		const struct lb_stat *st = &si->st[m];
		json_object_set_new(o, lb_metric_names[m],
				    isnan(st->median) ? json_null() : stat_json(st, 0));
	}
	for (unsigned x = 0; x < sk->n_extra; x++) {
		const struct lb_stat *st = &si->xst[x];
		json_object_set_new(o, sk->extras[x],
				    isnan(st->median) ? json_null() : stat_json(st, 1));
	}
	json_object_set_new(o, "lost_updates",
			    si->has_lost ? json_integer((json_int_t)si->lost_total) : json_null());
	json_object_set_new(o, "starved_reps", json_integer((json_int_t)si->starved_reps));
	json_object_set_new(o, "rank", si->rank ? json_integer((json_int_t)si->rank) : json_null());
	json_object_set_new(o, "rank_threads", json_integer((json_int_t)si->rank_threads));
	json_object_set_new(o, "noise", json_string(lb_noise_name(lb_summary_noise(si))));
	return o;
}

void lb_write_json(FILE *f, const struct lb_sink *sk, const struct lb_meta_in *m,
		   const struct lb_row *rows, size_t nrows, const struct lb_summary *s, size_t n)
{
	const struct lb_topo_info *t = lb_topo();
	json_t *root = json_object(), *ctx = json_object(), *bench = json_array();
	char date[64] = "";
	time_t started = (time_t)m->started_unix;
	struct tm tmv;
	if (gmtime_r(&started, &tmv))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tmv);

	/* context: google benchmark's fields, then ours */
	json_object_set_new(ctx, "date", json_string(date));
	json_object_set_new(ctx, "host_name", json_string(sk->host));
	json_object_set_new(ctx, "executable", json_string("lockbench"));
	json_object_set_new(ctx, "num_cpus", json_integer(t->pus));
	json_t *caches = json_array();
	static const char *const ctype[3] = { "Data", "Unified", "Unified" };
	for (int l = 0; l < 3; l++)
		if (t->cache_bytes[l])
			json_array_append_new(caches, json_pack("{s:s, s:i, s:I}", "type", ctype[l],
				"level", l + 1, "size", (json_int_t)t->cache_bytes[l]));
	json_object_set_new(ctx, "caches", caches);
	json_object_set_new(ctx, "library_build_type",
			    json_string(strcmp(LB_BUILDTYPE, "debug") == 0 ? "debug" : "release"));
	json_object_set_new(ctx, "schema_version", json_integer(LB_JSON_SCHEMA));
	json_object_set_new(ctx, "units", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
		"real_time", "ns per op, all threads together (1 / items_per_second)",
		"cpu_time", "CPU ns per op (1 / ops_per_cpu_s)",
		"items_per_second", "ops/s (a barrier's: thread-phases/s)",
		"lat_*_ns", "ns", "cpu_s", "s", "duration_s", "s"));
	json_object_set_new(ctx, "lockbench", lb_meta_object(m));
	json_object_set_new(root, "context", ctx);

	/* every repetition, in the order run */
	for (size_t i = 0; i < nrows; i++) {
		const struct lb_row *r = &rows[i];
		json_t *o = json_object();
		gbench_fields(o, r, r->ops_per_sec, r->ops_per_cpu_s, "iteration", m->repeat);
		json_object_set_new(o, "repetition_index", json_integer((json_int_t)r->rep - 1));
		json_object_set_new(o, "iterations", json_integer((json_int_t)r->ops));
		json_object_set_new(o, "workload", json_string(r->workload));
		json_object_set_new(o, "kind", json_string(r->kind));
		json_object_set_new(o, "backend", json_string(r->backend));
		json_object_set_new(o, "impl", json_string(r->impl));
		json_object_set_new(o, "rep", json_integer(r->rep));
		json_object_set_new(o, "duration_s", json_num(r->duration_s, 0));
		json_object_set_new(o, "ops_per_sec", json_num(r->ops_per_sec, 0));
		json_object_set_new(o, "fairness", json_num(r->fairness, 0));
		json_object_set_new(o, "lat_p50_ns", json_num(r->lat_p50_ns, 0));
		json_object_set_new(o, "lat_p99_ns", json_num(r->lat_p99_ns, 0));
		json_object_set_new(o, "verified", json_string(lb_verdict_name(r->verdict)));
		json_array_append_new(bench, o);
	}
	/* each configuration's medians, in summary.csv's order */
	for (size_t i = 0; i < n; i++) {
		json_t *o = summary_json(sk, &s[i]);
		if (!o)
			continue;
		gbench_fields(o, s[i].first, s[i].st[LB_M_OPS_PER_SEC].median,
			      s[i].st[LB_M_OPS_PER_CPU_S].median, "aggregate", s[i].reps);
		json_object_set_new(o, "name", json_sprintf("%s_median",
			json_string_value(json_object_get(o, "run_name"))));
		json_object_set_new(o, "aggregate_name", json_string("median"));
		json_object_set_new(o, "aggregate_unit", json_string("time"));
		json_array_append_new(bench, o);
	}
	json_object_set_new(root, "benchmarks", bench);
	json_dumpf(root, f, JSON_INDENT(2));
	fputc('\n', f);
	json_decref(root);
}
