"""lbstats.py: the statistics of lockbench's comparisons, shared by
compare.py (its verdicts and intervals) and tests/test_compare_stats.py
(which checks them by enumeration and by simulation).

  median                 of a list (None when empty)
  bootstrap_ratio_ci     percentile-bootstrap CI of median(run)/median(base)
  mann_whitney_p         two-sided U-test p: exact (no ties: the null
                         distribution counted; ties: the permutation
                         distribution of the mid-rank sum) or normal
  false_positive_rate    the verdict's real size for n and m repetitions
  significance           (verdict, stated false-positive rate)

Python 3 standard library only.
"""
import functools
import math
import random

RESAMPLES = 2000
SEED = 1
CI_LEVEL = 0.95
EXACT_MAX = 20          # Mann-Whitney with ties: exact up to this many per side
EXACT_BUDGET = 10 ** 6  # Mann-Whitney without ties: exact while n*m*min(n,m) <= this
ALPHA = 0.05            # the verdict's significance level (two-sided)
MIN_REPS = 5            # a verdict needs this many repetitions on each side


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return None
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def bootstrap_ratio_ci(base, run, resamples=RESAMPLES, seed=SEED, level=CI_LEVEL):
    """Percentile bootstrap CI of median(run) / median(base): both samples
    resampled with replacement, independently. Seeded per call, so a row's
    interval does not depend on the other rows. None with fewer than two
    repetitions on a side (a single value resamples to itself: no interval)."""
    if len(base) < 2 or len(run) < 2:
        return None
    rng = random.Random(seed)
    nb, nr = len(base), len(run)
    ratios = []
    for _ in range(resamples):
        mb = median(rng.choices(base, k=nb))
        mr = median(rng.choices(run, k=nr))
        if mb > 0:
            ratios.append(mr / mb)
        elif mr > 0:
            ratios.append(math.inf)
    if not ratios:
        return None
    ratios.sort()
    a = (1 - level) / 2
    n = len(ratios)
    # Outward rounding of the order statistics: never narrower than asked.
    lo = ratios[max(0, math.floor(a * (n - 1)))]
    hi = ratios[min(n - 1, math.ceil((1 - a) * (n - 1)))]
    return lo, hi


def _doubled_ranks(x, y):
    """Doubled mid-ranks (integers) of the pooled sample, group flags, tie sizes."""
    pooled = sorted([(v, 0) for v in x] + [(v, 1) for v in y], key=lambda t: t[0])
    n = len(pooled)
    ranks2 = [0] * n
    ties = []
    i = 0
    while i < n:
        j = i
        while j + 1 < n and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks2[k] = (i + 1) + (j + 1)   # 2 x the mean of ranks i+1 .. j+1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks2, [g for _, g in pooled], ties


def exact_without_ties(n, m):
    """Whether the exact U distribution for n and m values is cheap enough:
    building it costs about n * m * min(n, m) additions (10^6: up to 100 a
    side, or 5 against 40,000)."""
    return n * m * min(n, m) <= EXACT_BUDGET


@functools.lru_cache(maxsize=None)
def u_null_counts(n, m):
    """How many of the C(n+m, n) equally likely orderings of n + m distinct
    values give the first sample each U = 0 .. n*m: the coefficients of the
    Gaussian binomial [n+m choose n]_q = prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i)
    (Mann & Whitney 1947, the recursion in generating-function form). Each
    factor is one pass over the coefficients, all in exact integers."""
    c = [1]
    for i in range(1, n + 1):
        a = m + i
        c = c + [0] * a
        for k in range(len(c) - 1, a - 1, -1):   # times (1 - q^a)
            c[k] -= c[k - a]
        for k in range(i, len(c)):               # divided by (1 - q^i), exactly
            c[k] += c[k - i]
        del c[i * m + 1:]                        # degree i*m; the rest is 0
    return tuple(c)


@functools.lru_cache(maxsize=None)
def _u_tails(n, m):
    """{|2U - n*m|: how many orderings are at least that far from the centre}."""
    counts = u_null_counts(n, m)
    nm = n * m
    by_dev = {}
    for u, c in enumerate(counts):
        d = abs(2 * u - nm)
        by_dev[d] = by_dev.get(d, 0) + c
    tails, acc = {}, 0
    for d in sorted(by_dev, reverse=True):
        acc += by_dev[d]
        tails[d] = acc
    return tails


def _p_exact_no_ties(u2, n, m):
    """Two-sided exact p of a doubled U statistic (2U) without ties."""
    return _u_tails(n, m)[abs(u2 - n * m)] / math.comb(n + m, n)


def _p_normal(u, n, m, tie_term=0):
    """Two-sided p of U by the normal approximation, continuity-corrected;
    tie_term = sum(t^3 - t) over the tie groups."""
    big_n = n + m
    var = n * m / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
    if var <= 0:
        return 1.0
    z = max(0.0, abs(u - n * m / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2)))


def mann_whitney_p(x, y, exact_max=EXACT_MAX):
    """Two-sided p-value of the Mann-Whitney U test (Wilcoxon rank-sum).

    Without ties: the exact null distribution of U (u_null_counts) whenever
    exact_without_ties(n, m). With ties, up to exact_max values per side:
    the exact permutation distribution of the rank sum given the mid-ranks,
    counted by dynamic programming over the pooled values (the same count
    as enumerating every split of the pooled sample). Otherwise the normal
    approximation with tie and continuity corrections. None when a side is
    empty."""
    n, m = len(x), len(y)
    if n == 0 or m == 0:
        return None
    ranks2, group, ties = _doubled_ranks(x, y)
    big_n = n + m
    w2 = sum(r for r, g in zip(ranks2, group) if g == 0)
    u2 = w2 - n * (n + 1)                       # 2U
    if not ties and exact_without_ties(n, m):
        return _p_exact_no_ties(u2, n, m)
    mean2 = n * (big_n + 1)                     # 2 x E[W]
    if ties and n <= exact_max and m <= exact_max:
        # counts[k][s]: subsets of size k of the values seen so far whose
        # doubled rank sum is s.
        counts = [dict() for _ in range(n + 1)]
        counts[0][0] = 1
        for i, r in enumerate(ranks2):
            for k in range(min(n, i + 1), 0, -1):
                dst = counts[k]
                for s, c in counts[k - 1].items():
                    dst[s + r] = dst.get(s + r, 0) + c
        dist = counts[n]
        d_obs = abs(w2 - mean2)
        extreme = sum(c for s, c in dist.items() if abs(s - mean2) >= d_obs)
        return min(1.0, extreme / math.comb(big_n, n))
    return _p_normal(u2 / 2, n, m, sum(t ** 3 - t for t in ties))


def min_p(n, m):
    """The smallest two-sided U-test p-value n and m values can give."""
    return min(1.0, 2 / math.comb(n + m, n))


@functools.lru_cache(maxsize=None)
def false_positive_rate(n, m, alpha=ALPHA):
    """The real size of the verdict for n and m repetitions: the chance that
    two samples of one continuous distribution (no difference at all, no
    ties) are called "real", i.e. P(p <= alpha) under the null hypothesis.
    Exact: the sum of the null probabilities of every U whose p, computed
    exactly as mann_whitney_p computes it, is <= alpha. Being discrete, it
    is below alpha (3.2% for 5 and 5 at alpha 5%). None where no verdict is
    given (fewer than MIN_REPS a side) or where the test uses the normal
    approximation (the size is then about alpha, not computed)."""
    if min(n, m) < MIN_REPS or not exact_without_ties(n, m):
        return None
    counts = u_null_counts(n, m)
    hit = sum(c for u, c in enumerate(counts) if _p_exact_no_ties(2 * u, n, m) <= alpha)
    return hit / math.comb(n + m, n)


def significance(base, run, p=None, alpha=ALPHA):
    """(verdict, stated false-positive rate) of one configuration: "real"
    when the two-sided U test gives p <= alpha, "noise" otherwise, "n/a"
    (rate None) with fewer than MIN_REPS repetitions on a side. The rate is
    false_positive_rate(n, m), or alpha itself (approximately) in the normal
    approximation's range."""
    n, m = len(base), len(run)
    if min(n, m) < MIN_REPS:
        return "n/a", None
    if p is None:
        p = mann_whitney_p(base, run)
    rate = false_positive_rate(n, m, alpha)
    return ("real" if p <= alpha else "noise"), (alpha if rate is None else rate)
