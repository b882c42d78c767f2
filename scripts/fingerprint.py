#!/usr/bin/env python3
"""fingerprint.py DIR: the heat map and report.html of a fingerprint run
(./bench --workload fingerprint), from DIR/fingerprint.csv and meta.json.

Writes fingerprint-c2c.png and .svg: the core-to-core round trip (p50) of
every ordered pair of PUs measured, rows the PU that served, columns the
one that answered, in hwloc's logical order, with the LLC domains (dashed)
and packages (solid) drawn as boundaries and the axes labelled by OS CPU
number; then report.html: the platform, the heat map, and every figure
of fingerprint.csv in a table.

Each file is written to a scratch directory inside DIR and renamed into
place, so it appears complete or not at all.  Called by plot.sh (and so
by lockbench and ./bench plot DIR) when DIR holds a fingerprint.

Exit status: 0 written; 1 gnuplot failed or a file could not be written;
2 usage error or a malformed fingerprint.csv.
"""
import csv
import html
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

ME = "fingerprint.py"
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ["run_id", "host", "cpu_model", "pus", "measure", "op", "relation", "cpu_a", "cpu_b",
           "p50_ns", "p99_ns", "samples", "check"]


class Failed(Exception):
    pass


def read(d):
    path = os.path.join(d, "fingerprint.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != COLUMNS:
        raise ValueError("%s: not a fingerprint.csv (header %r)" % (path, rows[0] if rows else None))
    rows = [dict(zip(COLUMNS, r)) for r in rows[1:]]
    for r in rows:
        for k in ("p50_ns", "p99_ns"):
            r[k] = float(r[k]) if r[k] != "" else float("nan")
    meta = {}
    try:
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        pass
    return rows, meta


def order_of(rows, meta):
    """The PUs of the matrix in logical order, with their places."""
    cpus = sorted({int(r["cpu_a"]) for r in rows if r["measure"] == "c2c_rtt"}
                  | {int(r["cpu_b"]) for r in rows if r["measure"] == "c2c_rtt"})
    place = {e["cpu"]: e for e in meta.get("platform", {}).get("pu_map", [])}
    logical = {e["cpu"]: i for i, e in enumerate(meta.get("platform", {}).get("pu_map", []))}
    cpus.sort(key=lambda c: (logical.get(c, c), c))
    return cpus, place


def gp_string(s):
    return "'" + str(s).replace("'", "''") + "'"


def draw(d, rows, meta, scratch):
    cpus, place = order_of(rows, meta)
    if len(cpus) < 2:
        return []
    idx = {c: i for i, c in enumerate(cpus)}
    val = {}
    for r in rows:
        if r["measure"] == "c2c_rtt":
            val[(int(r["cpu_a"]), int(r["cpu_b"]))] = r["p50_ns"]
    with open(os.path.join(scratch, "c2c.dat"), "w") as f:
        for a in cpus:
            for b in cpus:
                v = val.get((a, b), float("nan"))
                f.write("%d %d %s\n" % (idx[b], idx[a], "NaN" if not math.isfinite(v) else "%.1f" % v))
            f.write("\n")
    n = len(cpus)
    lines = []
    for i in range(1, n):
        pa, pb = place.get(cpus[i - 1], {}), place.get(cpus[i], {})
        if pa.get("package") != pb.get("package"):
            lines.append((i - 0.5, "lw 2 lc rgb 'black' dt 1"))
        elif pa.get("llc") != pb.get("llc"):
            lines.append((i - 0.5, "lw 1 lc rgb '#333333' dt 2"))
    step = max(1, n // 32)
    tics = ", ".join("%s %d" % (gp_string(c), i) for i, c in enumerate(cpus) if i % step == 0)
    plat = meta.get("platform", {})
    title = "%s: %s (%s)" % (meta.get("host", rows[0]["host"]), rows[0]["cpu_model"],
                             plat.get("topology", ""))
    out = []
    for fmt, term in (("png", "pngcairo size 900,800 font ',10'"),
                      ("svg", "svg size 900,800 dynamic font 'sans,10'")):
        name = "fingerprint-c2c.%s" % fmt
        gp = ["set terminal %s" % term, "set output %s" % gp_string(name),
              "set title %s noenhanced" % gp_string(title),
              "set xlabel 'answering CPU (OS index; dashed: LLC domains, solid: packages)'",
              "set ylabel 'serving CPU'",
              "set cblabel 'round trip p50 (ns)'",
              "set xrange [-0.5:%f]" % (n - 0.5), "set yrange [%f:-0.5]" % (n - 0.5),
              "set xtics (%s) rotate by 90" % tics if n > 16 else "set xtics (%s)" % tics,
              "set ytics (%s)" % tics, "set palette rgb 33,13,10", "set size square",
              "set cbrange [0:*]",
              "set datafile missing 'NaN'"]
        for x, style in lines:
            gp.append("set arrow from %f,-0.5 to %f,%f nohead front %s" % (x, x, n - 0.5, style))
            gp.append("set arrow from -0.5,%f to %f,%f nohead front %s" % (x, n - 0.5, x, style))
        # One filled box per measured pair (the diagonal stays blank):
        # boxes, unlike 'with image', draw a grid with holes.
        cells = "'c2c.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder " \
                "lc palette notitle"
        if n <= 12:
            gp.append("plot %s, 'c2c.dat' using 1:2:(sprintf('%%.0f', $3)) with labels "
                      "notitle" % cells)
        else:
            gp.append("plot %s" % cells)
        with open(os.path.join(scratch, "c2c.gp"), "w") as f:
            f.write("\n".join(gp) + "\n")
        p = subprocess.run(["gnuplot", "c2c.gp"], cwd=scratch, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, errors="replace")
        path = os.path.join(scratch, name)
        if p.returncode != 0 or not os.path.isfile(path) or os.path.getsize(path) == 0:
            sys.stderr.write(p.stderr)
            raise Failed("gnuplot failed on the heat map (%s); %s not written"
                         % (fmt, os.path.join(d, name)))
        if fmt == "svg":
            with open(path) as f:
                if "</svg>" not in f.read():
                    raise Failed("could not write %s: incomplete" % os.path.join(d, name))
        out.append(name)
    return out


def esc(x):
    return html.escape("" if x is None else str(x), quote=True)


def num(v):
    if not math.isfinite(v):
        return ""
    return "%.0f" % v if v >= 100 else "%.1f" % v


def page(rows, meta, plots):
    plat = meta.get("platform", {})
    host = meta.get("host", rows[0]["host"] if rows else "")
    p = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
         "<title>lockbench fingerprint: %s</title>" % esc(host),
         "<style>body{font-family:sans-serif;font-size:14px;max-width:1200px;margin:1.5em auto;"
         "padding:0 1em}table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:2px 6px}"
         "td.num{text-align:right}td.bad{color:#a00;font-weight:bold}img{max-width:100%}</style>",
         "</head><body>", "<h1>Platform fingerprint: %s</h1>" % esc(host)]
    p.append("<p>%s; %s. Run %s.</p>" % (esc(rows[0]["cpu_model"] if rows else ""),
                                          esc(plat.get("topology", "")),
                                          esc(meta.get("run_id", ""))))
    bad = [r for r in rows if r["check"] != "ok"]
    if bad:
        p.append("<p class=\"bad\"><b>%d check(s) failed</b>: see the rows marked fail.</p>"
                 % len(bad))
    for name in plots:
        if name.endswith(".png"):
            p.append("<figure><figcaption>Core to core: cache-line round trip, p50 (ns)"
                     "</figcaption><img src=\"%s\" alt=\"core-to-core heat map\"></figure>"
                     % esc(name))
    c2c = [r for r in rows if r["measure"] == "c2c_rtt"]
    if c2c:
        p.append("<h2>Core to core, by relation</h2><table><tr><th>relation</th><th>pairs</th>"
                 "<th>p50 min (ns)</th><th>p50 median (ns)</th><th>p50 max (ns)</th></tr>")
        for rel in sorted({r["relation"] for r in c2c}):
            v = sorted(r["p50_ns"] for r in c2c if r["relation"] == rel)
            p.append("<tr><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%s</td>"
                     "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>"
                     % (esc(rel), len(v), num(v[0]), num(v[(len(v) - 1) // 2]), num(v[-1])))
        p.append("</table>")
    p.append("<h2>Every figure but the matrix</h2><table><tr><th>measure</th><th>op</th>"
             "<th>relation</th><th>cpu a</th><th>cpu b</th><th>p50 (ns)</th><th>p99 (ns)</th>"
             "<th>samples</th><th>check</th></tr>")
    for r in rows:
        if r["measure"] == "c2c_rtt":
            continue
        p.append("<tr>%s<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                 "</td><td class=\"%s\">%s</td></tr>"
                 % ("".join("<td>%s</td>" % esc(r[k]) for k in ("measure", "op", "relation",
                                                              "cpu_a", "cpu_b")),
                    num(r["p50_ns"]), num(r["p99_ns"]), esc(r["samples"]),
                    "" if r["check"] == "ok" else "bad", esc(r["check"])))
    p.append("</table><p>Columns and checks: results/README.md, \"The platform fingerprint\"."
             "</p></body></html>")
    return "\n".join(p) + "\n"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("%s: usage: %s DIR\n" % (ME, ME))
        return 2
    d = argv[1]
    try:
        rows, meta = read(d)
    except (OSError, ValueError) as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 2
    scratch = tempfile.mkdtemp(prefix=".plot-", dir=d)
    written = []
    try:
        plots = draw(d, rows, meta, scratch)
        with open(os.path.join(scratch, "report.html"), "w") as f:
            f.write(page(rows, meta, plots))
        for name in plots + ["report.html"]:
            os.replace(os.path.join(scratch, name), os.path.join(d, name))
            written.append(name)
    except Failed as e:
        sys.stderr.write("%s: %s\n" % (ME, e))
        return 1
    except OSError as e:
        sys.stderr.write("%s: could not write into %s: %s\n" % (ME, d, e.strerror or e))
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not os.environ.get("LB_QUIET"):
        sys.stderr.write("%s: wrote %s in %s\n" % (ME, " ".join(written), d))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
