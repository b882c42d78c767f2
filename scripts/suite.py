#!/usr/bin/env python3
"""suite.py: one command per platform, and the comparison of platforms.

    ./bench suite [--quick] [--workloads LIST] [--out DIR]
    ./bench compare SUITE1 SUITE2 [SUITE3 ...] [--out DIR]

suite (scripts/suite.py run LOCKBENCH ...) runs, into one platform
directory (default results/<host>/suite-<YYYYmmdd-HHMMSS>/):
  fingerprint/        ./bench --workload fingerprint
  <workload>/         every workload's default sweep: counter, trylock,
                      recursive, pool, readmostly, barrier, handoff,
                      broadcast, prodcons, and deadlock and livelock as their
                      fixes (deadlock-fixed: order=fixed, livelock-random:
                      backoff=random; their defaults end in a watchdog report
                      by design); each with its table in <workload>.table.txt
  scoreboard.txt, scoreboard.csv   ./bench scoreboard over all of them
  report.html         the platform's page: the fingerprint first, then the
                      scoreboard, then each workload (its throughput plot
                      and a link to its own report)
  suite.json          host, command, every step's status; written when the
                      suite starts and rewritten after each step
--quick runs each workload with --repeat 3 --duration 0.05 --warmup 0.01
(under 5 minutes on 2 PUs); --workloads runs only the named ones.  A step
that fails is recorded and the suite goes on; the exit status is 1 if any
failed, 130 if interrupted (the finished steps are kept), 2 on a usage
error.

compare (scripts/suite.py compare ...; ./bench compare sends suite
directories here) prints, and writes as report.html and compare-suites.csv
into --out (default results/compare-suites-<time>/):
  1. the fingerprints side by side: every figure's p50 on each platform,
     the core-to-core round trips summarised per relation;
  2. per workload and kind, each platform against the first: the geometric
     mean over the implementations and the thread counts both ran of the
     raw ops/s ratio, and of the ratio normalised to each platform's own
     pthread reference (compare.py's: pthread-mutex for the mutex-like
     kinds, else the kind's pthread implementation), where absolute speed
     cancels;
  3. the cells where the ranking changes: for each workload, kind, thread
     count and parameters, the implementations every platform ran, ranked
     by ops/s on each; the cells whose winner differs are listed with each
     platform's top three, marked "within noise" unless on every platform
     the winner's confidence interval lies above the runner-up's; a count
     says in how many cells the order differs anywhere.

Python 3 standard library only.
"""
import csv
import html
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lbcommon import BadInput, Failed, exit_on_signals, write_file  # noqa: E402

ME = "suite"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SCRIPTS)
WORKLOADS = [("counter", []), ("trylock", []), ("recursive", []), ("pool", []),
             ("readmostly", []), ("barrier", []), ("handoff", []), ("broadcast", []),
             ("prodcons", []), ("deadlock-fixed", ["--param", "order=fixed"]),
             ("livelock-random", ["--param", "backoff=random"])]
QUICK = ["--repeat", "3", "--duration", "0.05", "--warmup", "0.01"]
MUTEX_LIKE = ("mutex", "recursive", "semaphore", "rwlock", "counter", "none")


def say(msg):
    sys.stderr.write("%s: %s\n" % (ME, msg))
    sys.stderr.flush()


def safe_host():
    h = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "_"
    return "_" + h[1:] if h.startswith(".") else h


def make_out(d):
    """Create the output directory, or a usage error naming it."""
    if os.path.exists(d) and not os.path.isdir(d):
        raise BadInput("--out: '%s' is a file; give a new directory" % d)
    if os.path.isdir(d) and os.listdir(d):
        raise BadInput("--out: '%s' is not empty; give a new directory" % d)
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as e:
        raise BadInput("--out: cannot write to '%s': %s; give a writable directory"
                       % (d, e.strerror or e))


def write_json(path, obj):
    tmp = path + ".tmp"
    write_file(tmp, json.dumps(obj, indent=2, sort_keys=True) + "\n", sync=True, name=path)
    os.replace(tmp, path)


# ------------------------------------------------------------------ run

def parse_run(argv):
    if not argv:
        raise BadInput("usage: suite.py run LOCKBENCH [--quick] [--workloads LIST] [--out DIR]")
    binary, rest = argv[0], argv[1:]
    quick, out, only = False, None, None
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--quick":
            quick = True
        elif a in ("--out", "--workloads") and i + 1 < len(rest):
            if a == "--out":
                out = rest[i + 1]
            else:
                only = rest[i + 1].split(",")
            i += 1
        elif a in ("-h", "--help"):
            print(__doc__.split("\n\n")[1])
            sys.exit(0)
        else:
            raise BadInput("unknown option '%s'; valid: --quick, --workloads LIST, --out DIR" % a)
        i += 1
    names = [n for n, _ in WORKLOADS]
    if only is not None:
        bad = [w for w in only if w not in names]
        if bad or not only:
            raise BadInput("--workloads: '%s' is not a suite workload; valid: %s"
                           % (",".join(bad) if bad else "", ", ".join(names)))
    return binary, quick, out, only


def run(argv):
    binary, quick, out, only = parse_run(argv)
    if not os.access(binary, os.X_OK):
        raise BadInput("%s: not an executable" % binary)
    host = safe_host()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    d = out or os.path.join(ROOT, "results", host, "suite-" + stamp)
    make_out(d)
    steps = [("fingerprint", ["--workload", "fingerprint"])]
    for name, extra in WORKLOADS:
        if only is None or name in only:
            steps.append((name, ["--workload", name.split("-")[0]] + extra
                          + (QUICK if quick else [])))
    meta = {"suite_id": "suite-" + stamp, "host": host, "quick": quick,
            "command_line": " ".join(["./bench", "suite"] + argv[1:]),
            "started_unix": time.time(), "finished_unix": None, "status": "running",
            "steps": [{"name": n, "status": "pending"} for n, _ in steps]}
    jpath = os.path.join(d, "suite.json")
    write_json(jpath, meta)
    say("%s%s: %d steps into %s" % ("quick " if quick else "", host, len(steps), d))
    failed = interrupted = 0
    try:
        for i, (name, args) in enumerate(steps):
            step = meta["steps"][i]
            step["status"] = "running"
            say("[%d/%d] %s" % (i + 1, len(steps), name))
            t0 = time.time()
            with open(os.path.join(d, name + ".table.txt"), "w") as tab, \
                    open(os.path.join(d, name + ".err"), "w") as err:
                rc = run_step([binary] + args + ["--out", os.path.join(d, name), "--quiet"],
                              tab, err)
            step["seconds"] = round(time.time() - t0, 1)
            step["exit_status"] = rc
            if rc in (130, 143) or rc < 0:
                step["status"] = "interrupted"
                interrupted = 1
            elif rc != 0:
                step["status"] = "failed"
                failed = 1
                say("%s FAILED (exit %d; see %s.err and %s/meta.json)" % (name, rc, name, name))
            else:
                step["status"] = "ok"
            write_json(jpath, meta)
            if interrupted:
                break
    except KeyboardInterrupt:
        # Ctrl-C between two steps, or while this script wrote: the step
        # under way (if any) is the interrupted one; suite.json says so.
        interrupted = 1
        for step in meta["steps"]:
            if step["status"] == "running":
                step["status"] = "interrupted"
    # What is left takes a moment and must finish: a second Ctrl-C would
    # leave suite.json saying "running".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not interrupted:
        with open(os.path.join(d, "scoreboard.txt"), "w") as f:
            subprocess.run([sys.executable, os.path.join(SCRIPTS, "scoreboard.py"), d],
                           stdout=f, stderr=subprocess.DEVNULL)
        with open(os.path.join(d, "scoreboard.csv"), "w") as f:
            subprocess.run([sys.executable, os.path.join(SCRIPTS, "scoreboard.py"),
                            "--format", "csv", d], stdout=f, stderr=subprocess.DEVNULL)
    meta["finished_unix"] = time.time()
    meta["status"] = "interrupted" if interrupted else "failed" if failed else "ok"
    write_json(jpath, meta)
    tmp = os.path.join(d, "report.html.tmp")
    write_file(tmp, platform_page(d, meta), sync=True, name=os.path.join(d, "report.html"))
    os.replace(tmp, os.path.join(d, "report.html"))
    say("%s: %s (report.html, suite.json)" % (meta["status"], d))
    return 130 if interrupted else 1 if failed else 0


def run_step(argv, tab, err):
    """Run one lockbench and return its exit status.  Ctrl-C reaches it
    with us (one process group): it finishes its current configuration,
    keeps its rows and exits 130, so we wait for it rather than kill it;
    a SIGINT sent to this script alone is passed on."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=tab, stderr=err)
    try:
        return p.wait()
    except KeyboardInterrupt:
        try:
            p.send_signal(signal.SIGINT)
        except OSError:
            pass
        while True:
            try:
                p.wait()
                break
            except KeyboardInterrupt:
                continue
        raise


# ------------------------------------------------------------ reading

def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fnum(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def esc(x):
    return html.escape("" if x is None else str(x), quote=True)


def fingerprint_rows(d):
    p = os.path.join(d, "fingerprint", "fingerprint.csv")
    return read_csv(p) if os.path.isfile(p) else []


def fingerprint_figures(rows):
    """{figure name: p50}: c2c summarised per relation (median over pairs),
    every other row by measure/op/relation."""
    out, c2c = {}, {}
    for r in rows:
        v = fnum(r["p50_ns"])
        if v is None or r["check"] != "ok":
            continue
        if r["measure"] == "c2c_rtt":
            c2c.setdefault(r["relation"], []).append(v)
        else:
            out["%s %s %s" % (r["measure"], r["op"], r["relation"])] = v
    for rel, vs in c2c.items():
        vs.sort()
        out["c2c_rtt median %s" % rel] = vs[(len(vs) - 1) // 2]
    return out


def platform_page(d, meta):
    fmeta = {}
    try:
        with open(os.path.join(d, "fingerprint", "meta.json")) as f:
            fmeta = json.load(f)
    except (OSError, ValueError):
        pass
    plat = fmeta.get("platform", {})
    p = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
         "<title>lockbench suite: %s</title>" % esc(meta["host"]),
         "<style>body{font-family:sans-serif;font-size:14px;max-width:1200px;margin:1.5em auto;"
         "padding:0 1em}table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:2px 6px}"
         "td.num{text-align:right}.bad{color:#a00;font-weight:bold}img{max-width:100%}"
         "pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}</style></head><body>",
         "<h1>Platform suite: %s</h1>" % esc(meta["host"]),
         "<p>%s; %s. <code>%s</code>, status <b>%s</b>.</p>"
         % (esc(plat.get("cpu_model", "")), esc(plat.get("topology", "")),
            esc(meta["command_line"]), esc(meta["status"]))]
    p.append("<h2>Fingerprint</h2>")
    if os.path.isfile(os.path.join(d, "fingerprint", "fingerprint-c2c.png")):
        p.append("<p><img src=\"fingerprint/fingerprint-c2c.png\" alt=\"core-to-core heat map\" "
                 "width=\"600\"></p>")
    figs = fingerprint_figures(fingerprint_rows(d))
    if figs:
        p.append("<table><tr><th>figure</th><th>p50 (ns)</th></tr>")
        for k in sorted(figs):
            p.append("<tr><td>%s</td><td class=\"num\">%.1f</td></tr>" % (esc(k), figs[k]))
        p.append("</table><p><a href=\"fingerprint/report.html\">the fingerprint's page</a></p>")
    else:
        p.append("<p class=\"bad\">(no fingerprint)</p>")
    p.append("<h2>Scoreboard</h2>")
    try:
        with open(os.path.join(d, "scoreboard.txt")) as f:
            p.append("<pre>%s</pre>" % esc(f.read()))
    except OSError:
        p.append("<p>(no scoreboard)</p>")
    p.append("<h2>Workloads</h2>")
    for s in meta["steps"]:
        if s["name"] == "fingerprint":
            continue
        cls = "" if s["status"] == "ok" else " class=\"bad\""
        p.append("<h3%s>%s: %s</h3>" % (cls, esc(s["name"]), esc(s["status"])))
        if os.path.isfile(os.path.join(d, s["name"], "throughput.png")):
            p.append("<p><a href=\"%s/report.html\"><img src=\"%s/throughput.png\" width=\"600\" "
                     "alt=\"%s throughput\"></a></p>" % (esc(s["name"]), esc(s["name"]),
                                                          esc(s["name"])))
        elif os.path.isfile(os.path.join(d, s["name"], "report.html")):
            p.append("<p><a href=\"%s/report.html\">report</a></p>" % esc(s["name"]))
    p.append("</body></html>")
    return "\n".join(p) + "\n"


# ------------------------------------------------------------ compare

class Suite:
    def __init__(self, d):
        self.dir = d
        try:
            with open(os.path.join(d, "suite.json")) as f:
                self.meta = json.load(f)
        except (OSError, ValueError) as e:
            raise BadInput("%s: not a suite directory (suite.json: %s)" % (d, e))
        self.name = self.meta.get("host", os.path.basename(d))
        self.figs = fingerprint_figures(fingerprint_rows(d))
        # (workload dir, kind, impl, threads, param) -> ops/s median; verified ok only
        self.ops, self.backend, self.ci = {}, {}, {}
        for s in self.meta.get("steps", []):
            p = os.path.join(d, s["name"], "summary.csv")
            if s["name"] == "fingerprint" or not os.path.isfile(p):
                continue
            for r in read_csv(p):
                v = fnum(r.get("ops_per_sec_median"))
                if v is None or r.get("verified") != "ok" or r["kind"] == "none":
                    continue
                k = (s["name"], r["kind"], r["impl"], int(r["threads"]), r["param"])
                self.ops[k] = v
                self.backend[r["impl"]] = r["backend"]
                lo, hi = fnum(r.get("ops_per_sec_ci_lo")), fnum(r.get("ops_per_sec_ci_hi"))
                self.ci[k] = (lo if lo is not None else v, hi if hi is not None else v)

    def ref(self, k):
        wl, kind, _, t, param = k
        if kind in MUTEX_LIKE and (wl, kind, "pthread-mutex", t, param) in self.ops:
            return (wl, kind, "pthread-mutex", t, param)
        if kind in MUTEX_LIKE:
            for kk in self.ops:
                if kk[0] == wl and kk[2] == "pthread-mutex" and kk[3] == t and kk[4] == param:
                    return kk
        c = sorted(kk for kk in self.ops if kk[0] == wl and kk[1] == kind and kk[3] == t
                   and kk[4] == param and self.backend.get(kk[2]) == "pthread")
        return c[0] if c else None


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def compare(argv):
    dirs, out = [], None
    i = 0
    while i < len(argv):
        if argv[i] == "--out" and i + 1 < len(argv):
            out = argv[i + 1]
            i += 2
            continue
        if argv[i].startswith("--"):
            raise BadInput("unknown option '%s' for suites; valid: --out DIR" % argv[i])
        dirs.append(argv[i])
        i += 1
    if len(dirs) < 2:
        raise BadInput("compare needs two or more suite directories (the first is the baseline)")
    suites = [Suite(d) for d in dirs]
    # Where the report goes, checked before any work is printed.
    out = out or os.path.join(ROOT, "results", "compare-suites-" + time.strftime("%Y%m%d-%H%M%S"))
    make_out(out)
    names = [s.name for s in suites]
    if len(set(names)) < len(names):
        names = ["%s (%s)" % (s.name, os.path.basename(os.path.normpath(s.dir))) for s in suites]
    base = suites[0]
    lines, rows = [], []

    lines.append("1. Fingerprints (p50, ns)")
    figs = sorted(set().union(*[s.figs for s in suites]))
    lines.append("  %-40s %s" % ("figure", " ".join("%14s" % n[:14] for n in names)))
    for f in figs:
        vals = [s.figs.get(f) for s in suites]
        lines.append("  %-40s %s" % (f, " ".join("%14s" % ("%.1f" % v if v is not None else "-")
                                                  for v in vals)))
        for n, v in zip(names, vals):
            rows.append(["fingerprint", f, "", "", n, "" if v is None else "%.1f" % v, "", ""])

    lines.append("")
    lines.append("2. Each platform against %s: geometric mean over implementations and common "
                 "thread counts" % names[0])
    lines.append("  %-18s %-10s %-24s %8s %11s %6s" % ("workload", "kind", "platform", "raw",
                                                      "normalised", "cells"))
    groups = sorted({(k[0], k[1]) for k in base.ops})
    for wl, kind in groups:
        for s, n in zip(suites[1:], names[1:]):
            raw, norm = [], []
            for k, v in base.ops.items():
                if (k[0], k[1]) != (wl, kind) or k not in s.ops:
                    continue
                raw.append(s.ops[k] / v)
                rb, rs = base.ref(k), s.ref(k)
                if rb and rs and rb[2] == rs[2]:
                    nb = v / base.ops[rb]
                    ns = s.ops[k] / s.ops[rs]
                    norm.append(ns / nb)
            if not raw:
                continue
            g, gn = geomean(raw), geomean(norm)
            lines.append("  %-18s %-10s %-24s %8.3f %11s %6d" % (wl, kind, n[:24], g,
                                                                "%.3f" % gn if gn else "-",
                                                                len(raw)))
            rows.append(["ratio", wl, kind, "", n, "%.4f" % g, "%.4f" % gn if gn else "",
                         str(len(raw))])

    lines.append("")
    lines.append("3. Where the ranking changes (implementations every platform ran)")
    changed = reordered = cells = clear_changes = 0
    for wl, kind in groups:
        threads = sorted({k[3] for k in base.ops if (k[0], k[1]) == (wl, kind)})
        params = sorted({k[4] for k in base.ops if (k[0], k[1]) == (wl, kind)})
        for t in threads:
            for param in params:
                per, cis = [], []
                for s in suites:
                    per.append({k[2]: v for k, v in s.ops.items()
                                if (k[0], k[1], k[3], k[4]) == (wl, kind, t, param)})
                    cis.append({k[2]: s.ci[k] for k in s.ops
                                if (k[0], k[1], k[3], k[4]) == (wl, kind, t, param)})
                common = set.intersection(*[set(x) for x in per])
                if len(common) < 2:
                    continue
                cells += 1
                ranks = [sorted(common, key=lambda i, x=x: (-x[i], i)) for x in per]
                if len({tuple(r) for r in ranks}) > 1:
                    reordered += 1
                winners = [r[0] for r in ranks]
                if len(set(winners)) < 2:
                    continue
                changed += 1
                # A winner is clear on a platform when its confidence
                # interval lies above the runner-up's: then a change of
                # winner is the machines', not the repetitions' noise.
                clear = all(ci[r[0]][0] > ci[r[1]][1] for ci, r in zip(cis, ranks))
                clear_changes += clear
                lines.append("  %s %s %s threads=%d: %s%s" % (
                    wl, kind, param or "-", t,
                    "; ".join("%s %s" % (n, " > ".join(r[:3])) for n, r in zip(names, ranks)),
                    "" if clear else "  (within noise: a winner's CI overlaps its runner-up's)"))
                for n, w in zip(names, winners):
                    rows.append(["winner", wl, kind, str(t), n, w, param,
                                 "clear" if clear else "noise"])
    if not changed:
        lines.append("  (none: the same implementation wins every common cell)")
    lines.append("  winner differs in %d of %d cells (%d clear: on every platform the winner's "
                 "CI lies above the runner-up's); the order differs somewhere in %d"
                 % (changed, cells, clear_changes, reordered))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)

    csvp = os.path.join(out, "compare-suites.csv")
    with open(csvp + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "what", "kind", "threads", "platform", "value", "normalised",
                    "cells"])
        w.writerows(rows)
    os.replace(csvp + ".tmp", csvp)
    page = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>lockbench: %s"
            "</title></head><body style=\"font-family:sans-serif\">" % esc(" vs ".join(names)),
            "<h1>Platforms compared: %s</h1>" % esc(" vs ".join(names)),
            "<p>Suites: %s. The first is the baseline.</p>" % esc(", ".join(dirs)),
            "<pre>%s</pre></body></html>" % esc(text)]
    write_file(os.path.join(out, "report.html.tmp"), "\n".join(page) + "\n", sync=True)
    os.replace(os.path.join(out, "report.html.tmp"), os.path.join(out, "report.html"))
    say("wrote report.html and compare-suites.csv in %s" % out)
    return 0


def main(argv):
    exit_on_signals()
    try:
        if len(argv) >= 2 and argv[1] == "run":
            return run(argv[2:])
        if len(argv) >= 2 and argv[1] == "compare":
            return compare(argv[2:])
        raise BadInput("usage: suite.py run LOCKBENCH [...] | suite.py compare SUITE...")
    except BadInput as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 2
    except Failed as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted; the finished steps are kept\n" % ME)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
