/* lockbench: the CLI, in four steps.
 *
 *   options  parse argv (parse_options): a usage error exits 2 at once
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
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "lb_config.h"
#include "lb_vcs.h"
#include "lockbench.h"
#include "launch.h"
#include "plan.h"

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
"                    a backend (%s),\n"
"                    or a comma list of ids such as futex-mutex,pthread-mutex\n"
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
"  --no-plot         skip gnuplot: no plots and no report.html\n"
"  --seed N          seed for randomised workloads (recorded in meta.json)\n"
"  --watchdog S      seconds without progress before a run is declared\n"
"                    stalled (default %.0f; deadlock and livelock use 2)\n"
"  --list            workloads, kinds and implementations; --all adds the\n"
"                    deliberately broken test implementations; with\n"
"                    --format csv, one CSV table of them\n"
"  --topology        what hwloc sees and where each pin policy puts threads\n"
"\n"
"Exit status: 0 all checks passed; 1 a check failed (lost updates, a broken\n"
"invariant, a stall) or the run could not complete; 2 usage error;\n"
"130 interrupted by SIGINT, 143 by SIGTERM (completed rows are kept).\n",
	       lb_backend_names(), LB_DEFAULT_REPEAT, LB_DEFAULT_WATCHDOG_S);
}

/* ---- --list ---- */

static void caps_text(unsigned caps, const char *sep, char *buf, size_t len)
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
				strncat(buf, sep, len - strlen(buf) - 1);
			strncat(buf, c[i].name, len - strlen(buf) - 1);
		}
}

/* The workloads that drive impl, sep between them. */
static void workloads_text(const struct lb_impl *im, const char *sep, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t w = 0; lb_workloads[w]; w++)
		if (lb_workload_drives(lb_workloads[w], im)) {
			if (buf[0])
				strncat(buf, sep, len - strlen(buf) - 1);
			strncat(buf, lb_workloads[w]->name, len - strlen(buf) - 1);
		}
}

/* The kinds whose implementations wl drives, sep between them. */
static void kinds_text(const struct lb_workload *wl, const char *sep, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int k = 0; k < LB_KIND_COUNT; k++)
		for (size_t j = 0; j < LB_IMPL_COUNT; j++)
			if (lb_impl_kind(&lb_impls[j]) == (enum lb_kind)k && lb_workload_drives(wl, &lb_impls[j])) {
				if (buf[0])
					strncat(buf, sep, len - strlen(buf) - 1);
				strncat(buf, lb_kind_name((enum lb_kind)k), len - strlen(buf) - 1);
				break;
			}
}

/* --list --format csv: one table, a row per workload and per
 * implementation (hidden ones with --all).  Lists inside a cell are
 * separated by spaces: the names never hold one. */
static void print_list_csv(int show_hidden)
{
	char buf[512];
	printf("record,name,kind,backend,capabilities,workloads,params,checks,summary\n");
	for (size_t i = 0; lb_workloads[i]; i++) {
		const struct lb_workload *wl = lb_workloads[i];
		fputs("workload,", stdout);
		lb_csv_field(stdout, wl->name);
		kinds_text(wl, " ", buf, sizeof(buf));
		putchar(',');
		lb_csv_field(stdout, buf);
		fputs(",,,,", stdout);
		buf[0] = '\0';
		for (const struct lb_param_spec *p = wl->params; p && p->key; p++) {
			size_t n = strlen(buf);
			snprintf(buf + n, sizeof(buf) - n, "%s%s=%s", n ? " " : "", p->key, p->def);
		}
		lb_csv_field(stdout, buf);
		putchar(',');
		lb_csv_field(stdout, wl->checks);
		putchar(',');
		lb_csv_field(stdout, wl->summary);
		putchar('\n');
	}
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if ((im->caps & LB_CAP_HIDDEN) && !show_hidden)
			continue;
		fputs("impl,", stdout);
		lb_csv_field(stdout, im->id);
		putchar(',');
		lb_csv_field(stdout, lb_kind_name(lb_impl_kind(im)));
		putchar(',');
		lb_csv_field(stdout, im->backend);
		putchar(',');
		caps_text(lb_impl_caps(im), " ", buf, sizeof(buf));
		lb_csv_field(stdout, buf);
		putchar(',');
		workloads_text(im, " ", buf, sizeof(buf));
		lb_csv_field(stdout, buf);
		fputs(",,,", stdout);
		lb_csv_field(stdout, im->summary);
		putchar('\n');
	}
}

static void print_list(int show_hidden)
{
	printf("workloads:\n");
	for (size_t i = 0; lb_workloads[i]; i++) {
		const struct lb_workload *wl = lb_workloads[i];
		printf("  %-12s %s\n", wl->name, wl->summary);
		printf("  %-12s checks: %s\n", "", wl->checks);
		char kinds[256];
		kinds_text(wl, " ", kinds, sizeof(kinds));
		printf("  %-12s kinds: %s\n", "", kinds);
		printf("  %-12s params:", "");
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
			if (lb_impl_kind(im) != (enum lb_kind)k || ((im->caps & LB_CAP_HIDDEN) && !show_hidden))
				continue;
			caps_text(lb_impl_caps(im), ",", caps, sizeof(caps));
			if (!caps[0])
				snprintf(caps, sizeof(caps), "-");
			workloads_text(im, ",", wls, sizeof(wls));
			printf("  %-22s %-8s %-34s %-10s %s\n", im->id, im->backend, caps, wls,
			       im->summary);
		}
	}
}

/* ---- --impl ---- */

/* ---- --param ---- */

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	lb_interrupted = 1;
}

/* ---- options ---- */


enum { OPT_NO_PLOT = 256, OPT_SEED, OPT_WATCHDOG, OPT_ALL };

/* An unknown option, named as given (without any =VALUE), with the
 * nearest real one when it looks like a typo. */
static void unknown_option(const char *arg, const struct option *opts)
{
	const char *cands[64];
	char names[64][24], hint[128];
	size_t n = 0, len = strcspn(arg, "=");

	for (; opts[n].name && n < 64; n++) {
		snprintf(names[n], sizeof(names[n]), "--%s", opts[n].name);
		cands[n] = names[n];
	}
	const char *near = strncmp(arg, "--", 2) == 0 ? lb_nearest(arg, len, cands, n) : NULL;
	if (near)
		snprintf(hint, sizeof(hint), "did you mean %s? ", near);
	else
		hint[0] = '\0';
	usage_error("unknown option '%.*s' (%ssee --help)", (int)len, arg, hint);
}

static void parse_options(int argc, char **argv, struct lb_opts *o)
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
	int list = 0, list_all = 0, topology = 0, c;

	*o = (struct lb_opts){ .impl = "all", .pin = "compact", .format = "table", .duration = -1,
			    .warmup = -1, .watchdog = -1, .repeat = LB_DEFAULT_REPEAT, .seed = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o->workload = optarg; break;
		case 'i': o->impl = optarg; break;
		case 't': o->threads = optarg; break;
		case 'd':
			if (strcmp(optarg, "auto") != 0 &&
			    (lb_parse_seconds(optarg, &o->duration) || o->duration <= 0 ||
			     o->duration > 3600))
				usage_error("--duration: '%s' is not a duration; give seconds > 0 "
					    "and <= 3600 (e.g. 0.5) or 'auto'", optarg);
			break;
		case 'W':
			if (strcmp(optarg, "auto") != 0 &&
			    (lb_parse_seconds(optarg, &o->warmup) || o->warmup > 3600))
				usage_error("--warmup: '%s' is not a duration; give seconds >= 0 "
					    "and <= 3600 (e.g. 0.1) or 'auto'", optarg);
			break;
		case 'r':
			if (lb_parse_u64(optarg, &o->repeat) || o->repeat < 1 || o->repeat > 1000)
				usage_error("--repeat: '%s' is not a repetition count; give 1 to 1000",
					    optarg);
			break;
		case 'p': o->pin = optarg; break;
		case 'c':
			if (lb_parse_u64(optarg, &o->cs_ns) || o->cs_ns > 1000000000u)
				usage_error("--cs: '%s' is not a duration in ns; give 0 to 1000000000",
					    optarg);
			break;
		case 'k':
			if (lb_parse_u64(optarg, &o->think_ns) || o->think_ns > 1000000000u)
				usage_error("--think: '%s' is not a duration in ns; give 0 to "
					    "1000000000", optarg);
			break;
		case 'P':
			if (o->nparams >= sizeof(o->params) / sizeof(o->params[0]))
				usage_error("--param: too many (at most 32)");
			o->params[o->nparams++] = optarg;
			break;
		case 'o': o->out = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "csv") && strcmp(optarg, "json"))
				usage_error("--format: unknown format '%s'; valid: table, csv, json",
					    optarg);
			o->format = optarg;
			break;
		case OPT_NO_PLOT: o->no_plot = 1; break;
		case OPT_SEED:
			if (lb_parse_u64(optarg, &o->seed))
				usage_error("--seed: '%s' is not a non-negative integer", optarg);
			break;
		case OPT_WATCHDOG:
			if (lb_parse_seconds(optarg, &o->watchdog) || o->watchdog < 0.1 ||
			    o->watchdog > 86400)
				usage_error("--watchdog: '%s' is not a duration; give seconds from "
					    "0.1 to 86400", optarg);
			break;
		case 'l': list = 1; break;
		case OPT_ALL: list_all = 1; break;
		case 'T': topology = 1; break;
		case 'h': print_help(); exit(0);
		case 'V':
			printf("lockbench %s (%s)\n", LB_VERSION, LB_GIT_REV);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value (see --help)", argv[optind - 1]);
		default:
			unknown_option(argv[optind - 1], opts);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (options start with --; see --help)",
			    argv[optind]);
	if (list_all && !list)
		usage_error("--all only applies to --list (try ./bench --list --all)");
	if (list) {
		if (strcmp(o->format, "json") == 0)
			usage_error("--list --format: 'json' is not a listing format; valid: table, csv");
		if (strcmp(o->format, "csv") == 0)
			print_list_csv(list_all);
		else
			print_list(list_all);
		exit(0);
	}
	if (topology) {
		int ret = lb_topo_init();
		if (ret) {
			fprintf(stderr, "lockbench: hwloc could not load the topology: %s\n",
				strerror(ret));
			exit(1);
		}
		lb_topo_print(stdout);
		exit(0);
	}
}

/* ---- command line ---- */

/* s, shell-quoted where it needs to be: as is when every character is
 * plain, else in single quotes (a quote inside as '\''). */
static void shell_word(const char *s, char *buf, size_t len)
{
	size_t n = strlen(buf);
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_./:=,@%+-") == strlen(s)) {
		snprintf(buf + n, len - n, "%s", s);
		return;
	}
	snprintf(buf + n, len - n, "'");
	for (; *s; s++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, *s == '\'' ? "'\\''" : "%c", *s);
	}
	n = strlen(buf);
	snprintf(buf + n, len - n, "'");
}

/* The command as the user typed it, to paste back into a shell: ./bench
 * sets LB_INVOKED_AS to its own $0, so the program shows as ./bench, not as
 * build/lockbench; every argument shell-quoted where it needs it. */
static void command_line(int argc, char **argv, char *buf, size_t len)
{
	const char *prog = getenv("LB_INVOKED_AS");
	buf[0] = '\0';
	shell_word(prog && *prog ? prog : argv[0], buf, len);
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, " ");
		shell_word(argv[i], buf, len);
	}
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
	char err[LB_PLAN_ERR_MAX];

	memset(p, 0, sizeof(*p));
	if (lb_plan_make(o, topo->pus, &p->c, err, sizeof(err)) != 0)
		usage_error("%s", err);
	if (p->c.dropped)
		fprintf(stderr, "lockbench: %s: %u thread count(s) of the default sweep do not "
			"apply and were left out (%s)\n", p->c.wl->name, p->c.dropped,
			p->c.dropped_why);

	int ret = lb_pin_resolve(o->pin, &p->pin, err, sizeof(err));
	if (ret == 2)
		usage_error("%s", err);
	if (ret)
		usage_error("--pin: could not resolve '%s'", o->pin);

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
		usage_error("--out: '%s' is not a usable path (empty or longer than %zu bytes)",
			    o->out, sizeof(p->out_dir) - 1);
	if (o->out)
		snprintf(p->out_dir, sizeof(p->out_dir), "%s", o->out);
	else
		snprintf(p->out_dir, sizeof(p->out_dir), "%s/results/%s/%s", LB_SOURCE_DIR,
			 p->host, p->run_id);
	if (lb_dir_claim(p->out_dir, p->run_id, err, sizeof(err)) != 0)
		usage_error("%s", err);

	command_line(argc, argv, p->cmdline, sizeof(p->cmdline));
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

	parse_options(argc, argv, &o);
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
