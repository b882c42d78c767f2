"""lbcompare.py: what `./bench compare` computes, apart from how it is shown.

  Run(index, path)      one run directory read through lbrun: its
                        configurations (summary.csv's order), the
                        repetitions' ops/s (results.csv), the median per
                        configuration, host, CPU, run id, PUs, label
  Comparison(runs)      the first run is the baseline: the configurations
                        common to all runs (the rest noted on stderr), a Row
                        per (later run, configuration), the normalised view,
                        the settings that vary
  Row                   one configuration of one run against the baseline:
                        ratio of medians, bootstrap CI, U-test p, verdict,
                        stated false-positive rate, platform probe moved
  reference_impl, normalised
                        the implementation a configuration is normalised by

Rendering is in lbcompare_text.py (table, CSV) and lbcompare_plot.py (the
gnuplot inputs and the plots); the statistics in lbstats.py. compare.py's
docstring is the user's documentation. Python 3 standard library only.
"""
import fnmatch
import math
import os
import sys

from lbcommon import BadInput
from lbrun import (RunDir, config_key, describe_key, identity, platform, read_meta,
                   read_table)
from lbstats import (bootstrap_ratio_ci, mann_whitney_p, median, significance)

ME = "compare"

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


class Run:
    """One run directory: its configurations, their medians and repetitions."""

    def __init__(self, index, path):
        self.index = index
        self.path = path
        d = RunDir(path)
        self.summary_path = spath = d.summary_path
        srows = read_table(spath, SUMMARY_REQUIRED, SUMMARY_NUM, SUMMARY_NUM_OPT).rows
        results = read_table(d.results_path, RESULTS_REQUIRED, RESULTS_NUM, RESULTS_NUM_OPT)
        rrows = results.rows
        meta = read_meta(d.meta_path)
        if meta is None:
            note("%s: no such file; host, CPU and PUs from results.csv" % d.meta_path)
        plat = platform(meta)

        if not srows:
            raise BadInput("%s: header only, no configurations" % spath)

        # Configurations, in summary.csv's order (series, then threads).
        self.configs = {}     # key -> summary row
        self.order = []
        seen = {}
        for row in srows:
            k = config_key(row)
            if k in seen:
                raise BadInput("%s line %d: configuration %s repeats line %d"
                               % (spath, row.line, describe_key(k), seen[k]))
            seen[k] = row.line
            self.configs[k] = row
            self.order.append(k)
        self.workloads = []
        for k in self.order:
            if k[0] not in self.workloads:
                self.workloads.append(k[0])

        # Repetitions from results.csv.
        self.reps = {}
        for row in rrows:
            if row.finite("ops_per_sec") is not None:
                self.reps.setdefault(config_key(row), []).append(row.finite("ops_per_sec"))

        host, cpu, run_id = identity(results, meta, d.meta_path)
        self.host = host or "unknown-host"
        self.cpu = cpu or "unknown CPU"
        self.run_id = run_id or os.path.basename(os.path.normpath(path))
        pus = rrows[0].finite("pus") if rrows else None
        if pus is None:
            pus = next((r.finite("pus") for r in self.configs.values() if r.finite("pus")),
                       None)
        if pus is None and isinstance(plat.get("pus"), (int, float)):
            pus = plat["pus"]
        self.pus = int(pus) if pus else 0
        self.label = self.host

        # The run's median per configuration: that of its repetitions in
        # results.csv, the same values the CI and the U test use; summary.csv's
        # where results.csv has none. The two must agree (a note if not).
        self.median = {}
        for k, row in self.configs.items():
            m = row.finite("ops_per_sec_median")
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
        return self.configs[k].finite("probe_rtt_ns_median")


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


def selector(spec, configs):
    """--impl's test of a configuration: a comma list of 'all', ids,
    backends, kinds and shell globs over the ids, as lockbench's --impl
    takes. configs: the baseline's {key: summary row}; an item that
    chooses none of them is refused (a typo must not pass silently)."""
    items = [s.strip() for s in spec.split(",")]
    if not all(items):
        raise BadInput("--impl: '%s' is not a valid list (comma-separated ids, backends, "
                       "kinds or globs)" % spec)

    def one(s, k, conf):
        return (s == "all" or fnmatch.fnmatchcase(k[1], s) or conf.get("backend") == s
                or conf.get("kind") == s)
    for s in items:
        if not any(one(s, k, c) for k, c in configs.items()):
            have = sorted({k[1] for k in configs})
            raise BadInput("--impl: '%s' chooses nothing in the baseline; it has: %s (and "
                           "their backends and kinds)" % (s, ", ".join(have)))

    def keep(k, conf):
        return any(one(s, k, conf) for s in items)
    return keep


class Comparison:
    def __init__(self, runs, keep=None, only_changed=False):
        """keep(key, baseline's summary row): which configurations to
        compare (--impl, --threads); only_changed: the per-configuration
        tables list only those a run's verdict calls real (the Overall
        section still counts every one)."""
        self.runs = runs
        self.only_changed = only_changed
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
        if keep:
            self.common = [k for k in self.common if keep(k, base.configs[k])]
            if not self.common:
                raise BadInput("no configuration common to all runs is left after --impl and "
                               "--threads")
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


def overall(cmp):
    """The summary compare opens with: for each run against the baseline,
    per kind and family (the baseline's summary.csv kind and backend), the
    geometric mean of the ratios and how many cells the U test calls
    faster or slower (verdict real), unchanged (noise) or cannot judge
    (n/a: too few repetitions); then all of them. The controls (kind none)
    are left out. A list of (run, kind, family, cells, geomean, faster,
    slower, same, na); kind and family are "all" in each run's total."""
    out = []
    for r in cmp.runs[1:]:
        groups = {}
        for k in cmp.common:
            row = cmp.rows[(r.index, k)]
            conf = cmp.base.configs[k]
            kind, fam = conf.get("kind", "?"), conf.get("backend", "?")
            if kind == "none" or row.ratio is None or row.ratio < 0:
                continue
            for g in ((kind, fam), ("all", "all")):
                groups.setdefault(g, []).append(row)
        kinds = []
        for k in cmp.common:
            kind = cmp.base.configs[k].get("kind", "?")
            if kind not in kinds:
                kinds.append(kind)
        fams = ("pthread", "futex", "ck", "lit", "atomic", "urcu")
        order = sorted((g for g in groups if g[0] != "all"),
                       key=lambda g: (kinds.index(g[0]),
                                      fams.index(g[1]) if g[1] in fams else len(fams), g[1]))
        for g in order + ([("all", "all")] if ("all", "all") in groups else []):
            rows = groups[g]
            # a collapse to 0 ops/s is a cell (slower, if the test says so)
            # but has no logarithm: the geomean is 0 then
            gm = (0.0 if any(x.ratio == 0 for x in rows)
                  else math.exp(sum(math.log(x.ratio) for x in rows) / len(rows)))
            out.append((r, g[0], g[1], len(rows), gm,
                        sum(x.verdict == "real" and x.ratio > 1 for x in rows),
                        sum(x.verdict == "real" and x.ratio < 1 for x in rows),
                        sum(x.verdict == "noise" for x in rows),
                        sum(x.verdict == "n/a" for x in rows)))
    return out


def shown(cmp):
    """The configurations the per-configuration tables list."""
    if not cmp.only_changed:
        return list(cmp.common)
    return [k for k in cmp.common
            if any(cmp.rows[(r.index, k)].verdict == "real" for r in cmp.runs[1:])]

