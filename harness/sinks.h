/* The sinks (sinks.c): where a run's results go once the sweep is over.
 *
 *   options (options.c) -> plan (plan.c) -> sweep (sweep.c) -> sinks (here)
 *
 * The formats are output.c's (the tables) and meta.c's (meta.json); this
 * is the order they are written in and what is said about them. */
#ifndef LB_SINKS_H
#define LB_SINKS_H

#include "lockbench.h"
#include "sweep.h"

/* summary.csv, the summary on stdout in meta->format (table, csv or
 * json), the noise warning, meta.json finished (from meta, the one
 * written when the run began, and the sweep's outcome), the plots and
 * report.html (not with no_plot, after an interruption or after a write
 * error), and the closing lines on stderr: what was written, where, and
 * the diagnosis.  A write error or a missing plot is recorded in sw.
 * Returns non-zero when the run is not a clean, complete one: a check
 * failed, it stalled, or a file is missing. */
int lb_sinks_finish(struct lb_sweep *sw, const struct lb_meta_in *meta, int no_plot, int quiet);

/* scripts/plot.sh on dir: 0 when every plot and report.html was made;
 * a failure is reported on stderr. */
int lb_plot_dir(const char *dir);

/* The files of run directory dir that exist, NULL-terminated, in the
 * order the closing line names them: the data files, report.html, the
 * PNG plots (*nplots of them).  The names point into a static buffer,
 * good until the next call. */
const char **lb_written_files(const char *dir, unsigned *nplots);

/* The closing line's list of files: the names but the PNGs, then the
 * plot count, or "no plots" with why not (no_plots, may be NULL). */
void lb_files_listing(const char *const *files, unsigned nplots, const char *no_plots,
		      char *buf, size_t len);

#endif
