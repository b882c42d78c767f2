#!/usr/bin/env python3
"""scripts/lbstats.py (the statistics compare.py gives its verdicts with)
and lbcommon.py's number formatter, imported as modules.

    python3 tests/test_compare_stats.py PATH_TO_scripts/lbstats.py

  Statistics      the U test's p against brute-force enumeration (ties
                  included), the normal approximation, the bootstrap CI
  Verdict         the null distribution of U and the stated false-positive
                  rate against enumeration of every split of the ranks; no
                  verdict with fewer than 5 repetitions a side
  FalsePositives  10,000 seeded pairs of samples of one distribution per
                  repetition count: "real" at the stated rate, within
                  binomial noise (neither above it, which would make the
                  test lie in our favour, nor far below, which would make
                  the stated rate a lie); fewer than 5 a side never "real"
  Format          lbcommon.si, the one formatter of rates (report.html's
                  table, compare's): 3 significant digits, k/M/G/T, rounded
                  before the unit is chosen

Standard library only; no timing assertions (about 10 s of CPU).
"""
import importlib.util
import itertools
import math
import os
import random
import sys
import unittest

import lbtest

LBSTATS = None


def load_module(name="lbstats"):
    """scripts/NAME.py, from the directory of the lbstats.py given."""
    path = os.path.join(os.path.dirname(os.path.abspath(LBSTATS)), name + ".py")
    spec = importlib.util.spec_from_file_location("lockbench_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def brute_force_u_counts(n, m):
    """{U: how many of the C(n+m, n) splits of the ranks 1..n+m give it}."""
    counts = {}
    for c in itertools.combinations(range(1, n + m + 1), n):
        u = sum(c) - n * (n + 1) // 2
        counts[u] = counts.get(u, 0) + 1
    return counts


def brute_force_rate(n, m, alpha=0.05):
    """P(exact two-sided p <= alpha) with no difference, by enumeration."""
    counts = brute_force_u_counts(n, m)
    total = math.comb(n + m, n)
    centre = n * m / 2
    rate = 0
    for u, c in counts.items():
        p = sum(cc for uu, cc in counts.items() if abs(uu - centre) >= abs(u - centre)) / total
        if p <= alpha:
            rate += c
    return rate / total


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
        for i in range(80):
            n, m = rng.randint(1, 7), rng.randint(1, 7)
            # Half with few distinct values (plenty of ties: the counting
            # by mid-ranks), half untied (the null distribution of U).
            k = 5 if i % 2 else 10 ** 6
            x = [rng.randint(0, k) for _ in range(n)]
            y = [rng.randint(0, k) for _ in range(m)]
            self.assertAlmostEqual(self.m.mann_whitney_p(x, y), self.brute_force_p(x, y),
                                   msg="x=%r y=%r" % (x, y))

    def test_u_normal_approximation_close_to_exact(self):
        rng = random.Random(3)
        # Ties, 21 a side: beyond the exact counting with ties.
        x = [round(rng.gauss(0, 1), 1) for _ in range(21)]
        y = [round(rng.gauss(0.7, 1), 1) for _ in range(21)]
        exact = self.m.mann_whitney_p(x, y, exact_max=30)
        approx = self.m.mann_whitney_p(x, y)
        self.assertNotEqual(exact, approx, "both exact: the approximation went untested")
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


class Verdict(unittest.TestCase):
    """The verdict is a U test at 0.05 with its real size stated."""

    @classmethod
    def setUpClass(cls):
        cls.m = load_module()

    def test_null_distribution_matches_enumeration(self):
        for n, m in ((1, 1), (2, 3), (5, 5), (5, 8), (8, 5), (6, 7), (8, 8)):
            want = brute_force_u_counts(n, m)
            got = self.m.u_null_counts(n, m)
            self.assertEqual({u: c for u, c in enumerate(got) if c}, want, (n, m))
            self.assertEqual(sum(got), math.comb(n + m, n))

    def test_stated_rate_matches_enumeration(self):
        for n, m in ((5, 5), (5, 6), (5, 8), (8, 5), (6, 7), (7, 7), (8, 8)):
            want = brute_force_rate(n, m)
            self.assertAlmostEqual(self.m.false_positive_rate(n, m), want, places=12,
                                   msg=(n, m))
            self.assertLessEqual(want, 0.05)
        # The discreteness in numbers: 8 of the 252 orderings at 5 vs 5.
        self.assertAlmostEqual(self.m.false_positive_rate(5, 5), 8 / 252, places=12)

    def test_no_verdict_below_five(self):
        for n, m in ((3, 3), (3, 5), (5, 3), (4, 4), (4, 10), (1, 20)):
            # Completely separated: as strong as such a design gets.
            self.assertEqual(self.m.significance([float(i) for i in range(n)],
                                                 [float(i) + 1000 for i in range(m)]),
                             ("n/a", None), (n, m))
            self.assertIsNone(self.m.false_positive_rate(n, m))

    def test_verdict_follows_p(self):
        sig = self.m.significance
        five = [1.0, 2.0, 3.0, 4.0, 5.0]
        self.assertEqual(sig(five, [11.0, 12.0, 13.0, 14.0, 15.0]), ("real", 8 / 252))
        self.assertEqual(sig(five, [1.5, 2.5, 3.5, 4.5, 5.5]), ("noise", 8 / 252))


# Identical distributions (no difference at all), one per repetition count.
DISTS = (lambda r: r.gauss(100.0, 10.0), lambda r: r.lognormvariate(0.0, 1.0),
         lambda r: r.expovariate(1.0), lambda r: r.uniform(50.0, 60.0))


class FalsePositives(unittest.TestCase):
    """10,000 pairs of samples from one distribution per repetition count:
    "real" must come out at the stated rate, within binomial noise. Above
    it (+3 sigma) the test would lie in our favour; far below it (-4 sigma)
    the stated rate would be the lie. Seeded: the same draws every run."""
    PAIRS = 10000
    # 101 a side: beyond the exact computation, where the normal
    # approximation is used and about 0.05 is stated.
    ALLOWED = ((5, 5), (5, 6), (8, 5), (5, 8), (6, 6), (7, 9), (10, 10), (15, 15), (20, 20),
               (101, 101))
    REFUSED = ((3, 3), (3, 5), (5, 3), (4, 4), (4, 10), (2, 20))

    @classmethod
    def setUpClass(cls):
        cls.m = load_module()

    def test_rate_is_the_stated_one(self):
        self.assertIsNone(self.m.false_positive_rate(101, 101), "101 a side is exact now:"
                          " move the normal-approximation case further out")
        for i, (n, m) in enumerate(self.ALLOWED):
            rng = random.Random(1000 + i)
            # uniform for the large case: the cheapest draw.
            dist = DISTS[3] if n > 50 else DISTS[i % len(DISTS)]
            real, rates = 0, set()
            for _ in range(self.PAIRS):
                x = [dist(rng) for _ in range(n)]
                y = [dist(rng) for _ in range(m)]
                verdict, rate = self.m.significance(x, y)
                self.assertIn(verdict, ("real", "noise"))
                real += verdict == "real"
                rates.add(rate)
            self.assertEqual(len(rates), 1, (n, m, rates))
            rate = rates.pop()
            self.assertLessEqual(rate, 0.05, (n, m))
            sigma = math.sqrt(rate * (1 - rate) / self.PAIRS)
            seen = real / self.PAIRS
            with self.subTest(n=n, m=m, stated=rate, seen=seen):
                self.assertLessEqual(seen, rate + 3 * sigma)
                self.assertGreaterEqual(seen, rate - 4 * sigma)

    def test_too_few_repetitions_never_real(self):
        for i, (n, m) in enumerate(self.REFUSED):
            rng = random.Random(2000 + i)
            dist = DISTS[i % len(DISTS)]
            for _ in range(self.PAIRS):
                x = [dist(rng) for _ in range(n)]
                y = [dist(rng) for _ in range(m)]
                self.assertEqual(self.m.significance(x, y), ("n/a", None), (n, m))


class Format(unittest.TestCase):
    def test_si(self):
        si = load_module("lbcommon").si
        cases = [(None, "-"), ("", "-"), (0, "0"), (0.5, "0.5"), (999, "999"),
                 (999.6, "1k"), (1000, "1k"), (123456, "123k"), (999999, "1M"),
                 (236.45e6, "236M"), (1.234e9, "1.23G"), (2.5e13, "25T"), (-5e3, "-5k"),
                 ("12345", "12.3k"), (math.inf, "inf"), (math.nan, "nan"), ("n/a", "n/a")]
        for v, want in cases:
            self.assertEqual(si(v, "-"), want, repr(v))
        self.assertEqual(si(None), "")


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["LBSTATS"]))
