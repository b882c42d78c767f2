"""lbcompare_plot.py: a Comparison (lbcompare.py) drawn: make_plots writes
compare-throughput, compare-normalised (PNG and SVG, by scripts/compare.gp),
compare-ratio (by compare-ratio.gp) and compare.csv into an output
directory, each whole or not at all; write_plot_inputs is what the scripts
read (vars.gp and one small CSV per run and series). Python 3 standard
library only.
"""
import io
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from lbcommon import (CLEANUP_SIGNALS, Failed, dec_hi, dec_lo, gq, incomplete, publish,
                      write_file)
from lbcompare_text import write_csv
from lbrun import key_num

SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def pow2_range(lo, hi):
    """Powers of two around [lo, hi], with some room."""
    a = math.floor(math.log2(lo) - 0.25)
    b = math.ceil(math.log2(hi) + 0.25)
    if b - a < 2:
        a, b = a - 1, b + 1
    return 2.0 ** a, 2.0 ** b


def write_plot_inputs(cmp, tmp):
    """Per (run, series) CSV files and vars.gp for compare.gp and compare-ratio.gp."""
    runs = cmp.runs
    impls_all = [set(k[1] for k in r.order) for r in runs]
    # What --impl and --threads kept (every series' implementation and
    # settings are among the configurations compared; its thread counts
    # are those kept).
    kept = set(cmp.common)
    kept_series = {k[:2] + k[3:] for k in kept}
    kept_threads = {k[2] for k in kept}
    # Series: (workload, impl, settings) of the baseline whose impl ran in every run.
    series = []
    for k in cmp.base.order:
        s = k[:2] + k[3:]
        if s not in series and s in kept_series and all(k[1] in i for i in impls_all):
            series.append(s)
    vary_wl = len({s[0] for s in series}) > 1

    def title(s):
        t = s[1]
        if vary_wl:
            t = s[0] + " " + t
        for i, c in ((2, "cs_ns"), (3, "think_ns"), (4, "param"), (5, "pin")):
            if len({x[i] for x in series}) > 1:
                t += " %s=%s" % (c, key_num(s[i]) if isinstance(s[i], float) else s[i])
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
            ks = sorted((k for k in r.order if k[:2] + k[3:] == s and k[2] in kept_threads),
                        key=lambda k: k[2])
            if not ks:
                continue
            rel = "series/r%02d-s%03d.csv" % (r.index + 1, si_)
            lines = ["threads,ops_per_sec_median,ops_per_sec_ci_lo,ops_per_sec_ci_hi,"
                     "normalised,ratio,ratio_ci_lo,ratio_ci_hi"]
            for k in ks:
                conf = r.configs[k]
                m = r.median.get(k)
                lo = conf.finite("ops_per_sec_ci_lo")
                hi = conf.finite("ops_per_sec_ci_hi")
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
                    if conf.finite("ci_level"):
                        cil.append(conf.finite("ci_level"))
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
    # The ratio plot's panels: one per run after the baseline and kind (the
    # controls, kind none, last), each with its own key; a series' line
    # type is its place within its kind, so colours differ within a panel.
    kind_of = {}
    for k in cmp.base.order:
        kind_of.setdefault(k[:2] + k[3:], cmp.base.configs[k].get("kind") or "?")
    kinds = []
    for s in series:
        if kind_of[s] not in kinds:
            kinds.append(kind_of[s])
    kinds.sort(key=lambda kd: kd == "none")   # stable: the run's order, controls last
    members = {kd: [i for i, s in enumerate(series, 1) if kind_of[s] == kd] for kd in kinds}
    spos = {i: members[kind_of[s]].index(i) + 1 for i, s in enumerate(series, 1)}
    panels = [(r, kd) for r in runs[1:] for kd in kinds]
    v.append("nkinds = %d" % len(kinds))
    v.append("kmax = %d" % max(len(m) for m in members.values()))
    v.append("array pkind[%d]" % max(1, len(panels)))
    v.append("array prun[%d]" % max(1, len(panels)))
    v.append("array pseries[%d]" % max(1, len(panels)))
    v.append("array pcount[%d]" % max(1, len(panels)))
    for i, (r, kd) in enumerate(panels, 1):
        v.append("pkind[%d] = %s" % (i, gq("controls" if kd == "none" else kd)))
        v.append("prun[%d] = %d" % (i, r.index + 1))
        v.append("pseries[%d] = %s" % (i, gq(" ".join(
            str(x) for x in members[kd] if x in have["ratio"].get(r.index, ())))))
        v.append("pcount[%d] = %d" % (i, len(members[kd])))
    v.append("npanels_ratio = %d" % len(panels))
    v.append("array spos[%d]" % nser)
    v += ["spos[%d] = %d" % (i, spos[i]) for i in range(1, nser + 1)]
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
# compare-ratio is small multiples, a panel per run and kind: its own script.
RATIO_GP = os.path.join(SCRIPTS, "compare-ratio.gp")


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
                script = RATIO_GP if name == "compare-ratio" else gp
                p = subprocess.run(["gnuplot", vars_gp, "-e",
                                    "fmt = '%s'; name = '%s'" % (fmt, name), script],
                                   cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True)
                f = os.path.join(tmp, "out", "%s.%s" % (name, fmt))
                final = os.path.join(outdir, os.path.basename(f))
                if p.returncode != 0:
                    sys.stderr.write(p.stderr)
                    raise RuntimeError("gnuplot failed on %s (%s, %s)" % (script, name, fmt))
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
