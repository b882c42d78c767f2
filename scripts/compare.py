#!/usr/bin/env python3
"""compare.py: compare lockbench runs, on one host (before/after) or across hosts.

    ./bench compare DIR1 DIR2 [DIR3 ...] [--out DIR] [--no-plot]
                    [--format table|csv|markdown|json] [--impl LIST] [--threads LIST] [--changed]

Each DIR is a run directory (results.csv, summary.csv, meta.json). The first
is the baseline. Configurations are matched on (workload, impl, threads,
cs_ns, think_ns, param, pin); one present in only some runs is noted on
stderr and skipped.

Printed (stdout):
  1. for every run after the baseline and every configuration: the ratio of
     median ops/s (run / baseline; medians of the repetitions in
     results.csv, which must agree with summary.csv's), a 95% percentile-
     bootstrap confidence interval of that ratio of medians (2000 resamples
     of the repetitions, seeded: the same input gives the same interval) as
     the size of the effect, the two-sided Mann-Whitney U p-value on the
     repetitions and a verdict;
  2. the normalised view: each run's ops/s divided by the same run's
     reference at the same configuration (pthread-mutex for the mutex-like
     kinds; otherwise the kind's pthread implementation), so platforms of
     different absolute speed compare.
With --format csv both go out as one tidy CSV table instead.

The verdict, and its real error rate:
  real   the U test gives p <= 0.05 (two-sided);
  noise  it does not;
  n/a    fewer than 5 repetitions on a side: no verdict is given.
The test is exact - the null distribution of U counted, not approximated -
except in two cases where the normal approximation (tie- and continuity-
corrected) is used: tied values with more than 20 repetitions on a side,
and untied values where counting would cost more than n*m*min(n,m) = 10^6
(beyond about 100 a side). Because U is discrete, the exact test's real
false-positive rate - the chance of "real" when both runs come from one
distribution - is below 0.05 and depends on the repetition counts: 3.2% at
5 vs 5, 4.5% at 5 vs 8, 4.1% at 6 vs 6, 4.3% at 10 vs 10, 4.9% at 20 vs 20
(about 5% where the approximation is used). The footer prints it for the
counts at hand (false_positive_rate; csv column fp_rate);
tests/test_compare_stats.py checks it by enumeration and by simulation.
Ties (equal ops/s in two repetitions, rare) make the exact test
conditional on them; its rate stays at most 0.05.
Why 5: with 3 a side the smallest p the test can reach is 0.10, and the
bootstrap interval of the ratio is exactly [min/max, max/min], so "it
excludes 1" means "the triples do not overlap", which happens 10% of the
time with no difference at all. With 4 a side only complete separation is
significant; 5 is the least that gives the test a range of outcomes.

Plots (gnuplot, PNG and SVG, into --out, default results/compare-<time>/):
compare-throughput (one panel per run, same axes), compare-normalised and
compare-ratio (run / baseline with the bootstrap CI; a panel per run after
the baseline and kind, by compare-ratio.gp); compare.csv beside
them. All are made in a scratch directory inside the output directory,
checked complete (a PNG ends with its IEND chunk, an SVG with </svg>:
gnuplot exits 0 on a full disk) and renamed into place, so each appears
whole or not at all. Text from the runs (hosts, CPU models, run ids,
implementations, parameters, pins) goes into gnuplot only as single-quoted
literals, which gnuplot does not expand; a control character in any cell
(a line break would end the literal) is refused as a data error.

Exit status: 0 compared; 2 usage or data error (one line on stderr naming
the file and line); 1 the plots could not be drawn or written (one line
naming the file; the tables are printed).

The work is done in sibling modules: lbrun.py reads the run directories,
lbcompare.py matches and computes, lbcompare_text.py prints the table and
the CSV, lbcompare_plot.py draws; the statistics are lbstats.py's.

Python 3 standard library only.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lbcommon import BadInput, Failed, exit_on_signals  # noqa: E402
from lbcompare import ME, Comparison, Run, note, selector  # noqa: E402
from lbcompare_plot import make_plots  # noqa: E402
from lbcompare_text import print_markdown, print_table, write_csv, write_json  # noqa: E402
from lbrun import workload_of  # noqa: E402
from lbstats import median  # noqa: E402,F401  (tests reach it as compare.median)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_out():
    base = os.path.join(ROOT, "results", "compare-" + time.strftime("%Y%m%d-%H%M%S"))
    out, i = base, 2
    while os.path.exists(out):
        out, i = "%s-%d" % (base, i), i + 1
    return out


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="./bench compare",
        description="Compare lockbench run directories: the first is the baseline.",
        epilog="Exit status: 0 compared; 1 plots failed; 2 usage or data error.")
    ap.add_argument("dirs", nargs="+", metavar="DIR",
                    help="run directories (results.csv, summary.csv, meta.json)")
    ap.add_argument("--out", metavar="DIR",
                    help="where the plots and compare.csv go (default: "
                         "results/compare-<time>/ under the repository)")
    ap.add_argument("--no-plot", action="store_true", help="print the tables only")
    ap.add_argument("--format", choices=("table", "csv", "markdown", "json"), default="table",
                    help="what goes to stdout (default: table; markdown: for a pull request "
                         "or a paper draft)")
    ap.add_argument("--impl", metavar="LIST",
                    help="compare only these: ids, backends, kinds or globs (ck-*), "
                         "comma-separated, as lockbench's --impl")
    ap.add_argument("--threads", metavar="LIST",
                    help="compare only these thread counts (comma-separated)")
    ap.add_argument("--changed", action="store_true",
                    help="list only the configurations a verdict calls real (the Overall "
                         "section still counts all)")
    a = ap.parse_args(argv)
    if a.threads is not None:
        try:
            a.thread_set = {int(t) for t in a.threads.split(",")}
            if min(a.thread_set) < 1:
                raise ValueError
        except ValueError:
            ap.error("--threads: '%s' is not a list of thread counts (e.g. 1,2,4)" % a.threads)
    if len(a.dirs) < 2:
        ap.error("need at least two run directories (the first is the baseline), got 1: %s"
                 % a.dirs[0])
    return a


def resolve_dirs(dirs):
    """A platform directory (results/reference/<platform>: one run directory
    per workload inside, no summary.csv of its own) stands for its run of the
    workload the plain run directories on the command line have."""
    def is_platform(d):
        return (os.path.isdir(d) and not os.path.exists(os.path.join(d, "summary.csv"))
                and any(os.path.isfile(os.path.join(d, e, "summary.csv"))
                        for e in os.listdir(d)))
    plain = [d for d in dirs if not is_platform(d)]
    if len(plain) == len(dirs):
        return dirs
    if not plain:
        raise BadInput("%s: platform directories only; give at least one run directory "
                        "so the workload is known" % ", ".join(dirs))
    wl = workload_of(plain[0])
    if wl is None:
        raise BadInput("%s: summary.csv has no rows, so the workload to take from the platform "
                       "director%s (%s) is unknown" % (
                           plain[0], "ies" if len(dirs) - len(plain) > 1 else "y",
                           ", ".join(d for d in dirs if is_platform(d))))
    out = []
    for d in dirs:
        if not is_platform(d):
            out.append(d)
            continue
        subs = sorted(e for e in os.listdir(d)
                      if os.path.isfile(os.path.join(d, e, "summary.csv")))
        match = [e for e in subs if workload_of(os.path.join(d, e)) == wl]
        if not match:
            raise BadInput("%s: no run of workload %s in this platform directory (it has: %s)"
                            % (d, wl, ", ".join(subs)))
        note("%s: using %s for workload %s" % (d, match[0], wl))
        out.append(os.path.join(d, match[0]))
    return out


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    exit_on_signals()
    try:
        runs = [Run(i, d) for i, d in enumerate(resolve_dirs(a.dirs))]
        by_impl = selector(a.impl, runs[0].configs) if a.impl else None
        keep = None
        if by_impl or a.threads is not None:
            keep = lambda k, conf: ((not by_impl or by_impl(k, conf)) and
                                    (a.threads is None or k[2] in a.thread_set))
        cmp = Comparison(runs, keep, a.changed)
    except BadInput as e:
        print("%s: error: %s" % (ME, e), file=sys.stderr)
        return 2
    if a.format == "csv":
        write_csv(cmp, sys.stdout)
    elif a.format == "markdown":
        print_markdown(cmp, sys.stdout)
    elif a.format == "json":
        write_json(cmp, sys.stdout)
    else:
        print_table(cmp, sys.stdout)
    sys.stdout.flush()
    if a.no_plot:
        return 0
    outdir = a.out or default_out()
    try:
        written = make_plots(cmp, outdir)
    except BadInput as e:
        print("%s: error: %s" % (ME, e), file=sys.stderr)
        return 2
    except (RuntimeError, Failed) as e:
        print("%s: %s" % (ME, e), file=sys.stderr)
        return 1
    print("%s: wrote %s in %s" % (
        ME, " ".join(os.path.basename(w) for w in written), outdir), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
