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

#define LB_MAX_THREADS 1024

/* ---- topology and placement (topo.c) ---- */

enum lb_pin_kind { LB_PIN_COMPACT, LB_PIN_SCATTER, LB_PIN_CORES, LB_PIN_NONE, LB_PIN_LIST };

struct lb_pin {
	enum lb_pin_kind kind;
	char name[256];   /* as given: "compact", ..., or the CPU list text */
	int *cpus;        /* OS indexes in placement order; NULL for none */
	unsigned ncpus;
};

struct lb_topo_info {
	unsigned pus, cores, packages, numa_nodes;
	unsigned smt;     /* PUs per core (max) */
	char cpu_model[256];
	char summary[256];
	uint64_t cache_bytes[4]; /* L1d..L3 size per instance, 0 if unknown */
};

int lb_topo_init(void);
void lb_topo_fini(void);
const struct lb_topo_info *lb_topo(void);
/* Resolve a policy name or CPU list.  On error returns 2 and writes a
 * message naming the bad value and the valid choices into err. */
int lb_pin_resolve(const char *spec, struct lb_pin *pin, char *err, size_t errlen);
void lb_pin_free(struct lb_pin *pin);
/* The OS indexes of all usable PUs, in compact order. */
unsigned lb_topo_pus(int *out, unsigned max);
/* Pin the calling thread to one PU.  0 or errno. */
int lb_pin_self(int cpu);
unsigned lb_topo_cluster_of(int cpu);
unsigned lb_topo_nclusters(void);
void lb_topo_print(FILE *f);

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
int lb_parse_u64(const char *s, uint64_t *out);

/* ---- results ---- */

struct lb_row {
	/* keys */
	const char *workload, *kind, *backend, *impl;
	unsigned threads;
	const char *pin;
	char cpus[1024];
	uint64_t cs_ns, think_ns;
	char param[256];
	unsigned rep;
	int oversubscribed;
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
	const char *param_vals[LB_MAX_PARAMS];
};

enum lb_run_status { LB_RUN_OK, LB_RUN_ERROR, LB_RUN_STALLED, LB_RUN_INTERRUPTED };

extern volatile int lb_interrupted; /* set by SIGINT/SIGTERM */

/* Fills row (measurements) and trows[0..nthreads-1].  Prints the reason to
 * stderr for anything but LB_RUN_OK. */
enum lb_run_status lb_run_one(const struct lb_run_cfg *rc, struct lb_row *row,
			      struct lb_thread_row *trows, struct lb_check *chk);

/* ---- output (output.c, csv.c) ---- */

struct lb_col;

void lb_csv_field(FILE *f, const char *s);
/* The workload's own result columns (NULL-terminated, at most
 * LB_MAX_EXTRA), appended to results.csv and summary.csv. */
void lb_output_set_extras(const char *const *names);
/* Writes one CSV line from printf-formatted cells already escaped. */
void lb_results_header(FILE *f);
void lb_results_row(FILE *f, const struct lb_row *r, const char *run_id, const char *host,
		    const char *cpu_model, unsigned pus);
void lb_threads_header(FILE *f);
void lb_threads_row(FILE *f, const struct lb_row *r, const struct lb_thread_row *t);

/* One summary per configuration (all repetitions of it). */
struct lb_summary {
	const struct lb_row *first;
	unsigned reps;
	struct lb_stat st[16]; /* indexed by enum lb_metric */
	struct lb_stat xst[LB_MAX_EXTRA]; /* the workload's own columns */
	uint64_t lost_total;
	int has_lost;
	enum lb_verdict verdict;
};

enum lb_metric {
	LB_M_OPS_PER_SEC, LB_M_OPS_PER_CPU_S, LB_M_FAIRNESS, LB_M_THREAD_OPS_MIN,
	LB_M_THREAD_OPS_MAX, LB_M_LAT_P50, LB_M_LAT_P99, LB_M_LAT_P999, LB_M_LAT_MAX,
	LB_M_CPU_S, LB_M_CTX_VOL, LB_M_CTX_INVOL, LB_M_PROBE, LB_M_DURATION, LB_M_COUNT
};
extern const char *const lb_metric_names[LB_M_COUNT];

/* Group rows by configuration, sorted by series (impl) then threads. */
size_t lb_summarize(const struct lb_row *rows, size_t n, struct lb_summary **out);
void lb_summary_write_csv(FILE *f, const struct lb_summary *s, size_t n, unsigned pus);
void lb_summary_write_table(FILE *f, const struct lb_summary *s, size_t n, double floor_ns);
void lb_summary_write_json(FILE *f, const struct lb_summary *s, size_t n);

/* ---- metadata (meta.c) ---- */

struct lb_meta_in {
	const char *run_id, *host, *out_dir, *command_line;
	const char *workload, *impls, *threads, *pin, *format;
	double duration_s, warmup_s, watchdog_s;
	unsigned repeat;
	uint64_t cs_ns, think_ns, cs_iters, think_iters, seed, sample_period;
	const char *params;
	int finished, interrupted, stalled, failed;
	double started_unix, finished_unix;
	size_t rows;
};
int lb_meta_write(const char *path, const struct lb_meta_in *m);

#endif
