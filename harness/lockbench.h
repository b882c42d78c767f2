/* Harness-wide types: run options, result rows, and the module APIs. */
#ifndef LOCKBENCH_H
#define LOCKBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "stats.h"
#include "workload.h"


/* ---- topology and placement (topo.c) ---- */

enum lb_pin_kind {
	LB_PIN_COMPACT, LB_PIN_SCATTER, LB_PIN_CORES, LB_PIN_LLC_COMPACT, LB_PIN_LLC_SCATTER,
	LB_PIN_DOMAIN, /* llc:N, package:N, node:N */
	LB_PIN_NONE, LB_PIN_LIST
};

struct lb_pin {
	enum lb_pin_kind kind;
	/* The pin column: --pin as given ("compact", ..., or the CPU list
	 * text), then "/GROUP=POLICY" for each --pin-group. */
	char name[256];
	int *cpus;        /* OS indexes in placement order; NULL for none */
	unsigned ncpus;
	/* --pin-group: a group's own list, used by the group's k-th thread as
	 * entry k mod n; NULL where the group follows --pin. */
	const struct lb_workload *wl; /* whose group_of; NULL: no groups given */
	int *gcpus[LB_MAX_GROUPS];
	unsigned gncpus[LB_MAX_GROUPS];
};

struct lb_topo_info {
	unsigned pus, cores, packages, numa_nodes;
	unsigned smt;     /* PUs per core (max) */
	char cpu_model[256];
	char summary[256];
	char restriction[256]; /* "" or "CPUs 1 of 0-1 (...)": PUs left out */
	uint64_t cache_bytes[4]; /* L1d..L3 size per instance, 0 if unknown */
};

int lb_topo_init(void);
/* Load a topology that is not this machine's, for --topology only: an
 * hwloc XML file, or else a synthetic description.  0, 2 with a message
 * in err (a bad source), or 1 when hwloc itself cannot start. */
int lb_topo_init_from(const char *src, char *err, size_t errlen);
void lb_topo_fini(void);
const struct lb_topo_info *lb_topo(void);
/* Resolve a policy name or CPU list.  On error returns 2 and writes a
 * message naming the bad value and the valid choices into err. */
int lb_pin_resolve(const char *spec, struct lb_pin *pin, char *err, size_t errlen);
void lb_pin_free(struct lb_pin *pin);
/* Add --pin-group GROUP=POLICY for workload wl.  0, 1 (out of memory) or
 * 2 with a message naming the bad value and the valid choices. */
int lb_pin_add_group(struct lb_pin *pin, const struct lb_workload *wl, const char *spec,
		     char *err, size_t errlen);
/* The OS CPU of thread tid of nthreads (param: the workload's parameter
 * values), or -1 when it runs unpinned. */
int lb_pin_cpu(const struct lb_pin *pin, const uint64_t *param, unsigned tid,
	       unsigned nthreads);
/* How many PUs nthreads threads may use: the policy's list, or with
 * --pin-group the distinct CPUs they are given; nallowed where a thread
 * runs unpinned. */
unsigned lb_pin_span(const struct lb_pin *pin, const uint64_t *param, unsigned nthreads,
		     unsigned nallowed);
/* The OS indexes of all usable PUs, in compact order. */
unsigned lb_topo_pus(int *out, unsigned max);
/* Pin the calling thread to one PU.  0 or errno. */
int lb_pin_self(int cpu);
/* The NUMA-aware locks' clusters: the level ("node", "package", "llc";
 * 0, or -1 for another name), how many, and a CPU's (0 for -1). */
int lb_topo_set_clusters(const char *level);
const char *lb_topo_clusters_level(void);
unsigned lb_topo_cluster_of(int cpu);
unsigned lb_topo_nclusters(void);
void lb_topo_print(FILE *f);
/* Where PU i (logical order) sits: logical indexes, -1 where none. */
struct lb_pu_place {
	int cpu, package, node, llc, core;
};
int lb_topo_pu_place(unsigned i, struct lb_pu_place *pl);

/* ---- the platform fingerprint (fingerprint.c) ---- */

/* Measure into dir/fingerprint.csv; *failed set when a check failed,
 * *rows to the rows written.  0, or an errno (reported). */
int lb_fingerprint(const char *dir, const char *run_id, const char *host, int quiet,
		   int *failed, size_t *rows);

/* The hwloc topology loaded by lb_topo_init (hwloc_topology_t). */
struct hwloc_topology;
struct hwloc_topology *lb_topo_handle(void);

/* ---- memory placement (mem.c) ---- */

enum lb_mem_kind { LB_MEM_FIRST_TOUCH, LB_MEM_LOCAL, LB_MEM_NODE, LB_MEM_INTERLEAVE };

struct lb_mem {
	enum lb_mem_kind kind;
	unsigned node;    /* LB_MEM_NODE: its logical index */
	unsigned nnodes;  /* NUMA nodes hwloc sees (at least 1) */
	char name[64];    /* the mem column: --mem as given, or "first-touch" */
};

/* --mem SPEC (NULL: not given) after lb_topo_init.  0, or 2 with a
 * message naming the bad value and the valid choices. */
int lb_mem_resolve(const char *spec, struct lb_mem *m, char *err, size_t errlen);
/* Around a run's setup(): collect the shared objects it allocates, then
 * bind their pages as m says (cpu0: thread 0's CPU, or -1) and write the
 * logical NUMA nodes they are on into nodes (";"-separated).  0, or an
 * errno with a message. */
void lb_mem_track_begin(void);
void lb_mem_track_cancel(void);
int lb_mem_place(const struct lb_mem *m, int cpu0, char *nodes, size_t len, char *err,
		 size_t errlen);

/* ---- event counters (counters.c) ---- */

enum lb_counters_mode { LB_COUNTERS_AUTO, LB_COUNTERS_SOFTWARE, LB_COUNTERS_OFF };

/* Learn, once, which events this machine lets a thread count; c2c_event
 * is the user's libpfm4 name for the c2c column, or NULL for this CPU's
 * own (counters.c's candidates). */
void lb_counters_probe(enum lb_counters_mode mode, const char *c2c_event);
/* 0 if libpfm4 can encode NAME here, else -1 and one usage line in err. */
int lb_counters_c2c_check(const char *name, char *err, size_t len);
const char *lb_counter_name(int ev);
const char *lb_counter_status(int ev); /* "ok", or why not, for meta.json */
int lb_counter_ok(int ev);

/* ---- platform-state probe (probe.c) ---- */

/* Cache-line ping-pong round trip between two PUs, in ns; NaN if a == b or
 * the probe could not run. */
double lb_probe_rtt(int cpu_a, int cpu_b);

/* ---- parsing (cli.c) ---- */

/* "1,2,4-8,pus,2xpus" -> sorted, deduplicated list.  Returns count or -1
 * with a message in err. */
int lb_parse_threads(const char *s, unsigned pus, unsigned *out, unsigned max,
		     char *err, size_t errlen);
/* "0,2,4-7" -> list in the given order (duplicates refused). */
int lb_parse_cpulist(const char *s, int *out, unsigned max, char *err, size_t errlen);
/* Non-negative decimal seconds ("0.5", "2"); -1 with err on failure. */
int lb_parse_seconds(const char *s, double *out);
/* Decimal digits only ("12"): 0, or -1 for anything else. */
int lb_parse_u64(const char *s, uint64_t *out);
/* For "did you mean": the one candidate within a typo's edit distance of
 * s[0..len) (1 for names of up to 4 characters, 2 up to 8, else 3;
 * case-insensitive), or NULL when none is, or when two are equally near.
 * NULL entries of cands are skipped. */
const char *lb_nearest(const char *s, size_t len, const char *const *cands, size_t n);

/* ---- results ---- */

struct lb_row {
	/* keys */
	const char *workload, *kind, *backend, *impl;
	unsigned threads;
	const char *pin;
	char cpus[1024];
	const char *mem;       /* --mem policy, or "first-touch" */
	/* Window totals of the counters, all threads; NaN where not counted. */
	double ev[LB_NEV];
	char mem_nodes[64];    /* NUMA nodes the shared objects were on */
	uint64_t cs_ns, think_ns;
	char param[256];
	unsigned rep;
	int oversubscribed;
	/* In a --param/--cs sweep: the setting's index in the plan (rows sort
	 * by it, in the order given) and its text for messages ("cs=0
	 * depth=2;data=shared"); 0 and "" otherwise. */
	unsigned set;
	char setting[320];
	/* measurements */
	double duration_s;
	uint64_t ops;
	double ops_per_sec, fairness;
	uint64_t thread_ops_min, thread_ops_max;
	double lat_p50_ns, lat_p99_ns, lat_p999_ns, lat_max_ns; /* NaN: no samples */
	uint64_t lat_samples;
	double cpu_s, ops_per_cpu_s;
	uint64_t ctx_voluntary, ctx_involuntary;
	double probe_rtt_ns, probe_rtt_after_ns;
	double lat_floor_ns;   /* the timer's own cost inside every sample */
	double cpu_share;      /* cpu_s / (min(threads, PUs) x duration_s) */
	double cpu_wait_share; /* runnable-but-waiting / (threads x duration_s); NaN: n/a */
	int starved;           /* waited for CPUs beyond what oversubscription explains */
	int has_lost;
	int64_t lost_updates;
	enum lb_verdict verdict;
	double extra[LB_MAX_EXTRA]; /* the workload's own columns; NaN: n/a */
};

struct lb_thread_row {
	unsigned rep, tid;
	int cpu, cpu_at_end;
	uint64_t ops;
	double ops_per_sec;
	double lat_p50_ns, lat_p99_ns, lat_p999_ns, lat_max_ns;
	uint64_t lat_samples;
	double cpu_s;
	uint64_t ctx_voluntary, ctx_involuntary;
	uint64_t warmup_ops; /* ops before the window opened: >= 1 for every thread */
};

const char *lb_verdict_name(enum lb_verdict v);

/* ---- one configuration, one repetition (run.c) ---- */

struct lb_run_cfg {
	const struct lb_workload *wl;
	const struct lb_impl *impl;
	unsigned nthreads;
	const struct lb_pin *pin;
	double duration_s, warmup_s, watchdog_s;
	uint64_t cs_ns, think_ns;
	uint64_t sample_mask;
	unsigned ncpus; /* PUs the threads may use: min(threads, this) can run at once */
	uint64_t param[LB_MAX_PARAMS];
	const struct lb_mem *mem; /* where setup()'s shared objects go */
};

enum lb_run_status { LB_RUN_OK, LB_RUN_ERROR, LB_RUN_STALLED, LB_RUN_INTERRUPTED };

/* Why a run ended early, for stderr, meta.json and report.html. */
#define LB_DIAG_MAX_THREADS 64
struct lb_diag_thread {
	unsigned tid;
	int cpu;
	const char *state;
	uint64_t ops, attempts;
};

struct lb_diag {
	enum lb_diag_kind kind;
	char summary[512];        /* one line */
	char *detail;             /* what was printed (malloc'ed), or NULL */
	unsigned nthreads;        /* entries in threads (at most LB_DIAG_MAX_THREADS) */
	struct lb_diag_thread threads[LB_DIAG_MAX_THREADS];
};

extern volatile int lb_interrupted; /* set by SIGINT/SIGTERM (sweep.c) */

/* Fills row (measurements) and trows[0..nthreads-1].  Prints the reason to
 * stderr for anything but LB_RUN_OK; for LB_RUN_STALLED, also into diag. */
enum lb_run_status lb_run_one(const struct lb_run_cfg *rc, struct lb_row *row,
			      struct lb_thread_row *trows, struct lb_check *chk,
			      struct lb_diag *diag);
/* The workers' window numbers as per-thread rows and one row (the latency
 * percentiles from the weighted merge of every thread's histogram). */
void lb_rows_fill(const struct lb_worker *ws, unsigned n, double dur, unsigned ncpus,
		  struct lb_row *row, struct lb_thread_row *trows);

/* ---- output (output.c, csv.c) ---- */

struct lb_col;

void lb_csv_field(FILE *f, const char *s);
/* What the writers need besides the rows: the run's identity (run_id and
 * host open every table, so tables of several machines concatenate) and
 * the workload's own result columns (at most LB_MAX_EXTRA), appended to
 * results.csv and summary.csv. */
struct lb_sink {
	const char *run_id, *host, *cpu_model;
	unsigned pus;
	const char *const *extras;
	unsigned n_extra;
};
/* extras: NULL-terminated, or NULL for none. */
struct lb_sink lb_sink_make(const char *run_id, const char *host, const char *cpu_model,
			    unsigned pus, const char *const *extras);
void lb_results_header(FILE *f, const struct lb_sink *s);
void lb_results_row(FILE *f, const struct lb_sink *s, const struct lb_row *r);
void lb_threads_header(FILE *f, const struct lb_sink *s);
void lb_threads_row(FILE *f, const struct lb_sink *s, const struct lb_row *r,
		    const struct lb_thread_row *t);

enum lb_metric {
	LB_M_OPS_PER_SEC, LB_M_OPS_PER_CPU_S, LB_M_FAIRNESS, LB_M_THREAD_OPS_MIN,
	LB_M_THREAD_OPS_MAX, LB_M_LAT_P50, LB_M_LAT_P99, LB_M_LAT_P999, LB_M_LAT_MAX,
	LB_M_CPU_S, LB_M_CTX_VOL, LB_M_CTX_INVOL, LB_M_PROBE, LB_M_DURATION, LB_M_LAT_FLOOR,
	LB_M_CPU_SHARE, LB_M_CPU_WAIT, LB_M_COUNT
};
extern const char *const lb_metric_names[LB_M_COUNT];

/* One summary per configuration (all repetitions of it). */
struct lb_summary {
	const struct lb_row *first;
	unsigned reps;
	struct lb_stat st[LB_M_COUNT]; /* indexed by enum lb_metric */
	struct lb_stat xst[LB_MAX_EXTRA]; /* the workload's own columns */
	int64_t lost_total;     /* signed: duplicated items count negative */
	unsigned starved_reps;  /* repetitions flagged starved */
	int has_lost;
	enum lb_verdict verdict;
	/* Its place within its kind (and workload, param, cs, think, pin) by
	 * ops/s at rank_threads, the largest thread count of the kind's rows
	 * that is not oversubscribed (the PU count in the default sweep): 1 is
	 * the fastest.  0: not ranked (the controls none-noop and none-racy,
	 * a failed check, or no row at rank_threads).  Every row of an
	 * implementation carries its rank. */
	unsigned rank, rank_threads;
};



/* What most likely made a configuration's repetitions vary (CV > 10%):
 * the threads did not get their CPUs (starved, or a CPU share that moved),
 * the placement changed (the probe round trip moved by more than 1.5x),
 * or neither.  LB_NOISE_NONE when it did not vary. */
enum lb_noise { LB_NOISE_NONE, LB_NOISE_CPU, LB_NOISE_PLACEMENT, LB_NOISE_OTHER, LB_NOISE_COUNT };
enum lb_noise lb_summary_noise(const struct lb_summary *s);
/* The summary.csv / JSON word: "" (not noisy), cpu, placement, other. */
const char *lb_noise_name(enum lb_noise v);

/* Group rows by configuration and rank them (lb_summary.rank); sorted by
 * workload, kind in registry order, rank (unranked last), impl, threads. */
size_t lb_summarize(const struct lb_sink *sk, const struct lb_row *rows, size_t n,
		    struct lb_summary **out);
void lb_summary_write_csv(FILE *f, const struct lb_sink *sk, const struct lb_summary *s,
			  size_t n);
void lb_summary_write_table(FILE *f, const struct lb_summary *s, size_t n, double floor_ns);
struct lb_meta_in;
/* --format json: one object in google benchmark's layout (results/README):
 * "context" (its fields, plus meta.json's object as "lockbench"), and
 * "benchmarks": every repetition (run_type iteration), then each
 * configuration's medians (run_type aggregate) with the summary's
 * statistics. */
#define LB_JSON_SCHEMA 2
void lb_write_json(FILE *f, const struct lb_sink *sk, const struct lb_meta_in *m,
		   const struct lb_row *rows, size_t nrows, const struct lb_summary *s, size_t n);

/* ---- metadata (meta.c) ---- */

/* A failed check, for meta.json and report.html. */
struct lb_failure {
	const char *impl;
	unsigned threads, rep;
	char setting[320];  /* the sweep's setting, or "" */
	char msg[256];
};

struct lb_meta_in {
	const char *run_id, *host, *out_dir, *command_line;
	const char *restriction;         /* "" or the CPUs the run was limited to */
	const char *const *extra_cols;   /* the workload's own columns (NULL-terminated) */
	const char *noise;               /* one line on what made results noisy, or NULL */
	const struct lb_diag *diag;      /* why the run ended early, or NULL */
	const struct lb_failure *failures;
	size_t nfailures;
	const char *const *files;        /* files written so far, NULL-terminated */
	const char *workload, *impls, *threads, *pin, *mem, *format;
	double duration_s, warmup_s, watchdog_s;
	unsigned repeat;
	uint64_t cs_ns, think_ns, cs_iters, think_iters, seed, sample_period;
	const char *params;
	const char *sweep;               /* "cs=0,100;depth=1,2": the lists swept, or "" */
	int finished, interrupted, stalled, failed;
	double started_unix, finished_unix;
	size_t rows;
};
/* dir/meta.json, atomically (files.c).  0 or errno (reported). */
int lb_meta_write(const char *dir, const struct lb_meta_in *m);
/* meta.json's object (a new reference), for --format json's context. */
struct json_t;
struct json_t *lb_meta_object(const struct lb_meta_in *m);

#endif
