#!/usr/bin/env python3
"""./bench scoreboard DIR...: which primitive wins, per kind, workload and
regime, and by how much.

usage: scoreboard.py [--format text|csv] [--twins] DIR...

Each DIR is a run directory (one workload), or a platform directory
holding one run directory per workload (results/reference/<platform>/,
a platform suite's output). Two runs of one workload are refused: that is
./bench compare's job.

For each workload and kind (and each parameter set, cs, think and pin of
the run), and each regime:
  uncontended     1 thread
  contended       the largest thread count that is not oversubscribed
                  (the PU count in the default sweep; the run's rank_threads)
  oversubscribed  the largest thread count above the PUs
it states, at that one thread count:
  - the winner (most ops/s, median of the repetitions) and its margin over
    the runner-up;
  - the futex family's and the CK family's best member against pthread's
    best member of the kind;
each ratio with compare's statistics (lbstats): the ratio of medians, its
95% bootstrap interval and the U test's verdict: "real" (p <= 0.05),
"noise", or "n/a" below 5 repetitions a side. Then, per kind, each
family's worst cell over every thread count: where its best member does
least well against pthread's best.

With --twins it states instead each futex implementation against its
pthread twin (TWIN_OF below: the glibc primitive it stands in for) at
every thread count at which the futex one ran, with the same statistics,
and ends with the cells where it is slower and those it could not compare
(a check failed, the twin did not run): the question "does our futex
family beat glibc everywhere?" answered cell by cell.

The controls (kind none: the harness floor and the race) are never ranked.
A configuration whose check failed is left out: its speed is not a result.

Python 3 standard library only; report.py imports it for the top of
report.html (html()).
"""
import argparse
import csv
import html as htmlmod
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lbstats  # noqa: E402
from lbcommon import BadInput, exit_on_signals, si  # noqa: E402
from lbrun import RESULTS, SUMMARY, read_table  # noqa: E402

ME = "scoreboard"
REGIMES = ("uncontended", "contended", "oversubscribed")
FAMILIES = ("futex", "ck")   # each against pthread
GROUP = ("workload", "kind", "param", "cs_ns", "think_ns", "pin")
# Each futex implementation's pthread twin: the glibc primitive of the same
# policy.  An id not listed here is twinned with its kind's default pthread
# member (KIND_TWIN): the new mutexes stand in for the default mutex.
TWIN_OF = {
    "futex-spin-then-park": "pthread-adaptive",   # both spin, then park
    "futex-rwlock-rpref": "pthread-rwlock",       # glibc's default prefers readers
    "futex-rwlock-wpref": "pthread-rwlock-wpref",
}
KIND_TWIN = {"mutex": "pthread-mutex", "recursive": "pthread-recursive",
             "semaphore": "pthread-sem", "event": "pthread-event",
             "condition": "pthread-cond", "rwlock": "pthread-rwlock",
             "barrier": "pthread-barrier"}


class Config:
    """One implementation at one thread count: its median and repetitions."""

    def __init__(self, row, reps):
        self.impl, self.backend = row["impl"], row["backend"]
        self.threads = row.count("threads")
        self.over = row.get("oversubscribed") == "1"
        self.median = row.finite("ops_per_sec_median", True)
        self.reps = reps
        self.ok = row.get("verified") == "ok"


class Ratio:
    """a against b: ratio of medians, bootstrap CI, verdict."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.value = (a.median / b.median if b.median > 0
                      else math.inf if a.median > 0 else math.nan)
        self.ci = lbstats.bootstrap_ratio_ci(b.reps, a.reps) if b.reps and a.reps else None
        self.verdict, _ = lbstats.significance(b.reps, a.reps) if b.reps and a.reps else ("n/a", None)

    def text(self, with_names=False, digits=2):
        s = "%.*fx %s" % (digits, self.value, self.verdict)
        if self.ci:
            s = "%.*fx [%.*f-%.*f] %s" % (digits, self.value, digits, self.ci[0], digits,
                                          self.ci[1], self.verdict)
        if with_names:
            s += " (%s vs %s)" % (self.a.impl, self.b.impl)
        return s


class Cell:
    """One regime of one group: the winner, its margin, the families."""

    def __init__(self, regime, threads, configs):
        self.regime, self.threads = regime, threads
        ranked = sorted(configs, key=lambda c: (-c.median, c.impl))
        self.winner = ranked[0]
        self.margin = Ratio(ranked[0], ranked[1]) if len(ranked) > 1 else None
        base = best(configs, "pthread")
        self.family = {f: (Ratio(best(configs, f), base) if base and best(configs, f) else None)
                       for f in FAMILIES}


class Group:
    def __init__(self, key, configs, pus, failed=frozenset()):
        self.key = dict(zip(GROUP, key))
        self.pus = pus
        self.failed = failed   # (impl, threads) whose check failed: never ranked
        by_t = {}
        for c in configs:
            by_t.setdefault(c.threads, []).append(c)
        self.by_t = by_t
        self.cells = []
        for regime, t in regime_threads(by_t):
            self.cells.append(Cell(regime, t, by_t[t]))
        # each family's worst cell over every thread count
        self.worst = {}
        for f in FAMILIES:
            cands = []
            for t, cs in sorted(by_t.items()):
                base, mine = best(cs, "pthread"), best(cs, f)
                if base and mine:
                    r = Ratio(mine, base)   # guards a zero median (inf)
                    cands.append((r.value, t, r))
            if cands:
                self.worst[f] = min(cands, key=lambda x: (x[0], x[1]))

    def heading(self):
        """The workload and the configuration its kinds share."""
        k = self.key
        extra = [s for s in (k["param"],
                             "cs %s ns" % k["cs_ns"] if k["cs_ns"] not in ("0", "") else "",
                             "think %s ns" % k["think_ns"] if k["think_ns"] not in ("0", "") else "",
                             "pin " + k["pin"], "%s PUs" % self.pus if self.pus else "") if s]
        return "%s (%s)" % (k["workload"], ", ".join(extra))

    def title(self):
        return "%s %s" % (self.key["workload"], self.key["kind"])


def best(configs, backend):
    mine = [c for c in configs if c.backend == backend]
    return max(mine, key=lambda c: (c.median, c.impl)) if mine else None


def regime_threads(by_t):
    """(regime, thread count) of each regime the run has."""
    counts = sorted(by_t)
    fits = [t for t in counts if not any(c.over for c in by_t[t])]
    over = [t for t in counts if t not in fits]
    out = []
    if 1 in counts:
        out.append(("uncontended", 1))
    contended = [t for t in fits if t >= 2]
    if contended:
        out.append(("contended", max(contended)))
    if over:
        out.append(("oversubscribed", max(over)))
    return out


def resolve(dirs):
    """Run directories: each DIR, or the run directories a platform
    directory holds."""
    out = []
    for d in dirs:
        if os.path.isfile(os.path.join(d, SUMMARY)):
            out.append(d)
            continue
        if not os.path.isdir(d):
            raise BadInput("%s: no such directory" % d)
        subs = sorted(os.path.join(d, e) for e in os.listdir(d)
                      if os.path.isfile(os.path.join(d, e, SUMMARY)))
        if not subs:
            raise BadInput("%s: not a run directory (no summary.csv) and holds none" % d)
        out.extend(subs)
    return out


def params_text(sk):
    """'param p=1, cs 0 ns, think 0 ns, pin compact' of a seen-key."""
    return "param %s, cs %s ns, think %s ns, pin %s" % (sk[1] or "-", sk[2], sk[3], sk[4])


def load(dirs):
    """The groups of every run, in order; refuses two runs of a workload
    with the same parameters."""
    groups, seen = [], {}
    for d in resolve(dirs):
        summ = read_table(os.path.join(d, SUMMARY),
                          required=("workload", "kind", "backend", "impl", "param", "pin",
                                    "cs_ns", "think_ns", "oversubscribed", "verified", "pus"),
                          numbers=("threads", "ops_per_sec_median"))
        res = read_table(os.path.join(d, RESULTS), required=("impl", "param", "pin"),
                         numbers=("threads", "ops_per_sec"), missing_ok=True)
        reps = {}
        for r in (res.rows if res else []):
            k = (r["workload"], r["impl"], r.count("threads"), r["param"], r["cs_ns"],
                 r["think_ns"], r["pin"])
            reps.setdefault(k, []).append(r.finite("ops_per_sec", True))
        by_group, failed, pus = {}, {}, None
        for r in summ.rows:
            wl = r["workload"]
            # Runs of one workload with other parameters (readmostly at
            # read_pct=90 and at 99) are other groups; the same ones twice
            # would be two answers to one question.
            sk = (wl, r["param"], r["cs_ns"], r["think_ns"], r["pin"])
            if sk in seen and seen[sk] != d:
                raise BadInput("two runs of workload %s with the same parameters (%s): %s and %s; "
                               "give one run per workload and parameters (./bench compare "
                               "compares runs)" % (wl, params_text(sk), seen[sk], d))
            seen[sk] = d
            pus = r.get("pus") or pus
            if r["kind"] == "none":
                continue
            gk = tuple(r[c] for c in GROUP)
            if r.get("verified") != "ok":
                failed.setdefault(gk, set()).add((r["impl"], r.count("threads")))
                continue
            k = (wl, r["impl"], r.count("threads"), r["param"], r["cs_ns"], r["think_ns"],
                 r["pin"])
            by_group.setdefault(gk, []).append(Config(r, reps.get(k, [])))
        # each setting's kinds together (a --param/--cs sweep), kinds in
        # the run's order within it
        order = {}
        for key in by_group:
            order.setdefault(key[1], len(order))
        for key in sorted(by_group, key=lambda k: (k[0], k[2], k[3], k[4], k[5], order[k[1]])):
            groups.append(Group(key, by_group[key], pus, failed.get(key, set())))
    return groups


def twin_of(impl, kind):
    return TWIN_OF.get(impl, KIND_TWIN.get(kind))


class Twins:
    """One futex implementation of one group against its pthread twin, at
    each thread count where either ran: a Ratio where both passed their
    checks and did work, else the reason there is none (gaps)."""

    def __init__(self, group, impl, twin):
        self.group, self.impl, self.twin = group, impl, twin
        self.cells, self.gaps = {}, {}
        counts = {t for t, cs in group.by_t.items() if any(c.impl == impl for c in cs)}
        counts |= {t for i, t in group.failed if i == impl}
        for t in sorted(counts):
            cs = group.by_t.get(t, [])
            mine = [c for c in cs if c.impl == impl]
            base = [c for c in cs if c.impl == twin]
            if not mine:
                self.gaps[t] = "futex check failed"
            elif (twin, t) in group.failed:
                self.gaps[t] = "twin check failed"
            elif not base:
                self.gaps[t] = "twin not run"
            elif mine[0].median == 0 and base[0].median == 0:
                self.gaps[t] = "no work on either side"
            else:
                self.cells[t] = Ratio(mine[0], base[0])


def twins(groups):
    out = []
    for g in groups:
        impls = []
        for cs in g.by_t.values():
            impls += [c.impl for c in cs if c.backend == "futex" and c.impl not in impls]
        impls += sorted({i for i, _ in g.failed if i.startswith("futex-") and i not in impls})
        out += [Twins(g, impl, twin_of(impl, g.key["kind"])) for impl in impls]
    return out


def over_counts(g):
    return {t for t, cs in g.by_t.items() if any(c.over for c in cs)}


def twins_text(groups):
    tws = twins(groups)
    lines = []
    by_head = {}
    for tw in tws:
        by_head.setdefault(tw.group.heading(), []).append(tw)
    for head, mine in by_head.items():
        over = set().union(*(over_counts(tw.group) for tw in mine))
        counts = sorted({t for tw in mine for t in list(tw.cells) + list(tw.gaps)})
        rows = [["kind", "futex", "pthread twin"] +
                ["%d%s thr" % (t, "+" if t in over else "") for t in counts]]
        for tw in mine:
            rows.append([tw.group.key["kind"], tw.impl, tw.twin] +
                        ["%.3fx %s" % (tw.cells[t].value, tw.cells[t].verdict)
                         if t in tw.cells else "(%s)" % tw.gaps[t] if t in tw.gaps else "-"
                         for t in counts])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines.extend(["", head])
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    cells = [(tw, t, r) for tw in tws for t, r in sorted(tw.cells.items())]
    losses = sorted((x for x in cells if x[2].value < 1.0), key=lambda x: x[2].value)
    gaps = [(tw, t, why) for tw in tws for t, why in sorted(tw.gaps.items())]
    real = [x for x in losses if x[2].verdict == "real"]
    lines.extend(["", "futex against its pthread twin: %d cells compared; %d at or above 1.000x; "
                  "%d below, of which %d real (U test, p <= 0.05), %d noise and %d without a "
                  "verdict (fewer than %d repetitions a side); %d not compared."
                  % (len(cells), len(cells) - len(losses), len(losses), len(real),
                     sum(1 for x in losses if x[2].verdict == "noise"),
                     sum(1 for x in losses if x[2].verdict == "n/a"), lbstats.MIN_REPS,
                     len(gaps))])
    for tw, t, r in losses:
        lines.append("  below 1.000x: %s at %d thread%s: %s" % (
            tw.group.title(), t, "" if t == 1 else "s", r.text(True, 3)))
    for tw, t, why in gaps:
        lines.append("  not compared: %s at %d thread%s: %s vs %s: %s" % (
            tw.group.title(), t, "" if t == 1 else "s", tw.impl, tw.twin, why))
    lines.extend(["", "Ratios: futex ops/s over its twin's, medians of the repetitions, then "
                  "the U test's verdict. + marks thread counts above the PUs. --format csv "
                  "adds both medians."])
    return "\n".join(lines).lstrip("\n") + "\n"


def twins_csv(groups):
    out = [list(GROUP) + ["pus", "futex", "twin", "threads", "oversubscribed", "ratio",
                          "ci_lo", "ci_hi", "verdict", "futex_ops_per_sec",
                          "twin_ops_per_sec", "not_compared"]]
    for tw in twins(groups):
        g, over = tw.group, over_counts(tw.group)
        for t in sorted(list(tw.cells) + list(tw.gaps)):
            row = [g.key[k] for k in GROUP] + [g.pus or "", tw.impl, tw.twin, t, int(t in over)]
            r = tw.cells.get(t)
            if r:
                lo, hi = ("%.6g" % r.ci[0], "%.6g" % r.ci[1]) if r.ci else ("", "")
                row += ["%.6g" % r.value, lo, hi, r.verdict, "%.0f" % r.a.median,
                        "%.0f" % r.b.median, ""]
            else:
                row += ["", "", "", "", "", "", tw.gaps[t]]
            out.append(row)
    return out


def table(groups, ci=True):
    """The scoreboard as rows of strings, header first; a heading row (one
    cell) opens each workload's configuration."""
    def r(x, name=None):
        if not x:
            return "-"
        t = "%.2fx" % x.value
        if ci and x.ci:
            t += " [%.2f-%.2f]" % x.ci
        t += " " + x.verdict
        return t + (" " + name if name else "")

    rows = [["kind", "regime", "thr", "winner", "ops/s", "margin over runner-up",
             "pthread's best", "futex's best / it", "ck's best / it"]]
    head = None
    for g in groups:
        if g.heading() != head:
            head = g.heading()
            rows.append([head])
        for c in g.cells:
            base = c.family["futex"] or c.family["ck"]
            rows.append([g.key["kind"], c.regime, str(c.threads), c.winner.impl,
                         si(c.winner.median),
                         r(c.margin, "vs " + c.margin.b.impl) if c.margin else "(alone)",
                         base.b.impl if base else "-",
                         r(c.family["futex"], c.family["futex"].a.impl if c.family["futex"] else None),
                         r(c.family["ck"], c.family["ck"].a.impl if c.family["ck"] else None)])
    return rows


def csv_rows(groups):
    """One tidy row per group and regime (header first): numbers as
    numbers, an empty cell where a ratio does not apply."""
    def ratio(x):
        if not x:
            return ["", "", "", "", ""]
        lo, hi = x.ci if x.ci else ("", "")
        return [x.a.impl, "%.6g" % x.value, lo if lo == "" else "%.6g" % lo,
                hi if hi == "" else "%.6g" % hi, x.verdict]
    head = list(GROUP) + ["pus", "regime", "threads", "winner", "winner_ops_per_sec",
                          "runner_up", "margin", "margin_ci_lo", "margin_ci_hi",
                          "margin_verdict", "pthread_best"]
    for f in FAMILIES:
        head += ["%s_best" % f, "%s_ratio" % f, "%s_ci_lo" % f, "%s_ci_hi" % f,
                 "%s_verdict" % f]
    out = [head]
    for g in groups:
        for c in g.cells:
            m = ratio(c.margin)
            base = c.family["futex"] or c.family["ck"]
            row = [g.key[k] for k in GROUP] + [g.pus or "", c.regime, c.threads, c.winner.impl,
                                               "%.0f" % c.winner.median,
                                               (c.margin.b.impl if c.margin else "")] + m[1:]
            row.append(base.b.impl if base else "")
            for f in FAMILIES:
                row += ratio(c.family[f])
            out.append(row)
    return out


def worst_lines(groups):
    out = []
    for g in groups:
        for f in FAMILIES:
            if f in g.worst:
                ratio, t, r = g.worst[f]
                out.append("%s: %s's worst cell: %s at %d thread%s" % (
                    g.title(), f, r.text(True), t, "" if t == 1 else "s"))
    return out


def text(groups):
    rows = table(groups, ci=False)
    cells = [r for r in rows if len(r) > 1]
    widths = [max(len(r[i]) for r in cells) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        if len(r) == 1:
            lines.extend(["", r[0]])
            continue
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.extend(worst_lines(groups))
    lines.append("")
    lines.append("Each regime is judged at one thread count (thr). Ratios: medians of the "
                 "repetitions, then the U test's verdict: real (p <= 0.05), noise, or n/a "
                 "(fewer than %d repetitions a side). --format csv adds 95%% intervals."
                 % lbstats.MIN_REPS)
    return "\n".join(lines) + "\n"


def html(groups):
    """The scoreboard as an HTML fragment (report.html opens with it)."""
    e = htmlmod.escape
    rows = table(groups)
    p = ["<table class=\"scoreboard\">",
         "<tr>%s</tr>" % "".join("<th>%s</th>" % e(h) for h in rows[0])]
    for r in rows[1:]:
        if len(r) == 1:
            p.append("<tr><th colspan=\"%d\">%s</th></tr>" % (len(rows[0]), e(r[0])))
            continue
        p.append("<tr>%s</tr>" % "".join("<td>%s</td>" % e(c) for c in r))
    p.append("</table>")
    wl = worst_lines(groups)
    if wl:
        p.append("<ul>%s</ul>" % "".join("<li>%s</li>" % e(w) for w in wl))
    p.append("<p class=\"muted\">Each regime is judged at one thread count: 1; the largest "
             "not oversubscribed (the PU count by default); the largest above the PUs. "
             "Ratios: medians of the repetitions, [95%% bootstrap interval], the U test's "
             "verdict: real (p &lt;= 0.05), noise, or n/a (fewer than %d repetitions a "
             "side: run with --repeat %d).</p>" % (lbstats.MIN_REPS, lbstats.MIN_REPS))
    return "\n".join(p)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="./bench scoreboard",
                                 description="Which primitive wins, per kind, workload and "
                                             "regime, and by how much.")
    ap.add_argument("--format", choices=("text", "csv"), default="text")
    ap.add_argument("--twins", action="store_true",
                    help="each futex implementation against its pthread twin, at every "
                         "thread count")
    ap.add_argument("dirs", nargs="+", metavar="DIR",
                    help="run directories, or platform directories of them")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    exit_on_signals()
    try:
        groups = load(a.dirs)
    except BadInput as err:
        print("%s: error: %s" % (ME, err), file=sys.stderr)
        return 2
    if not groups:
        print("%s: error: %s: no configuration that passed its check, beyond the controls"
              % (ME, ", ".join(a.dirs)), file=sys.stderr)
        return 2
    if a.twins and not twins(groups):
        print("%s: error: %s: no futex implementation to set against its pthread twin "
              "(run both: --impl futex,pthread)" % (ME, ", ".join(a.dirs)), file=sys.stderr)
        return 2
    if a.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        for r in (twins_csv if a.twins else csv_rows)(groups):
            w.writerow(r)
    else:
        sys.stdout.write((twins_text if a.twins else text)(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
