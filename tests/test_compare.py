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
  even4    host delta, 4 repetitions (an even count: the median is the mean
           of the middle two), futex-mutex 1.5x alpha's
  reps5    host epsilon, 5 repetitions, alpha's medians
  reps8    host zeta, 8 repetitions: futex-mutex 2x reps5's, the others
           overlapping reps5's
(even4, reps5 and reps8 are written by fixtures/compare/make_reps.py.)
Malformed and hostile copies are made in a temporary directory. The
statistics alone (U test, stated false-positive rate, simulation) are in
test_compare_stats.py. One test mounts a 64 KiB tmpfs (needs root: it
fails, not skips, without). Standard library only; skips the plot tests
when gnuplot is missing.
"""
import csv
import html
import importlib.util
import io
import itertools
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

import lbtest

COMPARE = None
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "compare")
ALPHA = os.path.join(FIX, "alpha")
BETA = os.path.join(FIX, "beta")
BARRIER = os.path.join(FIX, "barrier")
EVEN4 = os.path.join(FIX, "even4")
REPS5 = os.path.join(FIX, "reps5")
REPS8 = os.path.join(FIX, "reps8")
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

    def mount_tmpfs(self, size="64k"):
        """A fresh tmpfs of `size`, unmounted at cleanup. Fails (never skips)
        when mount is refused: CI runs as root, and a skip would hide that
        the disk-full path went untested."""
        d = os.path.join(self.tmpdir(), "tiny")
        os.mkdir(d)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        if p.returncode != 0:
            self.fail("mount -t tmpfs -o size=%s refused (%s): this test needs root, as in CI"
                      % (size, p.stderr.strip() or "exit %d" % p.returncode))
        self.addCleanup(subprocess.run, ["umount", d], timeout=GUARD)
        return d

    def assert_one_line_error(self, p, *needles):
        self.assertEqual(p.returncode, 2, describe(p))
        errs = [l for l in p.stderr.splitlines() if "error" in l]
        self.assertEqual(len(errs), 1, describe(p))
        for n in needles:
            self.assertIn(n, errs[0], describe(p))
        self.assertEqual(p.stdout, "", "nothing printed on a data error")


def brute_force_rate(n, m, alpha=0.05):
    """P(exact two-sided p <= alpha) with no difference, by listing every
    split of the ranks 1..n+m (independent of compare.py's counting)."""
    counts = {}
    for c in itertools.combinations(range(1, n + m + 1), n):
        u = sum(c) - n * (n + 1) // 2
        counts[u] = counts.get(u, 0) + 1
    total = math.comb(n + m, n)
    centre = n * m / 2
    rate = 0
    for u, c in counts.items():
        p = sum(cc for uu, cc in counts.items() if abs(uu - centre) >= abs(u - centre)) / total
        if p <= alpha:
            rate += c
    return rate / total


class VerdictRun(unittest.TestCase):
    """5 against 8 repetitions: a verdict, with its real error rate."""

    def test_five_vs_eight(self):
        p = run(REPS5, REPS8, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = {(r[0], int(r[1])): r for r in section(p.stdout, "Throughput ratio")}
        self.assertEqual(len(rows), 6)
        for t in (1, 2):
            fut = rows[("futex-mutex", t)]
            self.assertEqual(fut[4], "2.00", fut)
            # Completely separated, 5 vs 8: p = 2 / C(13, 5).
            self.assertEqual(fut[-2], "%.3f" % (2 / math.comb(13, 5)), fut)
            self.assertEqual(fut[-1], "real", fut)
            for impl in ("pthread-mutex", "atomic-faa"):
                self.assertEqual(rows[(impl, t)][-1], "noise", rows[(impl, t)])
        # The answer first: per kind and family, then all; only the U
        # test's verdicts count as faster or slower.
        lines = p.stdout.splitlines()
        self.assertLess(lines.index(next(l for l in lines if l.startswith("Overall: "))),
                        lines.index(next(l for l in lines if l.startswith("Throughput ratio"))))
        self.assertEqual(section(p.stdout, "Overall: "),
                         [["counter", "atomic", "2", "1.01x", "0", "0", "2", "0"],
                          ["mutex", "pthread", "2", "0.99x", "0", "0", "2", "0"],
                          ["mutex", "futex", "2", "2.00x", "2", "0", "0", "0"],
                          ["all", "all", "6", "1.26x", "2", "0", "4", "0"]])
        rate = brute_force_rate(5, 8)
        self.assertIn('false-positive rate (the chance of "real" when nothing differs):'
                      " %.1f%% at 5 vs 8 repetitions" % (100 * rate), p.stdout)
        # (the Overall section names n/a as a column: look after it)
        self.assertNotIn("n/a", p.stdout[p.stdout.index("Throughput ratio"):])
        c = run(REPS5, REPS8, "--no-plot", "--format", "csv")
        self.assertEqual(c.returncode, 0, describe(c))
        rows = [r for r in csv.DictReader(io.StringIO(c.stdout)) if r["verdict"] != "baseline"]
        self.assertEqual(len(rows), 6)
        for r in rows:
            self.assertAlmostEqual(float(r["fp_rate"]), rate, places=4)


class Collapse(TmpMixin, unittest.TestCase):
    def test_zero_ops_counts_and_zeroes_the_geomean(self):
        # futex-mutex at 2 threads did nothing in any of the 8 windows: a
        # cell like any other (slower, the U test says), whose ratio 0 has
        # no logarithm: its groups' geometric mean is 0, never an error.
        d = self.copy_run(REPS8, "zeta")
        zero = lambda r: r["impl"] == "futex-mutex" and r["threads"] == "2"

        def edit(name, cols):
            path = os.path.join(d, name)
            with open(path, newline="") as fh:
                rows = list(csv.DictReader(fh))
                header = list(rows[0])
            for r in rows:
                if zero(r):
                    r.update({c: "0" for c in cols})
            with open(path, "w", newline="") as fh:
                w = csv.DictWriter(fh, header, lineterminator="\n")
                w.writeheader()
                w.writerows(rows)
        edit("results.csv", ["ops_per_sec"])
        edit("summary.csv", ["ops_per_sec_median", "ops_per_sec_ci_lo", "ops_per_sec_ci_hi",
                             "ops_per_sec_min", "ops_per_sec_max"])
        p = run(REPS5, d, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = {(r[0], r[1]): r for r in section(p.stdout, "Overall: ")}
        self.assertEqual(rows[("mutex", "futex")], ["mutex", "futex", "2", "0.00x", "1", "1",
                                                    "0", "0"])
        self.assertEqual(rows[("all", "all")][2:4], ["6", "0.00x"])
        self.assertEqual(rows[("mutex", "pthread")][3], "0.99x")   # the others as they were


def reps_of(d):
    """{(impl, threads): [ops_per_sec of each repetition]} from results.csv."""
    out = {}
    with open(os.path.join(d, "results.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault((r["impl"], int(r["threads"])), []).append(float(r["ops_per_sec"]))
    return out


def summary_medians(d):
    with open(os.path.join(d, "summary.csv"), newline="") as fh:
        return {(r["impl"], int(r["threads"])): float(r["ops_per_sec_median"])
                for r in csv.DictReader(fh)}


class Medians(TmpMixin, unittest.TestCase):
    """Even and unequal repetition counts: 3, 4, 5 and 8."""

    def test_median_function(self):
        med = load_module().median
        self.assertEqual(med([4.0, 1.0]), 2.5)
        self.assertEqual(med([1.0, 2.0, 3.0, 10.0]), 2.5)
        self.assertEqual(med([3.0, 1.0, 2.0]), 2.0)
        self.assertEqual(med([7.0]), 7.0)
        self.assertIsNone(med([]))

    def test_printed_median_is_the_median_of_the_repetitions(self):
        p = run(ALPHA, EVEN4, REPS5, REPS8, "--no-plot", "--format", "csv")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        checked = 0
        for host, d, n in (("alpha", ALPHA, 3), ("delta", EVEN4, 4), ("epsilon", REPS5, 5),
                           ("zeta", REPS8, 8)):
            reps, summ = reps_of(d), summary_medians(d)
            for r in (r for r in rows if r["host"] == host):
                k = (r["impl"], int(r["threads"]))
                self.assertEqual(len(reps[k]), n, k)
                self.assertEqual(int(r["reps"]), n, r)
                want = statistics.median(reps[k])
                if n % 2 == 0:
                    # The fixture can tell a wrong even median: the mean of
                    # the middle two is neither middle value.
                    s = sorted(reps[k])
                    self.assertNotIn(want, (s[n // 2], s[n // 2 - 1]), k)
                self.assertAlmostEqual(float(r["ops_per_sec"]), want, places=4, msg=(host, k))
                # summary.csv's cells have one decimal, as the harness writes them.
                self.assertLessEqual(abs(summ[k] - want), 0.05 + 1e-9, (host, k))
                checked += 1
        self.assertEqual(checked, 4 * 6)
        self.assertNotIn("median ops_per_sec", p.stderr)

    def test_even_ratio(self):
        p = run(ALPHA, EVEN4, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        rows = {(r[0], int(r[1])): r for r in section(p.stdout, "Throughput ratio")}
        # even4's futex-mutex medians are 1.5x alpha's: 300/200, 225/150.
        self.assertEqual(rows[("futex-mutex", 1)][2:5], ["200", "300", "1.50"])
        self.assertEqual(rows[("futex-mutex", 2)][2:5], ["150", "225", "1.50"])
        self.assertEqual(len(rows), 6)
        for r in rows.values():
            self.assertEqual(r[-1], "n/a", r)
        self.assertIn("n/a: needs >= 5 repetitions a side (here 3 and 4)", p.stdout)

    def test_three_against_five_is_na(self):
        p = run(ALPHA, REPS5, "--no-plot")
        self.assertEqual(p.returncode, 0, describe(p))
        # no verdict, so nothing counted faster, slower or unchanged
        for r in section(p.stdout, "Overall: "):
            self.assertEqual(r[4:7], ["0", "0", "0"], r)
            self.assertEqual(r[7], r[2], r)
        rows = section(p.stdout, "Throughput ratio")
        self.assertEqual(len(rows), 6)
        for r in rows:
            self.assertEqual(r[-1], "n/a", r)
        self.assertIn("n/a: needs >= 5 repetitions a side (here 3 and 5)", p.stdout)
        self.assertNotIn("false-positive rate", p.stdout)

    def test_summary_disagreeing_is_noted(self):
        d = self.copy_run(EVEN4, "disagree")
        path = os.path.join(d, "summary.csv")
        with open(path) as fh:
            text = fh.read()
        # futex-mutex at 1 thread: summary says 310, the repetitions 300.
        old = "futex-mutex,1,2,compact,0,0,depth=1,0,4,300.0,"
        self.assertIn(old, text)
        with open(path, "w") as fh:
            fh.write(text.replace(old, old.replace("300.0", "310.0")))
        p = run(ALPHA, d, "--no-plot", "--format", "csv")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stderr, r"note: .*disagree: counter futex-mutex threads=1 .*median"
                                   r" ops_per_sec 300\.0 from results\.csv, 310\.0 in summary")
        fut = [r for r in csv.DictReader(io.StringIO(p.stdout))
               if r["host"] == "delta" and r["impl"] == "futex-mutex" and r["threads"] == "1"]
        self.assertEqual(fut[0]["ops_per_sec"], "300.0000")


def hostile_strings(tmp):
    """Cells that would run `touch` if they reached gnuplot (or a shell)
    unquoted, and the files whose existence would show it."""
    marks = [os.path.join(tmp, "pwned%d" % i) for i in range(1, 6)]
    host = "h'; system(\"touch %s\"); '" % marks[0]
    cpu = ("C\\\\q \"d\" '; system('touch %s'); ' $(touch %s) `touch %s` @host"
           % (marks[1], marks[2], marks[3]))
    impl = "fx'; system(\"touch %s\"); print '" % marks[4]
    return host, cpu, impl, marks


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


@unittest.skipIf(shutil.which("gnuplot") is None, "gnuplot not installed")
class Hostile(TmpMixin, unittest.TestCase):
    """Host, CPU model and implementation cells made of gnuplot and shell
    syntax are drawn as text; a control character is refused."""

    def test_payload_is_live(self):
        # The control: quoted naively, the host cell does run its command.
        tmp = self.tmpdir()
        host, _, _, marks = hostile_strings(tmp)
        gp = os.path.join(tmp, "naive.gp")
        with open(gp, "w") as fh:
            fh.write("host = '%s'\n" % host)
        subprocess.run(["gnuplot", gp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=GUARD)
        self.assertTrue(os.path.exists(marks[0]), "the payload does not work: test is moot")

    def hostile_runs(self, host, cpu, impl):
        a, b = self.copy_run(REPS5, "a"), self.copy_run(REPS8, "b")
        for d, h in ((a, host), (b, host + " 2")):
            def res(r, h=h):
                r.update(host=h, cpu_model=cpu)
                r["impl"] = impl if r["impl"] == "futex-mutex" else r["impl"]
                return r

            def summ(r):
                r["impl"] = impl if r["impl"] == "futex-mutex" else r["impl"]
                return r
            rewrite_csv(os.path.join(d, "results.csv"), res)
            rewrite_csv(os.path.join(d, "summary.csv"), summ)
        return a, b

    def test_hostile_text_is_drawn_not_run(self):
        tmp = self.tmpdir()
        host, cpu, impl, marks = hostile_strings(tmp)
        a, b = self.hostile_runs(host, cpu, impl)
        out = os.path.join(tmp, "out")
        p = run(a, b, "--out", out)
        for mk in marks:   # first: a broken quoting may also make gnuplot fail
            self.assertFalse(os.path.exists(mk), "%s was created: injection" % mk)
        self.assertEqual(p.returncode, 0, describe(p))
        with open(os.path.join(out, "compare-throughput.svg")) as fh:
            svg = html.unescape(fh.read())
        for text in (host, cpu, impl):
            self.assertIn(text, svg)
        with open(os.path.join(out, "compare.csv"), newline="") as fh:
            rows = list(csv.DictReader(fh))
        self.assertEqual({r["host"] for r in rows}, {host, host + " 2"})
        self.assertEqual({r["cpu_model"] for r in rows}, {cpu})
        self.assertIn(impl, {r["impl"] for r in rows})
        self.assertEqual(sorted(os.listdir(out)), sorted(
            ["compare.csv"] + ["compare-%s.%s" % (n, e)
                               for n in ("throughput", "normalised", "ratio")
                               for e in ("png", "svg")]))

    def test_control_characters_refused(self):
        tmp = self.tmpdir()
        mark = os.path.join(tmp, "pwned-nl")
        for col, f in (("host", "results.csv"), ("cpu_model", "results.csv"),
                       ("param", "summary.csv")):
            for ch in ("\n", "\r", "\t", "\x1b"):
                with self.subTest(col=col, ch=repr(ch)):
                    a = self.copy_run(REPS5, "a")
                    path = os.path.join(a, f)
                    first = [True]

                    def spoil(r):
                        if first[0]:
                            r[col] = "x'%ssystem(\"touch %s\") #" % (ch, mark)
                            first[0] = False
                        return r
                    rewrite_csv(path, spoil)
                    out = os.path.join(tmp, "out")
                    p = run(a, REPS8, "--out", out)
                    self.assert_one_line_error(p, "%s line 2: column %s" % (path, col),
                                               repr(ch), "control character")
                    self.assertFalse(os.path.exists(mark))
                    self.assertFalse(os.path.exists(out), "a refused run wrote %s" % out)

    def test_control_character_in_meta(self):
        a = self.copy_run(REPS5, "a")
        # results.csv without rows: host and CPU come from meta.json.
        with open(os.path.join(a, "results.csv")) as fh:
            header = fh.readline()
        with open(os.path.join(a, "results.csv"), "w") as fh:
            fh.write(header)
        with open(os.path.join(a, "meta.json")) as fh:
            meta = json.load(fh)
        meta["host"] = "evil\nhost"
        with open(os.path.join(a, "meta.json"), "w") as fh:
            json.dump(meta, fh)
        p = run(a, REPS8, "--no-plot")
        self.assert_one_line_error(p, os.path.join(a, "meta.json"), "host", "'\\n'")


class DiskFull(TmpMixin, unittest.TestCase):
    """--out on a 64 KiB tmpfs: the plots do not fit. One line naming the
    file, exit 1, and nothing cut short left behind."""

    def test_tiny_tmpfs(self):
        if not shutil.which("gnuplot"):
            self.skipTest("gnuplot not installed")
        tiny = self.mount_tmpfs()
        out = os.path.join(tiny, "out")
        p = run(REPS5, REPS8, "--out", out)
        self.assertEqual(p.returncode, 1, describe(p))
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, describe(p))
        self.assertRegex(lines[0], r"^compare: could not write %s/compare-[a-z]+\.(png|svg): "
                         % re.escape(out))
        # Nothing half-written, no scratch directory, no empty --out left.
        self.assertEqual(os.listdir(tiny), [], "left behind: %s" % os.listdir(tiny))


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
            # 3 a side: the U test cannot reach 0.05; no verdict at all.
            self.assertEqual(fut[-1], "n/a", fut)
            for impl in ("pthread-mutex", "atomic-faa"):
                same = rows[(impl, t)]
                self.assertEqual(same[4], "1.00", same)
                self.assertEqual(same[-2], "1.000", same)
                self.assertEqual(same[-1], "n/a", same)
        # The bootstrap CI of the doubled one lies above 1.
        lo = float(rows[("futex-mutex", 1)][5].strip("[,"))
        self.assertGreater(lo, 1.0)

    def test_footer(self):
        out = self.p.stdout
        self.assertIn("verdict: real when p <= 0.05, else noise; it needs >= 5 repetitions"
                      " a side.", out)
        self.assertIn("n/a: needs >= 5 repetitions a side (here 3 and 3); use --repeat 5 or"
                      " more.", out)
        self.assertIn("the size of the effect, not the verdict", out)
        # No rate is claimed where no verdict is given.
        self.assertNotIn("false-positive rate", out)

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
        self.assertEqual(fut["verdict"], "n/a")
        self.assertEqual(fut["fp_rate"], "")
        self.assertAlmostEqual(float(fut["normalised"]), 4.0)
        self.assertAlmostEqual(float(fut["ops_per_sec"]), 400.0)
        pm = by[("pthread-mutex", "2", "beta")]
        self.assertAlmostEqual(float(pm["ratio"]), 1.0)
        self.assertTrue(float(pm["ci_lo"]) < 1.0 < float(pm["ci_hi"]))
        self.assertEqual(pm["verdict"], "n/a")
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


class FiltersAndFormats(TmpMixin, unittest.TestCase):
    """--impl, --threads, --changed; markdown and json."""

    def ratios(self, *args):
        p = run(REPS5, REPS8, "--no-plot", *args)
        self.assertEqual(p.returncode, 0, describe(p))
        return p, [(r[0], int(r[1])) for r in section(p.stdout, "Throughput ratio")]

    def test_impl_selectors(self):
        for sel, want in (("futex-mutex", {"futex-mutex"}),
                          ("*-mutex", {"futex-mutex", "pthread-mutex"}),
                          ("mutex", {"futex-mutex", "pthread-mutex"}),   # a kind
                          ("atomic", {"atomic-faa"}),                     # a backend
                          ("atomic,pthread-*", {"atomic-faa", "pthread-mutex"}),
                          ("all", {"atomic-faa", "futex-mutex", "pthread-mutex"})):
            with self.subTest(sel=sel):
                p, rows = self.ratios("--impl", sel)
                self.assertEqual({i for i, _ in rows}, want)
                # the Overall section counts only what was selected
                total = section(p.stdout, "Overall: ")[-1]
                self.assertEqual(int(total[2]), 2 * len(want), total)

    def test_threads_and_changed(self):
        _, rows = self.ratios("--threads", "2")
        self.assertEqual({t for _, t in rows}, {2})
        p, rows = self.ratios("--changed")
        self.assertEqual(rows, [("futex-mutex", 1), ("futex-mutex", 2)])
        self.assertIn("--changed: the 2 of 6 configurations a verdict calls real", p.stdout)
        self.assertEqual(section(p.stdout, "Overall: ")[-1][2], "6")   # all still counted

    def test_bad_filters(self):
        p = run(REPS5, REPS8, "--no-plot", "--threads", "two")
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("--threads: 'two' is not a list of thread counts (e.g. 1,2,4)", p.stderr)
        self.assert_one_line_error(run(REPS5, REPS8, "--no-plot", "--impl", "ck-*"),
                                   "--impl: 'ck-*' chooses nothing in the baseline; it has: "
                                   "atomic-faa, futex-mutex, pthread-mutex")
        # a typo beside a good item is refused too, never ignored
        self.assert_one_line_error(run(REPS5, REPS8, "--no-plot", "--impl", "futx,atomic"),
                                   "--impl: 'futx' chooses nothing")
        self.assert_one_line_error(run(REPS5, REPS8, "--no-plot", "--threads", "16"),
                                   "no configuration common to all runs is left after --impl "
                                   "and --threads")

    def test_markdown(self):
        p = run(REPS5, REPS8, "--no-plot", "--format", "markdown")
        self.assertEqual(p.returncode, 0, describe(p))
        tables = [l for l in p.stdout.splitlines() if l.startswith("|")]
        self.assertIn("| kind | family | cells | geomean | faster | slower | unchanged | n/a |",
                      tables)
        self.assertIn("| mutex | futex | 2 | 2.00x | 2 | 0 | 0 | 0 |", tables)
        self.assertIn("| futex-mutex | 1 | 200 | 400 | 2.00 | [1.75, 2.27] | 0.002 | real |",
                      tables)

    def test_json(self):
        p = run(REPS5, REPS8, "--no-plot", "--format", "json")
        self.assertEqual(p.returncode, 0, describe(p))
        d = json.loads(p.stdout)
        self.assertEqual(sorted(d), ["overall", "rows", "runs", "workload"])
        self.assertEqual([r["label"] for r in d["runs"]], ["epsilon", "zeta"])
        fut = [r for r in d["rows"] if r["impl"] == "futex-mutex" and r["verdict"] != "baseline"]
        self.assertEqual([(r["threads"], r["ratio"], r["verdict"]) for r in fut],
                         [(1, 2.0, "real"), (2, 2.0, "real")])
        for r in d["rows"]:   # numbers are numbers; what does not apply is null
            for k in ("ops_per_sec", "ratio", "p_value", "normalised", "cs_ns"):
                self.assertTrue(r[k] is None or isinstance(r[k], float), (k, r))
        self.assertEqual(d["overall"][-1]["faster"], 2)


class PlatformDirErrors(TmpMixin, unittest.TestCase):
    """What a platform directory cannot stand for (PlatformDirs, below, has
    the ones it can)."""

    def platform(self, *runs):
        d = self.tmpdir()
        for src, name in runs:
            shutil.copytree(src, os.path.join(d, name))
        return d

    def test_platforms_only(self):
        a, b = self.platform((ALPHA, "counter")), self.platform((BETA, "counter"))
        self.assert_one_line_error(run(a, b, "--no-plot"),
                                   "%s, %s: platform directories only; give at least one run "
                                   "directory so the workload is known" % (a, b))

    def test_run_without_rows_never_says_none(self):
        empty = self.copy_run(ALPHA, "empty")
        for name in ("summary.csv", "results.csv"):
            with open(os.path.join(empty, name)) as fh:
                head = fh.readline()
            with open(os.path.join(empty, name), "w") as fh:
                fh.write(head)
        plat = self.platform((BETA, "counter"))
        p = run(empty, plat, "--no-plot")
        self.assert_one_line_error(p, "%s: summary.csv has no rows, so the workload to take "
                                      "from the platform directory (%s) is unknown"
                                   % (empty, plat))
        self.assertNotIn("None", p.stderr)


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

    def test_ratio_plot_is_per_kind(self):
        """compare-ratio: a panel per run after the baseline and kind, each
        with a key of that kind's series only."""
        gamma = self.copy_run(BETA, "gamma")
        out = os.path.join(self.tmpdir(), "plots")
        p = run(ALPHA, BETA, gamma, "--out", out)
        self.assertEqual(p.returncode, 0, describe(p))
        with open(os.path.join(out, "compare-ratio.svg")) as fh:
            text = fh.read()
        keys = [t for t in re.findall(r"<title>([^<]+)</title>", text)
                if t != "Gnuplot" and not t.startswith("gnuplot_plot")]
        # Two runs after the baseline, two kinds: four panels; a key holding
        # every series would list each one four times.
        self.assertEqual(sorted(keys), sorted(["atomic-faa", "futex-mutex",
                                               "pthread-mutex"] * 2))
        # Panel headings (the first title line): the kinds in the baseline's
        # order, run by run; each key lists only its panel's kind.
        lines = re.findall(r">([^<>]+)</text>", text)
        heads = [l for l in lines if l in ("counter", "mutex")]
        self.assertEqual(heads, ["counter", "mutex", "counter", "mutex"])
        # (gamma is beta's copy: the same host label, told apart by run number)
        self.assertEqual([l for l in lines if l.startswith("beta")],
                         ["beta#2", "beta#2", "beta#3", "beta#3"])

    def test_plots_follow_the_filters(self):
        out = os.path.join(self.tmpdir(), "plots")
        p = run(ALPHA, BETA, "--impl", "futex-mutex", "--out", out)
        self.assertEqual(p.returncode, 0, describe(p))
        for name in ("compare-throughput", "compare-normalised", "compare-ratio"):
            with open(os.path.join(out, name + ".svg")) as fh:
                text = fh.read()
            # the series drawn: the key's titles (gnuplot's own aside)
            keys = {t for t in re.findall(r"<title>([^<]+)</title>", text)
                    if t != "Gnuplot" and not t.startswith("gnuplot_plot")}
            self.assertEqual(keys, {"futex-mutex"}, name)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["COMPARE"]))
