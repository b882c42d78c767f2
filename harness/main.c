/* lockbench: the CLI.  Parse and validate everything first (a usage error
 * exits 2 before any file is written), then sweep: repetitions outermost,
 * implementations innermost (A B C A B C ...), so machine drift hits every
 * implementation alike.  Rows go to disk as they complete; the summary,
 * the table and the plots come at the end, or at an interruption. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_config.h"
#include "lb_vcs.h"
#include "lockbench.h"

#define MAX_SERIES 64
#define MAX_THREAD_COUNTS 64
#define DEFAULT_REPEAT 3
#define DEFAULT_WATCHDOG_S 10.0
#define AUTO_BUDGET_S 45.0       /* warm-up + window over the whole sweep */
#define SAMPLE_PERIOD LB_SAMPLE_PERIOD /* latency: time one op in this many */

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("lockbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void print_help(void)
{
	printf(
"usage: ./bench --workload NAME [options]\n"
"       ./bench --list [--all] | --topology | --help | --version\n"
"       ./bench test              build everything and run the test suite\n"
"       ./bench plot DIR          redraw the plots and report.html of a run\n"
"       ./bench compare DIR1 DIR2 ...  compare runs (the first is the baseline)\n"
"\n"
"Runs a contention workload against every implementation it drives, checks\n"
"correctness on every repetition, and writes results.csv, summary.csv,\n"
"threads.csv, meta.json and plots to a run directory.\n"
"\n"
"  --workload NAME   what to run (see --list)\n"
"  --impl LIST       'all' (default: every implementation the workload drives),\n"
"                    a backend (pthread, futex, ck, atomic, none), or a comma\n"
"                    list of ids such as futex-mutex,pthread-mutex\n"
"  --threads LIST    comma list of counts and ranges (1,2,4-8), 'pus' and\n"
"                    '2xpus' (default: powers of two from 1 to 2xPUs, plus PUs)\n"
"  --duration S      timed window per repetition, seconds (default: auto, so\n"
"                    the whole sweep takes about a minute; 0.1 s to 2 s each)\n"
"  --warmup S        untimed run before each window (default: auto, <= 0.5 s)\n"
"  --repeat N        repetitions of each configuration (default %d)\n"
"  --pin POLICY      compact, scatter, cores, none, or an OS CPU list such as\n"
"                    0,2,4-7 (default compact); see --topology\n"
"  --cs NS           busy work inside the critical section, ns (default 0)\n"
"  --think NS        busy work between operations, ns (default 0)\n"
"  --param K=V       workload parameter (repeatable; see --list)\n"
"  --out DIR         run directory (default results/<host>/<run-id>/); must\n"
"                    not already hold a run\n"
"  --format F        stdout: table (default), csv (the summary) or json\n"
"  --no-plot         skip gnuplot\n"
"  --seed N          seed for randomised workloads (recorded in meta.json)\n"
"  --watchdog S      seconds without progress before a run is declared\n"
"                    stalled (default %.0f; deadlock and livelock use 2)\n"
"  --list            workloads, kinds and implementations; --all adds the\n"
"                    deliberately broken test implementations\n"
"  --topology        what hwloc sees and where each pin policy puts threads\n"
"\n"
"Exit status: 0 all checks passed; 1 a check failed (lost updates, a broken\n"
"invariant, a stall) or the run could not complete; 2 usage error;\n"
"130 interrupted by SIGINT, 143 by SIGTERM (completed rows are kept).\n",
	       DEFAULT_REPEAT, DEFAULT_WATCHDOG_S);
}

/* ---- --list ---- */

static void caps_text(unsigned caps, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } c[] = {
		{ LB_CAP_TRYLOCK, "trylock" }, { LB_CAP_TCTX, "per-thread-ctx" },
		{ LB_CAP_PARKS, "parks" }, { LB_CAP_SPINS, "spins" }, { LB_CAP_FIFO, "fifo" },
		{ LB_CAP_RACY, "racy" }, { LB_CAP_FLOOR, "floor" }, { LB_CAP_HIDDEN, "broken" },
		{ LB_CAP_RCU, "rcu" }, { LB_CAP_OWNER, "owner-checked" },
		{ LB_CAP_WPREF, "writer-pref" },
	};
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (caps & c[i].bit) {
			if (buf[0])
				strncat(buf, ",", len - strlen(buf) - 1);
			strncat(buf, c[i].name, len - strlen(buf) - 1);
		}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_list(int show_hidden)
{
	printf("workloads:\n");
	for (size_t i = 0; lb_workloads[i]; i++) {
		const struct lb_workload *wl = lb_workloads[i];
		printf("  %-12s %s\n", wl->name, wl->summary);
		printf("  %-12s checks: %s\n", "", wl->checks);
		printf("  %-12s kinds:", "");
		for (int k = 0; k < LB_KIND_COUNT; k++) {
			for (size_t j = 0; j < LB_IMPL_COUNT; j++)
				if (lb_impls[j].kind == (enum lb_kind)k && lb_workload_drives(wl, &lb_impls[j])) {
					printf(" %s", lb_kind_name((enum lb_kind)k));
					break;
				}
		}
		printf("\n  %-12s params:", "");
		if (!wl->params || !wl->params[0].key)
			printf(" none");
		for (const struct lb_param_spec *p = wl->params; p && p->key; p++)
			printf(" %s=%s (%s)", p->key, p->def, p->help);
		printf("\n");
	}
	for (int k = 0; k < LB_KIND_COUNT; k++) {
		printf("\nkind %s:\n", lb_kind_name((enum lb_kind)k));
		printf("  %-22s %-8s %-34s %-10s %s\n", "impl", "backend", "capabilities",
		       "workloads", "summary");
		for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
			const struct lb_impl *im = &lb_impls[j];
			char caps[128], wls[128] = "";
			if (im->kind != (enum lb_kind)k || ((im->caps & LB_CAP_HIDDEN) && !show_hidden))
				continue;
			caps_text(lb_impl_caps(im), caps, sizeof(caps));
			for (size_t w = 0; lb_workloads[w]; w++)
				if (lb_workload_drives(lb_workloads[w], &lb_impls[j])) {
					if (wls[0])
						strncat(wls, ",", sizeof(wls) - strlen(wls) - 1);
					strncat(wls, lb_workloads[w]->name, sizeof(wls) - strlen(wls) - 1);
				}
			printf("  %-22s %-8s %-34s %-10s %s\n", im->id, im->backend, caps, wls,
			       im->summary);
		}
	}
}

/* ---- --impl ---- */

static void valid_impls(const struct lb_workload *wl, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		if (!lb_workload_drives(wl, &lb_impls[j]) || (lb_impls[j].caps & LB_CAP_HIDDEN))
			continue;
		if (buf[0])
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, lb_impls[j].id, len - strlen(buf) - 1);
	}
}

static unsigned parse_impls(const char *spec, const struct lb_workload *wl,
			    const struct lb_impl **out)
{
	unsigned n = 0;
	char valid[2048];
	char *copy = strdup(spec), *save = NULL;

	valid_impls(wl, valid, sizeof(valid));
	if (!copy)
		usage_error("out of memory");
	if (!*spec || spec[0] == ',' || spec[strlen(spec) - 1] == ',' || strstr(spec, ",,"))
		usage_error("--impl: '%s' is not a valid list (comma-separated ids, a backend "
			    "or 'all'); valid for %s: all, %s; backends: %s", spec, wl->name,
			    valid, lb_backend_names());
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int all = strcmp(tok, "all") == 0, backend = !all && lb_backend_known(tok);
		const struct lb_impl *one = NULL;
		if (!all && !backend) {
			one = lb_impl_find(tok);
			if (!one)
				usage_error("--impl: unknown implementation '%s'; valid for %s: all, %s; "
					    "backends: %s", tok, wl->name, valid, lb_backend_names());
			if (!lb_workload_drives(wl, one))
				usage_error("--impl: workload %s does not drive '%s' (kind %s); valid "
					    "for %s: %s", wl->name, tok, lb_kind_name(one->kind),
					    wl->name, valid);
		}
		unsigned before = n;
		for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
			const struct lb_impl *im = &lb_impls[j];
			int take = one ? im == one
				       : lb_workload_drives(wl, im) && !(im->caps & LB_CAP_HIDDEN) &&
						 (all || strcmp(im->backend, tok) == 0);
			if (!take)
				continue;
			int dup = 0;
			for (unsigned k = 0; k < n; k++)
				dup |= out[k] == im;
			if (!dup && n < MAX_SERIES)
				out[n++] = im;
		}
		if (backend && n == before && !one) {
			int any = 0;
			for (size_t j = 0; j < LB_IMPL_COUNT; j++)
				any |= lb_workload_drives(wl, &lb_impls[j]) &&
				       strcmp(lb_impls[j].backend, tok) == 0;
			if (!any)
				usage_error("--impl: workload %s drives nothing from backend '%s'; "
					    "valid for %s: %s", wl->name, tok, wl->name, valid);
		}
	}
	free(copy);
	return n;
}

/* ---- --param ---- */

struct params {
	const char *vals[LB_MAX_PARAMS];
	char text[256]; /* "k=v;k2=v2" for the CSV param column */
};

static void parse_param(const struct lb_workload *wl, const char *kv, struct params *p)
{
	const char *eq = strchr(kv, '=');
	char valid[512] = "";
	size_t np = 0;

	for (const struct lb_param_spec *s = wl->params; s && s->key; s++, np++) {
		if (valid[0])
			strncat(valid, ", ", sizeof(valid) - strlen(valid) - 1);
		strncat(valid, s->key, sizeof(valid) - strlen(valid) - 1);
	}
	if (!eq || eq == kv || !eq[1])
		usage_error("--param: '%s' is not KEY=VALUE; %s takes: %s", kv, wl->name,
			    np ? valid : "no parameters");
	for (size_t i = 0; i < np; i++) {
		if (strlen(wl->params[i].key) == (size_t)(eq - kv) &&
		    strncmp(wl->params[i].key, kv, (size_t)(eq - kv)) == 0) {
			p->vals[i] = eq + 1;
			return;
		}
	}
	usage_error("--param: workload %s has no parameter '%.*s'; valid: %s", wl->name,
		    (int)(eq - kv), kv, np ? valid : "none (it takes no parameters)");
}

/* ---- the output directory ---- */

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return errno;
	struct stat st;
	if (stat(buf, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	if (access(buf, W_OK | X_OK) != 0)
		return errno;
	return 0;
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "lockbench: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	lb_interrupted = 1;
}

/* ---- main ---- */

enum { OPT_NO_PLOT = 256, OPT_SEED, OPT_WATCHDOG, OPT_ALL };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "impl", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "pin", required_argument, NULL, 'p' },
		{ "cs", required_argument, NULL, 'c' },
		{ "think", required_argument, NULL, 'k' },
		{ "param", required_argument, NULL, 'P' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-plot", no_argument, NULL, OPT_NO_PLOT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
		{ "list", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "topology", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *o_workload = NULL, *o_impl = "all", *o_threads = NULL, *o_pin = "compact";
	const char *o_out = NULL, *o_format = "table";
	const char *o_params[32];
	unsigned n_params = 0;
	double duration = -1, warmup = -1, watchdog = -1;
	uint64_t repeat = DEFAULT_REPEAT, cs_ns = 0, think_ns = 0, seed = 1;
	int list = 0, list_all = 0, topology = 0, no_plot = 0, c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o_workload = optarg; break;
		case 'i': o_impl = optarg; break;
		case 't': o_threads = optarg; break;
		case 'd':
			if (strcmp(optarg, "auto") != 0 &&
			    (lb_parse_seconds(optarg, &duration) || duration <= 0 || duration > 3600))
				usage_error("--duration: '%s' is not a duration; give seconds > 0 "
					    "and <= 3600 (e.g. 0.5) or 'auto'", optarg);
			break;
		case 'W':
			if (strcmp(optarg, "auto") != 0 &&
			    (lb_parse_seconds(optarg, &warmup) || warmup > 3600))
				usage_error("--warmup: '%s' is not a duration; give seconds >= 0 "
					    "and <= 3600 (e.g. 0.1) or 'auto'", optarg);
			break;
		case 'r':
			if (lb_parse_u64(optarg, &repeat) || repeat < 1 || repeat > 1000)
				usage_error("--repeat: '%s' is not a repetition count; give 1 to 1000",
					    optarg);
			break;
		case 'p': o_pin = optarg; break;
		case 'c':
			if (lb_parse_u64(optarg, &cs_ns) || cs_ns > 1000000000u)
				usage_error("--cs: '%s' is not a duration in ns; give 0 to 1000000000",
					    optarg);
			break;
		case 'k':
			if (lb_parse_u64(optarg, &think_ns) || think_ns > 1000000000u)
				usage_error("--think: '%s' is not a duration in ns; give 0 to "
					    "1000000000", optarg);
			break;
		case 'P':
			if (n_params >= 32)
				usage_error("--param: too many (at most 32)");
			o_params[n_params++] = optarg;
			break;
		case 'o': o_out = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "csv") && strcmp(optarg, "json"))
				usage_error("--format: unknown format '%s'; valid: table, csv, json",
					    optarg);
			o_format = optarg;
			break;
		case OPT_NO_PLOT: no_plot = 1; break;
		case OPT_SEED:
			if (lb_parse_u64(optarg, &seed))
				usage_error("--seed: '%s' is not a non-negative integer", optarg);
			break;
		case OPT_WATCHDOG:
			if (lb_parse_seconds(optarg, &watchdog) || watchdog < 0.1 || watchdog > 86400)
				usage_error("--watchdog: '%s' is not a duration; give seconds from "
					    "0.1 to 86400", optarg);
			break;
		case 'l': list = 1; break;
		case OPT_ALL: list_all = 1; break;
		case 'T': topology = 1; break;
		case 'h': print_help(); return 0;
		case 'V':
			printf("lockbench %s (%s)\n", LB_VERSION, LB_GIT_REV);
			return 0;
		case ':':
			usage_error("option '%s' needs a value (see --help)", argv[optind - 1]);
		default:
			usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (options start with --; see --help)",
			    argv[optind]);

	if (list_all && !list)
		usage_error("--all only applies to --list (try ./bench --list --all)");
	if (list) {
		print_list(list_all);
		return 0;
	}
	int ret = lb_topo_init();
	if (ret) {
		fprintf(stderr, "lockbench: hwloc could not load the topology: %s\n", strerror(ret));
		return 1;
	}
	const struct lb_topo_info *topo = lb_topo();
	if (topology) {
		lb_topo_print(stdout);
		return 0;
	}

	/* ---- validate everything before touching the disk ---- */
	char names[512] = "";
	for (size_t i = 0; lb_workloads[i]; i++) {
		if (names[0])
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, lb_workloads[i]->name, sizeof(names) - strlen(names) - 1);
	}
	if (!o_workload)
		usage_error("--workload is required; valid: %s (try ./bench --workload counter)",
			    names);
	const struct lb_workload *wl = lb_workload_find(o_workload);
	if (!wl)
		usage_error("--workload: unknown workload '%s'; valid: %s", o_workload, names);

	if (watchdog < 0)
		watchdog = wl->watchdog_s > 0 ? wl->watchdog_s : DEFAULT_WATCHDOG_S;

	const struct lb_impl *impls[MAX_SERIES];
	unsigned nimpl = parse_impls(o_impl, wl, impls);

	unsigned tcounts[MAX_THREAD_COUNTS];
	int nthr;
	char err[512];
	char threads_text[256];
	if (o_threads) {
		nthr = lb_parse_threads(o_threads, topo->pus, tcounts, MAX_THREAD_COUNTS, err,
					sizeof(err));
		if (nthr < 0)
			usage_error("--threads: %s", err);
		snprintf(threads_text, sizeof(threads_text), "%s", o_threads);
	} else {
		/* 1, 2, 4, ... up to 2 x PUs, with PUs and 2 x PUs themselves. */
		char def[256] = "";
		for (unsigned t = 1; t < 2 * topo->pus; t *= 2)
			snprintf(def + strlen(def), sizeof(def) - strlen(def), "%u,", t);
		snprintf(def + strlen(def), sizeof(def) - strlen(def), "pus,2xpus");
		nthr = lb_parse_threads(def, topo->pus, tcounts, MAX_THREAD_COUNTS, err, sizeof(err));
		if (nthr < 0)
			usage_error("internal: default thread list: %s", err);
		snprintf(threads_text, sizeof(threads_text), "%s", def);
	}

	struct lb_pin pin;
	ret = lb_pin_resolve(o_pin, &pin, err, sizeof(err));
	if (ret == 2)
		usage_error("%s", err);
	if (ret)
		usage_error("--pin: could not resolve '%s'", o_pin);

	struct params params;
	memset(&params, 0, sizeof(params));
	for (unsigned i = 0; i < n_params; i++)
		parse_param(wl, o_params[i], &params);
	for (size_t i = 0; wl->params && wl->params[i].key; i++) {
		if (!params.vals[i])
			params.vals[i] = wl->params[i].def;
		snprintf(params.text + strlen(params.text), sizeof(params.text) - strlen(params.text),
			 "%s%s=%s", i ? ";" : "", wl->params[i].key, params.vals[i]);
	}

	if (wl->validate) {
		int kept = 0;
		for (int i = 0; i < nthr; i++) {
			if (wl->validate(params.vals, tcounts[i], err, sizeof(err)) == 0) {
				tcounts[kept++] = tcounts[i];
				continue;
			}
			if (o_threads)
				usage_error("%s", err);
		}
		if (kept == 0)
			usage_error("%s", err);
		if (kept < nthr)
			fprintf(stderr, "lockbench: %s: %d thread count(s) of the default sweep do "
				"not apply and were left out (%s)\n", wl->name, nthr - kept, err);
		nthr = kept;
	}

	size_t nruns = (size_t)nimpl * (size_t)nthr * repeat;
	if (duration < 0 || warmup < 0) {
		double slot = AUTO_BUDGET_S / (double)nruns;
		if (warmup < 0)
			warmup = fmin(fmax(slot * 0.2, 0.02), 0.5);
		if (duration < 0)
			duration = fmin(fmax(slot - warmup, 0.1), 2.0);
	}

	/* ---- the run directory ---- */
	char host[256], run_id[128], out_dir[PATH_MAX - 64];
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == ',' || *p == '/' || *p == '"')
			*p = '_';
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char stamp[64];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(run_id, sizeof(run_id), "%s-%s-%d", stamp, wl->name, (int)getpid());
	if (o_out && strlen(o_out) >= sizeof(out_dir))
		usage_error("--out: the path is too long (at most %zu bytes)", sizeof(out_dir) - 1);
	if (o_out)
		snprintf(out_dir, sizeof(out_dir), "%s", o_out);
	else
		snprintf(out_dir, sizeof(out_dir), "%s/results/%s/%s", LB_SOURCE_DIR, host, run_id);
	char probe_path[PATH_MAX];
	snprintf(probe_path, sizeof(probe_path), "%s/results.csv", out_dir);
	if (access(probe_path, F_OK) == 0)
		usage_error("--out: '%s' already holds a run (results.csv); choose a new "
			    "directory", out_dir);
	if ((ret = mkdir_p(out_dir)) != 0)
		usage_error("--out: cannot write to '%s': %s; give a writable directory",
			    out_dir, strerror(ret));

	/* ---- go ---- */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	lb_timer_calibrate();

	char cmdline[4096] = "";
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(cmdline);
		snprintf(cmdline + l, sizeof(cmdline) - l, "%s%s", i ? " " : "", argv[i]);
	}
	char impl_text[2048] = "";
	for (unsigned i = 0; i < nimpl; i++) {
		if (i)
			strncat(impl_text, ",", sizeof(impl_text) - strlen(impl_text) - 1);
		strncat(impl_text, impls[i]->id, sizeof(impl_text) - strlen(impl_text) - 1);
	}
	struct lb_meta_in meta = {
		.run_id = run_id, .host = host, .out_dir = out_dir, .command_line = cmdline,
		.workload = wl->name, .impls = impl_text, .threads = threads_text,
		.pin = pin.name, .format = o_format, .duration_s = duration, .warmup_s = warmup,
		.watchdog_s = watchdog, .repeat = (unsigned)repeat, .cs_ns = cs_ns,
		.think_ns = think_ns, .cs_iters = lb_busy_iters(cs_ns),
		.think_iters = lb_busy_iters(think_ns), .seed = seed,
		.sample_period = SAMPLE_PERIOD, .params = params.text,
		.started_unix = (double)now,
	};
	char meta_path[PATH_MAX];
	snprintf(meta_path, sizeof(meta_path), "%s/meta.json", out_dir);
	if ((ret = lb_meta_write(meta_path, &meta)) != 0) {
		fprintf(stderr, "lockbench: writing %s: %s\n", meta_path, strerror(ret));
		return 1;
	}

	FILE *fres = open_out(out_dir, "results.csv");
	FILE *fthr = open_out(out_dir, "threads.csv");
	lb_output_set_extras(wl->extra_cols);
	lb_results_header(fres);
	lb_threads_header(fthr);
	fflush(fres);
	fflush(fthr);

	fprintf(stderr, "lockbench: %s: %u implementation(s) x %d thread count(s) x %llu "
		"repetition(s) = %zu runs of %.2f s (+%.2f s warm-up), about %.0f s; pin %s\n",
		wl->name, nimpl, nthr, (unsigned long long)repeat, nruns, duration, warmup,
		(double)nruns * (duration + warmup + 0.01), pin.name);
	fprintf(stderr, "lockbench: timer %s, %.1f ns per read; busy loop %.3f ns/iter; "
		"writing %s\n", lb_timer.source, lb_timer.cost_ns, lb_timer.busy_ns_per_iter,
		out_dir);

	struct lb_row *rows = calloc(nruns, sizeof(*rows));
	unsigned maxthr = 0;
	for (int i = 0; i < nthr; i++)
		if (tcounts[i] > maxthr)
			maxthr = tcounts[i];
	struct lb_thread_row *trows = calloc(maxthr, sizeof(*trows));
	if (!rows || !trows) {
		fprintf(stderr, "lockbench: out of memory\n");
		return 1;
	}
	size_t nrows = 0, done = 0;
	int failed = 0, stalled = 0;
	int allowed_pus[LB_MAX_THREADS];
	unsigned nallowed = lb_topo_pus(allowed_pus, LB_MAX_THREADS);

	for (unsigned rep = 1; rep <= repeat && !stalled && !lb_interrupted; rep++) {
		for (int ti = 0; ti < nthr && !stalled && !lb_interrupted; ti++) {
			for (unsigned ii = 0; ii < nimpl && !stalled && !lb_interrupted; ii++) {
				unsigned nt = tcounts[ti];
				struct lb_run_cfg rc = {
					.wl = wl, .impl = impls[ii], .nthreads = nt, .pin = &pin,
					.duration_s = duration, .warmup_s = warmup,
					.watchdog_s = watchdog, .cs_ns = cs_ns, .think_ns = think_ns,
					.sample_mask = SAMPLE_PERIOD - 1,
				};
				memcpy(rc.param_vals, params.vals, sizeof(rc.param_vals));
				struct lb_row *r = &rows[nrows];
				memset(r, 0, sizeof(*r));
				r->workload = wl->name;
				r->kind = lb_kind_name(impls[ii]->kind);
				r->backend = impls[ii]->backend;
				r->impl = impls[ii]->id;
				r->threads = nt;
				r->pin = pin.name;
				r->cs_ns = cs_ns;
				r->think_ns = think_ns;
				snprintf(r->param, sizeof(r->param), "%s", params.text);
				r->rep = rep;
				unsigned ncpu = pin.cpus ? pin.ncpus : nallowed;
				r->oversubscribed = nt > ncpu;
				for (unsigned k = 0; pin.cpus && k < nt; k++) {
					size_t l = strlen(r->cpus);
					snprintf(r->cpus + l, sizeof(r->cpus) - l, "%s%d", k ? ";" : "",
						 pin.cpus[k % pin.ncpus]);
				}
				/* The probe runs between the first two CPUs this
				 * configuration uses (or could use, unpinned). */
				const int *pc = pin.cpus ? pin.cpus : allowed_pus;
				unsigned pn = pin.cpus ? pin.ncpus : nallowed;
				int pa = pn > 0 ? pc[0] : -1, pb = pn > 1 ? pc[1] : -1;
				r->probe_rtt_ns = lb_probe_rtt(pa, pb);

				struct lb_check chk;
				enum lb_run_status st = lb_run_one(&rc, r, trows, &chk);
				done++;
				if (st == LB_RUN_STALLED) {
					stalled = 1;
					break;
				}
				if (st == LB_RUN_INTERRUPTED)
					break;
				if (st != LB_RUN_OK) {
					failed = 1;
					stalled = 1; /* cannot continue sensibly */
					break;
				}
				r->probe_rtt_after_ns = lb_probe_rtt(pa, pb);
				lb_results_row(fres, r, run_id, host, topo->cpu_model, topo->pus);
				for (unsigned k = 0; k < nt; k++) {
					trows[k].rep = rep;
					lb_threads_row(fthr, r, &trows[k]);
				}
				fflush(fres);
				fflush(fthr);
				nrows++;
				if (r->verdict == LB_FAIL) {
					failed = 1;
					fprintf(stderr, "lockbench: CHECK FAILED: %s/%s threads=%u rep %u: "
						"%s\n", wl->name, r->impl, nt, rep, chk.msg);
				}
				fprintf(stderr, "[%zu/%zu] %-22s threads=%-3u rep %u/%llu  %12.0f ops/s"
					"  %s\n", done, nruns, r->impl, nt, rep,
					(unsigned long long)repeat, r->ops_per_sec,
					lb_verdict_name(r->verdict));
			}
		}
	}
	fclose(fres);
	fclose(fthr);

	struct lb_summary *sum = NULL;
	size_t nsum = lb_summarize(rows, nrows, &sum);
	char sum_path[PATH_MAX], sum_tmp[PATH_MAX + 8];
	snprintf(sum_path, sizeof(sum_path), "%s/summary.csv", out_dir);
	snprintf(sum_tmp, sizeof(sum_tmp), "%s.tmp", sum_path);
	FILE *fs = fopen(sum_tmp, "w");
	if (!fs || (lb_summary_write_csv(fs, sum, nsum, topo->pus), fclose(fs) != 0) ||
	    rename(sum_tmp, sum_path) != 0) {
		fprintf(stderr, "lockbench: writing %s: %s\n", sum_path, strerror(errno));
		failed = 1;
	}

	double floor_ns = NAN;
	for (size_t i = 0; i < nsum; i++)
		if ((lb_impl_find(sum[i].first->impl)->caps & LB_CAP_FLOOR) &&
		    sum[i].first->threads == 1)
			floor_ns = 1e9 / sum[i].st[LB_M_OPS_PER_SEC].median;
	if (strcmp(o_format, "csv") == 0)
		lb_summary_write_csv(stdout, sum, nsum, topo->pus);
	else if (strcmp(o_format, "json") == 0)
		lb_summary_write_json(stdout, sum, nsum);
	else if (nsum > 0)
		lb_summary_write_table(stdout, sum, nsum, floor_ns);
	fflush(stdout);
	for (size_t i = 0; i < nsum; i++)
		if (sum[i].st[LB_M_OPS_PER_SEC].cv > 0.10)
			fprintf(stderr, "lockbench: warning: %s threads=%u varies by %.0f%% (CV) "
				"across repetitions; compare with care (probe_rtt_ns shows "
				"placement changes)\n", sum[i].first->impl, sum[i].first->threads,
				sum[i].st[LB_M_OPS_PER_SEC].cv * 100);

	meta.finished_unix = (double)time(NULL);
	meta.rows = nrows;
	meta.finished = 1;
	meta.interrupted = lb_interrupted;
	meta.stalled = stalled;
	meta.failed = failed;
	if ((ret = lb_meta_write(meta_path, &meta)) != 0)
		fprintf(stderr, "lockbench: writing %s: %s\n", meta_path, strerror(ret));

	if (!no_plot && nrows > 0 && !stalled && !lb_interrupted) {
		char cmd[PATH_MAX * 2 + 64];
		snprintf(cmd, sizeof(cmd), "'%s/plot.sh' '%s' >&2", LB_SCRIPTS_DIR, out_dir);
		int st = system(cmd);
		if (st != 0)
			fprintf(stderr, "lockbench: plotting failed (status %d); the CSV files are "
				"complete; retry with: ./bench plot %s\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : st, out_dir);
	}

	fprintf(stderr, "lockbench: %zu rows; results in %s/ (results.csv summary.csv "
		"threads.csv meta.json%s)\n", nrows, out_dir, no_plot ? "" : ", plots");
	free(rows);
	free(trows);
	free(sum);
	lb_pin_free(&pin);
	lb_topo_fini();
	if (lb_interrupted) {
		fprintf(stderr, "lockbench: interrupted; the %zu completed rows are kept\n", nrows);
		return 128 + (got_signal ? got_signal : SIGINT); /* 130 SIGINT, 143 SIGTERM */
	}
	return failed || stalled ? 1 : 0;
}
