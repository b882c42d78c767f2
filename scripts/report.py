#!/usr/bin/env python3
"""report.py: the plots and the HTML page of a lockbench run directory.

    python3 scripts/report.py --plots DIR    what scripts/plot.sh runs
    python3 scripts/report.py DIR            report.html only

--plots reads DIR/summary.csv, DIR/results.csv (host and CPU model) and
DIR/meta.json, and writes into DIR:
  throughput, fairness, latency, cpu, speedup   each as .png and .svg
  NAME-top for each of those                     more than 8 series: the 8
                                                 fastest and pthread-mutex
  extra-COL                                      each of the workload's own
                                                 columns that has data
  speedup.csv                                    the numbers the speedup plot
                                                 draws, nothing else
  report.html                                    platform, command line,
                                                 diagnosis, table, plots
When summary.csv has a header only (a run that ended before its first row)
there is nothing to plot: report.html alone, showing meta.json's diagnosis,
and exit 0. Without --plots only report.html is (re)written, showing the
plots already in DIR.

Reading (scripts/lbrun.py, the reader compare.py shares). The CSV files are RFC 4180 (a cell holding , " or a line break is
quoted: pin "0,1", cpu_model "Vendor, Model"); columns are found by header
name. The workload's own columns are meta.json's extra_columns; for runs
older than that key, every COL_median that is not a common metric. A cell
lockbench writes never holds a control character: one that does is refused
(exit 2, naming the file, line and column) before anything is drawn.

Gnuplot. The .gp scripts select columns by header name from one small CSV
per series, which holds the threads column and the numeric columns drawn,
copied from summary.csv cell for cell: no text cell reaches gnuplot's
naive comma split. Text (host, CPU model, key titles made of impl, param,
pin...) goes into gnuplot only inside single-quoted literals, which gnuplot
does not expand (no backslash escapes, no `command` substitution, no @
macros; a quote is doubled), and gnuplot runs inside the scratch directory
with relative names, so no path of the user's is written into a script.
A CI cell left empty (one repetition: no interval) is drawn as a bar of
length zero, i.e. no bar ('set bars small' draws no caps).

Files appear complete or not at all. Everything is drawn in a scratch
directory inside DIR (same file system, so the last step is rename(2));
every write, flush and close is checked; each gnuplot output is checked
complete (gnuplot exits 0 when the disk fills under it: a PNG must end with
its IEND chunk, an SVG with </svg>); files are fsync'ed, renamed into DIR,
and DIR is fsync'ed. On any failure: exit 1 with one line naming the file
that could not be written, no half file under a final name, and no scratch
directory left (except after SIGKILL: a .plot-tmp-* directory, never a
final name).

report.html is one page that fetches nothing (inline CSS; the plots are
the image files beside it, by relative name): the diagnosis of a run that ended early (kind,
summary, detail, thread states, failed checks), the noise line, the files
the run wrote, platform, command line, options, calibration, the plots and
the summary table. Every text from the run is HTML-escaped; inf and nan
cells are shown as such.

Exit status: 0 written; 1 gnuplot missing or failed, or a file could not
be written; 2 usage error, no summary.csv, or malformed input.
Python 3 standard library only.
"""
import csv
import glob
import html
import io
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lbcommon import (CLEANUP_SIGNALS, BadInput, Failed, as_number,  # noqa: E402
                      dec_hi, dec_lo, exit_on_signals, gq, incomplete, publish, si)
from lbrun import RunDir, identity, read_meta, read_table  # noqa: E402
import scoreboard  # noqa: E402

ME = "report.py"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))

# What a column name drawn by extra.gp may be: it names a plot file and a
# column of a gnuplot CSV header.
COLUMN_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
# What a kind must be to name a per-kind plot file (summary.csv is input).
KIND_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
# What a swept axis (cs_ns or a --param key) must be to name a sweep-AXIS plot.
SWEEP_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

# Columns plot.sh itself needs; the metrics below as _median/_ci_lo/_ci_hi.
KEY_COLS = ("workload", "impl", "threads", "pus", "pin", "cs_ns", "think_ns", "param")
PLOT_METRICS = ("ops_per_sec", "ops_per_cpu_s", "fairness", "lat_p50_ns", "lat_p99_ns")
# Measured columns common to every workload (results/README.md): for runs
# whose meta.json has no extra_columns, any other COL_median is the
# workload's own.
COMMON_METRICS = ("ops_per_sec", "ops_per_cpu_s", "fairness", "thread_ops_min",
                  "thread_ops_max", "lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
                  "cpu_s", "ctx_voluntary", "ctx_involuntary", "probe_rtt_ns", "duration_s",
                  "lat_floor_ns", "cpu_share", "cpu_wait_share", "probe_rtt_after_ns",
                  "lat_samples", "starved", "oversubscribed")
SERIES_KEY = ("workload", "impl", "param", "cs_ns", "think_ns", "pin")
COMMON_PLOTS = ("throughput", "fairness", "latency", "cpu", "speedup")
TOP_N = 8
TOP_REF = "pthread-mutex"

# Plot order on the page: the usual ones first, then the rest alphabetically.
PLOT_ORDER = ["throughput-top", "throughput", "speedup", "fairness", "latency", "cpu"]
PLOT_CAPTION = {
    "throughput-top": "Throughput, the 8 fastest series of the largest kind (plus pthread-mutex, if run, as the reference); never across kinds, never the controls",
    "throughput": "Throughput, every series",
    "speedup": "Speedup over 1 thread (dotted: ideal linear scaling; numbers: speedup.csv)",
    "fairness": "Fairness: Jain's index over per-thread operations",
    "latency": "Latency percentiles (p50, p99)",
    "cpu": "Operations per CPU-second",
}
SWEEP_CAPTION = ("Throughput against the swept %s at the thread count the tables rank at "
                 "(the largest not oversubscribed), a panel per kind "
                 "(the values evenly spaced, in the order given)")


def finite(v):
    return v is not None and math.isfinite(v)


# ---------------------------------------------------------------- the run

class Run:
    """A run directory as the plots and the page need it."""

    def __init__(self, d, for_plots):
        self.dir = d
        rd = RunDir(d)
        self.meta = read_meta(rd.meta_path) or {}
        self.summary_path = rd.summary_path
        summary = read_table(self.summary_path)
        self.header, self.rows = summary.header, summary.rows
        # Host and CPU model: results.csv's first row (optional: a copied
        # summary still plots), else meta.json.
        host, cpu, _ = identity(read_table(rd.results_path, missing_ok=True), self.meta,
                                rd.meta_path)
        self.host = (host or "").strip() or "unknown-host"
        self.cpu = (cpu or "").strip() or "unknown-cpu"
        if for_plots and self.rows:
            summary.require(KEY_COLS + tuple("%s_%s" % (m, s) for m in PLOT_METRICS
                                             for s in ("median", "ci_lo", "ci_hi")))
        self.extras = self._extras() if for_plots else []

    def _extras(self):
        """The workload's own columns that summary.csv has as _median,
        _ci_lo, _ci_hi: meta.json's extra_columns, else the old rule."""
        have = lambda x: all("%s_%s" % (x, s) in self.header for s in ("median", "ci_lo", "ci_hi"))
        listed = self.meta.get("extra_columns")
        mpath = os.path.join(self.dir, "meta.json")
        if listed is not None:
            if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
                raise BadInput("%s: extra_columns is not a list of column names" % mpath)
            for x in listed:
                if not COLUMN_NAME.match(x):
                    raise BadInput("%s: extra_columns holds %r; a column name is letters,"
                                   " digits and _ only" % (mpath, x))
            return [x for x in listed if have(x)]
        out = []
        for h in self.header:
            if h.endswith("_median"):
                x = h[:-len("_median")]
                if x not in COMMON_METRICS and have(x):
                    if not COLUMN_NAME.match(x):
                        raise BadInput("%s line 1: column %r; a column name is letters,"
                                       " digits and _ only" % (self.summary_path, h))
                    out.append(x)
        return out


# ---------------------------------------------------------------- gnuplot input

def param_pairs(param):
    """summary.csv's param cell ("depth=1;data=shared") as [(key, value)]."""
    return [tuple(x.split("=", 1)) for x in param.split(";") if "=" in x]


class Series:
    def __init__(self, idx, key, kind=""):
        self.idx = idx
        self.key = dict(zip(SERIES_KEY, key))
        self.kind = kind        # summary.csv's kind column ("" in older runs)
        self.rows = []          # (threads, row), sorted by threads
        self.title = ""


class PlotData:
    """Everything the .gp scripts read, computed from summary.csv."""

    def __init__(self, run):
        self.run = run
        order, by_key = [], {}
        self.threads, self.pus = set(), 0
        for row in run.rows:
            t = row.count("threads")
            p = row.num("pus")
            if finite(p) and p > self.pus:
                self.pus = int(p)
            k = tuple(row[c] for c in SERIES_KEY)
            if k not in by_key:
                by_key[k] = Series(len(order) + 1, k, row.get("kind", ""))
                order.append(by_key[k])
            by_key[k].rows.append((t, row))
            self.threads.add(t)
        for s in order:
            # Rows arrive sorted by series then threads; sort again anyway so a
            # hand-edited summary still draws monotone lines.
            s.rows.sort(key=lambda r: r[0])
        self.series = order
        self.metrics = list(PLOT_METRICS) + list(run.extras)
        self._titles()
        self._have()
        self._speedup()

    def _titles(self):
        """Key title: the impl, plus only the settings that vary in this run."""
        vary = {c: len({s.key[c] for s in self.series}) > 1 for c in SERIES_KEY}
        combos = len({tuple(s.key[c] for c in ("param", "cs_ns", "think_ns", "pin"))
                      for s in self.series})
        for s in self.series:
            t = s.key["impl"]
            if vary["workload"]:
                t = s.key["workload"] + " " + t
            if combos > 1:
                if vary["param"]:
                    t += " param=" + s.key["param"]
                if vary["cs_ns"]:
                    t += " cs=" + s.key["cs_ns"] + "ns"
                if vary["think_ns"]:
                    t += " think=" + s.key["think_ns"] + "ns"
                if vary["pin"]:
                    t += " pin=" + s.key["pin"]
            s.title = t
        self.workloads = []
        for s in self.series:
            if s.key["workload"] not in self.workloads:
                self.workloads.append(s.key["workload"])

    def _have(self):
        """Which series have something to draw per metric: a finite median,
        positive where the axis is logarithmic."""
        logaxis = {"ops_per_sec": True, "ops_per_cpu_s": True, "fairness": False,
                   "lat_p50_ns": True, "lat_p99_ns": True}
        self.have = {}
        for m in self.metrics:
            lg = logaxis.get(m, False)
            self.have[m] = [s.idx for s in self.series
                            if any(finite(v) and (not lg or v > 0) for v in
                                   (r.num(m + "_median") for _, r in s.rows))]
        self.have_ci = any(finite(r.num(m + "_ci_lo"))
                           for s in self.series for _, r in s.rows for m in self.metrics)

    def _speedup(self):
        """speedup = ops_per_sec_median(t) / ops_per_sec_median(1 thread) of the
        same series; empty without a usable 1-thread row."""
        self.speedup_rows = []
        self.have["speedup"] = []
        for s in self.series:
            ops = {t: r.num("ops_per_sec_median") for t, r in s.rows}
            base = ops.get(1)
            ok = finite(base) and base > 0
            drawn = False
            for t, r in s.rows:
                v = ops[t]
                sp = v / base if ok and finite(v) else None
                drawn |= sp is not None and sp > 0
                self.speedup_rows.append((s, t, sp, v, base if ok else None))
            if drawn:
                self.have["speedup"].append(s.idx)

    def speedup_csv(self):
        """DIR/speedup.csv, which speedup.gp draws: the numeric columns first,
        so that gnuplot's plain comma split finds them whatever the quoted
        text cells after them hold."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["series", "threads", "speedup", "ops_per_sec_median",
                    "ops_per_sec_median_1thread"] + list(SERIES_KEY))
        g = lambda v: "" if v is None else repr(v)
        for s, t, sp, v, base in self.speedup_rows:
            w.writerow([s.idx, t, g(sp), g(v) if finite(v) else "", g(base)]
                       + [s.key[c] for c in SERIES_KEY])
        return out.getvalue()

    def series_csv(self, s):
        """One series for the .gp scripts: threads and the plotted metrics,
        cells copied from summary.csv. A CI cell that is empty (one
        repetition) or not finite becomes the median: a bar of length zero."""
        cols = ["threads"]
        for m in self.metrics:
            cols += [m + "_median", m + "_ci_lo", m + "_ci_hi"]
        lines = [",".join(cols)]
        for t, r in s.rows:
            cells = [str(t)]
            for m in self.metrics:
                med = r.num(m + "_median")
                if not finite(med):
                    cells += ["", "", ""]
                    continue
                ms = r[m + "_median"].strip()
                lo, hi = r.num(m + "_ci_lo"), r.num(m + "_ci_hi")
                if finite(lo) and finite(hi):
                    cells += [ms, r[m + "_ci_lo"].strip(), r[m + "_ci_hi"].strip()]
                else:
                    cells += [ms, ms, ms]
            lines.append(",".join(cells))
        return "\n".join(lines) + "\n"

    def rank_threads(self):
        """The thread count plots rank at: summary.csv's rank_threads (the
        largest count not oversubscribed, by the harness's own reckoning
        of the CPUs it ran on); in older runs without that column, the
        largest at most the PUs (the largest run if all are above)."""
        given = [r.num("rank_threads") for r in self.run.rows]
        given = [int(v) for v in given if finite(v) and v > 0 and int(v) in self.threads]
        if given:
            return max(set(given), key=given.count)
        fit = [t for t in self.threads if self.pus and t <= self.pus]
        return max(fit) if fit else max(self.threads)

    def by_kind(self):
        """[(kind, [series idx, fastest first at rank_threads])] for every
        kind but the controls' (none), in the run's order; series without
        a number there come last."""
        tref, out = self.rank_threads(), {}
        for s in self.series:
            if s.kind == "none" or s.idx not in self.have["ops_per_sec"]:
                continue
            v = next((r.num("ops_per_sec_median") for t, r in s.rows if t == tref), None)
            out.setdefault(s.kind, []).append((-(v if finite(v) else -1), s.idx))
        return [(k, [i for _, i in sorted(v)]) for k, v in out.items()]

    def top(self):
        """The TOP_N fastest series of one kind and setting (never across
        kinds or the settings of a --param/--cs sweep, never a control) at
        rank_threads, plus pthread-mutex if it is among them: the group
        with the most series; None when it has TOP_N or fewer."""
        groups = []
        for kind, ranked in self.by_kind():
            by_set = {}
            for i in ranked:   # keeps the ranking's order
                s = self.series[i - 1]
                by_set.setdefault(tuple(s.key[c] for c in SERIES_KEY if c != "impl"),
                                  []).append(i)
            groups += [(kind, sel) for sel in by_set.values()]
        if not groups:
            return None
        kind, ranked = max(groups, key=lambda k: len(k[1]))
        if len(ranked) <= TOP_N:
            return None
        sel, ref = ranked[:TOP_N], ""
        for s in self.series:
            if s.key["impl"] == TOP_REF and s.idx in ranked and s.idx not in sel:
                sel.append(s.idx)
                ref = " + %s for reference" % TOP_REF
        return sel, "%s %s (top %d of %d by ops/s at %d threads%s)" % (
            ", ".join(self.workloads), kind, TOP_N, len(ranked), self.rank_threads(), ref)

    def sweep_axes(self):
        """[(axis, values)]: the settings a --cs or --param list varied, each
        with its values in the order given (summary.csv's order). axis is
        "cs_ns" or a parameter's key."""
        vals = {}
        for s in self.series:
            for k, v in [("cs_ns", s.key["cs_ns"])] + param_pairs(s.key["param"]):
                got = vals.setdefault(k, [])
                if v not in got:
                    got.append(v)
        return [(k, v) for k, v in vals.items() if len(v) > 1 and SWEEP_NAME.match(k)]

    def sweep_plot(self, axis, values):
        """sweep.gp's input for one swept axis, at rank_threads: a line per
        implementation (and setting of the other axes) over the axis'
        values, a panel per kind, the controls last. Returns (the .gp
        text, {file: CSV text}), or None when no line has two points."""
        tref = self.rank_threads()
        axes = [a for a, _ in self.sweep_axes()]
        lines = {}   # (kind, impl, other settings) -> {position: row}
        for s in self.series:
            pairs = dict([("cs_ns", s.key["cs_ns"])] + param_pairs(s.key["param"]))
            row = next((r for t, r in s.rows if t == tref), None)
            if row is None or not finite(row.num("ops_per_sec_median")) \
                    or row.num("ops_per_sec_median") <= 0:
                continue
            others = tuple((a, pairs.get(a, "")) for a in axes if a != axis)
            k = (s.kind or "?", s.key["workload"], s.key["impl"], s.key["think_ns"],
                 s.key["pin"], others)
            lines.setdefault(k, {})[values.index(pairs[axis]) + 1] = row
        lines = {k: v for k, v in lines.items() if len(v) > 1}
        if not lines:
            return None
        kinds = []
        for k in lines:
            if k[0] not in kinds:
                kinds.append(k[0])
        kinds.sort(key=lambda kd: kd == "none")
        vary_other = {a for a in axes if a != axis
                      and len({dict(k[5])[a] for k in lines}) > 1}
        files, v, ys = {}, [], []
        members = {kd: [k for k in lines if k[0] == kd] for kd in kinds}
        order = [k for kd in kinds for k in members[kd]]
        for i, k in enumerate(order, 1):
            out = ["pos,ops_per_sec_median,ops_per_sec_ci_lo,ops_per_sec_ci_hi"]
            for pos, row in sorted(lines[k].items()):
                m = row.num("ops_per_sec_median")
                lo, hi = row.num("ops_per_sec_ci_lo"), row.num("ops_per_sec_ci_hi")
                if not (finite(lo) and finite(hi) and lo > 0 and hi > 0):
                    lo = hi = m
                ys += [m, lo, hi]
                out.append("%d,%r,%r,%r" % (pos, m, lo, hi))
            files["sweep/%s-l%03d.csv" % (axis, i)] = "\n".join(out) + "\n"
        title = lambda k: " ".join([k[2]] + ["%s=%s" % (a, x) for a, x in k[5]
                                             if a in vary_other])
        label = "critical section, --cs (ns)" if axis == "cs_ns" else "--param %s" % axis
        v += ["pus = 0",
              "sweep_what = " + gq("%s: throughput vs %s at %d threads (median, %%s)"
                                   % (", ".join(self.workloads), label, tref)),
              "sweep_xlabel = " + gq(label),
              "sweep_n = %d" % len(values),
              "sweep_xtics = " + gq("set xtics (%s)" % ", ".join(
                  "%s %d" % (gq(x), i) for i, x in enumerate(values, 1))),
              "sweep_ymin = 1e%d" % dec_lo(min(ys)),
              "sweep_ymax = 1e%d" % max(dec_hi(max(ys)), dec_lo(min(ys)) + 1),
              "keychars = %d" % max(len(title(k)) for k in order),
              "kmax = %d" % max(len(m) for m in members.values()),
              "nlines = %d" % len(order),
              "array lfile[%d]" % len(order), "array ltitle[%d]" % len(order),
              "array lpos[%d]" % len(order)]
        for i, k in enumerate(order, 1):
            v += ["lfile[%d] = %s" % (i, gq("sweep/%s-l%03d.csv" % (axis, i))),
                  "ltitle[%d] = %s" % (i, gq(title(k))),
                  "lpos[%d] = %d" % (i, members[k[0]].index(k) + 1)]
        v += ["npanels = %d" % len(kinds), "array pkind[%d]" % len(kinds),
              "array plines[%d]" % len(kinds)]
        for i, kd in enumerate(kinds, 1):
            v += ["pkind[%d] = %s" % (i, gq("controls" if kd == "none" else kd)),
                  "plines[%d] = %s" % (i, gq(" ".join(str(order.index(k) + 1)
                                                      for k in members[kd])))]
        return "\n".join(v) + "\n", files

    def vars_gp(self):
        """vars.gp: what common.gp and the plot scripts read."""
        lat = [v for s in self.series for _, r in s.rows
               for c in ("lat_p50_ns_median", "lat_p50_ns_ci_lo", "lat_p50_ns_ci_hi",
                         "lat_p99_ns_median", "lat_p99_ns_ci_lo", "lat_p99_ns_ci_hi")
               for v in (r.num(c),) if finite(v) and v > 0]
        levels = [v for r in self.run.rows for v in (r.num("ci_level"),) if finite(v)]
        ticks = sorted(self.threads | ({self.pus} if self.pus else set()))
        lo, hi = ticks[0], ticks[-1]
        v = ["scriptdir = " + gq(SCRIPTS),
             "outdir = 'out'",
             "workload = " + gq(", ".join(self.workloads)),
             "host = " + gq(self.run.host),
             "cpu = " + gq(self.run.cpu),
             "pus = %d" % self.pus,
             # A quarter octave of room either side keeps end points off the border.
             "xmin = %.6g" % (lo / 1.19), "xmax = %.6g" % (hi * 1.19),
             # Every thread count run and the PU count when few; else powers of two.
             "xtics_cmd = " + gq("set xtics (%s)" % ", ".join(map(str, ticks))
                                 if len(ticks) <= 12 else "set xtics 2"),
             "ci_level = %g" % (min(levels) if levels else 0),
             "ci_level_varies = %d" % (len(set(levels)) > 1),
             "have_ci = %d" % self.have_ci]
        # The fairness axis: from a tenth below the lowest value drawn
        # (bars included) to 1, not always from 0.
        fair = [v for s in self.series for _, r in s.rows
                for c in ("fairness_median", "fairness_ci_lo") for v in (r.num(c),)
                if finite(v)]
        v.append("fair_ymin = %.1f" % (max(0.0, math.floor(min(fair) * 10 - 0.5) / 10)
                                       if fair else 0.0))
        # What one op is: a barrier's is one thread through one phase.
        v.append("ops_unit = " + gq("thread-phases/s" if self.workloads == ["barrier"]
                                    else "ops/s"))
        if lat:
            v += ["lat_ymin = 1e%d" % dec_lo(min(lat)), "lat_ymax = 1e%d" % dec_hi(max(lat))]
        else:
            v += ["lat_ymin = 0", "lat_ymax = 0"]
        v += ["nseries = %d" % len(self.series),
              "array sfile[%d]" % len(self.series), "array stitle[%d]" % len(self.series)]
        for s in self.series:
            v += ["sfile[%d] = %s" % (s.idx, gq("series/s%03d.csv" % s.idx)),
                  "stitle[%d] = %s" % (s.idx, gq(s.title))]
        v.append("keychars = %d" % max(len(s.title) for s in self.series))
        v += self.have_lines(None)
        v.append("speedup_file = 'out/speedup.csv'")
        return "\n".join(v) + "\n"

    def have_lines(self, only):
        """have_<plot> = 'indices': every series with data, or those of
        `only` (in its order: the top plots' key reads fastest first)."""
        pick = lambda idx: [i for i in (only or idx) if i in idx]
        names = (("have_ops", "ops_per_sec"), ("have_cpu", "ops_per_cpu_s"),
                 ("have_fair", "fairness"), ("have_p50", "lat_p50_ns"),
                 ("have_p99", "lat_p99_ns"), ("have_speedup", "speedup"))
        return ["%s = %s" % (n, gq(" ".join(map(str, pick(self.have[m]))))) for n, m in names]


# ---------------------------------------------------------------- writing

class Scratch:
    """A scratch directory inside the run directory: files are made there,
    checked, then renamed to their final names in DIR. Gone afterwards,
    whatever happens (short of SIGKILL)."""

    def __init__(self, d):
        self.dir = d
        try:
            self.path = tempfile.mkdtemp(prefix=".plot-tmp-", dir=d)
        except OSError as e:
            raise Failed("could not write in %s: %s" % (d, e.strerror or e))
        self.ready = []          # names in path/out, in order
        self.warnings = []       # gnuplot's, per plot

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # A second signal must not cut the clean-up short.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, CLEANUP_SIGNALS)
        try:
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return False

    def final(self, name):
        return os.path.join(self.dir, name)

    def write(self, rel, text, name=None):
        """Write a scratch file, every step checked; a failure names `name`
        (the final file it was for) or the scratch file."""
        path = os.path.join(self.path, rel)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
                fh.flush()
        except OSError as e:   # write, flush or close: commit() fsyncs final files
            raise Failed("could not write %s: %s" % (name or path, e.strerror or e))

    def add(self, name, text):
        """A final file: written into out/, renamed into DIR by commit()."""
        self.write(os.path.join("out", name), text, self.final(name))
        self.ready.append(name)

    def commit(self):
        """fsync each file, rename it into DIR, fsync DIR. Returns the paths."""
        return publish([(os.path.join(self.path, "out", name), self.final(name))
                        for name in self.ready], self.dir)


def draw(run, scratch):
    """Every plot, PNG and SVG, into scratch/out; returns the plot names."""
    data = PlotData(run)
    scratch.write("vars.gp", data.vars_gp())
    for s in data.series:
        scratch.write("series/s%03d.csv" % s.idx, data.series_csv(s))
    # speedup.gp reads the very file that becomes DIR/speedup.csv.
    scratch.add("speedup.csv", data.speedup_csv())

    # A plot with nothing to show is not drawn: speedup without any
    # 1-thread row (handoff runs pairs).
    common = [p for p in COMMON_PLOTS if p != "speedup" or data.have["speedup"]]
    plots = [(p, p + ".gp", []) for p in common]
    top = data.top()
    if top:
        sel, title = top
        scratch.write("top.gp", "\n".join(data.have_lines(sel) + ["workload = " + gq(title)])
                      + "\n")
        plots += [(p + "-top", p + ".gp", ["top.gp"]) for p in common]
    # One throughput plot per kind when the run has several (controls
    # aside), its members fastest first: report.html shows them side by
    # side, a small-multiples page of every kind.
    kinds = [(k, sel) for k, sel in data.by_kind() if KIND_NAME.match(k) and k != "top"]
    if len(kinds) > 1:
        for kind, sel in kinds:
            scratch.write("kind-%s.gp" % kind, "\n".join(
                data.have_lines(sel) + ["workload = " + gq("%s: %s" % (
                    ", ".join(data.workloads), kind))]) + "\n")
            plots.append(("throughput-" + kind, "throughput.gp", ["kind-%s.gp" % kind]))
    # A --cs or --param list: throughput against each swept axis.
    for axis, values in data.sweep_axes():
        got = data.sweep_plot(axis, values)
        if got:
            text, files = got
            scratch.write("sw-%s.gp" % axis, text)
            for rel, t in files.items():
                scratch.write(rel, t)
            plots.append(("sweep-" + axis, "sweep.gp", ["sw-%s.gp" % axis]))
    for x in run.extras:
        if not data.have[x]:
            continue   # nothing to draw: no plot
        vals = {r.num(x + "_median") for s in data.series for _, r in s.rows}
        if len({v for v in vals if finite(v)}) < 2:
            continue   # one value everywhere (torn_reads = 0): a flat line says nothing
        scratch.write("x-%s.gp" % x, "xcol = %s\nhave_xs = %s\n"
                      % (gq(x), gq(" ".join(map(str, data.have[x])))))
        plots.append(("extra-" + x, "extra.gp", ["x-%s.gp" % x]))

    for name, script, more in plots:
        for fmt in ("png", "svg"):
            gnuplot(scratch, name, fmt, script, more)
    if scratch.warnings:
        scratch.add("gnuplot-warnings.txt", "".join(scratch.warnings))
    return [name for name, _, _ in plots], bool(top)


def gnuplot(scratch, name, fmt, script, more):
    # cwd: the scratch directory, so every name in the scripts is relative;
    # name and fmt are ours (an extra's name was checked: [A-Za-z0-9_]).
    argv = (["gnuplot", "vars.gp"] + more
            + ["-e", "fmt = '%s'; name = '%s'" % (fmt, name), os.path.join(SCRIPTS, script)])
    try:
        p = subprocess.run(argv, cwd=scratch.path, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, errors="replace")
    except OSError as e:
        raise Failed("could not run gnuplot: %s" % (e.strerror or e))
    final = scratch.final("%s.%s" % (name, fmt))
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise Failed("gnuplot failed on %s (%s) for %s; %s not written"
                     % (os.path.join(SCRIPTS, script), fmt, scratch.dir, final))
    why = incomplete(os.path.join(scratch.path, "out", "%s.%s" % (name, fmt)), fmt)
    if why:
        raise Failed("could not write %s: %s" % (final, why))
    if p.stderr:
        # warnings: kept in the run directory (draw()), never on the terminal
        scratch.warnings.append("%s.%s: %s" % (name, fmt, p.stderr))
    scratch.ready.append("%s.%s" % (name, fmt))


# ---------------------------------------------------------------- the page

CSS = """
body { font-family: sans-serif; font-size: 14px; color: #222; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
code, pre { font-family: monospace; background: #f4f4f4; }
pre { padding: 0.6em; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary tr:nth-child(even) td { background: #fafafa; }
td.bad { color: #a00; font-weight: bold; }
td.racy { color: #a60; }
section.diagnosis { border: 2px solid #a00; background: #fff5f5; padding: 0.2em 1em 0.8em; margin: 1em 0; }
section.diagnosis h2 { color: #a00; border-bottom-color: #e0b0b0; margin-top: 0.6em; }
div.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 0.5em; }
div.multiples img { max-width: 100%; }
table.scoreboard td { white-space: nowrap; }
section.diagnosis pre { background: #fff; }
p.noise { border-left: 4px solid #c80; padding-left: 0.6em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
.muted { color: #666; }
"""


def esc(x):
    return html.escape("" if x is None else str(x), quote=True)


def fmt_num(v, digits=4):
    """A number for reading: integers with thousands separators, else a few
    significant digits; inf and nan as such; text as it is. Not lbcommon.si
    on purpose: si is for rates (3 digits and k/M/G), this is for values
    read whole on the page (fairness 0.9973, a CPU share, a calibration
    number: 12,000,842)."""
    f, text = as_number(v)
    if f is None:
        return text
    if f == int(f) and abs(f) < 1e15:
        return "{:,}".format(int(f))
    if abs(f) >= 1000:
        return "{:,.0f}".format(f)
    return "{:.{}g}".format(f, digits)


def fmt_ns(v):
    f, text = as_number(v)
    if f is None:
        return text
    for div, suf in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if abs(f) >= div:
            return "{:.3g} {}".format(f / div, suf)
    return "{:.3g} ns".format(f)


def kv_table(d, order=None):
    """A two-column table of a flat (or one level nested) dict: the keys in
    `order` first, in that order, then the rest sorted."""
    rows = []
    first = [k for k in (order or []) if k in d]
    for k in first + sorted((k for k in d if k not in first), key=str):
        v = d[k]
        if isinstance(v, dict):
            v = ", ".join("%s %s" % (kk, vv) for kk, vv in sorted(v.items(), key=str))
        elif v is None:
            v = "(not visible)"
        elif isinstance(v, float):
            v = fmt_num(v, 6)
        rows.append("<tr><th>%s</th><td>%s</td></tr>" % (esc(k), esc(v)))
    return "<table>\n%s\n</table>" % "\n".join(rows)


def list_table(items, cols):
    """A table of a list of dicts (the diagnosis' threads and failures)."""
    items = [x for x in items if isinstance(x, dict)]
    if not items:
        return ""
    cols = cols + sorted({k for x in items for k in x} - set(cols), key=str)
    out = ["<table>", "<tr>%s</tr>" % "".join("<th>%s</th>" % esc(c) for c in cols)]
    for x in items:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % esc(x.get(c, "")) for c in cols))
    out.append("</table>")
    return "\n".join(out)


def diagnosis_html(diag):
    """The diagnosis of a run that ended early or failed a check: first on
    the page, kind, summary, the detail as written, thread states, failures."""
    if not isinstance(diag, dict):
        return ("<section class=\"diagnosis\" id=\"diagnosis\"><h2>Diagnosis</h2>"
                "<pre>%s</pre></section>" % esc(diag))
    p = ["<section class=\"diagnosis\" id=\"diagnosis\">",
         "<h2>Diagnosis: %s</h2>" % esc(diag.get("kind", "unknown"))]
    if diag.get("summary"):
        p.append("<p class=\"diag-summary\"><strong>%s</strong></p>" % esc(diag["summary"]))
    if diag.get("detail"):
        p.append("<pre class=\"diag-detail\">%s</pre>" % esc(diag["detail"]))
    if isinstance(diag.get("threads"), list) and diag["threads"]:
        p.append("<h3>Threads</h3>")
        p.append(list_table(diag["threads"], ["tid", "cpu", "state", "ops", "attempts"]))
    if isinstance(diag.get("failures"), list) and diag["failures"]:
        p.append("<h3>Failed checks</h3>")
        p.append(list_table(diag["failures"], ["impl", "threads", "rep", "message"]))
    p.append("</section>")
    return "\n".join(p)


def file_link(name):
    """A link to a file of the run, by relative name ("./" first: never a
    scheme), or plain text for a name that is not a plain file name."""
    name = str(name)
    if not name or "/" in name or name in (".", ".."):
        return esc(name)
    return "<a href=\"./%s\">%s</a>" % (esc(urllib.parse.quote(name)), esc(name))


# The summary table: heading, summary.csv column (or a pair: an interval),
# formatter. Optional columns are shown when summary.csv has them.
TABLE = [("impl", "impl", None, False),
         ("threads", "threads", None, False),
         ("ops/s median", "ops_per_sec_median", si, False),
         ("ops/s CI", ("ops_per_sec_ci_lo", "ops_per_sec_ci_hi"), si, False),
         ("fairness", "fairness_median", fmt_num, False),
         ("lat p50", "lat_p50_ns_median", fmt_ns, False),
         ("lat p99", "lat_p99_ns_median", fmt_ns, False),
         ("lat floor", "lat_floor_ns_median", fmt_ns, True),
         ("ops per CPU-s", "ops_per_cpu_s_median", si, False),
         ("CPU share", "cpu_share_median", fmt_num, True),
         ("CPU wait share", "cpu_wait_share_median", fmt_num, True),
         ("verified", "verified", None, False),
         ("noise", "noise", None, True)]
SETTINGS = ("workload", "param", "cs_ns", "think_ns", "pin")
NOISE = {"cpu": "noisy: CPU share", "placement": "noisy: placement", "other": "noisy"}


def summary_table(header, rows):
    """summary.csv in its order (by kind, ranked within it: results/README),
    with a heading row per kind, the rank on each implementation's first
    row, and the terminal table's marks: + on an oversubscribed thread
    count, the noise column's cause."""
    cols = [c for c in TABLE if not c[3] or c[1] in header]
    ranked = "rank" in header
    # Show the settings that vary (several workloads, params, cs, think, pin).
    extra = [c for c in SETTINGS if len({r.get(c, "") for r in rows}) > 1]
    heads = (["#"] if ranked else []) + extra + [c[0] for c in cols]
    out = ["<table class=\"summary\">", "<tr>%s</tr>" % "".join(
        "<th>%s</th>" % esc(h) for h in heads)]
    prev = prev_impl = None
    for r in rows:
        group = tuple(r.get(c, "") for c in ("workload", "kind") + SETTINGS[1:])
        if ranked and group != prev:
            if r.get("kind") == "none":
                what = "reference lines (the harness floor and the race), not ranked"
            else:
                what = "ranked by ops/s at %s threads, fastest first" % r.get("rank_threads", "?")
            out.append("<tr class=\"kind\"><th colspan=\"%d\">%s: %s</th></tr>"
                       % (len(heads), esc(r.get("kind", "")), esc(what)))
        first = group != prev or r.get("impl") != prev_impl
        prev, prev_impl = group, r.get("impl")
        cells = ["<td class=\"num\">%s</td>" % esc(r.get("rank", "") if first else "")] \
            if ranked else []
        cells += ["<td>%s</td>" % esc(r.get(c, "")) for c in extra]
        for head, col, fmt, _ in cols:
            if col == "threads" and r.get("oversubscribed") == "1":
                cells.append("<td class=\"num\" title=\"more threads than CPUs\">%s+</td>"
                             % esc(r.get(col, "")))
            elif col == "noise":
                v = NOISE.get(r.get(col, ""), "")
                cells.append("<td%s>%s</td>" % (" class=\"racy\"" if v else "", esc(v)))
            elif col == "verified":
                v = r.get(col, "")
                cls = {"fail": " class=\"bad\"", "racy": " class=\"racy\""}.get(v, "")
                cells.append("<td%s>%s</td>" % (cls, esc(v)))
            elif fmt is None:
                cells.append("<td%s>%s</td>" % (" class=\"num\"" if col == "threads" else "",
                                                esc(r.get(col, ""))))
            elif isinstance(col, tuple):
                lo, hi = r.get(col[0], ""), r.get(col[1], "")
                text = "%s .. %s" % (fmt(lo), fmt(hi)) if lo != "" and hi != "" else ""
                cells.append("<td class=\"num\">%s</td>" % esc(text))
            else:
                cells.append("<td class=\"num\">%s</td>" % esc(fmt(r.get(col, ""))))
        out.append("<tr>%s</tr>" % "".join(cells))
    out.append("</table>")
    if any(r.get("oversubscribed") == "1" for r in rows):
        out.append("<p class=\"muted\">threads+ = more threads than CPUs (oversubscribed).</p>")
    return "\n".join(out)


def plots_in(d):
    """The plots already in d (report.py DIR): every *.svg."""
    return [os.path.splitext(os.path.basename(p))[0]
            for p in glob.glob(os.path.join(glob.escape(d), "*.svg"))]


def build(run, plots, pngs, speedup_csv):
    """The page. plots: plot names (an .svg each); pngs: those with a PNG."""
    meta, rows = run.meta, run.rows
    d = run.dir
    plat = meta.get("platform") if isinstance(meta.get("platform"), dict) else {}
    run_id = meta.get("run_id") or os.path.basename(os.path.abspath(d))
    workloads = sorted({r.get("workload", "") for r in rows if r.get("workload")})
    if not workloads and isinstance(meta.get("options"), dict):
        workloads = [str(meta["options"].get("workload", ""))]
    title = "lockbench %s: %s" % (", ".join(w for w in workloads if w) or "run", run_id)
    suite = meta.get("suite") if isinstance(meta.get("suite"), dict) else {}
    reps = sorted({r.get("reps", "") for r in rows if r.get("reps")})
    levels = sorted({r.get("ci_level", "") for r in rows if r.get("ci_level")})

    p = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
         "<title>%s</title>" % esc(title), "<style>%s</style>" % CSS, "</head>", "<body>"]
    p.append("<h1>%s</h1>" % esc(title))
    p.append("<p class=\"muted\">host %s, status %s, %s rows; %s %s (git %s)</p>" % (
        esc(meta.get("host", run.host)), esc(meta.get("status", "?")),
        esc(meta.get("rows", len(rows))), esc(suite.get("name", "lockbench")),
        esc(suite.get("version", "")), esc(suite.get("git_revision", "?"))))
    if meta.get("diagnosis"):
        p.append(diagnosis_html(meta["diagnosis"]))
    if meta.get("noise"):
        p.append("<p class=\"noise\"><strong>Noise:</strong> %s</p>" % esc(meta["noise"]))

    # The answer first: which primitive wins, per kind and regime.
    try:
        groups = scoreboard.load([d]) if rows else []
    except (BadInput, ArithmeticError, ValueError) as e:
        # the page matters more than its first table: say why, go on
        groups = []
        p.append("<p class=\"muted\">(no scoreboard: %s)</p>" % esc(str(e)))
    if groups:
        p.append("<h2 id=\"scoreboard\">Scoreboard: which primitive wins, and by how much</h2>")
        p.append(scoreboard.html(groups))

    p.append("<h2>Command line</h2>")
    p.append("<pre>%s</pre>" % esc(meta.get("command_line", "(meta.json missing)")))

    files = meta.get("files")
    if isinstance(files, list) and files:
        p.append("<h2>Files</h2>")
        p.append("<p>Written by the run: %s</p>" % ", ".join(file_link(f) for f in files))

    p.append("<h2>Platform</h2>")
    keys = ["cpu_model", "topology", "pus", "kernel", "glibc", "compiler", "buildtype",
            "c_args", "sanitize", "governor", "boost", "caches_bytes", "libraries"]
    shown = {k: plat[k] for k in keys if k in plat}
    p.append(kv_table(shown, keys) if shown else "<p>(no platform in meta.json)</p>")
    cal = meta.get("calibration")
    if isinstance(cal, dict) and cal:
        p.append("<h2>Calibration</h2>")
        p.append(kv_table(cal))
    opts = meta.get("options")
    if isinstance(opts, dict) and opts:
        p.append("<h2>Options (after defaults)</h2>")
        p.append(kv_table(opts))

    order = {n: i for i, n in enumerate(PLOT_ORDER)}
    # the per-kind throughput plots (throughput-<kind>) right after
    # "throughput", in the run's kind order, as small multiples
    kind_plots = [n for n in plots if n.startswith("throughput-") and n != "throughput-top"
                  and KIND_NAME.match(n[len("throughput-"):])]
    kind_order = {}
    for r in rows:
        kind_order.setdefault("throughput-" + r.get("kind", ""), len(kind_order))
    at = order.get("throughput", 0) + 0.5
    # a sweep's plots (sweep-<axis>) first: a sweep was asked a question
    first = order.get("throughput-top", 0) - 0.5
    plots = sorted(plots, key=lambda n: ((at, kind_order.get(n, 0)) if n in kind_plots
                                         else (first, n) if n.startswith("sweep-")
                                         else (order.get(n, len(order)), n)))
    p.append("<h2>Plots</h2>")
    if not rows:
        p.append("<p>(no plots: summary.csv has no rows, the run ended before its first"
                 " configuration completed)</p>")
    elif not plots:
        p.append("<p>(no plots in this directory: run <code>./bench plot DIR</code>)</p>")
    multiples = False
    for n in plots:
        if (n in kind_plots) != multiples:
            multiples = not multiples
            p.append("<div class=\"multiples\">" if multiples else "</div>")
        cap = PLOT_CAPTION.get(n, n)
        if n.startswith("sweep-"):
            ax = n[len("sweep-"):]
            cap = SWEEP_CAPTION % ("critical section (--cs, ns)" if ax == "cs_ns"
                                   else "--param " + ax)
        if n in kind_plots:
            cap = "Throughput of the %s kind, fastest first at the PU count" % n[len("throughput-"):]
        svg, png = n + ".svg", n + ".png"
        alt = "%s plot" % n
        fig = "<figure id=\"plot-%s\"><figcaption>%s</figcaption>" % (esc(n), esc(cap))
        # The SVG is the image; the PNG of the same name, where it exists, is
        # the fallback for viewers that do not render SVG (<picture>).
        if n in pngs:
            fig += ("<picture><source srcset=\"%s\" type=\"image/svg+xml\">"
                    "<img src=\"%s\" alt=\"%s\"></picture>" % (esc(svg), esc(png), esc(alt)))
        else:
            fig += "<img src=\"%s\" alt=\"%s\">" % (esc(svg), esc(alt))
        links = [file_link(svg)] + ([file_link(png)] if n in pngs else [])
        if n.startswith("speedup") and speedup_csv:
            links.append(file_link("speedup.csv"))
        fig += "<div class=\"muted\">%s</div></figure>" % " | ".join(links)
        p.append(fig)
    if multiples:
        p.append("</div>")

    p.append("<h2>Summary</h2>")
    if any(r.get("ops_per_sec_ci_lo") for r in rows):
        note = ("Medians over %s repetition(s); CI = distribution-free interval of the median"
                % ("/".join(reps) or "?"))
        if levels:
            note += " (coverage %s)" % "/".join(levels)
    else:
        note = ("Medians over %s repetition(s); no interval (one repetition has none)"
                % ("/".join(reps) or "?"))
    p.append("<p class=\"muted\">%s. Latency includes one timer read. From summary.csv.</p>"
             % esc(note))
    p.append(summary_table(run.header, rows) if rows else "<p>(summary.csv has no rows)</p>")
    # Inline, no network: after load, record how many plots rendered, so a
    # headless browser can check the page (tests/test_report_render.py).
    p.append("<script>window.addEventListener('load',function(){var m=document.images,"
             "k=0;for(var i=0;i<m.length;i++)if(m[i].complete&&m[i].naturalWidth>0)k++;"
             "document.body.setAttribute('data-plots-loaded',k+'/'+m.length);});</script>")
    p.append("</body>\n</html>\n")
    return "\n".join(p)


# ---------------------------------------------------------------- main

def plots_and_report(d):
    """--plots: everything, in one scratch directory, committed together."""
    run = Run(d, for_plots=True)
    written = []
    with Scratch(d) as scratch:
        plots, top = [], False
        if run.rows:
            if shutil.which("gnuplot") is None:
                raise Failed("gnuplot not found (Debian: apt-get install gnuplot-nox); nothing"
                             " written")
            plots, top = draw(run, scratch)
        scratch.add("report.html", build(run, plots, set(plots), bool(run.rows)))
        written = scratch.commit()
    # Warnings from an earlier draw that this one did not have: gone.
    stale = os.path.join(d, "gnuplot-warnings.txt")
    if run.rows and not any(w.endswith("gnuplot-warnings.txt") for w in written):
        try:
            os.remove(stale)
        except FileNotFoundError:
            pass
    # A NAME-top left from an earlier draw that no longer needs one would
    # mislead: drop it (the page no longer shows it).
    if run.rows and not top:
        for p in COMMON_PLOTS:
            for ext in ("png", "svg"):
                try:
                    os.remove(os.path.join(d, "%s-top.%s" % (p, ext)))
                except FileNotFoundError:
                    pass
                except OSError as e:
                    raise Failed("could not remove the stale %s-top.%s in %s: %s"
                                 % (p, ext, d, e.strerror or e))
    if not run.rows:
        sys.stderr.write("%s: %s has no rows: no plots\n" % (ME, run.summary_path))
    if not os.environ.get("LB_QUIET"):   # lockbench --quiet: the run names its files
        sys.stderr.write("%s: wrote %s\n" % (ME, " ".join(written)))
    return 0


def report_only(d):
    run = Run(d, for_plots=False)
    plots = plots_in(d)
    pngs = {n for n in plots if os.path.exists(os.path.join(d, n + ".png"))}
    with Scratch(d) as scratch:
        scratch.add("report.html", build(run, plots, pngs,
                                         os.path.exists(os.path.join(d, "speedup.csv"))))
        written = scratch.commit()
    sys.stderr.write("%s: wrote %s\n" % (ME, " ".join(written)))
    return 0


def main(argv):
    global ME
    args = argv[1:]
    plots = bool(args) and args[0] == "--plots"
    if plots:
        ME = "plot.sh"
        args = args[1:]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("%s: usage: %s [--plots] DIR\n" % (ME, "report.py"))
        return 2
    d = args[0]
    exit_on_signals()
    if not os.path.isdir(d):
        sys.stderr.write("%s: %s: no such directory\n" % (ME, d))
        return 2
    if not os.path.isfile(os.path.join(d, "summary.csv")):
        sys.stderr.write("%s: %s: no summary.csv (not a lockbench run directory?)\n"
                         % (ME, d))
        return 2
    try:
        return plots_and_report(d) if plots else report_only(d)
    except BadInput as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 2
    except Failed as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
