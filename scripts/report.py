#!/usr/bin/env python3
"""report.py DIR: write DIR/report.html, one self-contained page for a run.

    python3 scripts/report.py DIR

Reads DIR/meta.json (platform, command line, calibration) and DIR/summary.csv
(the table), and shows every plot plot.sh drew (each DIR/*.svg, with the PNG
of the same name as fallback). Nothing is fetched from the network: the CSS
is inline and the plots are referenced by their relative file names, so the
page works when the directory is copied elsewhere or opened from file://.
All text from the run is HTML-escaped.

Called by plot.sh at the end (so `./bench plot DIR` regenerates it).
Exit status: 0 written; 1 could not write or read; 2 usage error or no
summary.csv. Standard library only.
"""
import csv
import glob
import html
import json
import os
import sys

ME = "report.py"

# Plot order on the page: the usual ones first, then the rest alphabetically.
PLOT_ORDER = ["throughput-top", "throughput", "speedup", "fairness", "latency", "cpu"]
PLOT_CAPTION = {
    "throughput-top": "Throughput, the 8 fastest series only (plus pthread-mutex, if run, as the reference)",
    "throughput": "Throughput, every series",
    "speedup": "Speedup over 1 thread (dotted: ideal linear scaling)",
    "fairness": "Fairness: Jain's index over per-thread operations",
    "latency": "Latency percentiles (p50, p99)",
    "cpu": "Operations per CPU-second",
}

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
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
.muted { color: #666; }
"""


def esc(x):
    return html.escape("" if x is None else str(x), quote=True)


def fmt_num(v, digits=4):
    """A CSV number for reading: SI-free, a few significant digits."""
    if v is None or v == "":
        return ""
    try:
        f = float(v)
    except ValueError:
        return str(v)
    if f == int(f) and abs(f) < 1e15:
        return "{:,}".format(int(f))
    if abs(f) >= 1000:
        return "{:,.0f}".format(f)
    return "{:.{}g}".format(f, digits)


def fmt_si(v):
    if v is None or v == "":
        return ""
    try:
        f = float(v)
    except ValueError:
        return str(v)
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(f) >= div:
            return "{:.3g}{}".format(f / div, suf)
    return "{:.3g}".format(f)


def fmt_ns(v):
    if v is None or v == "":
        return ""
    try:
        f = float(v)
    except ValueError:
        return str(v)
    for div, suf in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if abs(f) >= div:
            return "{:.3g} {}".format(f / div, suf)
    return "{:.3g} ns".format(f)


def kv_table(d, order=None):
    """A two-column table of a flat (or one level nested) dict: the keys in
    `order` first, in that order, then the rest sorted."""
    rows = []
    first = [k for k in (order or []) if k in d]
    for k in first + sorted(k for k in d if k not in first):
        v = d[k]
        if isinstance(v, dict):
            v = ", ".join("%s %s" % (kk, vv) for kk, vv in sorted(v.items()))
        elif v is None:
            v = "(not visible)"
        elif isinstance(v, float):
            v = fmt_num(v, 6)
        rows.append("<tr><th>%s</th><td>%s</td></tr>" % (esc(k), esc(v)))
    return "<table>\n%s\n</table>" % "\n".join(rows)


def plot_files(d):
    """The plots to show: every *.svg in d, in PLOT_ORDER then by name."""
    names = sorted(os.path.splitext(os.path.basename(p))[0]
                   for p in glob.glob(os.path.join(glob.escape(d), "*.svg")))
    order = {n: i for i, n in enumerate(PLOT_ORDER)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def summary_table(rows):
    head = ["impl", "threads", "ops/s median", "ops/s CI", "fairness", "lat p50",
            "lat p99", "ops per CPU-s", "verified"]
    # Show the settings that vary (several workloads, params, cs, think, pin).
    extra = [c for c in ("workload", "param", "cs_ns", "think_ns", "pin")
             if len({r.get(c, "") for r in rows}) > 1]
    out = ["<table class=\"summary\">", "<tr>%s</tr>" % "".join(
        "<th>%s</th>" % esc(h) for h in extra + head)]
    for r in rows:
        v = r.get("verified", "")
        vcls = "bad" if v == "fail" else ("racy" if v == "racy" else "")
        ci = ""
        if r.get("ops_per_sec_ci_lo") or r.get("ops_per_sec_ci_hi"):
            ci = "%s .. %s" % (fmt_si(r.get("ops_per_sec_ci_lo")), fmt_si(r.get("ops_per_sec_ci_hi")))
        cells = ["<td>%s</td>" % esc(r.get(c, "")) for c in extra]
        cells += [
            "<td>%s</td>" % esc(r.get("impl", "")),
            "<td class=\"num\">%s</td>" % esc(r.get("threads", "")),
            "<td class=\"num\">%s</td>" % esc(fmt_si(r.get("ops_per_sec_median"))),
            "<td class=\"num\">%s</td>" % esc(ci),
            "<td class=\"num\">%s</td>" % esc(fmt_num(r.get("fairness_median"))),
            "<td class=\"num\">%s</td>" % esc(fmt_ns(r.get("lat_p50_ns_median"))),
            "<td class=\"num\">%s</td>" % esc(fmt_ns(r.get("lat_p99_ns_median"))),
            "<td class=\"num\">%s</td>" % esc(fmt_si(r.get("ops_per_cpu_s_median"))),
            "<td%s>%s</td>" % (" class=\"%s\"" % vcls if vcls else "", esc(v)),
        ]
        out.append("<tr>%s</tr>" % "".join(cells))
    out.append("</table>")
    return "\n".join(out)


def build(d):
    meta = {}
    mpath = os.path.join(d, "meta.json")
    if os.path.exists(mpath):
        with open(mpath, encoding="utf-8") as fh:
            meta = json.load(fh)
    with open(os.path.join(d, "summary.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    plat = meta.get("platform") or {}
    run_id = meta.get("run_id") or os.path.basename(os.path.abspath(d))
    workloads = sorted({r.get("workload", "") for r in rows if r.get("workload")})
    title = "lockbench %s: %s" % (", ".join(workloads) or "run", run_id)
    suite = meta.get("suite") or {}
    reps = sorted({r.get("reps", "") for r in rows if r.get("reps")})
    levels = sorted({r.get("ci_level", "") for r in rows if r.get("ci_level")})

    p = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
         "<title>%s</title>" % esc(title), "<style>%s</style>" % CSS, "</head>", "<body>"]
    p.append("<h1>%s</h1>" % esc(title))
    p.append("<p class=\"muted\">host %s, status %s, %s rows; %s %s (git %s)</p>" % (
        esc(meta.get("host", "?")), esc(meta.get("status", "?")), esc(meta.get("rows", "?")),
        esc(suite.get("name", "lockbench")), esc(suite.get("version", "")),
        esc(suite.get("git_revision", "?"))))

    p.append("<h2>Command line</h2>")
    p.append("<pre>%s</pre>" % esc(meta.get("command_line", "(meta.json missing)")))

    p.append("<h2>Platform</h2>")
    keys = ["cpu_model", "topology", "pus", "kernel", "glibc", "compiler", "buildtype",
            "c_args", "sanitize", "governor", "boost", "caches_bytes", "libraries"]
    shown = {k: plat[k] for k in keys if k in plat}
    p.append(kv_table(shown, keys) if shown else "<p>(no platform in meta.json)</p>")
    cal = meta.get("calibration")
    if cal:
        p.append("<h2>Calibration</h2>")
        p.append(kv_table(cal))
    opts = meta.get("options")
    if opts:
        p.append("<h2>Options (after defaults)</h2>")
        p.append(kv_table(opts))

    plots = plot_files(d)
    p.append("<h2>Plots</h2>")
    if not plots:
        p.append("<p>(no plots in this directory: run <code>./bench plot DIR</code>)</p>")
    for n in plots:
        cap = PLOT_CAPTION.get(n, n)
        svg = n + ".svg"
        png = n + ".png"
        # The SVG is the image; the PNG of the same name, where it exists, is
        # the fallback for viewers that do not render SVG (<picture>).
        alt = "%s plot" % n
        fig = "<figure id=\"plot-%s\"><figcaption>%s</figcaption>" % (esc(n), esc(cap))
        if os.path.exists(os.path.join(d, png)):
            fig += ("<picture><source srcset=\"%s\" type=\"image/svg+xml\">"
                    "<img src=\"%s\" alt=\"%s\"></picture>"
                    % (esc(svg), esc(png), esc(alt)))
        else:
            fig += "<img src=\"%s\" alt=\"%s\">" % (esc(svg), esc(alt))
        links = ["<a href=\"%s\">%s</a>" % (esc(svg), esc(svg))]
        if os.path.exists(os.path.join(d, png)):
            links.append("<a href=\"%s\">%s</a>" % (esc(png), esc(png)))
        fig += "<div class=\"muted\">%s</div></figure>" % " | ".join(links)
        p.append(fig)

    p.append("<h2>Summary</h2>")
    note = "Medians over %s repetition(s); CI = distribution-free interval of the median" % (
        "/".join(reps) or "?")
    if levels:
        note += " (coverage %s)" % "/".join(levels)
    p.append("<p class=\"muted\">%s. Latency includes one timer read. From summary.csv.</p>"
             % esc(note))
    p.append(summary_table(rows) if rows else "<p>(summary.csv has no rows)</p>")
    # Inline, no network: after load, record how many plots rendered, so a
    # headless browser can check the page (tests/test_report_render.py).
    p.append("<script>window.addEventListener('load',function(){var m=document.images,"
             "k=0;for(var i=0;i<m.length;i++)if(m[i].complete&&m[i].naturalWidth>0)k++;"
             "document.body.setAttribute('data-plots-loaded',k+'/'+m.length);});</script>")
    p.append("</body>\n</html>\n")
    return "\n".join(p)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("%s: usage: %s DIR\n" % (ME, ME))
        return 2
    d = argv[1]
    if not os.path.isfile(os.path.join(d, "summary.csv")):
        sys.stderr.write("%s: %s: no summary.csv (not a lockbench run directory?)\n"
                         % (ME, d))
        return 2
    try:
        page = build(d)
        out = os.path.join(d, "report.html")
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, out)
    except (OSError, ValueError, csv.Error) as e:
        sys.stderr.write("%s: %s: %s\n" % (ME, d, e))
        return 1
    sys.stderr.write("%s: wrote %s\n" % (ME, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
