/* The sweep (sweep.c): runs a plan, every configuration and repetition,
 * and hands back what happened as a value: the rows, the failed checks,
 * and why it ended early, if it did.
 *
 *   options (options.c) -> plan (plan.c) -> sweep (here) -> sinks (sinks.c)
 *
 * Repetitions outermost, implementations innermost (A B C A B C ...), so
 * that machine drift hits every implementation alike.  Rows stream to
 * results.csv and threads.csv as they complete, so a run that is
 * interrupted or stalls keeps them.  Progress goes to stderr; nothing to
 * stdout. */
#ifndef LB_SWEEP_H
#define LB_SWEEP_H

#include <stddef.h>

#include "files.h"
#include "lockbench.h"
#include "plan.h"

#define LB_SWEEP_MAX_FAILURES 64 /* kept for meta.json; the rest only on stderr */

struct lb_sweep {
	/* the result */
	struct lb_row *rows;    /* the completed rows, in the order they ran */
	size_t nrows;
	size_t done;            /* runs attempted, completed or not */
	struct lb_failure failures[LB_SWEEP_MAX_FAILURES]; /* the first failed checks */
	size_t nfailures;
	struct lb_diag diag;    /* why the run ended early, or its first failed check */
	int failed;             /* a check failed, or a run or a write did */
	int stopped;            /* the sweep ended before the plan did */
	int write_error;        /* a result file could not be written (said on stderr) */
	/* where the rows go */
	struct lb_sink sink;    /* what every table's rows are written with */
	struct lb_stream results, threads;
	struct lb_thread_row *trows; /* one run's per-thread rows */
};

/* Room for every run of the plan, rows written with sink; NULL when out
 * of memory. */
struct lb_sweep *lb_sweep_new(const struct lb_plan *c, struct lb_sink sink);
void lb_sweep_free(struct lb_sweep *sw);

/* results.csv and threads.csv in dir, with their headers, as .partial
 * files until the sweep completes them: 0, or non-zero (reported). */
int lb_sweep_open(struct lb_sweep *sw, const char *dir);

/* Say on stderr what is about to run, run it, and complete the two files
 * (or remove them, after a write error).  The pin, the memory placement
 * and meta (the run's identity, --cs, --think) complete the plan. */
void lb_sweep_run(struct lb_sweep *sw, const struct lb_plan *c, const struct lb_pin *pin,
		  const struct lb_mem *mem, const struct lb_meta_in *meta);

/* A failed check of row r: kept (the first LB_SWEEP_MAX_FAILURES), and
 * the diagnosis unless the sweep already has one. */
void lb_sweep_note_failure(struct lb_sweep *sw, const struct lb_row *r, const char *msg);

/* SIGINT and SIGTERM: the handler records the signal and sets
 * lb_interrupted, nothing more (async-signal-safe).  The run in progress
 * ends early and the sweep stops, keeping the rows it completed. */
void lb_sweep_catch_signals(void);
/* The signal that set lb_interrupted (SIGINT if none did). */
int lb_sweep_signal(void);

#endif
