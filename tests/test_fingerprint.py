#!/usr/bin/env python3
"""The platform fingerprint: ./bench --workload fingerprint.

    python3 tests/test_fingerprint.py PATH_TO_lockbench PATH_TO_plot.sh

A real fingerprint of this machine (a second or so on 2 PUs): every
ordered pair of usable PUs has a core-to-core row in each direction, every
figure is positive with p99 >= p50 and passes its check, the two
directions of a pair agree (the check), the relations are the documented
ones, meta.json maps every PU, and the heat map and report.html are
written (and rewritten by plot.sh).  Options that do not apply are usage
errors.  fingerprint.py draws a hand-made 4-PU, 2-package fingerprint.

Standard library only.  No timing assertions: "positive" and "p99 >= p50"
are invariants, and the symmetry check is the program's own.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

BINARY = None
PLOT = None
HEADER = ["run_id", "host", "cpu_model", "pus", "measure", "op", "relation", "cpu_a", "cpu_b",
          "p50_ns", "p99_ns", "samples", "check"]
RELATIONS = {"same-core", "same-llc", "cross-llc", "cross-package"}


def fingerprint(d, *extra):
    return subprocess.run([BINARY, "--workload", "fingerprint", "--out", d] + list(extra),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=lbtest.HANG_GUARD)


def read(d):
    with open(os.path.join(d, "fingerprint.csv"), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def usable_cpus():
    p = subprocess.run([BINARY, "--topology"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    m = re.search(r"^  compact\s+([0-9,]+)$", p.stdout, re.M)
    return sorted(int(x) for x in m.group(1).split(","))


class Fingerprint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lb-fp-")
        cls.dir = os.path.join(cls.tmp, "fp")
        cls.proc = fingerprint(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_runs_clean(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stdout, "")
        self.assertIn("0 checks failed", self.proc.stderr)
        if "starved" in self.proc.stderr:
            self.assertIn("rerun on a quiet machine", self.proc.stderr)
        self.assertEqual(sorted(f for f in os.listdir(self.dir) if not f.startswith(".")),
                         ["fingerprint-c2c.png", "fingerprint-c2c.svg", "fingerprint.csv",
                          "meta.json", "report.html"])

    def test_every_pair_both_ways(self):
        header, rows = read(self.dir)
        self.assertEqual(header, HEADER)
        cpus = usable_cpus()
        c2c = {(int(r["cpu_a"]), int(r["cpu_b"])): r for r in rows if r["measure"] == "c2c_rtt"}
        want = {(a, b) for a in cpus for b in cpus if a != b}
        self.assertEqual(set(c2c), want)
        for (a, b), r in c2c.items():
            self.assertEqual(r["op"], "load-cas")
            self.assertIn(r["relation"], RELATIONS)
            self.assertEqual(r["relation"], c2c[(b, a)]["relation"])
            # starved: another process had the CPUs (a loaded CI machine);
            # the check is the program's, and applies where it measured
            self.assertIn(r["check"], ("ok", "starved"), r)
            if r["check"] == "ok":
                self.assertGreaterEqual(int(r["samples"]), 500, r)
                self.assertLessEqual(int(r["samples"]), 1000, r)

    def test_figures_positive_and_checked(self):
        _, rows = read(self.dir)
        got = {(r["measure"], r["op"], r["relation"]) for r in rows}
        for key in [("timer", "rdtsc", "local"), ("timer", "rdtscp", "local"),
                    ("timer", "clock_gettime", "local"), ("timer", "busy-loop-iter", "local"),
                    ("atomic", "cas", "local"), ("atomic", "faa", "local"),
                    ("atomic", "xchg", "local"), ("futex", "wake-no-waiter", "local"),
                    ("futex", "wake-to-run", "same-cpu")]:
            self.assertIn(key, got)
        rels = {r["relation"] for r in rows if r["measure"] == "c2c_rtt"}
        for rel in rels:  # each relation the machine has: remote atomics and a wake-up
            for op in ("cas", "faa", "xchg"):
                self.assertIn(("atomic", op, rel), got)
            self.assertIn(("futex", "wake-to-run", rel), got)
        for r in rows:
            self.assertIn(r["check"], ("ok", "starved"), r)
            if r["check"] == "starved":
                self.assertIn(r["measure"], ("c2c_rtt", "atomic"), r)
                continue
            self.assertGreater(float(r["p50_ns"]), 0, r)
            self.assertGreaterEqual(float(r["p99_ns"]), float(r["p50_ns"]), r)
            self.assertGreater(int(r["samples"]), 0, r)
        self.assertEqual(len({(r["run_id"], r["host"], r["pus"]) for r in rows}), 1)

    def test_meta_maps_every_pu(self):
        with open(os.path.join(self.dir, "meta.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta["options"]["workload"], "fingerprint")
        self.assertEqual(meta["status"], "ok")
        self.assertEqual(meta["rows"], len(read(self.dir)[1]))
        self.assertEqual(sorted(e["cpu"] for e in meta["platform"]["pu_map"]), usable_cpus())
        # each PU's lock cluster is its NUMA node (the --clusters default)
        self.assertEqual([e["cluster"] for e in meta["platform"]["pu_map"]],
                         [e["node"] for e in meta["platform"]["pu_map"]])
        self.assertEqual(meta["platform"]["lock_clusters"],
                         {"level": "node", "count": meta["platform"]["numa_nodes"]})
        self.assertIn("fingerprint.csv", meta["files"])
        self.assertIn("report.html", meta["files"])

    def test_report_and_replot(self):
        with open(os.path.join(self.dir, "report.html")) as f:
            page = f.read()
        self.assertIn("<h1>Platform fingerprint: ", page)
        self.assertIn('src="fingerprint-c2c.png"', page)
        self.assertIn("<td>wake-to-run</td>", page)
        os.remove(os.path.join(self.dir, "fingerprint-c2c.png"))
        p = subprocess.run(["sh", PLOT, self.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.getsize(os.path.join(self.dir, "fingerprint-c2c.png")) > 0)
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".plot-")], [])


class Options(unittest.TestCase):
    def test_options_that_do_not_apply(self):
        for opt, val in [("--impl", "futex-mutex"), ("--threads", "2"), ("--pin", "scatter"),
                         ("--repeat", "5"), ("--mem", "local")]:
            with self.subTest(opt=opt), tempfile.TemporaryDirectory() as d:
                p = fingerprint(os.path.join(d, "fp"), opt, val)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(p.stderr, "lockbench: %s: the fingerprint measures the "
                                 "machine, not an implementation; it takes --out, --no-plot "
                                 "and --quiet only\n" % opt)
                self.assertEqual(os.listdir(d), [])

    def test_no_plot_and_quiet(self):
        with tempfile.TemporaryDirectory() as d:
            p = fingerprint(os.path.join(d, "fp"), "--no-plot", "--quiet")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(sorted(os.listdir(os.path.join(d, "fp"))),
                             [".lockbench-run", "fingerprint.csv", "meta.json"])
            # the results line, and a warning only if the machine was loaded
            self.assertEqual(p.stderr.count("\n") - p.stderr.count("starved"), 1, p.stderr)


class Drawing(unittest.TestCase):
    def test_two_packages(self):
        """fingerprint.py on a hand-made 4-PU, 2-package fingerprint."""
        script = os.path.join(os.path.dirname(PLOT), "fingerprint.py")
        with tempfile.TemporaryDirectory() as d:
            rows = []
            for a in range(4):
                for b in range(4):
                    if a != b:
                        same = a // 2 == b // 2
                        rows.append(["r", "h", "Some CPU", "4", "c2c_rtt", "load-cas",
                                     "same-llc" if same else "cross-package", str(a), str(b),
                                     "100.0" if same else "700.0", "120.0" if same else "800.0",
                                     "1000", "ok"])
            rows.append(["r", "h", "Some CPU", "4", "futex", "wake-no-waiter", "local", "0", "",
                         "1200.0", "2400.0", "200", "ok"])
            with open(os.path.join(d, "fingerprint.csv"), "w", newline="") as f:
                csv.writer(f).writerows([HEADER] + rows)
            meta = {"host": "h", "run_id": "r", "platform": {"topology": "2 package(s)",
                    "pu_map": [{"cpu": c, "package": c // 2, "node": c // 2, "llc": c // 2,
                                "core": c} for c in range(4)]}}
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump(meta, f)
            p = subprocess.run([sys.executable, script, d], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            for name in ("fingerprint-c2c.png", "fingerprint-c2c.svg", "report.html"):
                self.assertGreater(os.path.getsize(os.path.join(d, name)), 0)
            with open(os.path.join(d, "report.html")) as f:
                page = f.read()
            self.assertIn("<td>cross-package</td><td class=\"num\">8</td><td class=\"num\">700"
                          "</td>", page)
            self.assertIn("<td>same-llc</td><td class=\"num\">4</td><td class=\"num\">100</td>",
                          page)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BINARY", "PLOT"]))
