"""lbcompare_text.py: a Comparison (lbcompare.py) as text: the terminal
table (print_table: ratios to the baseline with the verdict's footer, then
the normalised view) and the tidy CSV (write_csv: compare.csv and
--format csv). Python 3 standard library only.
"""
import csv
import math

from lbcommon import si
from lbcompare import MUTEX_LIKE, PROBE_FACTOR, overall, shown
from lbrun import key_num
from lbstats import ALPHA, EXACT_MAX, MIN_REPS, RESAMPLES, SEED, false_positive_rate


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
    vals = {"workload": k[0], "cs_ns": key_num(k[3]), "think_ns": key_num(k[4]),
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
        p("  settings: " + " ".join("%s=%s" % (c, key_num(v) if isinstance(v, float) else v)
                                    for c, v in fixed))
    p()

    # 0. The answer first: per kind and family, then all.
    multi = len(runs) > 2
    p("Overall: geometric mean of the ratios to the baseline; cells the U test calls faster "
      "or slower (real), unchanged (noise), or cannot judge (n/a: < %d repetitions a side)"
      % MIN_REPS)
    head = (["run"] if multi else []) + ["kind", "family", "cells", "geomean", "faster",
                                         "slower", "unchanged", "n/a"]
    rows = [([str(r.index + 1)] if multi else []) +
            [kind, fam, str(n), fmt_ratio(gm) + "x", str(f), str(s), str(u), str(na)]
            for r, kind, fam, n, gm, f, s, u, na in overall(cmp)]
    first = 1 if multi else 0
    for line in render(head, rows, set(range(first + 2, len(head)))):
        p(line)
    p()

    # 1. Ratios to the baseline.
    multi = len(runs) > 2
    if cmp.only_changed:
        p("--changed: the %d of %d configurations a verdict calls real" % (
            len(shown(cmp)), len(cmp.common)))
    p("Throughput ratio to the baseline (%s): median ops/s of the run / of the baseline"
      % base.label)
    head = cmp.varying + ["impl", "threads"] + (["run"] if multi else []) + [
        "base ops/s", "ops/s", "ratio", "95% CI", "p (U test)", "verdict"]
    nk = len(cmp.varying) + 2
    right = {nk - 1} | set(range(nk + (1 if multi else 0), len(head) - 1))
    rows = []
    flagged = False
    for k in shown(cmp):
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
    for k in shown(cmp):
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
    for k in shown(cmp):
        for r in cmp.runs:
            conf = r.configs[k]
            norm, ref = cmp.norm[(r.index, k)]
            rec = {"workload": k[0], "impl": k[1], "threads": k[2], "cs_ns": key_num(k[3]),
                   "think_ns": key_num(k[4]), "param": k[5], "pin": k[6],
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


def md_table(head, rows):
    """GitHub-flavoured Markdown; numbers right-aligned."""
    esc = lambda c: str(c).replace("|", "\\|")
    num = [all(r[i][:1].isdigit() or r[i][:1] in "-[" for r in rows) for i in range(len(head))]
    out = ["| " + " | ".join(esc(h) for h in head) + " |",
           "|" + "|".join("---:" if n else "---" for n in num) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return out


def print_markdown(cmp, out):
    """For a pull request or a paper draft: the runs, the Overall table and
    the ratios, as Markdown tables."""
    runs, base = cmp.runs, cmp.base
    p = lambda s="": print(s, file=out)
    p("**lockbench compare**: workload %s; baseline run 1" % ",".join(base.workloads))
    p()
    p_rows = [[str(r.index + 1), r.label, r.cpu, str(r.pus),
               "/".join(map(str, sorted({r.nreps(k) for k in cmp.common})))] for r in runs]
    for line in md_table(["run", "label", "CPU", "PUs", "reps"], p_rows):
        p(line)
    p()
    multi = len(runs) > 2
    rows = [([str(r.index + 1)] if multi else []) +
            [kind, fam, str(n), fmt_ratio(gm) + "x", str(f), str(s), str(u), str(na)]
            for r, kind, fam, n, gm, f, s, u, na in overall(cmp)]
    for line in md_table((["run"] if multi else []) + ["kind", "family", "cells", "geomean",
                                                      "faster", "slower", "unchanged", "n/a"],
                         rows):
        p(line)
    p()
    rows = []
    for k in shown(cmp):
        for r in runs[1:]:
            row = cmp.rows[(r.index, k)]
            ci = "-" if row.ci is None else "[%s, %s]" % (fmt_ratio(row.ci[0]),
                                                          fmt_ratio(row.ci[1]))
            rows.append(key_cells(cmp, k) + ([str(r.index + 1)] if multi else []) + [
                si(row.base_ops, "-"), si(row.ops, "-"), fmt_ratio(row.ratio), ci,
                fmt_p(row.p), row.verdict])
    for line in md_table(cmp.varying + ["impl", "threads"] + (["run"] if multi else []) + [
            "base ops/s", "ops/s", "ratio", "95% CI", "p (U test)", "verdict"], rows):
        p(line)
    p()
    p("Ratios: median ops/s of the run / of the baseline; 95%% CI: bootstrap of the ratio "
      "of medians; verdict: real when the two-sided U test gives p <= %.2f (>= %d "
      "repetitions a side), else noise, n/a below that." % (ALPHA, MIN_REPS))


# csv_rows' cells that are numbers (written as text there): numbers in JSON
JSON_NUMBERS = {"cs_ns", "think_ns", "ops_per_sec", "ratio", "ci_lo", "ci_hi", "p_value",
                "fp_rate", "normalised", "probe_rtt_ns"}


def write_json(cmp, fh):
    """The comparison as one JSON object: runs, overall, rows (csv's)."""
    import json
    doc = {"workload": ",".join(cmp.base.workloads),
           "runs": [{"run": r.index + 1, "label": r.label, "run_id": r.run_id, "host": r.host,
                     "cpu_model": r.cpu, "pus": r.pus, "path": r.path} for r in cmp.runs],
           "overall": [{"run": r.index + 1, "kind": kind, "family": fam, "cells": n,
                        "geomean_ratio": gm, "faster": f, "slower": s, "unchanged": u,
                        "no_verdict": na}
                       for r, kind, fam, n, gm, f, s, u, na in overall(cmp)],
           "rows": [{k: (None if v == "" else float(v) if k in JSON_NUMBERS else v)
                     for k, v in rec.items()} for rec in csv_rows(cmp)]}
    json.dump(doc, fh, indent=2)
    fh.write("\n")

