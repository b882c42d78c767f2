#!/usr/bin/env python3
"""Tests for scripts/compare.py (`./bench compare`).

    python3 tests/test_compare.py PATH_TO_scripts/compare.py

Runs compare on the hand-made run directories in tests/fixtures/compare/:
  alpha    host alpha, 2 PUs, counter: pthread-mutex, futex-mutex, atomic-faa
           at threads 1 and 2 (3 repetitions each), plus ck-mcs at 1 thread
  beta     host beta, 4 PUs: the same, futex-mutex exactly 2x alpha's,
           pthread-mutex and atomic-faa identical; plus threads=4 (only here)
  barrier  a barrier run (host gamma): the workload mismatch, and the
           normalisation by the kind's pthread implementation
Malformed copies are made in a temporary directory. Also checks the
statistics (Mann-Whitney U against brute-force enumeration, the bootstrap's
determinism) by importing compare.py. Standard library only; skips the plot
test when gnuplot is missing.
"""
import csv
import importlib.util
import io
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

COMPARE = None
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare")
ALPHA = os.path.join(FIX, "alpha")
BETA = os.path.join(FIX, "beta")
BARRIER = os.path.join(FIX, "barrier")
# A complete small run (trylock: two impls, 1 and 2 threads, two extra
# columns) for scripts/plot.sh.
PLOTRUN = os.path.join(os.path.dirname(FIX), "plot", "trylock")
GUARD = 60  # seconds: a hang guard, not a timing assertion


def run(*args):
    return subprocess.run([sys.executable, COMPARE] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=GUARD)


def describe(p):
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-3000:],
                                                  p.stderr[-3000:])


def load_module():
    spec = importlib.util.spec_from_file_location("lockbench_compare", COMPARE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def section(text, start):
    """The lines of the table after the heading that starts with `start`,
    up to the next blank line; each split on whitespace."""
    lines = text.splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith(start))
    out = []
    for l in lines[i + 2:]:   # heading, column header
        if not l.strip():
            break
        out.append(l.split())
    return out


class TmpMixin:
    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="lockbench-compare-test-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def copy_run(self, src, name):
        dst = os.path.join(self.tmpdir(), name)
        shutil.copytree(src, dst)
        return dst

    def edit_line(self, path, lineno, fn):
        with open(path) as fh:
            lines = fh.read().split("\n")
        lines[lineno - 1] = fn(lines[lineno - 1])
        with open(path, "w") as fh:
            fh.write("\n".join(lines))

    def assert_one_line_error(self, p, *needles):
        self.assertEqual(p.returncode, 2, describe(p))
        errs = [l for l in p.stderr.splitlines() if "error" in l]
        self.assertEqual(len(errs), 1, describe(p))
        for n in needles:
            self.assertIn(n, errs[0], describe(p))
        self.assertEqual(p.stdout, "", "nothing printed on a data error")


class Statistics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = load_module()

    def brute_force_p(self, x, y):
        """Two-sided exact U-test p by listing every split of the pooled sample."""
        pooled = sorted(x + y)
        rank = {}
        for v in set(pooled):
            idx = [i + 1 for i, w in enumerate(pooled) if w == v]
            rank[v] = sum(idx) / len(idx)
        n, big_n = len(x), len(x) + len(y)
        mean = n * (big_n + 1) / 2
        obs = abs(sum(rank[v] for v in x) - mean)
        ranks = [rank[v] for v in pooled]
        hits = total = 0
        for c in itertools.combinations(range(big_n), n):
            total += 1
            if abs(sum(ranks[i] for i in c) - mean) >= obs - 1e-9:
                hits += 1
        return hits / total

    def test_u_known_values(self):
        p = self.m.mann_whitney_p
        self.assertAlmostEqual(p([1, 2, 3], [4, 5, 6]), 2 / 20)
        self.assertAlmostEqual(p([4, 5, 6], [1, 2, 3]), 2 / 20)
        self.assertAlmostEqual(p([1, 2, 3, 4], [5, 6, 7, 8]), 2 / 70)
        self.assertAlmostEqual(p([1, 2, 3], [1, 2, 3]), 1.0)
        self.assertAlmostEqual(p([5, 5, 5], [5, 5, 5]), 1.0)
        self.assertIsNone(p([], [1, 2]))
        self.assertAlmostEqual(self.m.min_p(3, 3), 0.1)
        self.assertLess(self.m.min_p(5, 5), 0.05)

    def test_u_exact_matches_enumeration(self):
        rng = random.Random(7)
        for _ in range(40):
            n, m = rng.randint(1, 6), rng.randint(1, 6)
            # Few distinct values: plenty of ties.
            x = [rng.randint(0, 5) for _ in range(n)]
            y = [rng.randint(0, 5) for _ in range(m)]
            self.assertAlmostEqual(self.m.mann_whitney_p(x, y), self.brute_force_p(x, y),
                                   msg="x=%r y=%r" % (x, y))

    def test_u_normal_approximation_close_to_exact(self):
        rng = random.Random(3)
        x = [rng.gauss(0, 1) for _ in range(21)]
        y = [rng.gauss(0.7, 1) for _ in range(21)]
        exact = self.m.mann_whitney_p(x, y, exact_max=30)
        approx = self.m.mann_whitney_p(x, y)   # 21 a side: the normal approximation
        self.assertLess(abs(exact - approx), 0.01, (exact, approx))

    def test_bootstrap_deterministic(self):
        b, r = [90.0, 100.0, 110.0], [180.0, 200.0, 220.0]
        ci1 = self.m.bootstrap_ratio_ci(b, r)
        ci2 = self.m.bootstrap_ratio_ci(b, r)
        self.assertEqual(ci1, ci2)
        self.assertLess(ci1[0], 2.0)
        self.assertGreater(ci1[1], 2.0)
        self.assertGreater(ci1[0], 1.0)
        self.assertIsNone(self.m.bootstrap_ratio_ci([1.0], [2.0, 3.0]))
        lo, hi = self.m.bootstrap_ratio_ci(b, b)
        self.assertTrue(lo < 1.0 < hi)


class Table(TmpMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = run(ALPHA, BETA, "--no-plot")

    def setUp(self):
        self.assertEqual(self.p.returncode, 0, describe(self.p))

    def ratios(self):
        rows = section(self.p.stdout, "Throughput ratio")
        # impl threads base ops/s ratio [lo, hi] p verdict
        return {(r[0], int(r[1])): r for r in rows}

    def test_ratios_and_verdicts(self):
        rows = self.ratios()
        self.assertEqual(set(rows), {(i, t) for i in ("atomic-faa", "futex-mutex",
                                                      "pthread-mutex") for t in (1, 2)})
        for t in (1, 2):
            fut = rows[("futex-mutex", t)]
            self.assertEqual(fut[4], "2.00", fut)
            self.assertEqual(fut[-2], "0.100", fut)   # 3 vs 3 fully separated
            self.assertEqual(fut[-1], "real", fut)
            for impl in ("pthread-mutex", "atomic-faa"):
                same = rows[(impl, t)]
                self.assertEqual(same[4], "1.00", same)
                self.assertEqual(same[-2], "1.000", same)
                self.assertEqual(same[-1], "noise", same)
        # The bootstrap CI of the doubled one lies above 1.
        lo = float(rows[("futex-mutex", 1)][5].strip("[,"))
        self.assertGreater(lo, 1.0)

    def test_footer(self):
        out = self.p.stdout
        self.assertIn("with 3 repetitions per side the U test cannot reach p < 0.05", out)
        self.assertIn("the CI drives the verdict", out)
        self.assertIn("--repeat >= 5", out)

    def test_normalised(self):
        rows = {(r[0], int(r[1])): r for r in section(self.p.stdout, "Normalised throughput")}
        want = {("pthread-mutex", 1): ("1.00", "1.00"), ("pthread-mutex", 2): ("1.00", "1.00"),
                ("futex-mutex", 1): ("2.00", "4.00"), ("futex-mutex", 2): ("3.00", "6.00"),
                ("atomic-faa", 1): ("4.00", "4.00"), ("atomic-faa", 2): ("6.00", "6.00")}
        self.assertEqual(set(rows), set(want))
        for k, (a, b) in want.items():
            r = rows[k]
            self.assertEqual(r[2], "pthread-mutex", r)
            self.assertEqual((r[3], r[4]), (a, b), r)

    def test_header_names_runs_by_host(self):
        out = self.p.stdout
        self.assertIn("alpha", out)
        self.assertIn("beta", out)
        self.assertIn("Test CPU A", out)
        self.assertIn("Test CPU B", out)

    def test_partial_configurations_noted_and_skipped(self):
        err = self.p.stderr
        self.assertRegex(err, r"note: skipped.*run 1 \(alpha\).*ck-mcs at threads=1")
        self.assertRegex(err, r"note: skipped.*run 2 \(beta\).*threads=4")
        self.assertNotIn("ck-mcs", self.p.stdout)
        self.assertNotIn(("futex-mutex", 4), self.ratios())


class CsvFormat(unittest.TestCase):
    def test_tidy_csv(self):
        p = run(ALPHA, BETA, "--no-plot", "--format", "csv")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        for c in ("workload", "impl", "threads", "cs_ns", "think_ns", "param", "pin", "run",
                  "host", "ops_per_sec", "ratio", "ci_lo", "ci_hi", "p_value", "verdict",
                  "normalised"):
            self.assertIn(c, rows[0], c)
        self.assertEqual(len(rows), 3 * 2 * 2)   # impls x threads x runs
        by = {(r["impl"], r["threads"], r["host"]): r for r in rows}
        base = by[("futex-mutex", "1", "alpha")]
        self.assertEqual(base["verdict"], "baseline")
        self.assertEqual(base["ratio"], "")
        self.assertAlmostEqual(float(base["normalised"]), 2.0)
        fut = by[("futex-mutex", "1", "beta")]
        self.assertAlmostEqual(float(fut["ratio"]), 2.0)
        self.assertGreater(float(fut["ci_lo"]), 1.0)
        self.assertAlmostEqual(float(fut["p_value"]), 0.1)
        self.assertEqual(fut["verdict"], "real")
        self.assertAlmostEqual(float(fut["normalised"]), 4.0)
        self.assertAlmostEqual(float(fut["ops_per_sec"]), 400.0)
        pm = by[("pthread-mutex", "2", "beta")]
        self.assertAlmostEqual(float(pm["ratio"]), 1.0)
        self.assertTrue(float(pm["ci_lo"]) < 1.0 < float(pm["ci_hi"]))
        self.assertEqual(pm["verdict"], "noise")
        # Deterministic: the same input, the same output.
        self.assertEqual(run(ALPHA, BETA, "--no-plot", "--format", "csv").stdout, p.stdout)


class Labels(TmpMixin, unittest.TestCase):
    def test_same_host_labelled_by_run_id(self):
        after = self.copy_run(ALPHA, "after")
        path = os.path.join(after, "results.csv")
        with open(path) as fh:
            text = fh.read()
        with open(path, "w") as fh:
            fh.write(text.replace("20250101-120000-counter-100", "20250101-130000-counter-101"))
        p = run(ALPHA, after, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        head = section(p.stdout, "Normalised throughput")
        hdr = p.stdout.splitlines()
        cols = next(l for i, l in enumerate(hdr)
                    if i > 0 and hdr[i - 1].startswith("Normalised")).split()
        self.assertEqual(cols[-2:], ["20250101-120000-counter-100",
                                     "20250101-130000-counter-101"])
        self.assertTrue(head)

    def test_kind_reference_for_other_kinds(self):
        p = run(BARRIER, BARRIER, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = {(r[0], int(r[1])): r for r in section(p.stdout, "Normalised throughput")}
        self.assertEqual(rows[("futex-barrier", 1)][2:], ["pthread-barrier", "2.00", "2.00"])
        self.assertEqual(rows[("futex-barrier", 2)][2:], ["pthread-barrier", "3.00", "3.00"])


class Errors(TmpMixin, unittest.TestCase):
    def test_workload_mismatch(self):
        p = run(ALPHA, BARRIER, "--no-plot")
        self.assert_one_line_error(p, "counter", "barrier", ALPHA, BARRIER)

    def test_bad_field_count(self):
        d = self.copy_run(BETA, "badfields")
        path = os.path.join(d, "results.csv")
        self.edit_line(path, 3, lambda l: l.rsplit(",", 1)[0])
        p = run(ALPHA, d, "--no-plot")
        self.assert_one_line_error(p, path, "line 3", "fields")

    def test_missing_summary(self):
        d = self.copy_run(BETA, "nosummary")
        os.remove(os.path.join(d, "summary.csv"))
        p = run(ALPHA, d, "--no-plot")
        self.assert_one_line_error(p, os.path.join(d, "summary.csv"))

    def test_missing_column(self):
        d = self.copy_run(BETA, "nocolumn")
        path = os.path.join(d, "summary.csv")
        self.edit_line(path, 1, lambda l: l.replace("ops_per_sec_median", "ops_median"))
        p = run(ALPHA, d, "--no-plot")
        self.assert_one_line_error(p, path, "line 1", "ops_per_sec_median")

    def test_non_numeric(self):
        d = self.copy_run(BETA, "nonnumeric")
        path = os.path.join(d, "results.csv")
        with open(path) as fh:
            header = fh.readline().rstrip("\n").split(",")
        col = header.index("ops_per_sec")

        def spoil(line):
            f = line.split(",")
            f[col] = "fast"
            return ",".join(f)
        self.edit_line(path, 5, spoil)
        p = run(d, ALPHA, "--no-plot")
        self.assert_one_line_error(p, path, "line 5", "ops_per_sec", "fast")

    def test_missing_directory(self):
        missing = os.path.join(self.tmpdir(), "nope")
        p = run(ALPHA, missing, "--no-plot")
        self.assert_one_line_error(p, missing)

    def test_one_directory_is_a_usage_error(self):
        p = run(ALPHA, "--no-plot")
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("at least two", p.stderr)


@unittest.skipIf(shutil.which("gnuplot") is None, "gnuplot not installed")
class PlatformDirs(TmpMixin, unittest.TestCase):
    """results/reference/<platform> holds one run per workload: compare picks
    the one whose workload matches the run directories given."""

    def platform(self):
        d = os.path.join(self.tmpdir(), "some-platform")
        os.makedirs(d)
        shutil.copytree(BETA, os.path.join(d, "counter"))
        shutil.copytree(BARRIER, os.path.join(d, "barrier"))
        return d

    def test_picks_the_matching_workload(self):
        plat = self.platform()
        p = run(plat, ALPHA, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("using counter for workload counter", p.stderr)
        self.assertIn(os.path.join(plat, "counter"), p.stdout)

    def test_no_matching_workload(self):
        plat = self.platform()
        shutil.rmtree(os.path.join(plat, "counter"))
        p = run(plat, ALPHA, "--no-plot")
        self.assert_one_line_error(p, plat, "no run of workload counter", "barrier")


class PlotScript(TmpMixin, unittest.TestCase):
    """scripts/plot.sh on the fixture runs: every plot, PNG and SVG."""

    def test_plot_sh_on_fixture(self):
        if not shutil.which("gnuplot"):
            self.skipTest("gnuplot not installed")
        d = self.copy_run(PLOTRUN, "trylock")
        plot = os.path.join(os.path.dirname(COMPARE), "plot.sh")
        p = subprocess.run(["sh", plot, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        self.assertEqual(p.returncode, 0, describe(p))
        for name in ("throughput", "fairness", "latency", "cpu", "speedup",
                     "extra-success_ratio", "extra-successes_per_sec"):
            for ext in ("png", "svg"):
                f = os.path.join(d, name + "." + ext)
                self.assertGreater(os.path.getsize(f), 1000, f)

    def test_plot_sh_bad_line(self):
        d = self.copy_run(PLOTRUN, "trylock")
        self.edit_line(os.path.join(d, "summary.csv"), 3, lambda l: l + ",extra")
        plot = os.path.join(os.path.dirname(COMPARE), "plot.sh")
        p = subprocess.run(["sh", plot, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn(os.path.join(d, "summary.csv") + " line 3", p.stderr)


class Plots(TmpMixin, unittest.TestCase):
    def test_plots_written(self):
        out = os.path.join(self.tmpdir(), "plots")
        p = run(ALPHA, BETA, "--out", out)
        self.assertEqual(p.returncode, 0, describe(p))
        for name in ("compare-throughput", "compare-normalised", "compare-ratio"):
            png = os.path.join(out, name + ".png")
            svg = os.path.join(out, name + ".svg")
            self.assertGreater(os.path.getsize(png), 1000, png)
            with open(png, "rb") as fh:
                self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n", png)
            self.assertGreater(os.path.getsize(svg), 1000, svg)
            with open(svg) as fh:
                text = fh.read()
            self.assertIn("<svg", text)
            # Key titles and panel titles made it in.
            self.assertIn("futex-mutex", text)
            if name != "compare-ratio":
                self.assertIn("alpha", text)
            self.assertIn("beta", text)
        with open(os.path.join(out, "compare.csv")) as fh:
            self.assertEqual(len(list(csv.DictReader(fh))), 12)
        self.assertIn(out, p.stderr)


def main():
    global COMPARE
    if len(sys.argv) < 2:
        print("usage: test_compare.py PATH_TO_compare.py [unittest args]", file=sys.stderr)
        return 2
    COMPARE = os.path.abspath(sys.argv.pop(1))
    prog = unittest.main(exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
