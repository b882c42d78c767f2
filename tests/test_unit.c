/* Unit tests: list parsing, statistics, the histogram and its weighting,
 * the row reduction, CSV cells, the command line as meta.json records it,
 * the sweep's failure bookkeeping, the closing line's list of files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "lockbench.h"
#include "options.h"
#include "plan.h"
#include "sinks.h"
#include "sweep.h"

/* ---- --threads ---- */

static void threads_list_and_ranges(void **st)
{
	unsigned out[64];
	char err[256];
	(void)st;
	int n = lb_parse_threads("1,2,4-8", 2, out, 64, err, sizeof(err));
	assert_int_equal(n, 7);
	unsigned want[] = { 1, 2, 4, 5, 6, 7, 8 };
	for (int i = 0; i < n; i++)
		assert_int_equal(out[i], want[i]);
}

static void threads_words_sorted_dedup(void **st)
{
	unsigned out[64];
	char err[256];
	(void)st;
	int n = lb_parse_threads("2xpus,1,pus,2", 4, out, 64, err, sizeof(err));
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 4);
	assert_int_equal(out[3], 8);
}

static void threads_rejects(void **st)
{
	static const char *const bad[] = {
		"", "0", "4-2", "x", "1,,2", ",1", "1,", "2000", "-1", "1-", "3.5", "pus2", "1 2",
		"1-2000",
	};
	unsigned out[64];
	char err[256];
	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(lb_parse_threads(bad[i], 2, out, 64, err, sizeof(err)), -1);
		/* the message names the bad value */
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		assert_non_null(strstr(err, quoted));
	}
}

static void cpulist_parses_in_order(void **st)
{
	int out[16];
	char err[256];
	(void)st;
	int n = lb_parse_cpulist("3,0-1,7", out, 16, err, sizeof(err));
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 1);
	assert_int_equal(out[3], 7);
	assert_int_equal(lb_parse_cpulist("1,1", out, 16, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(lb_parse_cpulist("2-1", out, 16, err, sizeof(err)), -1);
	assert_int_equal(lb_parse_cpulist("a", out, 16, err, sizeof(err)), -1);
}

static void seconds_and_integers(void **st)
{
	double d;
	uint64_t u;
	(void)st;
	assert_int_equal(lb_parse_seconds("0.25", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(lb_parse_seconds("2", &d), 0);
	assert_true(d == 2.0);
	assert_int_equal(lb_parse_seconds("-1", &d), -1);
	assert_int_equal(lb_parse_seconds("1s", &d), -1);
	assert_int_equal(lb_parse_seconds("nan", &d), -1);
	assert_int_equal(lb_parse_seconds("inf", &d), -1);
	assert_int_equal(lb_parse_seconds("", &d), -1);
	assert_int_equal(lb_parse_u64("42", &u), 0);
	assert_true(u == 42);
	assert_int_equal(lb_parse_u64("-5", &u), -1);
	assert_int_equal(lb_parse_u64("+5", &u), -1);
	assert_int_equal(lb_parse_u64("99999999999999999999999", &u), -1);
}

/* ---- stats ---- */

static void median_odd_even(void **st)
{
	double a[] = { 5, 1, 3 };
	double b[] = { 4, 1, 3, 2 };
	(void)st;
	assert_true(lb_median(a, 3) == 3);
	assert_true(lb_median(b, 4) == 2.5);
}

static void stat_small_n_ci_is_range(void **st)
{
	double v[] = { 10, 30, 20 };
	struct lb_stat s;
	(void)st;
	lb_stat_compute(&s, v, 3);
	assert_true(s.median == 20);
	assert_true(s.min == 10 && s.max == 30);
	assert_true(s.ci_lo == 10 && s.ci_hi == 30);
	assert_true(fabs(s.ci_level - 0.75) < 1e-12); /* 1 - 2/2^3 */
	assert_true(fabs(s.mean - 20) < 1e-12);
	assert_true(fabs(s.cv - 0.5) < 1e-12);        /* sd 10 / mean 20 */
}

static void stat_ci_order_statistics(void **st)
{
	/* n = 20: the 95% distribution-free interval of the median is
	 * [x(6), x(15)] with coverage 1 - 2 P(B(20,1/2) <= 5) = 0.9586. */
	double v[20];
	struct lb_stat s;
	(void)st;
	for (int i = 0; i < 20; i++)
		v[i] = 20 - i; /* 20..1, unsorted on purpose */
	lb_stat_compute(&s, v, 20);
	assert_true(s.median == 10.5);
	assert_true(s.ci_lo == 6);
	assert_true(s.ci_hi == 15);
	assert_true(fabs(s.ci_level - 0.958610535) < 1e-6);
}

static void stat_ignores_nan(void **st)
{
	double v[] = { NAN, 4, NAN, 2 };
	struct lb_stat s;
	(void)st;
	lb_stat_compute(&s, v, 4);
	assert_int_equal(s.n, 2);
	assert_true(s.median == 3);
	double w[] = { NAN };
	lb_stat_compute(&s, w, 1);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.median));
}

static void jain_index(void **st)
{
	uint64_t eq[] = { 5, 5, 5, 5 };
	uint64_t one[] = { 8, 0, 0, 0 };
	uint64_t half[] = { 1, 3 };
	(void)st;
	assert_true(fabs(lb_jain(eq, 4) - 1.0) < 1e-12);
	assert_true(fabs(lb_jain(one, 4) - 0.25) < 1e-12);
	assert_true(fabs(lb_jain(half, 2) - 0.8) < 1e-12); /* 16 / (2*10) */
	uint64_t zero[] = { 0, 0 };
	assert_true(isnan(lb_jain(zero, 2)));
}

/* ---- histogram ---- */

static void hist_buckets_cover_and_bound_error(void **st)
{
	(void)st;
	/* Every value maps to a bucket whose [lo, hi] contains it, and the
	 * bucket is narrower than 2^-LB_HIST_SUB of its lower bound. */
	for (uint64_t v = 0; v < 200000; v += (v < 1000 ? 1 : 37)) {
		unsigned b = lb_hist_bucket(v);
		assert_true(b < LB_HIST_NBUCKETS);
		assert_true(lb_hist_bucket_lo(b) <= v);
		assert_true(v <= lb_hist_bucket_hi(b));
		if (v >= (1u << LB_HIST_SUB))
			assert_true((double)(lb_hist_bucket_hi(b) - lb_hist_bucket_lo(b) + 1) <=
				    (double)lb_hist_bucket_lo(b) / (1 << LB_HIST_SUB) + 1e-9);
	}
	/* Buckets are contiguous and increasing. */
	for (unsigned b = 0; b + 1 < LB_HIST_NBUCKETS; b++)
		assert_true(lb_hist_bucket_hi(b) + 1 == lb_hist_bucket_lo(b + 1));
	assert_int_equal(lb_hist_bucket(UINT64_MAX), LB_HIST_NBUCKETS - 1);
}

static void hist_percentiles(void **st)
{
	struct lb_hist *h = malloc(sizeof(*h));
	(void)st;
	lb_hist_reset(h);
	/* 1..10000: the true p50 is 5000, p99 9900, p99.9 9990. */
	for (uint64_t v = 1; v <= 10000; v++)
		lb_hist_record(h, v);
	assert_true(h->count == 10000);
	assert_true(h->max == 10000 && h->min == 1);
	const double q[] = { 0.5, 0.99, 0.999 };
	const double truth[] = { 5000, 9900, 9990 };
	for (int i = 0; i < 3; i++) {
		double got = (double)lb_hist_quantile(h, q[i]);
		assert_true(got >= truth[i]);                          /* upper bound */
		assert_true(got <= truth[i] * (1 + 1.0 / (1 << LB_HIST_SUB)));
	}
	assert_true(lb_hist_quantile(h, 1.0) == 10000);
	/* Small values are exact. */
	lb_hist_reset(h);
	for (int i = 0; i < 99; i++)
		lb_hist_record(h, 7);
	lb_hist_record(h, 20);
	assert_true(lb_hist_quantile(h, 0.5) == 7);
	assert_true(lb_hist_quantile(h, 0.999) == 20);
	/* Merge adds counts and keeps extremes. */
	struct lb_hist *g = malloc(sizeof(*g));
	lb_hist_reset(g);
	lb_hist_record(g, 1000000);
	lb_hist_merge(h, g);
	assert_true(h->count == 101 && h->max == 1000000 && h->min == 7);
	free(g);
	free(h);
}

/* ---- did you mean ---- */

static void nearest_name_for_a_typo(void **st)
{
	static const char *const c[] = { "counter", "barrier", "deadlock", "livelock", NULL,
					  "ck-fas", "ck-faa", "ck-cas", "--duration", "--threads" };
	const size_t n = sizeof(c) / sizeof(c[0]);
	(void)st;
	assert_string_equal(lb_nearest("countr", 6, c, n), "counter");     /* a deletion */
	assert_string_equal(lb_nearest("coutner", 7, c, n), "counter");    /* a swap: 2 */
	assert_string_equal(lb_nearest("COUNTER", 7, c, n), "counter");    /* case */
	assert_string_equal(lb_nearest("--durration", 11, c, n), "--duration");
	assert_string_equal(lb_nearest("--threads=4", 9, c, n), "--threads"); /* len given */
	assert_string_equal(lb_nearest("ck-cass", 7, c, n), "ck-cas");    /* nearest of three */
	assert_null(lb_nearest("ck-fa", 5, c, n));       /* ck-fas and ck-faa: a tie */
	assert_null(lb_nearest("nope", 4, c, n));        /* nothing near */
	assert_null(lb_nearest("cntr", 4, c, n));        /* 3 edits: too far for 4 letters */
	assert_null(lb_nearest("", 0, c, n));
	assert_null(lb_nearest("counter", 7, c, 0));
}

/* ---- the plan ---- */

static struct lb_opts plan_opts(const char *workload, const char *impl, const char *threads)
{
	return (struct lb_opts){ .workload = workload, .impl = impl, .threads = threads,
				 .pin = "compact", .format = "table", .duration = -1,
				 .warmup = -1, .watchdog = -1, .repeat = LB_DEFAULT_REPEAT };
}

static void plan_default_sweep(void **st)
{
	struct lb_plan p;
	char err[512];
	struct lb_opts o = plan_opts("counter", "futex-mutex", NULL);
	(void)st;
	/* powers of two below 2 x PUs, plus PUs and 2 x PUs, sorted, once each */
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_string_equal(p.threads_text, "1,2,pus,2xpus");
	assert_int_equal(p.nthr, 3);
	assert_int_equal(p.tcounts[0], 1);
	assert_int_equal(p.tcounts[1], 2);
	assert_int_equal(p.tcounts[2], 4);
	assert_int_equal(lb_plan_make(&o, 6, &p, err, sizeof(err)), 0);
	assert_string_equal(p.threads_text, "1,2,4,8,pus,2xpus");
	const unsigned want6[] = { 1, 2, 4, 6, 8, 12 };
	assert_int_equal(p.nthr, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(p.tcounts[i], want6[i]);
	assert_int_equal(p.dropped, 0);
	assert_int_equal(p.nimpl, 1);
	assert_string_equal(p.impl_text, "futex-mutex");
	assert_string_equal(p.param_text, "depth=1;data=shared"); /* the defaults */
	assert_true(p.watchdog == LB_DEFAULT_WATCHDOG_S);

	o = plan_opts("counter", "futex-mutex", "2xpus,pus");
	assert_int_equal(lb_plan_make(&o, 3, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nthr, 2);
	assert_int_equal(p.tcounts[0], 3);
	assert_int_equal(p.tcounts[1], 6);
}

/* s begins with the string literal lit. */
#define assert_prefix(s, lit) assert_int_equal(strncmp((s), lit, sizeof(lit) - 1), 0)

/* --impl selectors: a kind, a glob, lists of them with ids; only an exact
 * id chooses a hidden implementation. */
static void plan_impl_selectors(void **st)
{
	struct lb_plan p;
	char err[LB_PLAN_ERR_MAX];
	struct lb_opts o = plan_opts("counter", "mutex", "1");
	unsigned want = 0;
	(void)st;
	unsigned gone = 0;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		int mutex = lb_impl_kind(&lb_impls[j]) == LB_KIND_MUTEX &&
			    !(lb_impls[j].caps & LB_CAP_HIDDEN);
		want += mutex && !lb_impl_unavailable(&lb_impls[j]);
		gone += mutex && lb_impl_unavailable(&lb_impls[j]);
	}
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nimpl, want);
	/* what cannot run here is left out by name, for the caller to say */
	assert_int_equal(p.nleft_out, gone);
	for (unsigned i = 0; i < p.nleft_out; i++)
		assert_non_null(lb_impl_unavailable(p.left_out[i]));
	for (unsigned i = 0; i < p.nimpl; i++)
		assert_int_equal(lb_impl_kind(p.impls[i]), LB_KIND_MUTEX);
	assert_prefix(p.impl_text, "pthread-mutex,pthread-adaptive,");

	/* a kind and one of its ids: each once */
	o.impl = "mutex,ck-fas";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nimpl, want);

	want = 0;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		want += strncmp(lb_impls[j].id, "ck-", 3) == 0 &&
			lb_workload_drives(lb_workload_find("counter"), &lb_impls[j]);
	o.impl = "ck-*";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nimpl, want);
	for (unsigned i = 0; i < p.nimpl; i++)
		assert_int_equal(strncmp(p.impls[i]->id, "ck-", 3), 0);

	/* items keep their order; within one, registry order */
	o.impl = "atomic-faa,*-mutex";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_string_equal(p.impl_text, "atomic-faa,pthread-mutex,futex-mutex");
	o.impl = "none";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_string_equal(p.impl_text, "none-racy,none-noop");

	/* hidden: by exact id only */
	o.impl = "test-*";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_prefix(err, "--impl: 'test-*' matches no implementation that counter drives; "
			   "valid for counter: pthread-mutex, ");
	o.impl = "test-busted";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_string_equal(p.impl_text, "test-busted");

	o.impl = "barrier";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--impl: workload counter drives no implementation of kind "
				 "'barrier'; the kinds it drives: mutex, recursive, semaphore, rwlock, "
				 "counter, none");
	o.impl = "mutx";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_prefix(err, "--impl: unknown implementation 'mutx' (did you mean mutex?); "
			   "valid for counter: all, ");
	assert_non_null(strstr(err, "; kinds: mutex, recursive, semaphore, rwlock, counter, "
				    "none; or a glob such as 'ck-*'"));
}

/* --param key=a,b and --cs lists: every combination, --cs slowest and the
 * last key fastest; each value checked; the runs multiplied. */
static void plan_sweep_sets(void **st)
{
	struct lb_plan p;
	char err[LB_PLAN_ERR_MAX];
	struct lb_opts o = plan_opts("counter", "futex-mutex", "1,2");
	const char *params[] = { "data=local,shared", "depth=1,4" };
	(void)st;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nsets, 1);   /* no list: one set, the defaults */
	assert_string_equal(p.sweep_text, "");
	assert_int_equal(p.sets[0].cs_ns, 0);
	assert_string_equal(p.sets[0].param_text, "depth=1;data=shared");

	o.cs = "0,100";
	o.params[0] = params[0];
	o.params[1] = params[1];
	o.nparams = 2;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nsets, 8);
	assert_int_equal(p.nruns, 8 * 2 * LB_DEFAULT_REPEAT);
	assert_string_equal(p.sweep_text, "cs=0,100;depth=1,4;data=local,shared");
	static const struct { uint64_t cs; const char *text; } want[] = {
		{ 0, "depth=1;data=local" },   { 0, "depth=1;data=shared" },
		{ 0, "depth=4;data=local" },   { 0, "depth=4;data=shared" },
		{ 100, "depth=1;data=local" }, { 100, "depth=1;data=shared" },
		{ 100, "depth=4;data=local" }, { 100, "depth=4;data=shared" },
	};
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(p.sets[i].cs_ns, want[i].cs);
		assert_string_equal(p.sets[i].param_text, want[i].text);
		/* the numbers the workload gets: depth, then data's word index */
		assert_int_equal(p.sets[i].param[0], (i & 2) ? 4 : 1);
		assert_int_equal(p.sets[i].param[1], (i & 1) ? 0 : 1);
	}
	assert_string_equal(p.param_text, "depth=1;data=local");   /* sets[0] */

	o.cs = "5,x";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--cs: 'x' is not a duration in ns; give 0 to 1000000000");
	o.cs = "5,5";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--cs: '5' is given twice in '5,5'; give each value once");
	o.cs = "100,0100";   /* the same number twice */
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--cs: '0100' is given twice in '100,0100'; give each value "
				 "once");
	o.cs = "0,1";        /* 2 settings x 2 counts x 1000 reps x every counter impl */
	o.impl = "all";
	o.repeat = 1000;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_prefix(err, "the plan has ");
	assert_non_null(strstr(err, "; at most 100000 in one sweep"));
	o.impl = "futex-mutex";
	o.repeat = LB_DEFAULT_REPEAT;
	o.cs = "007";        /* a number's text is its value */
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.sets[0].cs_ns, 7);
	o.cs = NULL;
	params[1] = "depth=1,0";
	o.params[1] = params[1];
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--param depth: '0' is not a nesting depth; give 1 to 1000");
	params[1] = "depth=1,2,3,4,5,6,7,8,9";
	o.params[1] = params[1];
	o.cs = "0,1,2,3";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--param and --cs: more than 64 combinations in one sweep; give "
				 "fewer values");
}

/* A count the workload refuses: left out of the default sweep (and said
 * why), an error when asked for. */
static void plan_refused_thread_counts(void **st)
{
	struct lb_plan p;
	char err[512];
	struct lb_opts o = plan_opts("handoff", "futex-event", NULL);
	(void)st;
	assert_int_equal(lb_plan_make(&o, 3, &p, err, sizeof(err)), 0);
	/* 1, 2, 4, 3, 6: 1 and 3 are odd */
	assert_int_equal(p.nthr, 3);
	assert_int_equal(p.tcounts[0], 2);
	assert_int_equal(p.tcounts[1], 4);
	assert_int_equal(p.tcounts[2], 6);
	assert_int_equal(p.dropped, 2);
	assert_non_null(strstr(p.dropped_why, "handoff needs an even number of threads"));
	o.threads = "2,3";
	assert_int_equal(lb_plan_make(&o, 3, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "handoff needs an even number of threads (pairs); got 3: give "
				 "2, 4, 6, ...");
	o.threads = "1";
	assert_int_equal(lb_plan_make(&o, 3, &p, err, sizeof(err)), -1);
}

/* auto durations: the sweep's windows and warm-ups share the budget,
 * each window 0.1-2 s and each warm-up 0.02-0.5 s. */
static void plan_time_budget(void **st)
{
	struct lb_plan p;
	char err[512];
	struct lb_opts o = plan_opts("counter", "all", NULL);
	(void)st;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_true(p.nimpl > 20);
	assert_int_equal(p.nruns, (size_t)p.nimpl * 3 * 3);
	/* the budget, unless every run at its shortest (0.1 s + 0.02 s) is
	 * already longer: then exactly that */
	assert_true(fabs(lb_plan_seconds(&p) -
			 fmax(LB_AUTO_BUDGET_S, (double)p.nruns * (0.1 + 0.02))) < 1e-9);
	assert_true(p.duration >= 0.1 && p.warmup >= 0.02);
	/* few runs: both clamped at their longest */
	o = plan_opts("counter", "futex-mutex", "1");
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nruns, 3);
	assert_true(p.duration == 2.0 && p.warmup == 0.5);
	assert_true(lb_plan_seconds(&p) == 7.5);
	/* given: kept */
	o.duration = 0.25;
	o.warmup = 0;
	o.repeat = 5;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_true(p.duration == 0.25 && p.warmup == 0 && lb_plan_seconds(&p) == 1.25);
}

static void plan_usage_errors(void **st)
{
	struct lb_plan p;
	char err[512];
	struct lb_opts o = plan_opts(NULL, "all", NULL);
	(void)st;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--workload is required; valid: counter, barrier,"));
	o.workload = "countr";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown workload 'countr' (did you mean counter?); valid:"));
	o = plan_opts("barrier", "futex-mutex", NULL);
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "workload barrier does not drive 'futex-mutex' (kind mutex)"));
	o = plan_opts("counter", "futex,futex", "1");
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0); /* a backend twice */
	o.impl = "urcu";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "workload counter drives nothing from backend 'urcu'"));
	o.impl = "futex-mutex,,ck-fas";
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	o = plan_opts("counter", "futex-mutex", "1");
	const char *twice[] = { "depth=2", "depth=3" };
	memcpy(o.params, twice, sizeof(twice));
	o.nparams = 2;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "--param: 'depth' is given twice ('depth=2' and 'depth=3'); "
				 "give each parameter once");
	o.nparams = 1;
	assert_int_equal(lb_plan_make(&o, 2, &p, err, sizeof(err)), 0);
	assert_string_equal(p.param_text, "depth=2;data=shared");
}

/* ---- CSV ---- */

static char *csv_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	lb_csv_field(f, s);
	fclose(f);
	return buf;
}

static void csv_quoting(void **st)
{
	(void)st;
	char *a = csv_of("pthread-mutex");
	assert_string_equal(a, "pthread-mutex");
	char *b = csv_of("a,b");
	assert_string_equal(b, "\"a,b\"");
	char *c = csv_of("say \"hi\"");
	assert_string_equal(c, "\"say \"\"hi\"\"\"");
	char *d = csv_of("two\nlines");
	assert_string_equal(d, "\"two\nlines\"");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* Fields of one CSV line (RFC 4180: a separator inside quotes is data). */
static size_t csv_fields(const char *s)
{
	size_t n = 1;
	int q = 0;
	for (; *s && (q || *s != '\n'); s++) {
		if (*s == '"')
			q = !q;
		else if (*s == ',' && !q)
			n++;
	}
	return n;
}

static void csv_results_row_matches_header(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lb_row r;
	(void)st;
	memset(&r, 0, sizeof(r));
	r.workload = "counter";
	r.kind = "mutex";
	r.backend = "futex";
	r.impl = "futex-mutex";
	r.threads = 4;
	r.pin = "0,1"; /* a CPU list: must be quoted, or the row has a field too many */
	snprintf(r.cpus, sizeof(r.cpus), "0;1;0;1");
	r.rep = 2;
	r.duration_s = 0.5;
	r.ops = 1000;
	r.ops_per_sec = 2000;
	r.fairness = 0.5;
	r.lat_p50_ns = r.lat_p99_ns = r.lat_p999_ns = r.lat_max_ns = NAN; /* no samples */
	r.cpu_s = 1;
	r.ops_per_cpu_s = 1000;
	r.probe_rtt_ns = NAN;
	r.probe_rtt_after_ns = 63;
	r.has_lost = 0; /* does not apply */
	r.verdict = LB_OK;
	r.oversubscribed = 1;
	r.lat_floor_ns = 20;
	r.cpu_share = 0.5;
	r.cpu_wait_share = NAN; /* no schedstat: starved does not apply either */
	r.mem = "node:0";
	for (int ev = 0; ev < LB_NEV; ev++)
		r.ev[ev] = NAN; /* not counted */
	r.ev[LB_EV_CTX] = 7;
	snprintf(r.mem_nodes, sizeof(r.mem_nodes), "0;1");
	struct lb_sink sk = lb_sink_make("run1", "host1", "Some CPU", 2, NULL);
	lb_results_header(f, &sk);
	lb_results_row(f, &sk, &r);
	fclose(f);

	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	*nl = '\0';
	const char *row = nl + 1;
	assert_int_equal(csv_fields(buf), csv_fields(row));
	assert_non_null(strstr(buf, "run_id,host,cpu_model,pus,workload,kind,backend,impl,threads"));
	assert_non_null(strstr(buf, "probe_rtt_ns,lost_updates,verified"));
	assert_non_null(strstr(buf, ",lat_floor_ns,cpu_share,cpu_wait_share,starved,mem,mem_nodes,"
				  "cycles_per_op,instructions_per_op,cache_misses_per_op,"
				  "context_switches,cpu_migrations,page_faults,c2c_per_op"));
	/* Not-applicable values are empty cells, never 0 or -1: the latencies
	 * (NaN), the probe (NaN), lost_updates (has_lost == 0), the wait share
	 * and starved (no schedstat). */
	assert_string_equal(row, "run1,host1,Some CPU,2,counter,mutex,futex,futex-mutex,4,"
				 "\"0,1\",0;1;0;1,0,0,,2,0.500000,1000,2000.0,0.5000,0,0,,,,,"
				 "1.000000,0,0,,,ok,1000.0,0,63.0,1,20.0,0.5000,,,node:0,0;1,,,,7,,,\n");
	/* A duplicated item is a negative loss, printed signed. */
	free(buf);
	f = open_memstream(&buf, &len);
	r.has_lost = 1;
	r.lost_updates = -1;
	lb_results_row(f, &sk, &r);
	fclose(f);
	assert_non_null(strstr(buf, ",0,0,,-1,ok,1000.0,"));
	free(buf);
}

/* The workload's own columns: whole numbers (counts) as integers, others
 * with 4 decimals; every table opens with run_id and host. */
static void csv_summary_and_threads_tables(void **st)
{
	static const char *const extras[] = { "capacity", "success_ratio", NULL };
	struct lb_sink sk = lb_sink_make("run1", "host1", "Some CPU", 2, extras);
	struct lb_row rows[2];
	struct lb_thread_row t;
	struct lb_summary *sum;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	(void)st;
	memset(rows, 0, sizeof(rows));
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 2; i++) {
		rows[i].workload = "prodcons";
		rows[i].kind = "queue";
		rows[i].backend = "ck";
		rows[i].impl = "ck-ring-mpmc";
		rows[i].pin = "compact";
		rows[i].threads = 2;
		rows[i].rep = (unsigned)i + 1;
		rows[i].ops_per_sec = 1000;
		rows[i].extra[0] = 64;
		rows[i].extra[1] = i ? 0.5 : 0.25;
	}
	assert_int_equal(lb_summarize(&sk, rows, 2, &sum), 1);
	f = open_memstream(&buf, &len);
	lb_summary_write_csv(f, &sk, sum, 1);
	fclose(f);
	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_int_equal(strncmp(buf, "run_id,host,workload,kind,", 26), 0);
	assert_int_equal(csv_fields(buf), csv_fields(nl + 1));
	assert_int_equal(strncmp(nl + 1, "run1,host1,prodcons,queue,", 26), 0);
	/* capacity_median..max, then success_ratio's: its median is 0.375 */
	assert_non_null(strstr(nl + 1, ",64,64,64,64,64,0.3750,"));
	free(buf);
	free(sum);

	buf = NULL;
	f = open_memstream(&buf, &len);
	lb_results_row(f, &sk, &rows[0]);
	fclose(f);
	assert_non_null(strstr(buf, ",64,0.2500\n"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	lb_threads_header(f, &sk);
	lb_threads_row(f, &sk, &rows[0], &t);
	fclose(f);
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_int_equal(strncmp(buf, "run_id,host,workload,impl,", 26), 0);
	assert_int_equal(csv_fields(buf), csv_fields(nl + 1));
	assert_int_equal(strncmp(nl + 1, "run1,host1,prodcons,ck-ring-mpmc,", 33), 0);
	free(buf);
}

/* ---- latency weighting ---- */

/* The sample of op n stands for the ops up to the next sampled one. */
static void sample_weight_spans_to_next_sample(void **st)
{
	(void)st;
	assert_true(lb_sample_weight(0, 0) == 1);      /* every op sampled */
	assert_true(lb_sample_weight(0, 1023) == 1024);
	assert_true(lb_sample_weight(2048, 1023) == 1024);
	/* The period grew from 1 to 1024 at op 1000: the next sample is op
	 * 1024, so this one stands for ops 1000..1023. */
	assert_true(lb_sample_weight(1000, 1023) == 24);
	assert_true(lb_sample_weight(5, 3) == 3);       /* 5, 6, 7; next is 8 */
}

/* A percentile is the upper bound of its bucket: within 1/32 above the truth. */
static int near(double got, double truth)
{
	return got >= truth && got <= truth * (1 + 1.0 / (1 << LB_HIST_SUB));
}

static struct lb_worker *fake_workers(unsigned n)
{
	struct lb_worker *ws = calloc(n, sizeof(*ws));
	for (unsigned i = 0; i < n; i++) {
		ws[i].hist = malloc(sizeof(*ws[i].hist));
		lb_hist_reset(ws[i].hist);
		ws[i].cpu = (int)i;
		ws[i].cpu_at_end = (int)i;
	}
	return ws;
}

static void free_workers(struct lb_worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(ws[i].hist);
	free(ws);
}

/* Two threads, different sampling periods, known distributions: a fast
 * thread (10240 ops of 100 ns, timed 1 in 1024) and a starved one (100 ops
 * of 10000 ns, every op timed).  Over all 10340 ops the true p50 and p99
 * are 100 ns (10240/10340 = 99.03% of ops) and p99.9 is 10000 ns.  Merged
 * unweighted, the 100 slow samples outnumber the 10 fast ones and p50 lands
 * on the starved thread's wait. */
static void weighted_merge_gives_true_percentiles(void **st)
{
	struct lb_worker *ws = fake_workers(2);
	struct lb_row row;
	struct lb_thread_row tr[2];
	(void)st;
	for (int i = 0; i < 10; i++)
		lb_hist_record_w(ws[0].hist, 100, 1024);
	ws[0].ops_at_stop = 10240;
	for (int i = 0; i < 100; i++)
		lb_hist_record_w(ws[1].hist, 10000, 1);
	ws[1].ops_at_stop = 100;
	memset(&row, 0, sizeof(row));
	lb_rows_fill(ws, 2, 1.0, 2, &row, tr);
	/* thread 0 is in the row: the fast ops decide p50 and p99 */
	assert_true(near(row.lat_p50_ns, 100));
	assert_true(near(row.lat_p99_ns, 100));
	/* p99.9 is its own percentile, not p99 */
	assert_true(near(row.lat_p999_ns, 10000));
	assert_true(row.lat_max_ns == 10000);
	/* lat_samples counts timer samples: the sum over threads */
	assert_true(row.lat_samples == 110);
	assert_true(tr[0].lat_samples == 10 && tr[1].lat_samples == 100);
	assert_true(near(tr[0].lat_p50_ns, 100) && near(tr[1].lat_p50_ns, 10000));
	assert_true(row.ops == 10340);
	assert_true(row.thread_ops_min == 100 && row.thread_ops_max == 10240);
	free_workers(ws, 2);
}

/* The row is every thread's, thread 0 included: a slow thread 0 alone
 * decides the max and shows in p99.9. */
static void rows_fill_counts_every_thread(void **st)
{
	struct lb_worker *ws = fake_workers(3);
	struct lb_row row;
	struct lb_thread_row tr[3];
	(void)st;
	for (unsigned t = 0; t < 3; t++) {
		for (int i = 0; i < 1000; i++)
			lb_hist_record_w(ws[t].hist, t == 0 ? 50000 : 200, 1);
		ws[t].ops_at_measure = 10;
		ws[t].ops_at_stop = 1010;
		ws[t].cpu_ns_stop = 1000000000; /* 1 s of CPU each */
		/* each saw the whole 2 s window but thread 2, which noticed
		 * its opening 1 s late: the span is still 2 s */
		ws[t].ns_measure = t == 2 ? 1000000000 : 0;
		ws[t].ns_stop = 2000000000;
	}
	memset(&row, 0, sizeof(row));
	lb_rows_fill(ws, 3, 2.0, 2, &row, tr);
	assert_true(row.lat_max_ns == 50000);
	assert_true(near(row.lat_p50_ns, 200));
	assert_true(near(row.lat_p99_ns, 50000)); /* a third of all ops took 50 us */
	assert_true(row.lat_samples == 3000);
	assert_true(row.ops == 3000);
	assert_true(fabs(row.ops_per_sec - 1500) < 1e-9);
	assert_true(fabs(row.cpu_s - 3) < 1e-9);
	/* 3 CPU-seconds over a 2 s window on 2 PUs: 75% of the CPUs it could use */
	assert_true(fabs(row.cpu_share - 0.75) < 1e-9);
	assert_true(isnan(row.cpu_wait_share) && !row.starved); /* no schedstat here */
	free_workers(ws, 3);
}

/* Oversubscribed threads wait by design; only waits beyond that starve. */
static void rows_fill_flags_starved_threads(void **st)
{
	struct lb_worker *ws = fake_workers(4);
	struct lb_row row;
	struct lb_thread_row tr[4];
	(void)st;
	for (unsigned t = 0; t < 4; t++) {
		ws[t].sched_ok = 1;
		ws[t].wait_ns_stop = 500000000; /* each waited half of a 1 s window */
		ws[t].ns_stop = 1000000000;
	}
	lb_rows_fill(ws, 4, 1.0, 2, &row, tr); /* 4 threads on 2 PUs: expected */
	assert_true(fabs(row.cpu_wait_share - 0.5) < 1e-9);
	assert_false(row.starved);
	lb_rows_fill(ws, 2, 1.0, 2, &row, tr); /* 2 threads on 2 PUs: starved */
	assert_true(row.starved);
	free_workers(ws, 4);
}

/* One repetition is no interval: nothing, rather than a zero-width one. */
static void stat_one_value_has_no_interval(void **st)
{
	double v[] = { 42 };
	struct lb_stat s;
	(void)st;
	lb_stat_compute(&s, v, 1);
	assert_true(s.median == 42 && s.min == 42 && s.max == 42);
	assert_true(isnan(s.ci_lo) && isnan(s.ci_hi) && isnan(s.ci_level) && isnan(s.cv));
}

/* ---- the workloads' judges, fed synthetic worker data ----
 * Negative controls: each check must fail a loss of one, an over-count of
 * one, one duplicate, uneven phases; and pass the exact case. */

static struct lb_check judged(void)
{
	struct lb_check c;
	memset(&c, 0, sizeof(c));
	c.verdict = (enum lb_verdict)-1;
	return c;
}

static void judge_count_exact_loss_and_overcount(void **st)
{
	struct lb_check c;
	(void)st;
	c = judged();
	lb_judge_count(&c, 1000, 1000, false, "increments");
	assert_int_equal(c.verdict, LB_OK);
	assert_true(c.has_lost && c.lost_updates == 0);
	c = judged();
	lb_judge_count(&c, 1000, 999, false, "increments"); /* one lost */
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == 1);
	assert_non_null(strstr(c.msg, "counter is 999 but the threads did 1000 increments (1 lost)"));
	c = judged();
	lb_judge_count(&c, 1000, 1001, false, "increments"); /* one too many */
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == -1);
	assert_non_null(strstr(c.msg, "(1 too many"));
	c = judged();
	lb_judge_count(&c, 1000, 990, true, "increments"); /* none-racy: expected */
	assert_int_equal(c.verdict, LB_RACY);
	c = judged();
	lb_judge_count(&c, 1000, 1000, true, "increments");
	assert_int_equal(c.verdict, LB_OK);
}

static void judge_recursive(void **st)
{
	struct lb_check c = judged();
	(void)st;
	lb_judge_recursive(&c, 10, 10, 0, 0, 3);
	assert_int_equal(c.verdict, LB_OK);
	c = judged();
	lb_judge_recursive(&c, 10, 10, 1, 0, 3);
	assert_int_equal(c.verdict, LB_FAIL);
	c = judged();
	lb_judge_recursive(&c, 10, 10, 0, 1, 3);
	assert_int_equal(c.verdict, LB_FAIL);
	c = judged();
	lb_judge_recursive(&c, 10, 11, 0, 0, 3);
	assert_int_equal(c.verdict, LB_FAIL);
}

static void judge_barrier_uneven_or_early(void **st)
{
	const uint64_t even[] = { 500, 500, 500, 500 }, uneven[] = { 500, 500, 499, 500 };
	struct lb_check c = judged();
	(void)st;
	lb_judge_barrier(&c, 0, even, 4);
	assert_int_equal(c.verdict, LB_OK);
	assert_true(c.extra[0] == 500);
	c = judged();
	lb_judge_barrier(&c, 0, uneven, 4);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_non_null(strstr(c.msg, "thread 2: 499"));
	c = judged();
	lb_judge_barrier(&c, 1, even, 4); /* one thread through early */
	assert_int_equal(c.verdict, LB_FAIL);
}

static void judge_trylock_free_lock_must_yield(void **st)
{
	struct lb_try_evidence e = { .nthreads = 1, .successes = 100, .attempts = 100,
				     .observed = 100, .free_try_ok = true };
	struct lb_check c = judged();
	(void)st;
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_OK);
	/* An always-failing trylock: 0 successes = 0 increments, yet wrong. */
	e = (struct lb_try_evidence){ .nthreads = 1, .attempts = 100, .free_try_ok = false };
	c = judged();
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	/* Alone, one failed try on the free lock is one too many. */
	e = (struct lb_try_evidence){ .nthreads = 1, .successes = 99, .attempts = 100,
				      .observed = 99, .free_try_ok = true };
	c = judged();
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	/* With others, failures are contention; the free lock after the run is not. */
	e = (struct lb_try_evidence){ .nthreads = 2, .successes = 60, .attempts = 100,
				      .observed = 60, .free_try_ok = true };
	c = judged();
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_OK);
	e.free_try_ok = false;
	c = judged();
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	e = (struct lb_try_evidence){ .nthreads = 2, .successes = 60, .attempts = 100,
				      .observed = 59, .free_try_ok = true };
	c = judged();
	lb_judge_trylock(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == 1);
}

/* Producer p pushes p << 40 | i for i = 1..pushed[p]; consumer c pops
 * producer p's items i with i % C == c, in order. */
struct pc_fake {
	uint64_t pushed[2];
	uint64_t from[2][2];
	struct lb_pc_consumer cons[2];
};

static void pc_fake_fill(struct pc_fake *f)
{
	memset(f, 0, sizeof(*f));
	f->pushed[0] = 1000;
	f->pushed[1] = 777;
	for (unsigned p = 0; p < 2; p++)
		for (uint64_t i = 1; i <= f->pushed[p]; i++) {
			uint64_t item = (uint64_t)p << LB_PC_SEQ_BITS | i;
			struct lb_pc_consumer *c = &f->cons[i % 2];
			c->items++;
			c->sum += item;
			c->xor_ ^= item;
			f->from[i % 2][p]++;
		}
	f->cons[0].from = f->from[0];
	f->cons[1].from = f->from[1];
}

static void judge_prodcons_duplicate_loss_alien_order(void **st)
{
	struct pc_fake f;
	struct lb_check c;
	(void)st;
	pc_fake_fill(&f);
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_OK);
	assert_true(c.lost_updates == 0);

	/* One duplicate: consumer 1 popped producer 0's item 5 twice. */
	pc_fake_fill(&f);
	uint64_t dup = (uint64_t)0 << LB_PC_SEQ_BITS | 5;
	f.cons[1].items++;
	f.cons[1].sum += dup;
	f.cons[1].xor_ ^= dup;
	f.from[1][0]++;
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == -1);
	assert_non_null(strstr(c.msg, "1 popped twice"));

	/* The same duplicate, hidden from the per-producer counts (a check
	 * that ignored them must still see the sums). */
	pc_fake_fill(&f);
	f.cons[1].items++;
	f.cons[1].sum += dup;
	f.cons[1].xor_ ^= dup;
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_FAIL);

	/* One lost: producer 1's last item never popped. */
	pc_fake_fill(&f);
	uint64_t last = (uint64_t)1 << LB_PC_SEQ_BITS | 777;
	f.cons[1].items--;
	f.cons[1].sum -= last;
	f.cons[1].xor_ ^= last;
	f.from[1][1]--;
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == 1);

	/* An item no producer made. */
	pc_fake_fill(&f);
	f.cons[0].alien = 1;
	f.cons[0].alien_item = 0xdead;
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_FAIL);

	/* FIFO order broken. */
	pc_fake_fill(&f);
	f.cons[0].order_bad = 1;
	f.cons[0].bad_item = 4;
	f.cons[0].bad_prev = 6;
	c = judged();
	lb_judge_prodcons(&c, 2, 2, f.pushed, f.cons);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_non_null(strstr(c.msg, "FIFO order broken"));
}

static void judge_pool(void **st)
{
	struct lb_check c = judged();
	(void)st;
	lb_judge_pool(&c, 3, 3, 0, 3, 4);
	assert_int_equal(c.verdict, LB_OK);
	c = judged();
	lb_judge_pool(&c, 4, 3, 0, 3, 4); /* one holder too many */
	assert_int_equal(c.verdict, LB_FAIL);
	c = judged();
	lb_judge_pool(&c, 3, 3, 0, 2, 4); /* a permit lost */
	assert_int_equal(c.verdict, LB_FAIL);
	c = judged();
	lb_judge_pool(&c, 3, 3, 0, 4, 4); /* a permit gained */
	assert_int_equal(c.verdict, LB_FAIL);
	c = judged();
	lb_judge_pool(&c, 3, 3, 1, 3, 4); /* a holder never left */
	assert_int_equal(c.verdict, LB_FAIL);
}

static void judge_handoff(void **st)
{
	struct lb_handoff_pair p[2] = {
		{ .even_ops = 100, .odd_ops = 100, .seq = 200 },
		{ .even_ops = 50, .odd_ops = 50, .seq = 101 },
	};
	struct lb_check c = judged();
	(void)st;
	lb_judge_handoff(&c, p, 2);
	assert_int_equal(c.verdict, LB_OK);
	p[1].odd_ops = 49;
	c = judged();
	lb_judge_handoff(&c, p, 2);
	assert_int_equal(c.verdict, LB_FAIL);
	p[1].odd_ops = 50;
	p[1].seq = 102; /* one hand-off too many */
	c = judged();
	lb_judge_handoff(&c, p, 2);
	assert_int_equal(c.verdict, LB_FAIL);
	p[1].seq = 100;
	p[0].odd_bad = 1; /* a wake-up without a hand-off */
	c = judged();
	lb_judge_handoff(&c, p, 2);
	assert_int_equal(c.verdict, LB_FAIL);
}

static void judge_broadcast(void **st)
{
	uint64_t wakes[3] = { 10, 11, 10 }, bad[3] = { 0, 0, 0 };
	struct lb_bc_evidence e = { .waiters = 3, .rounds = 10, .wakes = wakes, .bad = bad };
	struct lb_check c = judged();
	(void)st;
	lb_judge_broadcast(&c, &e);
	assert_int_equal(c.verdict, LB_OK);
	wakes[2] = 9; /* a waiter missed a round */
	c = judged();
	lb_judge_broadcast(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	wakes[2] = 10;
	bad[0] = 1;
	c = judged();
	lb_judge_broadcast(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	bad[0] = 0;
	e.setter_early = 1;
	c = judged();
	lb_judge_broadcast(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
}

static void judge_readmostly(void **st)
{
	struct lb_rm_evidence e = { .writes = 500, .version = 500 };
	struct lb_check c = judged();
	(void)st;
	lb_judge_readmostly(&c, &e);
	assert_int_equal(c.verdict, LB_OK);
	e.version = 499; /* one write lost */
	c = judged();
	lb_judge_readmostly(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == 1);
	e.version = 501; /* one too many */
	c = judged();
	lb_judge_readmostly(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	assert_true(c.lost_updates == -1);
	e.version = 500;
	e.torn = 1;
	c = judged();
	lb_judge_readmostly(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
	e.torn = 0;
	e.final_torn = true;
	c = judged();
	lb_judge_readmostly(&c, &e);
	assert_int_equal(c.verdict, LB_FAIL);
}

/* The noise line names the likeliest cause: the CPUs, the placement, or
 * neither; a steady configuration is not noisy at all. */
/* Ranked within a kind at its largest thread count that is not
 * oversubscribed; a failed check and the controls are not ranked; kinds
 * in registry order, each implementation's rows together. */
static void summary_ranks(void **st)
{
	/* impl, kind, threads, ops/s, verdict */
	static const struct { const char *impl, *kind; unsigned thr; double ops; int fail; } in[] = {
		{ "none-noop", "none", 2, 9e9, 0 },     { "ck-fas", "mutex", 1, 300, 0 },
		{ "ck-fas", "mutex", 2, 100, 0 },       { "ck-fas", "mutex", 4, 900, 0 },
		{ "futex-mutex", "mutex", 2, 200, 0 },  { "futex-mutex", "mutex", 4, 50, 0 },
		{ "test-busted", "mutex", 2, 999, 1 },  { "atomic-faa", "counter", 2, 5, 0 },
		{ "pthread-mutex", "mutex", 2, 150, 0 },
	};
	enum { N = sizeof(in) / sizeof(in[0]) };
	struct lb_row rows[N];
	struct lb_summary *sum;
	struct lb_sink sk = lb_sink_make("r", "h", "c", 2, NULL);
	(void)st;
	memset(rows, 0, sizeof(rows));
	for (unsigned i = 0; i < N; i++) {
		rows[i].workload = "counter";
		rows[i].kind = in[i].kind;
		rows[i].impl = in[i].impl;
		rows[i].pin = "compact";
		rows[i].threads = in[i].thr;
		rows[i].oversubscribed = in[i].thr > 2;
		rows[i].rep = 1;
		rows[i].ops_per_sec = in[i].ops;
		rows[i].verdict = in[i].fail ? LB_FAIL : LB_OK;
	}
	assert_int_equal(lb_summarize(&sk, rows, N, &sum), N);
	/* mutex (by ops/s at 2 threads: 200, 150, 100; the failed one last),
	 * then counter, then none */
	static const struct { const char *impl; unsigned thr, rank; } want[] = {
		{ "futex-mutex", 2, 1 }, { "futex-mutex", 4, 1 }, { "pthread-mutex", 2, 2 },
		{ "ck-fas", 1, 3 },      { "ck-fas", 2, 3 },      { "ck-fas", 4, 3 },
		{ "test-busted", 2, 0 }, { "atomic-faa", 2, 1 },  { "none-noop", 2, 0 },
	};
	for (unsigned i = 0; i < N; i++) {
		assert_string_equal(sum[i].first->impl, want[i].impl);
		assert_int_equal(sum[i].first->threads, want[i].thr);
		assert_int_equal(sum[i].rank, want[i].rank);
		assert_int_equal(sum[i].rank_threads, 2);
	}
	free(sum);
}

static void noise_cause(void **st)
{
	struct lb_row rows[3];
	const double ops[3] = { 100e6, 18e6, 110e6 }; /* one repetition collapsed */
	struct lb_summary *sum;
	struct lb_sink sk = lb_sink_make("r", "h", "c", 2, NULL);
	(void)st;
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 3; i++) {
		rows[i].workload = "counter";
		rows[i].kind = "counter";
		rows[i].impl = "atomic-faa";
		rows[i].pin = "compact";
		rows[i].threads = 2;
		rows[i].rep = (unsigned)i + 1;
		rows[i].ops_per_sec = ops[i];
		rows[i].probe_rtt_ns = 476;
		rows[i].cpu_share = 1.0;
		rows[i].cpu_wait_share = 0.0;
	}
	/* the case: the CPU share fell in the slow repetition */
	rows[1].cpu_share = 0.05;
	rows[1].cpu_wait_share = 0.9;
	rows[1].starved = 1;
	assert_int_equal(lb_summarize(&sk, rows, 3, &sum), 1);
	assert_int_equal(lb_summary_noise(&sum[0]), LB_NOISE_CPU);
	free(sum);
	/* the threads had their CPUs, the probe moved: placement */
	rows[1].cpu_share = 1.0;
	rows[1].cpu_wait_share = 0.0;
	rows[1].starved = 0;
	rows[1].probe_rtt_ns = 27;
	lb_summarize(&sk, rows, 3, &sum);
	assert_int_equal(lb_summary_noise(&sum[0]), LB_NOISE_PLACEMENT);
	free(sum);
	/* neither moved */
	rows[1].probe_rtt_ns = 476;
	lb_summarize(&sk, rows, 3, &sum);
	assert_int_equal(lb_summary_noise(&sum[0]), LB_NOISE_OTHER);
	free(sum);
	/* steady: not noisy */
	rows[1].ops_per_sec = 104e6;
	lb_summarize(&sk, rows, 3, &sum);
	assert_int_equal(lb_summary_noise(&sum[0]), LB_NOISE_NONE);
	free(sum);
}

/* ---- the command line as meta.json records it ---- */

static void shell_word_quotes_what_needs_it(void **st)
{
	static const struct { const char *in, *out; } c[] = {
		{ "--workload", "--workload" },
		{ "0,2,4-7", "0,2,4-7" },
		{ "/tmp/a_b/run.1:x=y@z%+", "/tmp/a_b/run.1:x=y@z%+" },
		{ "", "''" },                     /* an empty argument stays one */
		{ "note=a b", "'note=a b'" },
		{ "$HOME", "'$HOME'" },
		{ "a;rm -rf x", "'a;rm -rf x'" },
		{ "it's", "'it'\\''s'" },         /* 'it'\''s' */
		{ "'", "''\\'''" },
		{ "tab\there", "'tab\there'" },
	};
	char buf[64];
	(void)st;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf[0] = '\0';
		lb_shell_word(c[i].in, buf, sizeof(buf));
		assert_string_equal(buf, c[i].out);
	}
	/* it appends, and a full buffer truncates but stays a string */
	snprintf(buf, sizeof(buf), "x ");
	lb_shell_word("y z", buf, sizeof(buf));
	assert_string_equal(buf, "x 'y z'");
	char small[5] = "";
	lb_shell_word("abcdefgh", small, sizeof(small));
	assert_string_equal(small, "abcd");
	small[0] = '\0';
	lb_shell_word("a b c d", small, sizeof(small));
	assert_string_equal(small, "'a b");
}

static void command_line_as_typed(void **st)
{
	char *argv[] = { "build/lockbench", "--param", "note=a,b c", "--out", "it's", NULL };
	char buf[256];
	(void)st;
	assert_int_equal(setenv("LB_INVOKED_AS", "./bench", 1), 0);
	lb_command_line(5, argv, buf, sizeof(buf));
	assert_string_equal(buf, "./bench --param 'note=a,b c' --out 'it'\\''s'");
	assert_int_equal(setenv("LB_INVOKED_AS", "", 1), 0); /* empty: argv[0] */
	lb_command_line(2, argv, buf, sizeof(buf));
	assert_string_equal(buf, "build/lockbench --param");
	assert_int_equal(unsetenv("LB_INVOKED_AS"), 0);
	lb_command_line(1, argv, buf, sizeof(buf));
	assert_string_equal(buf, "build/lockbench");
}

/* ---- the sweep's failure bookkeeping ---- */

static void sweep_keeps_failures_and_the_first_diagnosis(void **st)
{
	struct lb_sweep *sw = calloc(1, sizeof(*sw));
	struct lb_row r;
	char msg[64];
	(void)st;
	assert_non_null(sw);
	memset(&r, 0, sizeof(r));
	r.workload = "counter";
	r.impl = "test-busted";
	r.threads = 2;
	r.rep = 1;
	lb_sweep_note_failure(sw, &r, "counter is 5 but the threads did 7 increments");
	assert_int_equal(sw->nfailures, 1);
	assert_string_equal(sw->failures[0].impl, "test-busted");
	assert_int_equal(sw->failures[0].threads, 2);
	assert_int_equal(sw->failures[0].rep, 1);
	assert_string_equal(sw->failures[0].msg, "counter is 5 but the threads did 7 increments");
	assert_int_equal(sw->diag.kind, LB_DIAG_CHECK);
	assert_string_equal(sw->diag.summary, "CHECK FAILED: counter/test-busted threads=2 rep 1: "
			    "counter is 5 but the threads did 7 increments");

	/* later failures are kept up to the cap; the diagnosis stays the first */
	for (unsigned i = 0; i < LB_SWEEP_MAX_FAILURES + 10; i++) {
		r.rep = i + 2;
		snprintf(msg, sizeof(msg), "failure %u", i + 2);
		lb_sweep_note_failure(sw, &r, msg);
	}
	assert_int_equal(sw->nfailures, LB_SWEEP_MAX_FAILURES);
	assert_int_equal(sw->failures[LB_SWEEP_MAX_FAILURES - 1].rep, LB_SWEEP_MAX_FAILURES);
	assert_string_equal(sw->failures[1].msg, "failure 2");
	assert_non_null(strstr(sw->diag.summary, "rep 1: counter is 5"));

	/* a message longer than the record is cut, not overrun */
	char longmsg[600];
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	sw->nfailures = 0;
	lb_sweep_note_failure(sw, &r, longmsg);
	assert_int_equal(strlen(sw->failures[0].msg), sizeof(sw->failures[0].msg) - 1);
	lb_sweep_free(sw);

	/* a stall found first stays the diagnosis; the failure is still kept */
	sw = calloc(1, sizeof(*sw));
	assert_non_null(sw);
	sw->diag.kind = LB_DIAG_STALL;
	snprintf(sw->diag.summary, sizeof(sw->diag.summary), "watchdog: STALL");
	lb_sweep_note_failure(sw, &r, "lost 3");
	assert_int_equal(sw->diag.kind, LB_DIAG_STALL);
	assert_string_equal(sw->diag.summary, "watchdog: STALL");
	assert_int_equal(sw->nfailures, 1);
	lb_sweep_free(sw);
}

/* ---- what the closing line says was written ---- */

static void written_files_lists_what_is_there(void **st)
{
	static const char *const present[] = {
		"meta.json", "results.csv", "report.html", "cpu-top.png", "throughput.png",
		"throughput.svg", "stray.png", "results.csv.partial", "throughput-mutex.png",
		"throughput-bogus.png", "extra-torn_reads.png", "speedup.csv",
		"gnuplot-warnings.txt", "sweep-cs_ns.png", "sweep-.png", "sweep-Bad.png",
	};
	char dir[] = "/tmp/lb-unit-files-XXXXXX", path[256], line[512];
	unsigned nplots = 99;
	(void)st;
	assert_non_null(mkdtemp(dir));

	/* an empty directory: nothing, and no plots */
	const char **files = lb_written_files(dir, &nplots);
	assert_null(files[0]);
	assert_int_equal(nplots, 0);

	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, present[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	/* the data files in their fixed order, what the plot step writes,
	 * then the known plots by their PNG in name order (throughput-<kind>
	 * for a real kind, extra-<column>, sweep-<axis>); never a partial
	 * file or a stranger */
	files = lb_written_files(dir, &nplots);
	static const char *const want[] = { "results.csv", "meta.json", "report.html",
					    "speedup.csv", "gnuplot-warnings.txt", "cpu-top.png",
					    "extra-torn_reads.png", "sweep-cs_ns.png",
					    "throughput-mutex.png", "throughput.png" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(files[i]);
		assert_string_equal(files[i], want[i]);
	}
	assert_null(files[sizeof(want) / sizeof(want[0])]);
	assert_int_equal(nplots, 5);
	lb_files_listing(files, nplots, NULL, line, sizeof(line));
	assert_string_equal(line, "results.csv meta.json report.html speedup.csv "
				  "gnuplot-warnings.txt, 5 plots (PNG and SVG)");

	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, present[i]);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);

	/* no plots: and why not, when there is a reason */
	static const char *const data[] = { "results.csv", "threads.csv", NULL };
	lb_files_listing(data, 0, "--no-plot", line, sizeof(line));
	assert_string_equal(line, "results.csv threads.csv; no plots (--no-plot)");
	lb_files_listing(data, 0, NULL, line, sizeof(line));
	assert_string_equal(line, "results.csv threads.csv; no plots");
	lb_files_listing(data + 2, 0, "interrupted", line, sizeof(line));
	assert_string_equal(line, "; no plots (interrupted)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_list_and_ranges),
		cmocka_unit_test(threads_words_sorted_dedup),
		cmocka_unit_test(threads_rejects),
		cmocka_unit_test(cpulist_parses_in_order),
		cmocka_unit_test(seconds_and_integers),
		cmocka_unit_test(median_odd_even),
		cmocka_unit_test(stat_small_n_ci_is_range),
		cmocka_unit_test(stat_ci_order_statistics),
		cmocka_unit_test(stat_ignores_nan),
		cmocka_unit_test(jain_index),
		cmocka_unit_test(hist_buckets_cover_and_bound_error),
		cmocka_unit_test(hist_percentiles),
		cmocka_unit_test(nearest_name_for_a_typo),
		cmocka_unit_test(plan_default_sweep),
		cmocka_unit_test(plan_impl_selectors),
		cmocka_unit_test(plan_sweep_sets),
		cmocka_unit_test(plan_refused_thread_counts),
		cmocka_unit_test(plan_time_budget),
		cmocka_unit_test(plan_usage_errors),
		cmocka_unit_test(csv_quoting),
		cmocka_unit_test(csv_results_row_matches_header),
		cmocka_unit_test(csv_summary_and_threads_tables),
		cmocka_unit_test(sample_weight_spans_to_next_sample),
		cmocka_unit_test(weighted_merge_gives_true_percentiles),
		cmocka_unit_test(rows_fill_counts_every_thread),
		cmocka_unit_test(rows_fill_flags_starved_threads),
		cmocka_unit_test(stat_one_value_has_no_interval),
		cmocka_unit_test(judge_count_exact_loss_and_overcount),
		cmocka_unit_test(judge_recursive),
		cmocka_unit_test(judge_barrier_uneven_or_early),
		cmocka_unit_test(judge_trylock_free_lock_must_yield),
		cmocka_unit_test(judge_prodcons_duplicate_loss_alien_order),
		cmocka_unit_test(judge_pool),
		cmocka_unit_test(judge_handoff),
		cmocka_unit_test(judge_broadcast),
		cmocka_unit_test(judge_readmostly),
		cmocka_unit_test(summary_ranks),
		cmocka_unit_test(noise_cause),
		cmocka_unit_test(shell_word_quotes_what_needs_it),
		cmocka_unit_test(command_line_as_typed),
		cmocka_unit_test(sweep_keeps_failures_and_the_first_diagnosis),
		cmocka_unit_test(written_files_lists_what_is_there),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
