#!/usr/bin/env python3
"""Tests for the speedup plot, the top-N throughput plot and report.html.

    python3 tests/test_report.py PATH_TO_lockbench PATH_TO_scripts/plot.sh

(scripts/report.py is found next to plot.sh.)

  Small   counter, 3 implementations, threads 1,2, 2 repetitions, plotted by
          the binary itself (which runs the source tree's plot.sh, hence
          report.py): speedup.png/.svg, report.html with every .svg, the
          command line, the CPU model, no http(s) resources; no
          throughput-top (3 series); then a redraw with the given plot.sh
          drops a stale throughput-top and rewrites the report.
  Many    counter, 9 implementations, 1 and 2 threads, 1 repetition,
          --no-plot, then the given plot.sh: throughput-top.png/.svg, titled
          "top 8 of 9", and in the report.
  Escape  report.py on a copy whose meta.json holds markup: escaped.

Standard library only; skips when gnuplot is missing. About 10 s; no
assertion depends on timing.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser

import lbtest

BINARY = None
PLOT_SCRIPT = None
REPORT = None
GUARD = 60  # seconds: a hang guard, not a timing assertion
SHORT = ["--duration", "0.05", "--warmup", "0.01"]
SMALL_IMPLS = ["pthread-mutex", "futex-mutex", "atomic-faa"]
# 10 mutexes (more than the top plots' 8, so they get one, within the
# kind), two other kinds and a control.
MANY_MUTEXES = ["pthread-mutex", "pthread-spin", "pthread-adaptive", "futex-mutex",
                "futex-spin-then-park", "ck-fas", "ck-cas", "ck-dec", "ck-ticket", "ck-mcs"]
MANY_IMPLS = MANY_MUTEXES + ["atomic-faa", "atomic-cas", "ck-sem", "none-noop"]


def run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=GUARD)


def describe(p):
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-3000:],
                                                  p.stderr[-3000:])


def need_tools(tc):
    if not os.path.isfile(PLOT_SCRIPT):
        tc.skipTest("no plot script at %s" % PLOT_SCRIPT)
    if not shutil.which("gnuplot"):
        tc.skipTest("gnuplot is not installed")


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def svgs(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".svg"))


class _Refs(HTMLParser):
    """Collects the resource attributes of the real tags (text that merely
    reads like a tag, escaped, is not a reference) and the <style> text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs, self.style, self._in_style = [], [], False

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "srcset", "data", "poster", "action") and v:
                self.refs.append(v.strip())
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style.append(data)


def remote_refs(page):
    """src=, href=, srcset= (...) values and CSS url()/@import that point
    at the network."""
    p = _Refs()
    p.feed(page)
    p.close()
    bad = [r for r in p.refs if re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", r, re.I)]
    css = "".join(p.style)
    bad += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", css, re.I)
    bad += re.findall(r"@import", css, re.I)
    return bad


class Small(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lockbench-report-")
        cls.out = os.path.join(cls.tmp, "run")
        cls.proc = None
        if os.path.isfile(PLOT_SCRIPT) and shutil.which("gnuplot"):
            cls.proc = run([BINARY, "--workload", "counter", "--impl", ",".join(SMALL_IMPLS),
                            "--threads", "1,2", "--repeat", "2", "--out", cls.out] + SHORT)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        need_tools(self)
        self.assertEqual(self.proc.returncode, 0, describe(self.proc))
        self.assertNotIn("plotting failed", self.proc.stderr)

    def path(self, name):
        return os.path.join(self.out, name)

    def meta(self):
        with open(self.path("meta.json")) as fh:
            return json.load(fh)

    def test_speedup_plot(self):
        for ext in ("png", "svg"):
            f = self.path("speedup." + ext)
            with self.subTest(f=os.path.basename(f)):
                self.assertTrue(os.path.isfile(f), "missing; files: %s" % os.listdir(self.out))
                self.assertGreater(os.path.getsize(f), 0)
        with open(self.path("speedup.png"), "rb") as fh:
            self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")
        svg = read(self.path("speedup.svg"))
        self.assertIn("<svg", svg)
        # Every series has a 1-thread row: all three are in the key, and
        # the ideal line too; no "no data" placeholder.
        for impl in SMALL_IMPLS:
            self.assertIn(impl, svg)
        self.assertIn("ideal", svg)
        self.assertNotIn("no speedup to draw", svg)

    def test_no_top_plot_with_few_series(self):
        self.assertFalse(os.path.exists(self.path("throughput-top.png")))
        self.assertFalse(os.path.exists(self.path("throughput-top.svg")))

    def test_report(self):
        f = self.path("report.html")
        self.assertTrue(os.path.isfile(f), "no report.html; files: %s" % os.listdir(self.out))
        page = read(f)
        self.assertTrue(page.lstrip().lower().startswith("<!doctype html>"))
        found = svgs(self.out)
        self.assertIn("speedup.svg", found)
        self.assertIn("throughput.svg", found)
        for s in found:
            with self.subTest(svg=s):
                self.assertRegex(page, r"""(?:src|srcset)="%s\"""" % re.escape(s))
        meta = self.meta()
        self.assertIn(html.escape(meta["command_line"]), page)
        self.assertIn(html.escape(meta["platform"]["cpu_model"]), page)
        self.assertIn(html.escape(meta["platform"]["kernel"]), page)
        self.assertEqual(remote_refs(page), [])
        # The summary table: one row per configuration (3 impls x 2 threads).
        table = page[page.index('<table class="summary">'):]
        table = table[:table.index("</table>")]
        self.assertEqual(table.count("<tr>") - 1, len(SMALL_IMPLS) * 2)
        for impl in SMALL_IMPLS:
            self.assertIn("<td>%s</td>" % impl, table)

    def test_report_opens_with_the_scoreboard(self):
        page = read(self.path("report.html"))
        # before every other section, after the title and the run's line
        i = page.index('<h2 id="scoreboard">')
        self.assertLess(i, page.index("<h2>Command line</h2>"))
        self.assertEqual(page.count("<h2"), page[i:].count("<h2"))
        board = page[page.index('<table class="scoreboard">', i):]
        board = board[:board.index("</table>")]
        # the mutexes at 1 and 2 threads (2 PUs or more: 2 is contended),
        # each row naming its winner, one of the implementations run
        rows = re.findall(r"<tr><td>mutex</td><td>(\w+)</td><td>(\d+)</td><td>([a-z0-9-]+)</td>",
                          board)
        two = "contended" if int(self.meta()["platform"]["pus"]) >= 2 else "oversubscribed"
        self.assertEqual([r[:2] for r in rows], [("uncontended", "1"), (two, "2")])
        for r in rows:
            self.assertIn(r[2], SMALL_IMPLS)

    def test_summary_table_marks(self):
        # report.py's table alone, on rows as summary.csv has them: a
        # heading per kind, the rank on an implementation's first row, +
        # on an oversubscribed count, the noise cause.
        sys.path.insert(0, os.path.dirname(REPORT))
        import report
        keys = ["workload", "kind", "impl", "threads", "oversubscribed", "rank",
                "rank_threads", "noise", "verified", "param", "pin", "cs_ns", "think_ns"]
        rows = [dict(zip(keys, v)) for v in (
            ("counter", "mutex", "ck-fas", "2", "0", "1", "2", "", "ok", "", "compact", "0", "0"),
            ("counter", "mutex", "ck-fas", "4", "1", "1", "2", "cpu", "ok", "", "compact", "0",
             "0"),
            ("counter", "mutex", "futex-mutex", "2", "0", "2", "2", "", "ok", "", "compact", "0",
             "0"),
            ("counter", "none", "none-noop", "2", "0", "", "2", "", "ok", "", "compact", "0",
             "0"))]
        t = report.summary_table(keys, rows)
        cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", t)]
        self.assertEqual([(c[0], c[1], c[2], c[-1]) for c in cells[1:]],
                         [("1", "ck-fas", "2", ""), ("", "ck-fas", "4+", "noisy: CPU share"),
                          ("2", "futex-mutex", "2", ""), ("", "none-noop", "2", "")])
        self.assertEqual(re.findall(r'<tr class="kind"><th colspan="\d+">([^<]*)</th>', t),
                         ["mutex: ranked by ops/s at 2 threads, fastest first",
                          "none: reference lines (the harness floor and the race), not ranked"])
        self.assertIn("threads+ = more threads than CPUs", t)

    def test_redraw_drops_stale_top_and_rewrites_report(self):
        # Last: it changes the directory (the files it checks stay the same).
        for ext in ("png", "svg"):
            shutil.copy(self.path("throughput." + ext), self.path("throughput-top." + ext))
        os.remove(self.path("report.html"))
        p = run(["sh", PLOT_SCRIPT, self.out])
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(self.path("throughput-top.svg")))
        self.assertFalse(os.path.exists(self.path("throughput-top.png")))
        self.assertTrue(os.path.isfile(self.path("report.html")))
        self.assertNotIn("throughput-top", read(self.path("report.html")))


class Many(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lockbench-report-many-")
        cls.out = os.path.join(cls.tmp, "run")
        cls.proc = run([BINARY, "--workload", "counter", "--impl", ",".join(MANY_IMPLS),
                        "--threads", "1,2", "--repeat", "1", "--no-plot", "--out", cls.out]
                       + SHORT)
        cls.plot = None
        if cls.proc.returncode == 0 and os.path.isfile(PLOT_SCRIPT) and shutil.which("gnuplot"):
            cls.plot = run(["sh", PLOT_SCRIPT, cls.out])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.proc.returncode, 0, describe(self.proc))
        need_tools(self)
        self.assertEqual(self.plot.returncode, 0, describe(self.plot))

    def test_top_plot(self):
        for ext in ("png", "svg"):
            f = os.path.join(self.out, "throughput-top." + ext)
            with self.subTest(f=os.path.basename(f)):
                self.assertTrue(os.path.isfile(f), "missing; files: %s" % os.listdir(self.out))
                self.assertGreater(os.path.getsize(f), 0)
        svg = read(os.path.join(self.out, "throughput-top.svg"))
        # ranked within the largest kind, never across kinds
        self.assertIn("counter mutex (top 8 of %d by ops/s" % len(MANY_MUTEXES), svg)
        # pthread-mutex is drawn whether or not it made the top 8.
        self.assertIn("pthread-mutex", svg)
        for impl in ("atomic-faa", "atomic-cas", "ck-sem", "none-noop"):
            self.assertNotIn(impl, svg)
        # The full plot is still there, with every series.
        full = read(os.path.join(self.out, "throughput.svg"))
        for impl in MANY_IMPLS:
            self.assertIn(impl, full)

    def test_one_plot_per_kind(self):
        # every kind but the controls', its members only, as small multiples
        page = read(os.path.join(self.out, "report.html"))
        for kind, members in (("mutex", MANY_MUTEXES), ("counter", ["atomic-faa", "atomic-cas"]),
                              ("semaphore", ["ck-sem"])):
            with self.subTest(kind=kind):
                svg = read(os.path.join(self.out, "throughput-%s.svg" % kind))
                for impl in MANY_IMPLS:
                    (self.assertIn if impl in members else self.assertNotIn)(impl, svg)
        self.assertFalse(os.path.exists(os.path.join(self.out, "throughput-none.svg")))
        grid = page[page.index('<div class="multiples">'):]
        grid = grid[:grid.index("</div>\n<figure")]
        self.assertEqual(re.findall(r'<figure id="plot-([^"]+)"', grid),
                         ["throughput-mutex", "throughput-semaphore", "throughput-counter"])

    def test_report_shows_top_plot(self):
        page = read(os.path.join(self.out, "report.html"))
        for s in svgs(self.out):
            with self.subTest(svg=s):
                self.assertIn('"%s"' % s, page)
        self.assertIn('"throughput-top.svg"', page)
        self.assertEqual(remote_refs(page), [])


class Escape(unittest.TestCase):
    def test_markup_is_escaped(self):
        fix = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare",
                           "alpha")
        if not os.path.isfile(os.path.join(fix, "summary.csv")):
            self.skipTest("no fixture at %s" % fix)
        tmp = tempfile.mkdtemp(prefix="lockbench-report-esc-")
        try:
            d = os.path.join(tmp, "run")
            shutil.copytree(fix, d)
            evil = '<script>alert("x")</script> & <img src=http://example.com/x.png>'
            mpath = os.path.join(d, "meta.json")
            meta = {}
            if os.path.isfile(mpath):
                with open(mpath) as fh:
                    meta = json.load(fh)
            meta["command_line"] = "lockbench --param " + evil
            meta.setdefault("platform", {})["cpu_model"] = evil
            with open(mpath, "w") as fh:
                json.dump(meta, fh)
            p = run([sys.executable, REPORT, d])
            self.assertEqual(p.returncode, 0, describe(p))
            page = read(os.path.join(d, "report.html"))
            # Only the page's own load-check script, never the injected one.
            self.assertEqual(page.count("<script"), 1)
            self.assertNotIn("<script>alert", page)
            self.assertIn(html.escape(evil), page)
            self.assertEqual(remote_refs(page), [])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_usage(self):
        p = run([sys.executable, REPORT])
        self.assertEqual(p.returncode, 2)
        tmp = tempfile.mkdtemp(prefix="lockbench-report-empty-")
        try:
            p = run([sys.executable, REPORT, tmp])
            self.assertEqual(p.returncode, 2, describe(p))
            self.assertIn("summary.csv", p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _report_beside_plot(g):
    g["REPORT"] = os.path.join(os.path.dirname(g["PLOT_SCRIPT"]), "report.py")


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BINARY", "PLOT_SCRIPT"], setup=_report_beside_plot))
