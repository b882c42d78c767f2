/* The command line (options.h): argv to struct lb_opts, checked for form
 * only (a number is a number, a format is one of three); what the values
 * mean for a workload is the plan's business (plan.c).  The options that
 * need no plan are answered here, and the program ends: --help, --version,
 * --list and --topology on stdout, a usage error on stderr with status 2. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_config.h"
#include "lb_vcs.h"
#include "options.h"

void lb_usage_error(const char *fmt, ...)
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
"       ./bench scoreboard [--twins] DIR...  which primitive wins, per kind and regime;\n"
"                                     --twins: each futex primitive against its glibc twin\n"
"       ./bench suite [--quick] [--workloads LIST] [--out DIR]  the whole platform:\n"
"                                     fingerprint, every workload, scoreboard, report\n"
"       ./bench --workload fingerprint  core-to-core, atomics, futex and timer costs\n"
"\n"
"Runs a contention workload against every implementation it drives, checks\n"
"correctness on every repetition, and writes results.csv, summary.csv,\n"
"threads.csv, meta.json and plots to a run directory.\n"
"\n"
"  --workload NAME   what to run (see --list)\n"
"  --impl LIST       comma list of: 'all' (default: every implementation the\n"
"                    workload drives), a backend (%s),\n"
"                    a kind (mutex, rwlock, ...), an id (futex-mutex) or a\n"
"                    glob over the ids ('ck-*', '*-mutex'); see --list\n"
"  --threads LIST    comma list of counts and ranges (1,2,4-8), 'pus' and\n"
"                    '2xpus' (default: powers of two from 1 to 2xPUs, plus PUs)\n"
"  --duration S      timed window per repetition, seconds (default: auto, so\n"
"                    the whole sweep takes about a minute; 0.1 s to 2 s each)\n"
"  --warmup S        untimed run before each window (default: auto, <= 0.5 s)\n"
"  --repeat N        repetitions of each configuration (default %d)\n",
	       lb_backend_names(), LB_DEFAULT_REPEAT);
	/* Two strings: C99 compilers need support only 4095 characters. */
	printf(
"  --pin POLICY      compact, scatter, cores, llc-compact (fill one L3 domain,\n"
"                    cores first, before the next), llc-scatter (deal threads\n"
"                    round the L3 domains), llc:N, package:N or node:N (only\n"
"                    that domain's PUs), none, or an OS CPU list such as\n"
"                    0,2,4-7 (default compact); see --topology\n"
"  --pin-group G=POLICY  place thread group G by its own policy (repeatable):\n"
"                    prodcons producer/consumer, handoff ping/pong, broadcast\n"
"                    setter/waiter; e.g. producer=llc:0 --pin-group consumer=llc:1\n"
"  --clusters LEVEL  the clusters of the NUMA-aware locks (cohorts, CNA, HMCS,\n"
"                    HCLH): node (default), package or llc; see --topology\n"
"  --mem PLACE       where the primitive's shared memory (lock word, queue,\n"
"                    counter) lives: local (thread 0's NUMA node), node:N or\n"
"                    interleave (default: first touch); rows record the nodes\n"
"  --counters SET    per-thread perf events read at the window's edges: auto\n"
"                    (default: hardware where the PMU allows, and software),\n"
"                    software (context switches, migrations, page faults), off\n"
"  --c2c-event NAME  the libpfm4 event behind the c2c_per_op column (default:\n"
"                    this CPU's cache-to-cache transfer event where libpfm4\n"
"                    knows one, e.g. MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM)\n"
"  --cs NS           busy work inside the critical section, ns (default 0);\n"
"                    a comma list (0,100,1000) sweeps it, as --param K=a,b,c\n"
"  --think NS        busy work between operations, ns (default 0)\n"
"  --param K=V       workload parameter (once per key; see --list); V may be a\n"
"                    comma list: every combination of the lists is run\n"
"  --out DIR         run directory (default results/<host>/<run-id>/); must\n"
"                    not already hold a run\n"
"  --format F        stdout: table (default), csv (the summary) or json\n"
"  --no-plot         skip gnuplot: no plots and no report.html\n"
"  --quiet           no progress on stderr: the final table, warnings, errors\n"
"                    and the results path only\n"
"  --seed N          seed for randomised workloads (recorded in meta.json)\n"
"  --watchdog S      seconds without progress before a run is declared\n"
"                    stalled (default %.0f; deadlock and livelock use 2)\n"
"  --list            workloads, kinds and implementations; --all adds the\n"
"                    deliberately broken test implementations; with\n"
"                    --format csv, one CSV table of them\n"
"  --topology        what hwloc sees and where each pin policy puts threads\n"
"  --topology-from SRC  with --topology: show another machine's shape, from an\n"
"                    hwloc XML file or a synthetic description such as\n"
"                    'pack:2 numa:2 l3:1 core:16 pu:2' (nothing runs)\n"
"\n"
"Exit status: 0 all checks passed; 1 a check failed (lost updates, a broken\n"
"invariant, a stall) or the run could not complete; 2 usage error;\n"
"130 interrupted by SIGINT, 143 by SIGTERM (completed rows are kept).\n",
	       LB_DEFAULT_WATCHDOG_S);
}

/* ---- --list ---- */

static void caps_text(unsigned caps, const char *sep, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } c[] = {
		{ LB_CAP_TRYLOCK, "trylock" }, { LB_CAP_TCTX, "per-thread-ctx" },
		{ LB_CAP_PARKS, "parks" }, { LB_CAP_SPINS, "spins" }, { LB_CAP_FIFO, "fifo" },
		{ LB_CAP_RACY, "racy" }, { LB_CAP_FLOOR, "floor" }, { LB_CAP_HIDDEN, "broken" },
		{ LB_CAP_RCU, "rcu" }, { LB_CAP_OWNER, "owner-checked" },
		{ LB_CAP_WPREF, "writer-pref" }, { LB_CAP_RPREF, "reader-pref" },
		{ LB_CAP_NUMA, "numa-aware" }, { LB_CAP_UNAVAILABLE, "unavailable" },
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
	printf("record,name,kind,backend,capabilities,workloads,params,checks,summary,"
	       "unavailable\n");
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
		fputs(",\n", stdout);
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
		putchar(',');
		lb_csv_field(stdout, lb_impl_unavailable(im) ? lb_impl_unavailable(im) : "");
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
	printf("  %-12s the machine itself, not an implementation: core-to-core round trips,\n"
	       "  %-12s atomics, futex wake-ups and timers (fingerprint.csv and a heat map)\n",
	       "fingerprint", "");
	printf("\n--impl takes a comma list of:\n");
	printf("  %-12s every implementation the workload drives (the default)\n", "all");
	printf("  %-12s %s\n", "a backend", lb_backend_names());
	printf("  %-12s", "a kind");
	for (int k = 0; k < LB_KIND_COUNT; k++)
		printf("%s %s", k ? "," : "", lb_kind_name((enum lb_kind)k));
	printf("\n  %-12s the impl column below (an exact id also names a hidden one)\n", "an id");
	printf("  %-12s over the ids, as the shell's: 'ck-*', '*-mutex', 'futex-*sem'\n", "a glob");
	int cw = (int)strlen("capabilities"); /* the widest capability list */
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		char caps[128];
		caps_text(lb_impl_caps(&lb_impls[j]), ",", caps, sizeof(caps));
		if ((int)strlen(caps) > cw)
			cw = (int)strlen(caps);
	}
	for (int k = 0; k < LB_KIND_COUNT; k++) {
		printf("\nkind %s:\n", lb_kind_name((enum lb_kind)k));
		printf("  %-22s %-8s %-*s %-10s %s\n", "impl", "backend", cw, "capabilities",
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
			printf("  %-22s %-8s %-*s %-10s %s\n", im->id, im->backend, cw, caps,
			       wls[0] ? wls : "-", im->summary);
			if (lb_impl_unavailable(im))
				printf("  %-22s UNAVAILABLE here: %s\n", "", lb_impl_unavailable(im));
		}
	}
}

/* ---- options ---- */

enum { OPT_NO_PLOT = 256, OPT_SEED, OPT_WATCHDOG, OPT_ALL, OPT_QUIET, OPT_TOPOLOGY_FROM, OPT_PIN_GROUP, OPT_MEM, OPT_COUNTERS,
       OPT_C2C_EVENT, OPT_CLUSTERS };

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
	lb_usage_error("unknown option '%.*s' (%ssee --help)", (int)len, arg, hint);
}

void lb_options_parse(int argc, char **argv, struct lb_opts *o)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "impl", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "pin", required_argument, NULL, 'p' },
		{ "pin-group", required_argument, NULL, OPT_PIN_GROUP },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "counters", required_argument, NULL, OPT_COUNTERS },
		{ "c2c-event", required_argument, NULL, OPT_C2C_EVENT },
		{ "clusters", required_argument, NULL, OPT_CLUSTERS },
		{ "cs", required_argument, NULL, 'c' },
		{ "think", required_argument, NULL, 'k' },
		{ "param", required_argument, NULL, 'P' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-plot", no_argument, NULL, OPT_NO_PLOT },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
		{ "list", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "topology", no_argument, NULL, 'T' },
		{ "topology-from", required_argument, NULL, OPT_TOPOLOGY_FROM },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int list = 0, list_all = 0, topology = 0, c;
	const char *topology_from = NULL;

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
				lb_usage_error("--duration: '%s' is not a duration; give seconds > 0 "
					    "and <= 3600 (e.g. 0.5) or 'auto'", optarg);
			break;
		case 'W':
			if (strcmp(optarg, "auto") != 0 &&
			    (lb_parse_seconds(optarg, &o->warmup) || o->warmup > 3600))
				lb_usage_error("--warmup: '%s' is not a duration; give seconds >= 0 "
					    "and <= 3600 (e.g. 0.1) or 'auto'", optarg);
			break;
		case 'r':
			if (lb_parse_u64(optarg, &o->repeat) || o->repeat < 1 || o->repeat > 1000)
				lb_usage_error("--repeat: '%s' is not a repetition count; give 1 to 1000",
					    optarg);
			break;
		case 'p': o->pin = optarg; break;
		case OPT_MEM: o->mem = optarg; break;
		case OPT_COUNTERS:
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "software") != 0 &&
			    strcmp(optarg, "off") != 0)
				lb_usage_error("--counters: '%s' is not a counter set; valid: auto, "
					    "software, off", optarg);
			o->counters = optarg;
			break;
		case OPT_C2C_EVENT:
			if (!*optarg)
				lb_usage_error("--c2c-event: '' is not an event name; give a libpfm4 "
					    "name such as MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM");
			o->c2c_event = optarg;
			break;
		case OPT_CLUSTERS:
			if (lb_topo_set_clusters(optarg) != 0)
				lb_usage_error("--clusters: '%s' is not a topology level; valid: "
					    "node, package, llc", optarg);
			break;
		case OPT_PIN_GROUP:
			if (o->npin_groups == LB_MAX_GROUPS)
				lb_usage_error("--pin-group: '%s' is one too many; give at most %d",
					    optarg, LB_MAX_GROUPS);
			o->pin_groups[o->npin_groups++] = optarg;
			break;
		case 'c': o->cs = optarg; break; /* a value or a list: the plan checks it */
		case 'k':
			if (lb_parse_u64(optarg, &o->think_ns) || o->think_ns > 1000000000u)
				lb_usage_error("--think: '%s' is not a duration in ns; give 0 to "
					    "1000000000", optarg);
			break;
		case 'P':
			if (o->nparams >= sizeof(o->params) / sizeof(o->params[0]))
				lb_usage_error("--param: too many (at most 32)");
			o->params[o->nparams++] = optarg;
			break;
		case 'o': o->out = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "csv") && strcmp(optarg, "json"))
				lb_usage_error("--format: unknown format '%s'; valid: table, csv, json",
					    optarg);
			o->format = optarg;
			break;
		case OPT_NO_PLOT: o->no_plot = 1; break;
		case OPT_QUIET: o->quiet = 1; break;
		case OPT_SEED:
			if (lb_parse_u64(optarg, &o->seed))
				lb_usage_error("--seed: '%s' is not a non-negative integer", optarg);
			break;
		case OPT_WATCHDOG:
			if (lb_parse_seconds(optarg, &o->watchdog) || o->watchdog < 0.1 ||
			    o->watchdog > 86400)
				lb_usage_error("--watchdog: '%s' is not a duration; give seconds from "
					    "0.1 to 86400", optarg);
			break;
		case 'l': list = 1; break;
		case OPT_ALL: list_all = 1; break;
		case 'T': topology = 1; break;
		case OPT_TOPOLOGY_FROM: topology_from = optarg; break;
		case 'h': print_help(); exit(0);
		case 'V':
			printf("lockbench %s (%s)\n", LB_VERSION, LB_GIT_REV);
			exit(0);
		case ':':
			lb_usage_error("option '%s' needs a value (see --help)", argv[optind - 1]);
		default:
			unknown_option(argv[optind - 1], opts);
		}
	}
	if (optind < argc)
		lb_usage_error("unexpected argument '%s' (options start with --; see --help)",
			    argv[optind]);
	if (list_all && !list)
		lb_usage_error("--all only applies to --list (try ./bench --list --all)");
	if (list) {
		if (strcmp(o->format, "json") == 0)
			lb_usage_error("--list --format: 'json' is not a listing format; valid: table, csv");
		if (strcmp(o->format, "csv") == 0)
			print_list_csv(list_all);
		else
			print_list(list_all);
		exit(0);
	}
	if (topology_from && !topology)
		lb_usage_error("--topology-from '%s': describes another machine, so it only goes "
			    "with --topology (nothing runs on it)", topology_from);
	if (topology && topology_from) {
		char err[512];
		if (lb_topo_init_from(topology_from, err, sizeof(err)) != 0)
			lb_usage_error("%s", err);
		lb_topo_print(stdout);
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

void lb_shell_word(const char *s, char *buf, size_t len)
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

void lb_command_line(int argc, char **argv, char *buf, size_t len)
{
	const char *prog = getenv("LB_INVOKED_AS");
	buf[0] = '\0';
	lb_shell_word(prog && *prog ? prog : argv[0], buf, len);
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, " ");
		lb_shell_word(argv[i], buf, len);
	}
}
