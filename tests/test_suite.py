#!/usr/bin/env python3
"""./bench suite and the comparison of two suites.

    python3 tests/test_suite.py PATH_TO_lockbench PATH_TO_suite.py

Two quick suites of this machine with one workload each (handoff: a few
seconds; the whole --quick suite takes minutes and is not run here), then
compare: the platform directory's files, suite.json's steps, report.html's
sections in order, the scoreboard, and the comparison's three sections and
its CSV.  Usage errors exit 2 with one line and write nothing.

Standard library only.  No timing assertions.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import lbtest

BINARY = None
SUITE = None


def suite(*args):
    return subprocess.run([sys.executable, SUITE] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=lbtest.HANG_GUARD)


class Suites(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lb-suite-")
        cls.a = os.path.join(cls.tmp, "a")
        cls.b = os.path.join(cls.tmp, "b")
        cls.pa = suite("run", BINARY, "--quick", "--workloads", "handoff", "--out", cls.a)
        cls.pb = suite("run", BINARY, "--quick", "--workloads", "handoff", "--out", cls.b)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_platform_directory(self):
        self.assertEqual(self.pa.returncode, 0, self.pa.stderr)
        for name in ["fingerprint/fingerprint.csv", "fingerprint/fingerprint-c2c.png",
                     "handoff/results.csv", "handoff/summary.csv", "handoff/report.html",
                     "handoff.table.txt", "scoreboard.txt", "scoreboard.csv", "report.html",
                     "suite.json"]:
            self.assertTrue(os.path.isfile(os.path.join(self.a, name)), name)
        with open(os.path.join(self.a, "suite.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta["status"], "ok")
        self.assertTrue(meta["quick"])
        self.assertEqual([(s["name"], s["status"], s["exit_status"]) for s in meta["steps"]],
                         [("fingerprint", "ok", 0), ("handoff", "ok", 0)])
        with open(os.path.join(self.a, "handoff", "meta.json")) as f:
            hm = json.load(f)
        self.assertEqual(hm["options"]["repeat"], 3)  # --quick
        self.assertEqual(self.pa.stderr.splitlines()[-1],
                         "suite: ok: %s (report.html, suite.json)" % self.a)

    def test_report_order(self):
        with open(os.path.join(self.a, "report.html")) as f:
            page = f.read()
        at = [page.index(h) for h in ("<h2>Fingerprint</h2>", "<h2>Scoreboard</h2>",
                                      "<h2>Workloads</h2>", "<h3>handoff: ok</h3>")]
        self.assertEqual(at, sorted(at))
        self.assertIn('src="fingerprint/fingerprint-c2c.png"', page)
        self.assertIn('src="handoff/throughput.png"', page)
        self.assertIn("c2c_rtt median", page)
        with open(os.path.join(self.a, "scoreboard.txt")) as f:
            self.assertIn("handoff", f.read())

    def test_compare_two_suites(self):
        out = os.path.join(self.tmp, "cmp")
        p = suite("compare", self.a, self.b, "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout
        at = [text.index(h) for h in ("1. Fingerprints", "2. Each platform against",
                                      "3. Where the ranking changes")]
        self.assertEqual(at, sorted(at))
        self.assertIn("c2c_rtt median", text)
        with open(os.path.join(out, "compare-suites.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        kinds = {r["kind"] for r in rows if r["section"] == "ratio"}
        self.assertEqual(kinds, {"condition", "event", "semaphore"})
        for r in rows:
            if r["section"] == "ratio":
                self.assertGreater(float(r["value"]), 0)
                self.assertEqual(r["what"], "handoff")
        self.assertTrue(os.path.isfile(os.path.join(out, "report.html")))
        # the same suite against itself: every ratio is 1, no winner changes
        p = suite("compare", self.a, self.a, "--out", os.path.join(self.tmp, "self"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("(none: the same implementation wins every common cell)", p.stdout)
        self.assertRegex(p.stdout, r"winner differs in 0 of [1-9]\d* cells \(0 clear: .*\); the "
                                   r"order differs somewhere in 0\n")
        with open(os.path.join(self.tmp, "self", "compare-suites.csv"), newline="") as f:
            for r in csv.DictReader(f):
                if r["section"] == "ratio":
                    self.assertEqual(r["value"], "1.0000")
                    self.assertEqual(r["normalised"], "1.0000")


class Interrupt(unittest.TestCase):
    def test_ctrl_c_keeps_what_finished(self):
        """Ctrl-C (SIGINT to the process group) once the counter step has
        begun: exit 130, suite.json says how far it got, the finished
        fingerprint and report.html stay."""
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "s")
            p = subprocess.Popen([sys.executable, SUITE, "run", BINARY, "--quick",
                                  "--workloads", "counter", "--out", d],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, universal_newlines=True,
                                 start_new_session=True)
            try:
                for line in p.stderr:
                    if line.startswith("suite: [2/2] counter"):
                        os.killpg(p.pid, signal.SIGINT)
                        break
                rest = p.stderr.read()
                rc = p.wait(timeout=lbtest.HANG_GUARD)
            finally:
                if p.poll() is None:
                    p.kill()
            self.assertEqual(rc, 130, rest)
            with open(os.path.join(d, "suite.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["status"], "interrupted")
            self.assertEqual([(s["name"], s["status"]) for s in meta["steps"]],
                             [("fingerprint", "ok"), ("counter", "interrupted")])
            self.assertTrue(os.path.isfile(os.path.join(d, "fingerprint", "fingerprint.csv")))
            self.assertTrue(os.path.isfile(os.path.join(d, "report.html")))
            self.assertFalse(os.path.exists(os.path.join(d, "scoreboard.txt")))


class Errors(unittest.TestCase):
    def test_usage(self):
        with tempfile.TemporaryDirectory() as d:
            full = os.path.join(d, "full")
            os.makedirs(full)
            open(os.path.join(full, "x"), "w").close()
            cases = [
                (["run", BINARY, "--workloads", "nope"],
                 "suite: --workloads: 'nope' is not a suite workload; valid: counter, trylock, "
                 "recursive, pool, readmostly, barrier, handoff, broadcast, prodcons, "
                 "deadlock-fixed, livelock-random\n"),
                (["run", BINARY, "--fast"],
                 "suite: unknown option '--fast'; valid: --quick, --workloads LIST, --out DIR\n"),
                (["run", BINARY, "--out", full],
                 "suite: --out: '%s' is not empty; give a new directory\n" % full),
                (["run", BINARY, "--out", "/proc/no'pe"],
                 "suite: --out: cannot write to '/proc/no'pe': No such file or directory; give "
                 "a writable directory\n"),
                (["compare", d],
                 "suite: compare needs two or more suite directories (the first is the "
                 "baseline)\n"),
            ]
            for args, err in cases:
                with self.subTest(args=args):
                    p = suite(*args)
                    self.assertEqual(p.returncode, 2)
                    self.assertEqual(p.stderr, err)
            p = suite("compare", d, full)
            self.assertEqual(p.returncode, 2)
            self.assertTrue(p.stderr.startswith("suite: %s: not a suite directory" % d), p.stderr)
            self.assertEqual(sorted(os.listdir(d)), ["full"])


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BINARY", "SUITE"]))
