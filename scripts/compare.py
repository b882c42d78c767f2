#!/usr/bin/env python3
"""compare.py: compare lockbench runs, on one host (before/after) or across hosts.

    ./bench compare DIR1 DIR2 [DIR3 ...] [--out DIR] [--no-plot] [--format table|csv]

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
compare-ratio (run / baseline with the bootstrap CI); compare.csv beside
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

Python 3 standard library only.
"""
import argparse
import csv
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lbcommon import (CLEANUP_SIGNALS, CONTROL, BadInput, Failed,  # noqa: E402
                      dec_hi, dec_lo, exit_on_signals, gq, incomplete, publish, si,
                      write_file)
from lbstats import (ALPHA, EXACT_MAX, MIN_REPS, RESAMPLES, SEED,  # noqa: E402
                     bootstrap_ratio_ci, false_positive_rate, mann_whitney_p, median,
                     significance)

ME = "compare"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SCRIPTS)

# What a configuration is, in both results.csv and summary.csv.
KEY_COLS = ("workload", "impl", "threads", "cs_ns", "think_ns", "param", "pin")
# Key columns other than impl and threads: shown only when they vary.
SETTING_COLS = ("workload", "cs_ns", "think_ns", "param", "pin")

RESULTS_REQUIRED = ("run_id", "host", "cpu_model", "pus", "workload", "kind", "backend",
                    "impl", "threads", "pin", "cs_ns", "think_ns", "param", "rep",
                    "ops_per_sec")
SUMMARY_REQUIRED = ("workload", "kind", "backend", "impl", "threads", "pus", "pin",
                    "cs_ns", "think_ns", "param", "reps", "ops_per_sec_median",
                    "ops_per_sec_ci_lo", "ops_per_sec_ci_hi")
# Numbers that must be present / numbers that may be empty ("does not apply").
RESULTS_NUM = ("threads", "cs_ns", "think_ns", "rep")
RESULTS_NUM_OPT = ("pus", "ops_per_sec")
SUMMARY_NUM = ("threads", "cs_ns", "think_ns")
SUMMARY_NUM_OPT = ("pus", "reps", "ops_per_sec_median", "ops_per_sec_ci_lo",
                   "ops_per_sec_ci_hi", "ci_level", "probe_rtt_ns_median")

PROBE_FACTOR = 1.5      # flag a row whose platform probe moved more than this
# Kinds the mutex workloads (counter, trylock) drive as an exclusive lock: their
# reference is pthread-mutex when it ran at the same configuration.
MUTEX_LIKE = ("mutex", "recursive", "semaphore", "rwlock", "counter", "none")
MUTEX_REF = "pthread-mutex"




def note(msg):
    print("%s: note: %s" % (ME, msg), file=sys.stderr)


# ---------------------------------------------------------------- reading

def parse_num(path, lineno, col, s, optional):
    """A cell as a finite float; None when empty and optional."""
    if s == "":
        if optional:
            return None
        raise BadInput("%s line %d: column %s is empty, a number is required"
                        % (path, lineno, col))
    try:
        v = float(s)
    except ValueError:
        v = None
    if v is None or math.isnan(v) or math.isinf(v):
        raise BadInput("%s line %d: column %s is %r, not a number" % (path, lineno, col, s))
    return v


def read_csv(path, required, num, num_opt):
    """[(lineno, row dict)] of a CSV file, every check done."""
    if not os.path.exists(path):
        raise BadInput("%s: no such file (not a lockbench run directory?)" % path)
    try:
        with open(path, newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e))
    reader = csv.reader(io.StringIO(text))
    header = None
    rows = []
    next_line = 1
    try:
        for rec in reader:
            # A quoted cell may span lines: name the line its record starts on.
            lineno, next_line = next_line, reader.line_num + 1
            for i, cell in enumerate(rec):
                bad = CONTROL.search(cell)
                if bad:
                    col = ("column %s" % header[i] if header and i < len(header)
                           else "field %d" % (i + 1))
                    raise BadInput("%s line %d: %s holds the control character %r;"
                                    " refused (it could end a gnuplot command)"
                                    % (path, lineno, col, bad.group()))
            if header is None:
                if not rec or rec == [""]:
                    raise BadInput("%s line %d: empty, expected the header" % (path, lineno))
                header = [h.strip() for h in rec]
                for c in required:
                    if c not in header:
                        raise BadInput('%s line %d: no column "%s" in the header'
                                        % (path, lineno, c))
                continue
            if not rec:
                continue  # blank line
            if len(rec) != len(header):
                raise BadInput("%s line %d: %d fields, the header (line 1) has %d"
                                % (path, lineno, len(rec), len(header)))
            row = dict(zip(header, rec))
            for c in num:
                row[c + "#"] = parse_num(path, lineno, c, row[c], False)
            for c in num_opt:
                if c in row:
                    row[c + "#"] = parse_num(path, lineno, c, row[c], True)
            rows.append((lineno, row))
    except csv.Error as e:
        raise BadInput("%s line %d: %s" % (path, reader.line_num, e))
    if header is None:
        raise BadInput("%s line 1: empty file, no header" % path)
    return rows


def read_meta(path):
    if not os.path.exists(path):
        note("%s: no such file; host, CPU and PUs from results.csv" % path)
        return {}
    try:
        with open(path) as fh:
            meta = json.load(fh)
    except json.JSONDecodeError as e:
        raise BadInput("%s line %d: not valid JSON: %s" % (path, e.lineno, e.msg))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e))
    if not isinstance(meta, dict):
        raise BadInput("%s line 1: not a JSON object" % path)
    # The strings compare may show or plot.
    plat = meta.get("platform") if isinstance(meta.get("platform"), dict) else {}
    for what, v in (("host", meta.get("host")), ("run_id", meta.get("run_id")),
                    ("platform.cpu_model", plat.get("cpu_model"))):
        bad = CONTROL.search(v) if isinstance(v, str) else None
        if bad:
            raise BadInput("%s: %s holds the control character %r; refused (it could end"
                            " a gnuplot command)" % (path, what, bad.group()))
    return meta


def fmt_num(v):
    """A key number as text: 0, 100, 2.5."""
    return "%d" % v if v == int(v) else "%g" % v


def row_key(row):
    return (row["workload"], row["impl"], int(row["threads#"]), row["cs_ns#"],
            row["think_ns#"], row["param"], row["pin"])


class Run:
    """One run directory: its configurations, their medians and repetitions."""

    def __init__(self, index, path):
        self.index = index
        self.path = path
        if not os.path.exists(path):
            raise BadInput("%s: no such directory" % path)
        if not os.path.isdir(path):
            raise BadInput("%s: not a directory (give run directories)" % path)
        spath = os.path.join(path, "summary.csv")
        rpath = os.path.join(path, "results.csv")
        self.summary_path = spath
        srows = read_csv(spath, SUMMARY_REQUIRED, SUMMARY_NUM, SUMMARY_NUM_OPT)
        rrows = read_csv(rpath, RESULTS_REQUIRED, RESULTS_NUM, RESULTS_NUM_OPT)
        meta = read_meta(os.path.join(path, "meta.json"))
        platform = meta.get("platform") if isinstance(meta.get("platform"), dict) else {}

        if not srows:
            raise BadInput("%s: header only, no configurations" % spath)

        # Configurations, in summary.csv's order (series, then threads).
        self.configs = {}     # key -> summary row
        self.order = []
        seen = {}
        for lineno, row in srows:
            k = row_key(row)
            if k in seen:
                raise BadInput("%s line %d: configuration %s repeats line %d"
                                % (spath, lineno, describe_key(k), seen[k]))
            seen[k] = lineno
            self.configs[k] = row
            self.order.append(k)
        self.workloads = []
        for k in self.order:
            if k[0] not in self.workloads:
                self.workloads.append(k[0])

        # Repetitions from results.csv.
        self.reps = {}
        for lineno, row in rrows:
            if row["ops_per_sec#"] is not None:
                self.reps.setdefault(row_key(row), []).append(row["ops_per_sec#"])

        first = rrows[0][1] if rrows else {}
        self.host = first.get("host") or meta.get("host") or "unknown-host"
        self.cpu = first.get("cpu_model") or platform.get("cpu_model") or "unknown CPU"
        self.run_id = first.get("run_id") or meta.get("run_id") or os.path.basename(
            os.path.normpath(path))
        pus = first.get("pus#")
        if pus is None:
            pus = next((r["pus#"] for r in self.configs.values() if r.get("pus#")), None)
        if pus is None and isinstance(platform.get("pus"), (int, float)):
            pus = platform["pus"]
        self.pus = int(pus) if pus else 0
        self.label = self.host

        # The run's median per configuration: that of its repetitions in
        # results.csv, the same values the CI and the U test use; summary.csv's
        # where results.csv has none. The two must agree (a note if not).
        self.median = {}
        for k, row in self.configs.items():
            m = row["ops_per_sec_median#"]
            reps = self.reps.get(k)
            if reps:
                rm = median(reps)
                if m is not None and abs(rm - m) > max(0.1, 1e-6 * abs(m)):
                    note("%s: %s: median ops_per_sec %s from results.csv, %s in summary.csv;"
                         " using results.csv's" % (path, describe_key(k), rm, m))
                m = rm
            self.median[k] = m

    def nreps(self, k):
        return len(self.reps.get(k, ()))

    def probe(self, k):
        return self.configs[k].get("probe_rtt_ns_median#")


def describe_key(k, skip=()):
    parts = []
    for n, v in zip(KEY_COLS, k):
        if n in skip:
            continue
        if n in ("cs_ns", "think_ns"):
            v = fmt_num(v)
        parts.append(str(v) if n in ("workload", "impl") else "%s=%s" % (n, v))
    return " ".join(parts)


# ---------------------------------------------------------------- comparing

def reference_impl(run, k):
    """The implementation run k is normalised by, or None."""
    row = run.configs[k]
    kind = row["kind"]
    rest = k[2:]
    if kind in MUTEX_LIKE and (k[0], MUTEX_REF) + rest in run.configs:
        return MUTEX_REF
    cands = sorted(r["impl"] for kk, r in run.configs.items()
                   if kk[0] == k[0] and kk[2:] == rest and r["kind"] == kind
                   and r["backend"] == "pthread")
    return cands[0] if cands else None


def normalised(run, k):
    ref = reference_impl(run, k)
    if ref is None:
        return None, None
    rk = (k[0], ref) + k[2:]
    num, den = run.median.get(k), run.median.get(rk)
    if num is None or not den:
        return None, ref
    return num / den, ref


class Row:
    """One configuration of one run after the baseline, against the baseline."""

    def __init__(self, base, run, k):
        self.key = k
        self.run = run
        b, r = base.median.get(k), run.median.get(k)
        self.base_ops, self.ops = b, r
        self.ratio = r / b if (b and r is not None) else None
        bx, rx = base.reps.get(k, []), run.reps.get(k, [])
        self.n_base, self.n_run = len(bx), len(rx)
        self.ci = bootstrap_ratio_ci(bx, rx) if self.ratio is not None else None
        self.p = mann_whitney_p(bx, rx)
        # The verdict is the U test's, whose error rate is known; the CI
        # only sizes the effect (with 3 a side it is [min/max, max/min],
        # and "excludes 1" happens 10% of the time with no difference).
        if self.ratio is None or self.p is None:
            self.verdict, self.fp_rate = "n/a", None
        else:
            self.verdict, self.fp_rate = significance(bx, rx, self.p)
        pb, pr = base.probe(k), run.probe(k)
        self.probe_moved = bool(pb and pr and max(pb, pr) / min(pb, pr) > PROBE_FACTOR)


class Comparison:
    def __init__(self, runs):
        self.runs = runs
        self.base = runs[0]
        base = self.base
        for r in runs[1:]:
            if r.workloads != base.workloads:
                raise BadInput(
                    "workloads differ: %s (the baseline) ran %s, %s ran %s; compare runs of "
                    "the same workload" % (base.path, ",".join(base.workloads), r.path,
                                           ",".join(r.workloads)))
        label_runs(runs)

        # Common configurations in the baseline's order; the rest noted.
        union = []
        seen = set()
        for r in runs:
            for k in r.order:
                if k not in seen:
                    seen.add(k)
                    union.append(k)
        self.common = [k for k in union if all(k in r.configs for r in runs)]
        # Grouped: one note per set of runs and settings, listing each
        # implementation's thread counts.
        partial = {}
        settings = {k[:1] + k[3:] for k in union}
        for k in union:
            where = tuple(i for i, r in enumerate(runs) if k in r.configs)
            if len(where) < len(runs):
                impls = partial.setdefault((where, k[:1] + k[3:]), {})
                impls.setdefault(k[1], []).append(k[2])
        for (where, st), impls in partial.items():
            by_threads = {}
            for impl, threads in impls.items():
                by_threads.setdefault(tuple(sorted(threads)), []).append(impl)
            what = "; ".join("%s at threads=%s" % (", ".join(i), ",".join(map(str, t)))
                             for t, i in by_threads.items())
            if len(settings) > 1:
                what = "(%s) %s" % (describe_key(st[:1] + (None, None) + st[1:],
                                                 skip=("impl", "threads")), what)
            note("skipped, only in %s: %s" % (
                ", ".join("run %d (%s)" % (i + 1, runs[i].label) for i in where), what))
        if not self.common:
            raise BadInput("no configuration common to all runs (%s): nothing to compare"
                            % ", ".join(r.path for r in runs))
        for k in self.common:
            for r in runs:
                if r.configs[k].get("verified") == "fail":
                    note("%s: a check failed in run %d (%s, verified=fail); compared anyway"
                         % (describe_key(k), r.index + 1, r.label))

        self.rows = {(r.index, k): Row(base, r, k) for r in runs[1:] for k in self.common}
        self.norm = {(r.index, k): normalised(r, k) for r in runs for k in r.order}
        # Settings that vary are shown as columns; the rest once in the header.
        self.varying = [c for i, c in zip((0, 3, 4, 5, 6), SETTING_COLS)
                        if len({k[i] for k in self.common}) > 1]
        self.fixed = [(c, self.common[0][i]) for i, c in zip((0, 3, 4, 5, 6), SETTING_COLS)
                      if c not in self.varying]


def label_runs(runs):
    """Series labels: the host; the run id where hosts repeat; #N if that repeats too."""
    hosts = [r.host for r in runs]
    for r in runs:
        if hosts.count(r.host) == 1:
            r.label = r.host
        else:
            same = [o.run_id for o in runs if o.host == r.host]
            r.label = r.run_id if same.count(r.run_id) == 1 else "%s#%d" % (r.host, r.index + 1)


# ---------------------------------------------------------------- printing

def fmt_ratio(v):
    if v is None:
        return "-"
    if math.isinf(v):
        return "inf"
    if v >= 100:
        return "%.0f" % v
    return "%.2f" % v if v >= 0.01 or v == 0 else "%.1e" % v


def fmt_p(p):
    if p is None:
        return "-"
    return "%.1e" % p if p < 0.001 else "%.3f" % p


def key_cells(cmp, k):
    vals = {"workload": k[0], "cs_ns": fmt_num(k[3]), "think_ns": fmt_num(k[4]),
            "param": k[5], "pin": k[6]}
    return [vals[c] for c in cmp.varying] + [k[1], str(k[2])]


def render(header, rows, right):
    """Columns sized to fit; right: set of column indices aligned right."""
    w = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(c))
    out = []
    for r in [header] + rows:
        cells = [c.rjust(w[i]) if i in right else c.ljust(w[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
    return out


def fmt_rate(r):
    return "%.1f%%" % (100 * r)


def verdict_footer(cmp):
    """The lines under the ratio table: what the CI, p and the verdict are,
    and the verdict's real false-positive rate at the repetitions at hand."""
    out = ["95%% CI: percentile bootstrap of the ratio of medians (%d resamples of each"
           " side's repetitions, seed %d): the size of the effect, not the verdict."
           % (RESAMPLES, SEED),
           "p: two-sided Mann-Whitney U test on the repetitions (exact; the normal"
           " approximation only for ties beyond %d a side or very many repetitions)."
           % EXACT_MAX,
           "verdict: real when p <= %g, else noise; it needs >= %d repetitions a side."
           % (ALPHA, MIN_REPS)]
    sizes = sorted({(row.n_base, row.n_run) for row in cmp.rows.values()})
    rated = [(nb, nr, false_positive_rate(nb, nr)) for nb, nr in sizes
             if min(nb, nr) >= MIN_REPS]
    if rated:
        out.append("false-positive rate (the chance of \"real\" when nothing differs):"
                   " " + ", ".join(
                       "%s at %d vs %d repetitions" % (
                           fmt_rate(r) if r is not None else
                           "about %s (normal approximation)" % fmt_rate(ALPHA), nb, nr)
                       for nb, nr, r in rated) + " (exact for untied values; at most %g)."
                   % ALPHA)
    short = [(nb, nr) for nb, nr in sizes if min(nb, nr) < MIN_REPS]
    if short:
        out.append("n/a: needs >= %d repetitions a side (here %s); use --repeat %d or more."
                   % (MIN_REPS, ", ".join("%d and %d" % s for s in short), MIN_REPS))
    return out



def print_table(cmp, out):
    runs, base = cmp.runs, cmp.base
    p = lambda s="": print(s, file=out)
    wl = ",".join(base.workloads)
    p("compare: workload %s, %d runs, the first is the baseline" % (wl, len(runs)))
    for r in runs:
        reps = sorted({r.nreps(k) for k in cmp.common})
        reps_s = "%d" % reps[0] if len(reps) == 1 else "%d-%d" % (reps[0], reps[-1])
        p("  run %d  %s  %s%s, %d PUs, %s reps%s  %s" % (
            r.index + 1, r.label, "" if r.label == r.host else "host %s, " % r.host, r.cpu,
            r.pus, reps_s, "" if r.label == r.run_id else ", run " + r.run_id, r.path))
    fixed = [(c, v) for c, v in cmp.fixed if c != "workload"]
    if fixed:
        p("  settings: " + " ".join("%s=%s" % (c, fmt_num(v) if isinstance(v, float) else v)
                                    for c, v in fixed))
    p()

    # 1. Ratios to the baseline.
    multi = len(runs) > 2
    p("Throughput ratio to the baseline (%s): median ops/s of the run / of the baseline"
      % base.label)
    head = cmp.varying + ["impl", "threads"] + (["run"] if multi else []) + [
        "base ops/s", "ops/s", "ratio", "95% CI", "p (U test)", "verdict"]
    nk = len(cmp.varying) + 2
    right = {nk - 1} | set(range(nk + (1 if multi else 0), len(head) - 1))
    rows = []
    flagged = False
    for k in cmp.common:
        for r in runs[1:]:
            row = cmp.rows[(r.index, k)]
            ci = "-" if row.ci is None else "[%s, %s]" % (fmt_ratio(row.ci[0]),
                                                          fmt_ratio(row.ci[1]))
            verdict = row.verdict + (" *" if row.probe_moved else "")
            flagged |= row.probe_moved
            rows.append(key_cells(cmp, k) + ([r.label] if multi else []) + [
                si(row.base_ops, "-"), si(row.ops, "-"), fmt_ratio(row.ratio), ci, fmt_p(row.p),
                verdict])
    for line in render(head, rows, right):
        p(line)
    p()
    for line in verdict_footer(cmp):
        p(line)
    if flagged:
        p("*: the platform probe (cache-line round trip between the first two CPUs) differs"
          " by more than %.1fx: a placement change may explain the difference." % PROBE_FACTOR)
    p()

    # 2. Normalised view.
    p("Normalised throughput: ops/s / the same run's reference (ref) at the same"
      " configuration")
    head = cmp.varying + ["impl", "threads", "ref"] + [r.label for r in runs]
    right = {nk - 1} | set(range(nk + 1, len(head)))
    rows = []
    for k in cmp.common:
        refs = [cmp.norm[(r.index, k)][1] for r in runs]
        ref = refs[0] or next((x for x in refs if x), None) or "-"
        if any(x and x != refs[0] for x in refs):
            ref = "/".join(x or "-" for x in refs)
        rows.append(key_cells(cmp, k) + [ref] + [
            fmt_ratio(cmp.norm[(r.index, k)][0]) for r in runs])
    for line in render(head, rows, right):
        p(line)
    p()
    p("ref: pthread-mutex for the mutex-like kinds (%s) where it ran, else the"
      " kind's pthread implementation; - where none ran." % ", ".join(MUTEX_LIKE))


CSV_COLS = ["workload", "impl", "threads", "cs_ns", "think_ns", "param", "pin", "kind",
            "backend", "run", "run_id", "host", "cpu_model", "pus", "reps", "ops_per_sec",
            "ratio", "ci_lo", "ci_hi", "p_value", "verdict", "fp_rate", "normalised",
            "norm_ref", "probe_rtt_ns"]


def csv_rows(cmp):
    f = lambda v, spec: "" if v is None else (spec % v)
    for k in cmp.common:
        for r in cmp.runs:
            conf = r.configs[k]
            norm, ref = cmp.norm[(r.index, k)]
            rec = {"workload": k[0], "impl": k[1], "threads": k[2], "cs_ns": fmt_num(k[3]),
                   "think_ns": fmt_num(k[4]), "param": k[5], "pin": k[6],
                   "kind": conf["kind"], "backend": conf["backend"], "run": r.label,
                   "run_id": r.run_id, "host": r.host, "cpu_model": r.cpu,
                   "pus": r.pus or "", "reps": r.nreps(k),
                   "ops_per_sec": f(r.median.get(k), "%.4f"),
                   "normalised": f(norm, "%.4f"), "norm_ref": ref or "",
                   "probe_rtt_ns": f(r.probe(k), "%.1f")}
            if r is cmp.base:
                rec.update(ratio="", ci_lo="", ci_hi="", p_value="", verdict="baseline",
                           fp_rate="")
            else:
                row = cmp.rows[(r.index, k)]
                rec.update(ratio=f(row.ratio, "%.4f"),
                           ci_lo=f(row.ci and row.ci[0], "%.4f"),
                           ci_hi=f(row.ci and row.ci[1], "%.4f"),
                           p_value=f(row.p, "%.4g"), verdict=row.verdict,
                           fp_rate=f(row.fp_rate, "%.4f"))
            yield rec


def write_csv(cmp, fh):
    w = csv.DictWriter(fh, CSV_COLS, lineterminator="\n")
    w.writeheader()
    for rec in csv_rows(cmp):
        w.writerow(rec)


# ---------------------------------------------------------------- plotting

def pow2_range(lo, hi):
    """Powers of two around [lo, hi], with some room."""
    a = math.floor(math.log2(lo) - 0.25)
    b = math.ceil(math.log2(hi) + 0.25)
    if b - a < 2:
        a, b = a - 1, b + 1
    return 2.0 ** a, 2.0 ** b


def write_plot_inputs(cmp, tmp):
    """Per (run, series) CSV files and vars.gp for compare.gp."""
    runs = cmp.runs
    impls_all = [set(k[1] for k in r.order) for r in runs]
    # Series: (workload, impl, settings) of the baseline whose impl ran in every run.
    series = []
    for k in cmp.base.order:
        s = k[:2] + k[3:]
        if s not in series and all(k[1] in i for i in impls_all):
            series.append(s)
    vary_wl = len({s[0] for s in series}) > 1

    def title(s):
        t = s[1]
        if vary_wl:
            t = s[0] + " " + t
        for i, c in ((2, "cs_ns"), (3, "think_ns"), (4, "param"), (5, "pin")):
            if len({x[i] for x in series}) > 1:
                t += " %s=%s" % (c, fmt_num(s[i]) if isinstance(s[i], float) else s[i])
        return t

    os.mkdir(os.path.join(tmp, "series"))
    nser = len(series)
    sfile = {}
    have = {"ops": {}, "norm": {}, "ratio": {}}
    threads, ops_vals, norm_vals, ratio_vals, cil = set(), [], [], [], []
    pos = lambda v: v is not None and v > 0 and not math.isinf(v)
    g = lambda v: "" if not pos(v) else "%.6g" % v
    for r in runs:
        for si_, s in enumerate(series, 1):
            ks = sorted((k for k in r.order if k[:2] + k[3:] == s), key=lambda k: k[2])
            if not ks:
                continue
            rel = "series/r%02d-s%03d.csv" % (r.index + 1, si_)
            lines = ["threads,ops_per_sec_median,ops_per_sec_ci_lo,ops_per_sec_ci_hi,"
                     "normalised,ratio,ratio_ci_lo,ratio_ci_hi"]
            for k in ks:
                conf = r.configs[k]
                m = r.median.get(k)
                lo = conf.get("ops_per_sec_ci_lo#")
                hi = conf.get("ops_per_sec_ci_hi#")
                if not pos(lo) or not pos(hi):
                    lo = hi = m
                norm = cmp.norm[(r.index, k)][0]
                row = cmp.rows.get((r.index, k))
                ratio = row.ratio if row else None
                rlo, rhi = (row.ci if row and row.ci and all(map(pos, row.ci))
                            else (ratio, ratio))
                lines.append(",".join([str(k[2]), g(m), g(lo), g(hi), g(norm), g(ratio),
                                       g(rlo), g(rhi)]))
                threads.add(k[2])
                if pos(m):
                    have["ops"].setdefault(r.index, set()).add(si_)
                    ops_vals += [v for v in (m, lo, hi) if pos(v)]
                    if conf.get("ci_level#"):
                        cil.append(conf["ci_level#"])
                if pos(norm):
                    have["norm"].setdefault(r.index, set()).add(si_)
                    norm_vals.append(norm)
                if pos(ratio):
                    have["ratio"].setdefault(r.index, set()).add(si_)
                    ratio_vals += [v for v in (ratio, rlo, rhi) if pos(v)]
            write_file(os.path.join(tmp, rel), "\n".join(lines) + "\n")
            sfile[(r.index, si_)] = rel
    if not series or not threads:
        return None

    pus = [r.pus for r in runs if r.pus]
    lo = min(list(threads) + pus)
    hi = max(list(threads) + pus)
    ticks = sorted(threads | set(pus))
    v = []
    v.append("scriptdir = " + gq(SCRIPTS))
    v.append("outdir = 'out'")   # gnuplot runs in tmp: no path of ours in a script
    v.append("workload = " + gq(",".join(cmp.base.workloads)))
    v.append("host = " + gq(", ".join(r.label for r in runs)))
    v.append("cpu = ''")
    v.append("pus = 0")    # common.gp's single PU mark is off: each panel marks its own
    v.append("xmin = %.6g\nxmax = %.6g" % (lo / 1.19, hi * 1.19))
    if len(ticks) <= 12:
        v.append("xtics_cmd = " + gq("set xtics (%s)" % ", ".join(str(t) for t in ticks)))
    else:
        v.append("xtics_cmd = " + gq("set xtics 2"))
    v.append("ci_level = %g" % (min(cil) if cil else 0))
    v.append("ci_level_varies = %d" % (len(set(cil)) > 1))
    if ops_vals:
        v.append("ops_ymin = 1e%d\nops_ymax = 1e%d" % (dec_lo(min(ops_vals)),
                                                      max(dec_hi(max(ops_vals)),
                                                          dec_lo(min(ops_vals)) + 1)))
    else:
        v.append("ops_ymin = 1\nops_ymax = 10")
    for name, vals in (("norm", norm_vals + [1.0]), ("ratio", ratio_vals + [1.0])):
        a, b = pow2_range(min(vals), max(vals))
        v.append("%s_ymin = %.10g\n%s_ymax = %.10g" % (name, a, name, b))
    v.append("nruns = %d" % len(runs))
    v.append("nseries = %d" % nser)
    v.append("keychars = %d" % max(len(title(s)) for s in series))
    for name, vals in (("rlabel", [r.label for r in runs]),
                       ("rsub", ["%s%s, %d PUs" % ("" if r.label == r.host else
                                                    "host %s, " % r.host, r.cpu, r.pus)
                                 for r in runs]),
                       ("stitle", [title(s) for s in series])):
        v.append("array %s[%d]" % (name, len(vals)))
        v += ["%s[%d] = %s" % (name, i, gq(x)) for i, x in enumerate(vals, 1)]
    v.append("array rpus[%d]" % len(runs))
    v += ["rpus[%d] = %d" % (i, r.pus) for i, r in enumerate(runs, 1)]
    v.append("array sfile[%d]" % (len(runs) * nser))
    for r in runs:
        for si_ in range(1, nser + 1):
            v.append("sfile[%d] = %s" % (r.index * nser + si_,
                                         gq(sfile.get((r.index, si_), ""))))
    for m in ("ops", "norm", "ratio"):
        v.append("array have_%s[%d]" % (m, len(runs)))
        for r in runs:
            v.append("have_%s[%d] = %s" % (m, r.index + 1, gq(" ".join(
                str(x) for x in sorted(have[m].get(r.index, ()))))))
    write_file(os.path.join(tmp, "vars.gp"), "\n".join(v) + "\n")
    return "vars.gp"


PLOTS = ("compare-throughput", "compare-normalised", "compare-ratio")


def default_out():
    base = os.path.join(ROOT, "results", "compare-" + time.strftime("%Y%m%d-%H%M%S"))
    out, i = base, 2
    while os.path.exists(out):
        out, i = "%s-%d" % (base, i), i + 1
    return out




def make_plots(cmp, outdir):
    """Draw every plot and compare.csv in a scratch directory inside outdir,
    check each file is complete, then rename them into outdir (one file
    system: each appears whole or not at all). Returns the paths written;
    raises RuntimeError or Failed with a one-line message and leaves
    neither the scratch directory nor a new empty outdir behind."""
    if shutil.which("gnuplot") is None:
        raise RuntimeError("gnuplot not found (Debian: apt-get install gnuplot-nox); "
                           "no plots drawn (--no-plot skips them)")
    gp = os.path.join(SCRIPTS, "compare.gp")
    created = not os.path.isdir(outdir)
    try:
        os.makedirs(outdir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".compare-tmp-", dir=outdir)
    except OSError as e:
        raise Failed("could not create a directory in %s: %s" % (outdir, e.strerror or e))
    ok = False
    try:
        os.mkdir(os.path.join(tmp, "out"))
        vars_gp = write_plot_inputs(cmp, tmp)
        if vars_gp is None:
            raise RuntimeError("no series common to all runs to plot")
        made = []
        for name in PLOTS:
            for fmt in ("png", "svg"):
                # cwd: the scratch directory, so that no path (a run
                # directory's name) is ever written into a gnuplot script.
                p = subprocess.run(["gnuplot", vars_gp, "-e",
                                    "fmt = '%s'; name = '%s'" % (fmt, name), gp],
                                   cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True)
                f = os.path.join(tmp, "out", "%s.%s" % (name, fmt))
                final = os.path.join(outdir, os.path.basename(f))
                if p.returncode != 0:
                    sys.stderr.write(p.stderr)
                    raise RuntimeError("gnuplot failed on %s (%s, %s)" % (gp, name, fmt))
                if not os.path.isfile(f):
                    raise Failed("could not write %s: gnuplot wrote nothing" % final)
                why = incomplete(f, fmt)
                if why:
                    raise Failed("could not write %s: gnuplot's output is incomplete (%s)"
                                     % (final, why))
                if p.stderr:
                    sys.stderr.write(p.stderr)   # warnings: rare, worth seeing
                made.append(f)
        buf = io.StringIO()
        write_csv(cmp, buf)
        f = os.path.join(tmp, "out", "compare.csv")
        write_file(f, buf.getvalue(), sync=True, name=os.path.join(outdir, "compare.csv"))
        made.append(f)
        written = publish([(f, os.path.join(outdir, os.path.basename(f))) for f in made],
                          outdir)
        ok = True
        return written
    except OSError as e:   # making the scratch tree itself
        raise Failed("could not write in %s: %s" % (tmp, e.strerror or e))
    finally:
        # A second signal must not cut the clean-up short.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, CLEANUP_SIGNALS)
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            if not ok and created:
                try:
                    os.rmdir(outdir)
                except OSError:
                    pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


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
    ap.add_argument("--format", choices=("table", "csv"), default="table",
                    help="what goes to stdout (default: table)")
    a = ap.parse_args(argv)
    if len(a.dirs) < 2:
        ap.error("need at least two run directories (the first is the baseline), got 1: %s"
                 % a.dirs[0])
    return a


def run_workload(path):
    """The workload of a run directory (first row of its summary.csv), or None."""
    try:
        with open(os.path.join(path, "summary.csv"), newline="") as fh:
            for row in csv.DictReader(fh):
                return row.get("workload")
    except OSError:
        return None
    return None


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
    wl = run_workload(plain[0])
    out = []
    for d in dirs:
        if not is_platform(d):
            out.append(d)
            continue
        subs = sorted(e for e in os.listdir(d)
                      if os.path.isfile(os.path.join(d, e, "summary.csv")))
        match = [e for e in subs if run_workload(os.path.join(d, e)) == wl]
        if not match:
            raise BadInput("%s: no run of workload %s in this platform directory (it has: %s)"
                            % (d, wl, ", ".join(subs)))
        note("%s: using %s for workload %s" % (d, match[0], wl))
        out.append(os.path.join(d, match[0]))
    return out


# Signals that end compare through its clean-up (the scratch directory):
# SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP SystemExit.


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    exit_on_signals()
    try:
        runs = [Run(i, d) for i, d in enumerate(resolve_dirs(a.dirs))]
        cmp = Comparison(runs)
    except BadInput as e:
        print("%s: error: %s" % (ME, e), file=sys.stderr)
        return 2
    if a.format == "csv":
        write_csv(cmp, sys.stdout)
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
