#!/usr/bin/env python3
"""scripts/lbrun.py, the one reader of a run directory (compare.py,
report.py, the scoreboard): each malformed input gives its exact one-line
message naming the file, the line and the column; and compare and report,
given the same bad file, say the same thing.

    python3 tests/test_lbrun.py PATH_TO_scripts/lbrun.py

Works on copies of tests/fixtures/compare/alpha (alpha: results.csv has 31
columns and 21 rows, summary.csv 22 columns). Standard library only; no
gnuplot needed (compare runs with --no-plot, report.py without --plots:
both stop at the cell while reading summary.csv).
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

LBRUN = None
ALPHA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare",
                     "alpha")
GUARD = 60  # seconds: a hang guard, not a timing assertion
REFUSED = "refused (it could end a gnuplot command)"


def rewrite(path, fn):
    """Rewrite a CSV file: fn gets and returns the list of records."""
    with open(path, newline="") as fh:
        recs = list(csv.reader(fh))
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(fn(recs))


def put(path, data, mode="w"):
    with open(path, mode) as fh:
        fh.write(data)


def set_cell(path, line, col, value):
    def fn(recs):
        recs[line - 1][recs[0].index(col)] = value
        return recs
    rewrite(path, fn)


class Reader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.dirname(os.path.abspath(LBRUN)))
        import lbrun
        import lbcommon
        cls.m = lbrun
        cls.BadInput = lbcommon.BadInput

    def setUp(self):
        tmp = tempfile.mkdtemp(prefix="lockbench-lbrun-test-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        self.d = os.path.join(tmp, "run")
        shutil.copytree(ALPHA, self.d)
        self.results = os.path.join(self.d, "results.csv")
        self.summary = os.path.join(self.d, "summary.csv")
        self.meta = os.path.join(self.d, "meta.json")

    def refuses(self, msg, fn, *args, **kw):
        with self.assertRaises(self.BadInput) as cm:
            fn(*args, **kw)
        self.assertEqual(str(cm.exception), msg)

    def test_reads_a_good_run(self):
        t = self.m.read_table(self.results, required=("host",), numbers=("threads", "rep"),
                              optional_numbers=("ops_per_sec", "no_such_column"))
        self.assertEqual(len(t.rows), 21)
        r = t.rows[0]
        self.assertEqual((r.path, r.line, r["impl"]), (self.results, 2, "atomic-faa"))
        self.assertEqual(r.finite("ops_per_sec"), 380.0)
        self.assertIsNone(r.finite("probe_rtt_ns"))    # empty: does not apply
        self.assertEqual(r.count("threads"), 1)
        self.assertEqual(self.m.config_key(r),
                         ("counter", "atomic-faa", 1, 0.0, 0.0, "depth=1", "compact"))
        self.assertEqual(self.m.describe_key(self.m.config_key(r)),
                         "counter atomic-faa threads=1 cs_ns=0 think_ns=0 param=depth=1"
                         " pin=compact")
        self.assertEqual(self.m.key_num(2.5), "2.5")
        meta = self.m.read_meta(self.meta)
        self.assertEqual(self.m.platform(meta)["pus"], 2)
        self.assertEqual(self.m.identity(t, meta, self.meta),
                         ("alpha", "Test CPU A", "20250101-120000-counter-100"))
        self.assertEqual(self.m.workload_of(self.d), "counter")

    def test_bad_cell(self):
        set_cell(self.results, 5, "ops_per_sec", "fast")
        self.refuses("%s line 5: column ops_per_sec is 'fast', not a number" % self.results,
                     self.m.read_table, self.results, optional_numbers=("ops_per_sec",))
        # Read without the check, the cell is refused where it is used.
        row = self.m.read_table(self.results).rows[3]
        self.refuses("%s line 5: column ops_per_sec is 'fast', not a number" % self.results,
                     row.num, "ops_per_sec")

    def test_non_finite_and_empty(self):
        set_cell(self.results, 3, "ops_per_sec", "inf")
        set_cell(self.results, 4, "rep", "")
        set_cell(self.results, 6, "threads", "1.5")
        t = self.m.read_table(self.results)
        self.assertEqual(t.rows[1].num("ops_per_sec"), float("inf"))   # num: as written
        self.refuses("%s line 3: column ops_per_sec is 'inf', not a number" % self.results,
                     t.rows[1].finite, "ops_per_sec")
        self.refuses("%s line 4: column rep is empty, a number is required" % self.results,
                     t.rows[2].finite, "rep", required=True)
        self.assertIsNone(t.rows[2].finite("rep"))
        self.refuses("%s line 6: column threads is '1.5', not a positive whole number"
                     % self.results, t.rows[4].count, "threads")
        self.refuses("%s line 3: column ops_per_sec is 'inf', not a number" % self.results,
                     self.m.read_table, self.results, numbers=("ops_per_sec",))

    def test_missing_column(self):
        rewrite(self.summary, lambda recs: [["ops_median" if c == "ops_per_sec_median" else c
                                             for c in recs[0]]] + recs[1:])
        msg = '%s line 1: no column "ops_per_sec_median" in the header' % self.summary
        self.refuses(msg, self.m.read_table, self.summary, required=("ops_per_sec_median",))
        self.refuses(msg, self.m.read_table, self.summary, numbers=("ops_per_sec_median",))
        self.refuses(msg, self.m.read_table(self.summary).require, ["ops_per_sec_median"])

    def test_missing_file(self):
        os.remove(self.summary)
        self.refuses("%s: no such file (not a lockbench run directory?)" % self.summary,
                     self.m.read_table, self.summary)
        self.assertIsNone(self.m.read_table(self.summary, missing_ok=True))
        self.assertIsNone(self.m.workload_of(self.d))
        os.remove(self.meta)
        self.assertIsNone(self.m.read_meta(self.meta))
        missing = os.path.join(self.d, "nope")
        self.refuses("%s: no such directory" % missing, self.m.RunDir, missing)
        self.refuses("%s: not a directory (give run directories)" % self.results,
                     self.m.RunDir, self.results)

    def test_field_count(self):
        def fn(recs):
            recs[2] = recs[2][:-1]
            return recs
        rewrite(self.results, fn)
        self.refuses("%s line 3: 30 fields, the header (line 1) has 31" % self.results,
                     self.m.read_table, self.results)

    def test_control_character(self):
        set_cell(self.results, 2, "host", "h\x1b")
        self.refuses("%s line 2: column host holds the control character '\\x1b'; %s"
                     % (self.results, REFUSED), self.m.read_table, self.results)

    def test_line_of_a_record_spanning_lines(self):
        # A quoted cell with a line break: the record is named by the line
        # it starts on (the break itself is a control character).
        set_cell(self.results, 3, "cpu_model", "Vendor,\nModel")
        self.refuses("%s line 3: column cpu_model holds the control character '\\n'; %s"
                     % (self.results, REFUSED), self.m.read_table, self.results)

    def test_malformed_files(self):
        """(file, what is written, open mode, message after PATH)."""
        cases = ((self.summary, 'counter,"x"y\n', "a", " line 9: ',' expected after '\"'"),
                 (self.results, b"\xff\n", "ab", ": not UTF-8 text (invalid start byte)"),
                 (self.summary, "", "w", " line 1: empty file, no header"),
                 (self.summary, "\n", "w", " line 1: empty, expected the header"),
                 (self.meta, '{\n  "host": ', "w", " line 2: not valid JSON: Expecting value"),
                 (self.meta, "[1]", "w", " line 1: not a JSON object"))
        for path, data, mode, msg in cases:
            with self.subTest(msg=msg):
                shutil.copy(os.path.join(ALPHA, os.path.basename(path)), path)
                put(path, data, mode)
                read = self.m.read_meta if path == self.meta else self.m.read_table
                self.refuses(path + msg, read, path)

    def test_identity_from_meta(self):
        # results.csv without rows: host, CPU and run id come from meta.json,
        # whose text is checked as a cell is.
        rewrite(self.results, lambda recs: recs[:1])
        t = self.m.read_table(self.results)
        with open(self.meta) as fh:
            meta = json.load(fh)
        self.assertEqual(self.m.identity(t, meta, self.meta),
                         ("alpha", "Test CPU A", "20250101-120000-counter-100"))
        self.assertEqual(self.m.identity(None, None, self.meta), (None, None, None))
        meta["host"] = "evil\nhost"
        self.refuses("%s: host holds the control character '\\n'; %s" % (self.meta, REFUSED),
                     self.m.identity, t, meta, self.meta)


class BothTools(unittest.TestCase):
    """compare and report read through lbrun: the same bad file, the same line."""

    def run_tool(self, argv):
        return subprocess.run([sys.executable] + argv, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=GUARD)

    def test_same_message(self):
        scripts = os.path.dirname(os.path.abspath(LBRUN))
        tmp = tempfile.mkdtemp(prefix="lockbench-lbrun-test-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        d = os.path.join(tmp, "run")
        shutil.copytree(ALPHA, d)
        summary = os.path.join(d, "summary.csv")
        for col, value, why in (("param", "a\tb", "holds the control character '\\t'; "
                                 + REFUSED),
                                ("pin", "x\x1by", "holds the control character '\\x1b'; "
                                 + REFUSED)):
            with self.subTest(col=col):
                shutil.copy(os.path.join(ALPHA, "summary.csv"), summary)
                set_cell(summary, 3, col, value)
                want = "%s line 3: column %s %s" % (summary, col, why)
                c = self.run_tool([os.path.join(scripts, "compare.py"), d, ALPHA,
                                   "--no-plot"])
                r = self.run_tool([os.path.join(scripts, "report.py"), d])
                self.assertEqual((c.returncode, c.stdout, c.stderr),
                                 (2, "", "compare: error: %s\n" % want))
                self.assertEqual((r.returncode, r.stderr), (2, "report.py: %s\n" % want))
                self.assertEqual(sorted(os.listdir(d)),
                                 ["meta.json", "results.csv", "summary.csv"])


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["LBRUN"]))
