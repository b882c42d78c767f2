#!/usr/bin/env python3
"""Tests for scripts/plot.sh (and scripts/report.py, which does its work) on
hand-made run directories; no lockbench binary needed.

    python3 tests/test_plot.py PATH_TO_scripts/plot.sh

Fixtures (tests/fixtures/plot/, pinlist and stalled written by
make_fixtures.py):
  trylock  2 impls, threads 1 and 2, 2 repetitions, two workload columns
  pinlist  1 repetition (empty CI cells), the newer common columns
           (lat_floor_ns, cpu_share, cpu_wait_share), RFC 4180 quoted cells:
           pin "0,1", param with a comma, CPU model with a comma;
           meta.json's extra_columns, files and noise
  stalled  a deadlocked run with no rows, meta.json's diagnosis

  Csv        quoted cells parse; no error bars but every point with one
             repetition; extra plots from extra_columns only (and the old
             rule without it), never for the new common columns
  Numbers    report.html's table, column by column (by its heading), and
             speedup.csv equal summary.csv
  Stalled    zero rows: report.html alone, the diagnosis shown, exit 0
  Hostile    host, CPU model, impl, param, pin and directory names made of
             gnuplot and shell syntax are drawn as text; control characters
             and odd column names refused (exit 2, one line)
  DiskFull   a 64 KiB tmpfs (mounted here: needs root, fails without):
             exit 1, one line naming the file, no half file under a final
             name, no scratch directory
  Killed     SIGTERM while gnuplot runs: no scratch directory, no half file
  NonFinite  inf and nan cells: plotted around, shown as such

Standard library only; the gnuplot-drawing tests skip without gnuplot. No
assertion depends on timing.
"""
import csv
import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser

import lbtest

PLOT = None
REPORT = None
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "plot")
TRYLOCK = os.path.join(FIX, "trylock")
PINLIST = os.path.join(FIX, "pinlist")
STALLED = os.path.join(FIX, "stalled")
GUARD = 120  # seconds: a hang guard, not a timing assertion
COMMON = ("throughput", "fairness", "latency", "cpu", "speedup")
INPUTS = {"results.csv", "summary.csv", "meta.json", "threads.csv"}
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
SERIES_KEY = ("workload", "impl", "param", "cs_ns", "think_ns", "pin")


def run(argv, env=None):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=GUARD,
                          env=env)


def plot(d, env=None):
    # As the harness runs it: the script itself, an argument vector.
    return run([PLOT, d], env=env)


def describe(p):
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-3000:],
                                                  p.stderr[-3000:])


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rewrite_csv(path, fn):
    """Rewrite a CSV file row by row (fn: dict -> dict), RFC 4180 quoting."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows[1:]:
            d = fn(dict(zip(header, r)))
            w.writerow([d[h] for h in header])


def edit_meta(d, fn):
    path = os.path.join(d, "meta.json")
    with open(path) as fh:
        meta = json.load(fh)
    fn(meta)
    with open(path, "w") as fh:
        json.dump(meta, fh)


def need_gnuplot(tc):
    if not shutil.which("gnuplot"):
        tc.skipTest("gnuplot is not installed")


class Tmp:
    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="lockbench-plot-test-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def copy(self, src, name="run", parent=None):
        dst = os.path.join(parent or self.tmpdir(), name)
        shutil.copytree(src, dst)
        return dst

    def listing(self, d):
        return sorted(os.listdir(d))

    def assert_written(self, p, d, names):
        """plot.sh's one "wrote" line lists exactly `names`, which exist."""
        lines = [l for l in p.stderr.splitlines() if l.startswith("plot.sh: wrote ")]
        self.assertEqual(len(lines), 1, describe(p))
        listed = lines[0][len("plot.sh: wrote "):].split(" ")
        self.assertEqual(sorted(listed), sorted(os.path.join(d, n) for n in names))
        self.assertEqual(sorted(set(os.listdir(d)) - INPUTS), sorted(names))

    def assert_whole(self, d):
        """Every result file in d is complete; no scratch directory."""
        for f in os.listdir(d):
            path = os.path.join(d, f)
            self.assertFalse(f.startswith(".plot-tmp"), "scratch directory left: %s" % f)
            with open(path, "rb") as fh:
                data = fh.read()
            if f.endswith(".png"):
                self.assertTrue(data.startswith(b"\x89PNG") and data.endswith(PNG_END),
                                "%s is cut short" % f)
            elif f.endswith(".svg"):
                self.assertTrue(data.rstrip().endswith(b"</svg>"), "%s is cut short" % f)
            elif f == "report.html":
                self.assertTrue(data.endswith(b"</body>\n</html>\n"), "%s is cut short" % f)
            elif f == "speedup.csv":
                self.assertTrue(data.endswith(b"\n"), "%s is cut short" % f)

    def assert_refused(self, p, before, d, *needles):
        """Exit 2, one line with every needle, and d as it was."""
        self.assertEqual(p.returncode, 2, describe(p))
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, describe(p))
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertEqual(self.listing(d), before, "a refused draw changed %s" % d)


# ---------------------------------------------------------------- parsing the page

class SummaryTable(HTMLParser):
    """The <table class="summary">: its headings and the text of each cell."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.head, self.rows = [], []
        self._in = self._cell = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "summary") in attrs:
            self._in = True
        elif self._in and tag == "tr":
            self.rows.append([])
        elif self._in and tag in ("td", "th"):
            self._cell, self._text = True, ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif self._in and tag in ("td", "th") and self._cell:
            self.rows[-1].append(self._text)
            self._cell = False

    def handle_data(self, data):
        if self._cell:
            self._text += data


def summary_table(page):
    p = SummaryTable()
    p.feed(page)
    p.close()
    return p.rows[0], p.rows[1:]


# The table's headings and the summary.csv columns they show, and how the
# number is written: independent of report.py's own list.
TABLE = {"impl": ("impl", "text"), "threads": ("threads", "text"),
         "workload": ("workload", "text"), "param": ("param", "text"),
         "cs_ns": ("cs_ns", "text"), "think_ns": ("think_ns", "text"), "pin": ("pin", "text"),
         "verified": ("verified", "text"),
         "ops/s median": ("ops_per_sec_median", "si"),
         "ops/s CI": (("ops_per_sec_ci_lo", "ops_per_sec_ci_hi"), "si"),
         "fairness": ("fairness_median", "num"),
         "lat p50": ("lat_p50_ns_median", "ns"), "lat p99": ("lat_p99_ns_median", "ns"),
         "lat floor": ("lat_floor_ns_median", "ns"),
         "ops per CPU-s": ("ops_per_cpu_s_median", "si"),
         "CPU share": ("cpu_share_median", "num"),
         "CPU wait share": ("cpu_wait_share_median", "num")}
SI = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}
NS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}


def shown_value(text, how):
    """The number a cell shows, or the text itself for inf/nan."""
    if text in ("inf", "-inf", "nan"):
        return text
    if how == "si":
        m = re.fullmatch(r"(-?[0-9.]+(?:e[+-]?[0-9]+)?)([kMG]?)", text)
        return float(m.group(1)) * SI[m.group(2)]
    if how == "ns":
        m = re.fullmatch(r"(-?[0-9.]+(?:e[+-]?[0-9]+)?) (ns|us|ms|s)", text)
        return float(m.group(1)) * NS[m.group(2)]
    return float(text.replace(",", ""))


class Numbers(Tmp):
    """Mixin: the page and speedup.csv against summary.csv."""

    def check_table(self, d):
        summary = read_csv(os.path.join(d, "summary.csv"))
        head, rows = summary_table(read(os.path.join(d, "report.html")))
        self.assertEqual(len(rows), len(summary))
        for h in head:
            self.assertIn(h, TABLE, "a table column no test checks: %r" % h)
        for i, (cells, want) in enumerate(zip(rows, summary)):
            self.assertEqual(len(cells), len(head))
            for h, text in zip(head, cells):
                col, how = TABLE[h]
                with self.subTest(row=i + 1, column=h):
                    if how == "text":
                        self.assertEqual(text, want[col])
                        continue
                    if isinstance(col, tuple):
                        if not want[col[0]]:
                            self.assertEqual(text, "")
                            continue
                        lo, hi = text.split(" .. ")
                        pairs = ((lo, want[col[0]]), (hi, want[col[1]]))
                    else:
                        pairs = ((text, want[col]),)
                    for shown, cell in pairs:
                        if cell == "":
                            self.assertEqual(shown, "")
                            continue
                        v, w = shown_value(shown, how), float(cell)
                        if isinstance(v, str):
                            self.assertEqual(v, cell.strip().lower())
                        else:
                            # Shown with 3 or more significant digits.
                            self.assertLessEqual(abs(v - w), 0.006 * abs(w) + 1e-12,
                                                 (shown, cell))
        return head

    def check_speedup(self, d):
        summary = read_csv(os.path.join(d, "summary.csv"))
        sp = read_csv(os.path.join(d, "speedup.csv"))
        self.assertEqual(len(sp), len(summary))
        ops = {}
        for r in summary:
            ops[tuple(r[c] for c in SERIES_KEY) + (int(r["threads"]),)] = \
                float(r["ops_per_sec_median"])
        series = set()
        for r in sp:
            k = tuple(r[c] for c in SERIES_KEY)
            t = int(r["threads"])
            want = ops[k + (t,)] / ops[k + (1,)]
            self.assertAlmostEqual(float(r["speedup"]), want, delta=1e-9 * want, msg=(k, t))
            self.assertEqual(float(r["ops_per_sec_median"]), ops[k + (t,)])
            series.add((r["series"], k))
        # One series number per series, as the plot draws them.
        self.assertEqual(len({s for s, _ in series}), len({k for _, k in series}))


# ---------------------------------------------------------------- the tests

class Csv(Numbers, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lockbench-plot-csv-")
        cls.d = os.path.join(cls.tmp, "run")
        shutil.copytree(PINLIST, cls.d)
        cls.p = plot(cls.d) if shutil.which("gnuplot") else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        need_gnuplot(self)
        self.assertEqual(self.p.returncode, 0, describe(self.p))

    def test_files(self):
        names = ["speedup.csv", "report.html"] + [
            "%s.%s" % (n, e) for n in COMMON + ("extra-success_ratio", "extra-successes_per_sec")
            for e in ("png", "svg")]
        self.assert_written(self.p, self.d, names)
        self.assert_whole(self.d)

    def test_quoted_cells(self):
        svg = html.unescape(read(os.path.join(self.d, "throughput.svg")))
        self.assertIn("futex-mutex pin=0,1", svg)
        self.assertIn("ck-fas pin=compact", svg)
        self.assertIn("host vm, Vendor, Model 9", svg)
        rows = read_csv(os.path.join(self.d, "speedup.csv"))
        self.assertEqual({r["pin"] for r in rows}, {"0,1", "compact"})
        self.assertEqual({r["param"] for r in rows}, {"backoff_ns=100;note=a,b"})
        head, cells = summary_table(read(os.path.join(self.d, "report.html")))
        pins = [c[head.index("pin")] for c in cells]
        self.assertEqual(sorted(pins), ["0,1", "0,1", "compact", "compact"])

    def test_one_repetition(self):
        svg = read(os.path.join(self.d, "throughput.svg"))
        self.assertIn("no bars: one repetition has no interval", svg)
        # Every point is drawn although its CI cells are empty: 4 points
        # and 2 key samples (an empty CI would drop the point).
        self.assertGreaterEqual(len(re.findall(r"<use xlink:href='#gpPt", svg)), 6)
        head, cells = summary_table(read(os.path.join(self.d, "report.html")))
        self.assertEqual({c[head.index("ops/s CI")] for c in cells}, {""})
        self.assertIn("no interval (one repetition has none)", read(os.path.join(self.d,
                                                                                 "report.html")))

    def test_numbers(self):
        head = self.check_table(self.d)
        for h in ("lat floor", "CPU share", "CPU wait share", "pin"):
            self.assertIn(h, head)
        self.check_speedup(self.d)

    def test_meta_shown(self):
        page = read(os.path.join(self.d, "report.html"))
        self.assertIn("<strong>Noise:</strong> trylock: no row varies by more than 10%", page)
        for f in ("results.csv", "summary.csv", "threads.csv", "meta.json"):
            self.assertIn('<a href="./%s">%s</a>' % (f, f), page)
        self.assertNotIn('id="diagnosis"', page)   # diagnosis: null


class Extras(Tmp, unittest.TestCase):
    """Which columns get an extra-COL plot."""

    def extras(self, edit):
        need_gnuplot(self)
        d = self.copy(PINLIST)
        edit_meta(d, edit)
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        return sorted(f[len("extra-"):-len(".svg")] for f in os.listdir(d)
                      if f.startswith("extra-") and f.endswith(".svg"))

    def test_meta_decides(self):
        self.assertEqual(self.extras(lambda m: m.update(extra_columns=["success_ratio"])),
                         ["success_ratio"])

    def test_old_rule_without_the_key(self):
        # No extra_columns (runs before it): every non-common _median, and
        # the newer common metrics are common.
        self.assertEqual(self.extras(lambda m: m.pop("extra_columns")),
                         ["success_ratio", "successes_per_sec"])


    def edit_summary(self, d, fn):
        path = os.path.join(d, "summary.csv")
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        rows = [rows[0]] + [r for r in (fn(rows[0], r) for r in rows[1:]) if r]
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)

    def test_constant_column_not_drawn(self):
        # success_ratio the same everywhere: a flat line says nothing
        need_gnuplot(self)
        d = self.copy(PINLIST)

        def flat(head, r):
            for c in ("success_ratio_median", "success_ratio_ci_lo", "success_ratio_ci_hi",
                      "success_ratio_min", "success_ratio_max"):
                if c in head:
                    r[head.index(c)] = "0.5"
            return r
        self.edit_summary(d, flat)
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(os.path.join(d, "extra-success_ratio.svg")))
        self.assertTrue(os.path.exists(os.path.join(d, "extra-successes_per_sec.svg")))
        self.assertEqual(p.stderr.count("warning"), 0, p.stderr)

    def test_no_speedup_without_one_thread(self):
        need_gnuplot(self)
        d = self.copy(PINLIST)
        self.edit_summary(d, lambda head, r: None if r[head.index("threads")] == "1" else r)
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(os.path.join(d, "speedup.svg")))
        self.assertTrue(os.path.exists(os.path.join(d, "throughput.svg")))
        self.assertNotIn("speedup.svg", read(os.path.join(d, "report.html")))


class Numbers2Rep(Numbers, unittest.TestCase):
    """trylock: 2 repetitions, intervals, the usual table."""

    def test_table_and_speedup(self):
        need_gnuplot(self)
        d = self.copy(TRYLOCK)
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        summary = read_csv(os.path.join(d, "summary.csv"))
        # The fixture can tell p50 from p99 and ci_lo from ci_hi everywhere.
        for r in summary:
            self.assertGreater(abs(float(r["lat_p99_ns_median"]) / float(r["lat_p50_ns_median"])
                                   - 1), 0.02, r)
        head = self.check_table(d)
        for h in ("ops/s median", "ops/s CI", "fairness", "lat p50", "lat p99",
                  "ops per CPU-s"):
            self.assertIn(h, head)
        self.check_speedup(d)


class Stalled(Tmp, unittest.TestCase):
    def test_report_alone(self):
        d = self.copy(STALLED)
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("plot.sh: %s has no rows: no plots" % os.path.join(d, "summary.csv"),
                      p.stderr)
        self.assert_written(p, d, ["report.html"])
        self.assert_whole(d)
        page = read(os.path.join(d, "report.html"))
        with open(os.path.join(STALLED, "meta.json")) as fh:
            diag = json.load(fh)["diagnosis"]
        # The diagnosis, first thing after the heading, escaped.
        self.assertLess(page.index('id="diagnosis"'), page.index("<h2>Command line</h2>"))
        self.assertIn("<h2>Diagnosis: deadlock</h2>", page)
        self.assertIn("<strong>%s</strong>" % html.escape(diag["summary"]), page)
        self.assertIn('<pre class="diag-detail">%s</pre>' % html.escape(diag["detail"]), page)
        self.assertIn("<td>waiting &lt;lock B&gt;</td>", page)
        self.assertIn("<td>stalled: &lt;no progress&gt; for 10.0 s</td>", page)
        self.assertNotIn("<lock", page)
        self.assertIn("summary.csv has no rows", page)
        self.assertNotIn("<img", page)


def hostile(tmp):
    """Text that would run `touch` if it reached gnuplot or a shell unquoted,
    and the files whose existence would show it."""
    marks = [os.path.join(tmp, "pwned%d" % i) for i in range(1, 8)]
    return marks, {
        "host": "h'; system(\"touch %s\"); '" % marks[0],
        "cpu_model": "C\\\\q \"d\", '; system('touch %s'); ' $(touch %s) `touch %s` @host"
                     % (marks[1], marks[2], marks[3]),
        "impl": "fx'; system(\"touch %s\"); print '" % marks[4],
        "param": "k=\"a,b\";'; system(\"touch %s\"); '" % marks[5],
        "pin": "0,1'`touch %s`" % marks[6],
    }


class Hostile(Tmp, unittest.TestCase):
    def test_payload_is_live(self):
        # The control: quoted naively, the host cell does run its command.
        need_gnuplot(self)
        tmp = self.tmpdir()
        marks, h = hostile(tmp)
        gp = os.path.join(tmp, "naive.gp")
        with open(gp, "w") as fh:
            fh.write("host = '%s'\n" % h["host"])
        subprocess.run(["gnuplot", gp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=GUARD)
        self.assertTrue(os.path.exists(marks[0]), "the payload does not work: test is moot")

    def test_hostile_cells_drawn_not_run(self):
        need_gnuplot(self)
        tmp = self.tmpdir()
        marks, h = hostile(tmp)
        d = self.copy(TRYLOCK, parent=tmp)

        def res(r):
            r.update(host=h["host"], cpu_model=h["cpu_model"])
            return r

        def summ(r):
            if r["impl"] == "futex-mutex":
                r.update(impl=h["impl"], param=h["param"], pin=h["pin"])
            return r
        rewrite_csv(os.path.join(d, "results.csv"), res)
        rewrite_csv(os.path.join(d, "summary.csv"), summ)
        p = plot(d)
        for m in marks:   # first: a broken quoting may also make gnuplot fail
            self.assertFalse(os.path.exists(m), "%s was created: injection" % m)
        self.assertEqual(p.returncode, 0, describe(p))
        svg = html.unescape(read(os.path.join(d, "throughput.svg")))
        self.assertIn("host %s, %s" % (h["host"], h["cpu_model"]), svg)
        self.assertIn("%s param=%s pin=%s" % (h["impl"], h["param"], h["pin"]), svg)
        page = read(os.path.join(d, "report.html"))
        self.assertIn(html.escape(h["impl"]), page)
        self.assertEqual({r["impl"] for r in read_csv(os.path.join(d, "speedup.csv"))},
                         {"ck-fas", h["impl"]})
        self.assert_whole(d)

    def test_hostile_directory_name(self):
        need_gnuplot(self)
        tmp = self.tmpdir()
        marks, h = hostile(tmp)
        name = "run '$(touch %s) `touch %s` \"; system(\"touch %s\")" % tuple(marks[:3])
        d = self.copy(TRYLOCK, name=name, parent=tmp)
        p = plot(d)
        for m in marks:
            self.assertFalse(os.path.exists(m), "%s was created: injection" % m)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertTrue(os.path.isfile(os.path.join(d, "throughput.png")))
        self.assert_whole(d)

    def test_control_characters_refused(self):
        tmp = self.tmpdir()
        mark = os.path.join(tmp, "pwned-nl")
        evil = "x'%ssystem(\"touch " + mark + "\") #"
        for f, col, line in (("results.csv", "cpu_model", 2), ("results.csv", "host", 2),
                             ("summary.csv", "param", 3), ("summary.csv", "impl", 2)):
            for ch in ("\n", "\r", "\x1b"):
                with self.subTest(f=f, col=col, ch=repr(ch)):
                    d = self.copy(TRYLOCK, parent=self.tmpdir())
                    n = [0]

                    def spoil(r):
                        n[0] += 1
                        if n[0] + 1 == line:
                            r[col] = evil % ch
                        return r
                    rewrite_csv(os.path.join(d, f), spoil)
                    before = self.listing(d)
                    for argv in ([PLOT, d], [sys.executable, REPORT, d]):
                        p = run(argv)
                        self.assert_refused(p, before, d, "%s line %d: column %s"
                                            % (os.path.join(d, f), line, col), repr(ch),
                                            "control character")
                    self.assertFalse(os.path.exists(mark))

    def test_control_character_in_meta(self):
        d = self.copy(STALLED)
        edit_meta(d, lambda m: m.update(host="evil\nhost"))
        before = self.listing(d)
        p = plot(d)
        self.assert_refused(p, before, d, os.path.join(d, "meta.json"), "host", "'\\n'")

    def test_hostile_column_names_refused(self):
        tmp = self.tmpdir()
        mark = os.path.join(tmp, "pwned-col")
        name = "x'; system(\"touch %s\"); '" % mark
        # Listed in meta.json ...
        d = self.copy(TRYLOCK, parent=tmp)
        edit_meta(d, lambda m: m.update(extra_columns=["success_ratio", name]))
        before = self.listing(d)
        p = plot(d)
        self.assert_refused(p, before, d, os.path.join(d, "meta.json"), "extra_columns",
                            repr(name))
        # ... or found by the old rule in summary.csv's header.
        d = self.copy(TRYLOCK, name="run2", parent=tmp)
        edit_meta(d, lambda m: m.pop("extra_columns", None))
        path = os.path.join(d, "summary.csv")
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        rows[0] = [name + c[len("success_ratio"):] if c.startswith("success_ratio_") else c
                   for c in rows[0]]
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
        before = self.listing(d)
        p = plot(d)
        self.assert_refused(p, before, d, path + " line 1", repr(name + "_median"))
        self.assertFalse(os.path.exists(mark))


class DiskFull(Tmp, unittest.TestCase):
    """A 64 KiB tmpfs: exit 1, one line naming the file, nothing cut short
    under a final name, no scratch directory. Mounted here: fails (does not
    skip) when mount is refused; CI runs as root."""

    def tiny(self):
        d = os.path.join(self.tmpdir(), "tiny")
        os.mkdir(d)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        if p.returncode != 0:
            self.fail("mount -t tmpfs -o size=64k refused (%s): this test needs root, as in CI"
                      % (p.stderr.strip() or "exit %d" % p.returncode))
        self.addCleanup(subprocess.run, ["umount", d], timeout=GUARD)
        return d

    def fill(self, tiny, leave):
        """Fill the file system up to `leave` bytes free."""
        st = os.statvfs(tiny)
        free = st.f_bavail * st.f_frsize
        self.assertGreaterEqual(free, leave)
        with open(os.path.join(tiny, "filler"), "wb") as fh:
            fh.write(b"\0" * (free - leave))

    def one_line(self, p, *needles):
        self.assertEqual(p.returncode, 1, describe(p))
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, describe(p))
        for n in needles:
            self.assertIn(n, lines[0], describe(p))
        return lines[0]

    def test_plots_do_not_fit(self):
        need_gnuplot(self)
        tiny = self.tiny()
        d = self.copy(TRYLOCK, parent=tiny)
        before = self.listing(d)
        line = self.one_line(plot(d), "plot.sh: could not write %s/" % d)
        self.assertRegex(line, r"/[a-z_-]+\.(png|svg|csv): ")
        self.assertEqual(self.listing(d), before)
        self.assert_whole(d)

    def test_nothing_fits(self):
        need_gnuplot(self)
        tiny = self.tiny()
        d = self.copy(TRYLOCK, parent=tiny)
        self.fill(tiny, 0)
        before = self.listing(d)
        self.one_line(plot(d), "plot.sh: could not write %s/" % d, "No space left on device")
        self.assertEqual(self.listing(d), before)

    def test_report_does_not_fit(self):
        # Zero rows: report.html (about 5 KB) alone, with one 4 KiB page free.
        tiny = self.tiny()
        d = self.copy(STALLED, parent=tiny)
        self.fill(tiny, 4096)
        before = self.listing(d)
        self.one_line(plot(d), "plot.sh: could not write %s: No space left on device"
                      % os.path.join(d, "report.html"))
        self.assertEqual(self.listing(d), before)
        self.one_line(run([sys.executable, REPORT, d]), "report.py: could not write %s: "
                      % os.path.join(d, "report.html"))
        self.assertEqual(self.listing(d), before)

    def test_redraw_keeps_the_old_files_whole(self):
        # A complete earlier draw, then a redraw on a full disk: the old
        # files stay, each complete.
        need_gnuplot(self)
        tiny = self.tiny()
        d = self.copy(STALLED, parent=tiny)
        self.assertEqual(plot(d).returncode, 0)
        self.fill(tiny, 0)
        before = self.listing(d)
        self.one_line(plot(d), "could not write")
        self.assertEqual(self.listing(d), before)
        self.assert_whole(d)


class Killed(Tmp, unittest.TestCase):
    """SIGTERM while gnuplot draws (a stand-in gnuplot writes half a PNG,
    then signals plot.sh): exit 143, no scratch directory, no half file."""

    def test_sigterm(self):
        tmp = self.tmpdir()
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        fake = os.path.join(bindir, "gnuplot")
        with open(fake, "w") as fh:
            fh.write("#!/bin/sh\nmkdir -p out\nprintf '\\211PNG\\r\\n' > out/throughput.png\n"
                     "kill -TERM $PPID\nexec sleep %d\n" % GUARD)
        os.chmod(fake, stat.S_IRWXU)
        d = self.copy(TRYLOCK, parent=tmp)
        before = self.listing(d)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        p = plot(d, env=env)
        self.assertEqual(p.returncode, 143, describe(p))
        self.assertEqual(self.listing(d), before)


class NonFinite(Numbers, unittest.TestCase):
    def test_inf_and_nan(self):
        d = self.copy(TRYLOCK)
        n = [0]

        def spoil(r):
            n[0] += 1
            if n[0] == 2:
                r["lat_p50_ns_median"] = "inf"
            if n[0] == 3:
                r["fairness_median"] = "nan"
                r["ops_per_cpu_s_median"] = "-inf"
            return r
        rewrite_csv(os.path.join(d, "summary.csv"), spoil)
        p = run([sys.executable, REPORT, d])
        self.assertEqual(p.returncode, 0, describe(p))
        head, rows = summary_table(read(os.path.join(d, "report.html")))
        self.assertEqual(rows[1][head.index("lat p50")], "inf")
        self.assertEqual(rows[2][head.index("fairness")], "nan")
        self.assertEqual(rows[2][head.index("ops per CPU-s")], "-inf")
        self.check_table(d)
        if shutil.which("gnuplot"):
            p = plot(d)
            self.assertEqual(p.returncode, 0, describe(p))
            self.assert_whole(d)


class Sweep(Tmp, unittest.TestCase):
    """A --param list: sweep-<key> draws throughput against its values."""

    def swept(self):
        """The trylock fixture as a sweep of backoff_ns=100,1000: each row
        again with 1000 and half the ops/s (cells as text: the medians
        and bounds halved, the rest as they are)."""
        d = self.copy(TRYLOCK)
        path = os.path.join(d, "summary.csv")
        rows = read_csv(path)
        with open(path, newline="") as fh:
            header = next(csv.reader(fh))
        more = []
        for r in rows:
            r2 = dict(r, param="backoff_ns=1000")
            for c in ("ops_per_sec_median", "ops_per_sec_ci_lo", "ops_per_sec_ci_hi"):
                r2[c] = repr(float(r[c]) / 2)
            more.append(r2)
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows + more)
        return d, rows

    def test_sweep_plot_drawn_and_first(self):
        need_gnuplot(self)
        d, _ = self.swept()
        p = plot(d)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(p.stderr.count("warning"), 0, p.stderr)
        self.assertEqual(sorted(f for f in os.listdir(d) if f.startswith("sweep-")),
                         ["sweep-backoff_ns.png", "sweep-backoff_ns.svg"])
        self.assert_whole(d)
        svg = read(os.path.join(d, "sweep-backoff_ns.svg"))
        keys = [t for t in re.findall(r"<title>([^<]+)</title>", svg)
                if t != "Gnuplot" and not t.startswith("gnuplot_plot")]
        self.assertEqual(keys, ["ck-fas", "futex-mutex"])
        texts = re.findall(r">([^<>]+)</text>", svg)
        # the x axis: the values, in the order given, and what they are
        self.assertEqual([t for t in texts if t in ("100", "1000")], ["100", "1000"])
        self.assertIn("--param backoff_ns", texts)
        self.assertIn("mutex", texts)   # the kind's panel
        self.assertTrue(any("throughput vs --param backoff_ns at 2 threads" in t
                            for t in texts), texts)
        # report.html shows it first, captioned
        page = read(os.path.join(d, "report.html"))
        figs = re.findall(r'<figure id="plot-([^"]+)"><figcaption>([^<]*)<', page)
        self.assertEqual(figs[0][0], "sweep-backoff_ns")
        self.assertIn("swept --param backoff_ns", figs[0][1])

    def test_sweep_points(self):
        # What sweep.gp draws: a line per implementation at the ranking
        # thread count (2 of 2 PUs), a point per value at its place.
        d, rows = self.swept()
        sys.path.insert(0, os.path.dirname(REPORT))
        import report
        data = report.PlotData(report.Run(d, True))
        self.assertEqual(data.sweep_axes(), [("backoff_ns", ["100", "1000"])])
        text, files = data.sweep_plot("backoff_ns", ["100", "1000"])
        at2 = {r["impl"]: float(r["ops_per_sec_median"]) for r in rows if r["threads"] == "2"}
        got = {}
        for rel, csv_text in sorted(files.items()):
            lines = csv_text.splitlines()
            self.assertEqual(lines[0], "pos,ops_per_sec_median,ops_per_sec_ci_lo,"
                             "ops_per_sec_ci_hi")
            got[rel] = [(int(l.split(",")[0]), float(l.split(",")[1])) for l in lines[1:]]
        self.assertEqual(list(got.values()),
                         [[(1, at2["ck-fas"]), (2, at2["ck-fas"] / 2)],
                          [(1, at2["futex-mutex"]), (2, at2["futex-mutex"] / 2)]])
        self.assertIn("ltitle[1] = 'ck-fas'", text)
        self.assertIn("sweep_xtics = 'set xtics (''100'' 1, ''1000'' 2)'", text)
        # no sweep, no axis: the fixture as it is
        self.assertEqual(report.PlotData(report.Run(TRYLOCK, True)).sweep_axes(), [])


class TopInASweep(Tmp, unittest.TestCase):
    """The top plot ranks within one kind and one setting of a sweep."""

    def test_top_is_one_setting_ranked(self):
        d = self.copy(TRYLOCK)
        path = os.path.join(d, "summary.csv")
        template = read_csv(path)[0]
        with open(path, newline="") as fh:
            header = next(csv.reader(fh))
        # backoff_ns=100: 10 implementations, t0 fastest; backoff_ns=1000:
        # 11, t10 fastest: the larger group is drawn, ranked at 2 threads
        # (of 2 PUs), where the order is the reverse of 1 thread's.
        rows = []
        for setting, n in (("100", 10), ("1000", 11)):
            for i in range(n):
                for t in (1, 2):
                    ops = (1000.0 + i) if t == 1 else \
                        (500.0 - i if setting == "100" else 500.0 + i)
                    r = dict(template, impl="t%d" % i, threads=str(t),
                             param="backoff_ns=" + setting)
                    for c in ("ops_per_sec_median", "ops_per_sec_ci_lo", "ops_per_sec_ci_hi"):
                        r[c] = repr(ops)
                    rows.append(r)
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        sys.path.insert(0, os.path.dirname(REPORT))
        import report
        data = report.PlotData(report.Run(d, True))
        sel, title = data.top()
        picked = [data.series[i - 1] for i in sel]
        self.assertEqual({s.key["param"] for s in picked}, {"backoff_ns=1000"})
        self.assertEqual([s.key["impl"] for s in picked],
                         ["t10", "t9", "t8", "t7", "t6", "t5", "t4", "t3"])
        self.assertIn("mutex (top 8 of 11 by ops/s at 2 threads)", title)


class Usage(Tmp, unittest.TestCase):
    def test_usage_and_missing(self):
        p = run([PLOT])
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("usage", p.stderr)
        d = self.tmpdir()
        p = plot(d)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("summary.csv", p.stderr)
        self.assertEqual(os.listdir(d), [])

    def test_bad_field_count(self):
        d = self.copy(TRYLOCK)
        path = os.path.join(d, "summary.csv")
        lines = read(path).split("\n")
        lines[2] += ",extra"
        with open(path, "w") as fh:
            fh.write("\n".join(lines))
        before = self.listing(d)
        p = plot(d)
        self.assert_refused(p, before, d, path + " line 3")


def _report_beside_plot(g):
    g["REPORT"] = os.path.join(os.path.dirname(g["PLOT"]), "report.py")


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["PLOT"], setup=_report_beside_plot))
