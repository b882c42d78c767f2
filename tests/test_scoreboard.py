"""./bench scoreboard on hand-made run directories: the regimes' thread
counts, the winner and its margin, the families against pthread with the
U test's verdict, the worst cells, what is never ranked (controls, failed
checks), platform directories, and every refusal.

usage: python3 test_scoreboard.py PATH_TO_scoreboard.py
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

SCRIPT = None

SUMMARY = ["workload", "kind", "backend", "impl", "threads", "pus", "pin", "cs_ns", "think_ns",
           "param", "oversubscribed", "reps", "ops_per_sec_median", "verified"]
RESULTS = ["workload", "kind", "backend", "impl", "threads", "pin", "cs_ns", "think_ns", "param",
           "rep", "ops_per_sec"]


def write_run(d, workload, cells, pus=2, param="p=1"):
    """cells: (kind, backend, impl, threads, [ops/s per repetition], verified)."""
    os.makedirs(d)
    with open(os.path.join(d, "summary.csv"), "w", newline="") as s, \
            open(os.path.join(d, "results.csv"), "w", newline="") as r:
        sw, rw = csv.writer(s), csv.writer(r)
        sw.writerow(SUMMARY)
        rw.writerow(RESULTS)
        for kind, backend, impl, t, reps, verified in cells:
            med = sorted(reps)[len(reps) // 2]
            sw.writerow([workload, kind, backend, impl, t, pus, "compact", 0, 0, param,
                         int(t > pus), len(reps), med, verified])
            for i, v in enumerate(reps):
                rw.writerow([workload, kind, backend, impl, t, "compact", 0, 0, param, i + 1, v])


def five(x):
    """Five repetitions around x, apart from another side's by far more
    than their spread."""
    return [x * f for f in (0.98, 0.99, 1.0, 1.01, 1.02)]


# mutex at 1, 2 (= PUs) and 4 threads (oversubscribed): at 2 threads ck-fas
# wins by 1.5x over futex-mutex; futex/pthread = 300/200 there, ck/pthread
# 450/200; at 4 threads futex does worst (50/100).
MUTEX = [
    ("mutex", "pthread", "pthread-mutex", 1, five(100), "ok"),
    ("mutex", "futex", "futex-mutex", 1, five(120), "ok"),
    ("mutex", "ck", "ck-fas", 1, five(110), "ok"),
    ("mutex", "pthread", "pthread-mutex", 2, five(200), "ok"),
    ("mutex", "futex", "futex-mutex", 2, five(300), "ok"),
    ("mutex", "ck", "ck-fas", 2, five(450), "ok"),
    ("mutex", "test", "test-busted", 2, five(9000), "fail"),
    ("mutex", "pthread", "pthread-mutex", 4, five(100), "ok"),
    ("mutex", "futex", "futex-mutex", 4, five(50), "ok"),
    ("mutex", "ck", "ck-fas", 4, five(150), "ok"),
    ("none", "none", "none-noop", 2, five(1e9), "ok"),
]


class Scoreboard(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lb-scoreboard-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sb(self, *args):
        return subprocess.run([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def rows(self, *dirs):
        p = self.sb("--format", "csv", *dirs)
        self.assertEqual(p.returncode, 0, p.stderr)
        return list(csv.DictReader(p.stdout.splitlines()))

    def test_regimes_winner_and_families(self):
        d = os.path.join(self.tmp, "run")
        write_run(d, "counter", MUTEX)
        rows = self.rows(d)
        self.assertEqual([(r["kind"], r["regime"], r["threads"]) for r in rows],
                         [("mutex", "uncontended", "1"), ("mutex", "contended", "2"),
                          ("mutex", "oversubscribed", "4")])
        c = rows[1]
        # test-busted failed its check: never the winner, however fast
        self.assertEqual((c["winner"], c["runner_up"]), ("ck-fas", "futex-mutex"))
        self.assertEqual(c["winner_ops_per_sec"], "450")
        self.assertAlmostEqual(float(c["margin"]), 1.5)
        self.assertEqual(c["margin_verdict"], "real")   # 5 vs 5, no overlap
        self.assertLessEqual(float(c["margin_ci_lo"]), 1.5)
        self.assertGreaterEqual(float(c["margin_ci_hi"]), 1.5)
        self.assertEqual(c["pthread_best"], "pthread-mutex")
        self.assertEqual((c["futex_best"], float(c["futex_ratio"])), ("futex-mutex", 1.5))
        self.assertEqual((c["ck_best"], float(c["ck_ratio"])), ("ck-fas", 2.25))
        o = rows[2]
        self.assertEqual(o["winner"], "ck-fas")
        self.assertAlmostEqual(float(o["futex_ratio"]), 0.5)
        # the controls are never ranked: no row of kind none
        self.assertNotIn("none", {r["kind"] for r in rows})

    def test_text(self):
        d = os.path.join(self.tmp, "run")
        write_run(d, "counter", MUTEX)
        p = self.sb(d)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("counter (p=1, pin compact, 2 PUs)", lines)
        cont = [l for l in lines if l.split()[:3] == ["mutex", "contended", "2"]]
        self.assertEqual(len(cont), 1, p.stdout)
        self.assertEqual(cont[0].split()[3:10],
                         ["ck-fas", "450", "1.50x", "real", "vs", "futex-mutex", "pthread-mutex"])
        self.assertIn("counter mutex: futex's worst cell: 0.50x", p.stdout)
        self.assertIn("(futex-mutex vs pthread-mutex) at 4 threads", p.stdout)

    def test_few_repetitions_get_no_verdict(self):
        d = os.path.join(self.tmp, "run")
        write_run(d, "counter", [(k, b, i, t, reps[:3], v) for k, b, i, t, reps, v in MUTEX])
        for r in self.rows(d):
            self.assertEqual(r["margin_verdict"], "n/a", r)
            self.assertEqual(r["futex_verdict"], "n/a", r)

    def test_platform_directory(self):
        plat = os.path.join(self.tmp, "platform")
        write_run(os.path.join(plat, "counter"), "counter", MUTEX)
        write_run(os.path.join(plat, "pool"), "pool",
                  [("semaphore", "pthread", "pthread-sem", 2, five(10), "ok"),
                   ("semaphore", "futex", "futex-sem", 2, five(20), "ok")])
        rows = self.rows(plat)
        self.assertEqual([(r["workload"], r["kind"], r["regime"]) for r in rows][-1],
                         ("pool", "semaphore", "contended"))
        self.assertEqual(rows[-1]["winner"], "futex-sem")
        self.assertEqual(rows[-1]["ck_best"], "")   # no CK member: no ratio

    def test_one_workload_at_two_parameter_sets(self):
        # readmostly at read_pct=90 and at 99 are two questions: one call
        # answers both, each cell against its own parameters' twin
        plat = os.path.join(self.tmp, "twins")
        rw = [("rwlock", "pthread", "pthread-rwlock", 2, five(10), "ok"),
              ("rwlock", "futex", "futex-rwlock-rpref", 2, five(20), "ok")]
        write_run(os.path.join(plat, "readmostly"), "readmostly", rw, param="read_pct=90")
        write_run(os.path.join(plat, "readmostly99"), "readmostly",
                  [c[:4] + (five(x),) + c[5:] for c, x in zip(rw, (40, 30))],
                  param="read_pct=99")
        p = self.sb("--twins", "--format", "csv", plat)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = [(r["param"], r["futex"], r["twin"], r["threads"], round(float(r["ratio"]), 4))
               for r in csv.DictReader(p.stdout.splitlines())]
        self.assertEqual(got, [("read_pct=90", "futex-rwlock-rpref", "pthread-rwlock", "2", 2.0),
                               ("read_pct=99", "futex-rwlock-rpref", "pthread-rwlock", "2", 0.75)])

    def test_zero_pthread_median(self):
        # pthread did no work in the window (all five repetitions 0 ops/s):
        # the families' ratios are infinite, said as such, never a crash;
        # report.html, which opens with the scoreboard, is still written.
        d = os.path.join(self.tmp, "run")
        write_run(d, "counter", [("mutex", "pthread", "pthread-mutex", 2, [0.0] * 5, "ok"),
                                 ("mutex", "futex", "futex-mutex", 2, five(300), "ok"),
                                 ("mutex", "ck", "ck-fas", 2, five(450), "ok")])
        rows = self.rows(d)
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual((r["winner"], r["pthread_best"]), ("ck-fas", "pthread-mutex"))
        self.assertEqual((r["futex_ratio"], r["ck_ratio"]), ("inf", "inf"))
        self.assertEqual(r["futex_verdict"], "real")   # 0 x5 against 300 x5
        p = self.sb(d)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("counter mutex: futex's worst cell: infx", p.stdout)
        report = os.path.join(os.path.dirname(SCRIPT), "report.py")
        p = subprocess.run([sys.executable, report, d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.html")) as fh:
            page = fh.read()
        self.assertIn('<h2 id="scoreboard">', page)
        self.assertRegex(page, r"<td>ck-fas</td>")

    def test_twins(self):
        # each futex implementation against its own twin, at every thread
        # count: futex-spin-then-park against pthread-adaptive (not the
        # faster pthread-mutex), the others against the kind's default
        d = os.path.join(self.tmp, "run")
        cells = [("mutex", "pthread", "pthread-mutex", t, five(m), "ok")
                 for t, m in ((1, 100), (2, 200), (4, 100))]
        cells += [("mutex", "pthread", "pthread-adaptive", t, five(m), "ok")
                  for t, m in ((1, 90), (2, 50), (4, 40))]
        cells += [("mutex", "futex", "futex-spin-then-park", t, five(m), "ok")
                  for t, m in ((1, 99), (2, 100), (4, 80))]
        cells += [("mutex", "futex", "futex-mutex", t, five(m), "ok")
                  for t, m in ((1, 120), (2, 300), (4, 50))]
        # futex-starvation failed its check at 2 threads: no ratio there,
        # and the cell is said to be missing, not dropped
        cells += [("mutex", "futex", "futex-starvation", t, five(m), v)
                  for t, m, v in ((1, 99.5, "ok"), (2, 900, "fail"), (4, 100, "ok"))]
        cells += [("rwlock", "pthread", "pthread-rwlock", 2, five(100), "fail"),
                  ("rwlock", "pthread", "pthread-rwlock-wpref", 2, five(50), "ok"),
                  ("rwlock", "futex", "futex-rwlock-wpref", 2, five(60), "ok"),
                  ("rwlock", "futex", "futex-rwlock-rpref", 2, five(60), "ok")]
        write_run(d, "counter", cells)
        p = self.sb("--twins", "--format", "csv", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(p.stdout.splitlines()))
        got = [(r["kind"], r["futex"], r["twin"], r["threads"], r["oversubscribed"],
                r["ratio"] and round(float(r["ratio"]), 4), r["verdict"], r["not_compared"])
               for r in rows]
        self.assertEqual(got, [
            ("mutex", "futex-spin-then-park", "pthread-adaptive", "1", "0", 1.1, "real", ""),
            ("mutex", "futex-spin-then-park", "pthread-adaptive", "2", "0", 2.0, "real", ""),
            ("mutex", "futex-spin-then-park", "pthread-adaptive", "4", "1", 2.0, "real", ""),
            ("mutex", "futex-mutex", "pthread-mutex", "1", "0", 1.2, "real", ""),
            ("mutex", "futex-mutex", "pthread-mutex", "2", "0", 1.5, "real", ""),
            ("mutex", "futex-mutex", "pthread-mutex", "4", "1", 0.5, "real", ""),
            ("mutex", "futex-starvation", "pthread-mutex", "1", "0", 0.995, "noise", ""),
            ("mutex", "futex-starvation", "pthread-mutex", "2", "0", "", "",
             "futex check failed"),
            ("mutex", "futex-starvation", "pthread-mutex", "4", "1", 1.0, "noise", ""),
            ("rwlock", "futex-rwlock-wpref", "pthread-rwlock-wpref", "2", "0", 1.2, "real", ""),
            ("rwlock", "futex-rwlock-rpref", "pthread-rwlock", "2", "0", "", "",
             "twin check failed")])
        self.assertEqual((rows[5]["futex_ops_per_sec"], rows[5]["twin_ops_per_sec"]),
                         ("50", "100"))
        p = self.sb("--twins", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        # one table per configuration, every kind in it
        self.assertEqual(lines[0], "counter (p=1, pin compact, 2 PUs)")
        self.assertEqual(lines[1].split(), ["kind", "futex", "pthread", "twin", "1", "thr",
                                            "2", "thr", "4+", "thr"])
        self.assertEqual([l.split()[:2] for l in lines[2:8]],
                         [["mutex", "futex-spin-then-park"], ["mutex", "futex-mutex"],
                          ["mutex", "futex-starvation"], ["rwlock", "futex-rwlock-wpref"],
                          ["rwlock", "futex-rwlock-rpref"], []])
        self.assertIn("(futex check failed)", lines[4])
        # 0.995 is below 1: printed so, never rounded up to a "1.00x" loss
        self.assertIn("0.995x noise", lines[4])
        self.assertIn("futex against its pthread twin: 9 cells compared; 7 at or above 1.000x; "
                      "2 below, of which 1 real (U test, p <= 0.05), 1 noise and 0 without a "
                      "verdict (fewer than 5 repetitions a side); 2 not compared.", lines)
        below = [l for l in lines if l.startswith("  below")]
        self.assertEqual(len(below), 2, p.stdout)
        self.assertRegex(below[0], r"^  below 1\.000x: counter mutex at 4 threads: 0\.500x "
                                   r"\[[0-9.]+-[0-9.]+\] real \(futex-mutex vs pthread-mutex\)$")
        self.assertIn("  not compared: counter mutex at 2 threads: futex-starvation vs "
                      "pthread-mutex: futex check failed", lines)
        self.assertIn("  not compared: counter rwlock at 2 threads: futex-rwlock-rpref vs "
                      "pthread-rwlock: twin check failed", lines)
        # the twin never ran: said per cell
        lone = os.path.join(self.tmp, "lone")
        write_run(lone, "counter", [c for c in MUTEX if c[1] != "pthread"])
        p = self.sb("--twins", lone)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 cells compared", p.stdout)
        self.assertIn("  not compared: counter mutex at 4 threads: futex-mutex vs "
                      "pthread-mutex: twin not run", p.stdout.splitlines())
        # no futex member at all: refused, exit 2
        none = os.path.join(self.tmp, "none")
        write_run(none, "counter", [c for c in MUTEX if c[1] != "futex"])
        p = self.sb("--twins", none)
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (2, "", "scoreboard: error: %s: no futex implementation to set against "
                                 "its pthread twin (run both: --impl futex,pthread)\n" % none))

    def test_refusals(self):
        a, b = os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b")
        write_run(a, "counter", MUTEX)
        write_run(b, "counter", MUTEX)
        p = self.sb(a, b)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "scoreboard: error: two runs of workload counter with the "
                                   "same parameters (param p=1, cs 0 ns, think 0 ns, pin "
                                   "compact): %s and %s; give one run per workload and "
                                   "parameters (./bench compare compares runs)\n" % (a, b))
        p = self.sb(os.path.join(self.tmp, "nope"))
        self.assertEqual((p.returncode, p.stderr), (2, "scoreboard: error: %s: no such directory\n"
                                                    % os.path.join(self.tmp, "nope")))
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        p = self.sb(empty)
        self.assertEqual((p.returncode, p.stderr),
                         (2, "scoreboard: error: %s: not a run directory (no summary.csv) and "
                             "holds none\n" % empty))
        ctl = os.path.join(self.tmp, "ctl")
        write_run(ctl, "counter", [MUTEX[-1]])
        p = self.sb(ctl)
        self.assertEqual((p.returncode, p.stderr),
                         (2, "scoreboard: error: %s: no configuration that passed its check, "
                             "beyond the controls\n" % ctl))
        bad = os.path.join(self.tmp, "bad")
        write_run(bad, "counter", MUTEX)
        with open(os.path.join(bad, "summary.csv"), "a") as f:
            f.write("counter,mutex,ck,ck-x,2,2,compact,0,0,p=1,0,5,fast,ok\n")
        p = self.sb(bad)
        self.assertEqual(p.returncode, 2)
        self.assertIn("summary.csv line 13: column ops_per_sec_median is 'fast', not a number",
                      p.stderr)


if __name__ == "__main__":
    raise SystemExit(lbtest.main(globals(), ["SCRIPT"]))
