#!/usr/bin/env python3
"""readmostly, pool, trylock and recursive workloads: verified runs over
every implementation each drives, at 2 and 4 threads, their own result
columns checked for sanity, the negative control (test-busted under
trylock fails the run), and bad --param values refused as usage errors.

    python3 tests/test_wl_locks.py PATH_TO_lockbench

Standard library only.  Runs are short; no assertion depends on timing.
"""
import sys
import unittest

import lbtest

BIN = None
HANG_GUARD = lbtest.HANG_GUARD
SHORT = ["--duration", "0.05", "--warmup", "0.01", "--repeat", "1", "--no-plot"]
THREADS = [2, 4]


def run(args, timeout=HANG_GUARD):
    """(process, results.csv rows as dicts) of one lockbench run."""
    return lbtest.run(BIN, args, timeout)


def listing():
    return lbtest.listing(BIN)


def impls_of(workload):
    return lbtest.impls_of(BIN, workload)


num = lbtest.num


def describe(p):
    return "exit %s\nstderr:\n%s" % (p.returncode, p.stderr[-3000:])


class Locks(unittest.TestCase):
    def sweep(self, workload, impls, params=(), threads=THREADS):
        """Run workload over impls x threads; assert exit 0, one ok row per
        configuration, and return the rows."""
        args = ["--workload", workload, "--impl", ",".join(impls),
                "--threads", ",".join(map(str, threads))] + SHORT
        for kv in params:
            args += ["--param", kv]
        p, rows = run(args)
        self.assertEqual(p.returncode, 0, describe(p))
        got = sorted((r["impl"], int(r["threads"])) for r in rows)
        self.assertEqual(got, sorted((i, t) for i in impls for t in threads))
        for r in rows:
            self.assertEqual(r["verified"], "ok", r)
            self.assertEqual(r["workload"], workload)
            for kv in params:
                self.assertIn(kv, r["param"].split(";"))
        return rows

    # ---- readmostly ----

    def test_readmostly_drives_every_rwlock_rcu_and_seqlock(self):
        impls = impls_of("readmostly")
        rw = [i for i, (k, caps, _) in listing().items()
              if k in ("rwlock", "seqlock") and "unavailable" not in caps]
        self.assertEqual(sorted(impls), sorted(rw))
        for i in ("urcu-memb", "urcu-qsbr", "urcu-mb", "urcu-bp", "futex-seqlock",
                  "ck-sequence"):
            self.assertIn(i, impls)

    def check_readmostly(self, pct):
        impls = impls_of("readmostly")
        params = () if pct is None else ("read_pct=%d" % pct,)
        for r in self.sweep("readmostly", impls, params):
            with self.subTest(impl=r["impl"], threads=r["threads"], read_pct=pct):
                self.assertEqual(num(r["torn_reads"]), 0)
                self.assertEqual(int(r["lost_updates"]), 0)
                # a seqlock's discarded reads in the window; no other kind
                # retries a read
                if listing()[r["impl"]].kind == "seqlock":
                    self.assertRegex(r["read_retries"], r"^\d+$")
                    if pct == 100 or r["threads"] == "1":
                        self.assertEqual(r["read_retries"], "0")  # no writer
                else:
                    self.assertEqual(r["read_retries"], "")
                rd, wr = num(r["reader_ops_per_sec"]), num(r["writer_ops_per_sec"])
                if pct == 0:
                    self.assertEqual(rd, 0)
                if pct == 100:
                    self.assertEqual(wr, 0)
                # Both count the window's ops exactly, over its length;
                # ops_per_sec is printed with one decimal, the rates with
                # four: allow the rounding of each (a collapsed lock on a
                # loaded machine can run at 30 ops/s).
                self.assertAlmostEqual(rd + wr, num(r["ops_per_sec"]),
                                       delta=1e-6 * num(r["ops_per_sec"]) + 0.05 + 2e-4)

    def test_readmostly_dedicated_writers(self):
        # writers=W: threads 0..W-1 only write, the rest only read, as
        # liburcu's benchmarks run; write_delay_ns pauses a writer after
        # each write.  Both sides move (a collapsed side would be 0).
        impls = ["pthread-rwlock", "urcu-memb", "urcu-qsbr", "futex-seqlock"]
        for params in (("writers=1",), ("writers=2", "write_delay_ns=1000"),
                       ("writers=1", "read_words=1")):
            rows = self.sweep("readmostly", impls, params, threads=(3,))
            for r in rows:
                with self.subTest(impl=r["impl"], params=params):
                    self.assertGreater(num(r["reader_ops_per_sec"]), 0)
                    self.assertGreater(num(r["writer_ops_per_sec"]), 0)
                    self.assertEqual(num(r["torn_reads"]), 0)
        # every thread a writer leaves nobody to read: one usage line
        p, _ = run(["--workload", "readmostly", "--impl", "urcu-memb", "--threads", "2",
                    "--param", "writers=2"] + SHORT)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "lockbench: readmostly: writers=2 leaves no reader among 2 "
                         "threads; give writers=0 (mixed) or 1 to 1\n")
        p, _ = run(["--workload", "readmostly", "--impl", "urcu-memb", "--threads", "2",
                    "--param", "read_words=3"] + SHORT)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "lockbench: readmostly: read_words=3 is not a read size; "
                         "give 1 or 8\n")

    def test_readmostly_default_mix(self):
        self.check_readmostly(None)

    def test_readmostly_writes_only(self):
        self.check_readmostly(0)

    def test_readmostly_reads_only(self):
        self.check_readmostly(100)

    # ---- pool ----

    def test_pool_every_semaphore(self):
        impls = impls_of("pool")
        sems = [i for i, (k, _, _) in listing().items() if k == "semaphore"]
        self.assertEqual(sorted(impls), sorted(sems))
        for permits in (1, 2, 3):
            rows = self.sweep("pool", impls, ("permits=%d" % permits,))
            for r in rows:
                with self.subTest(impl=r["impl"], threads=r["threads"], permits=permits):
                    self.assertEqual(num(r["permits"]), permits)
                    peak = num(r["peak_holders"])
                    self.assertGreaterEqual(peak, 1)
                    self.assertLessEqual(peak, permits)
                    self.assertEqual(r["lost_updates"], "")  # does not apply

    # ---- trylock ----

    def test_trylock_every_impl_with_a_try_op(self):
        impls = impls_of("trylock")
        want = [i for i, (k, caps, _) in listing().items()
                if k in ("mutex", "recursive", "semaphore") and "trylock" in caps
                and "unavailable" not in caps]
        self.assertEqual(sorted(impls), sorted(want))
        for no_try in ("ck-clh", "ck-anderson", "ck-hclh"):
            self.assertNotIn(no_try, impls)
        for r in self.sweep("trylock", impls):
            with self.subTest(impl=r["impl"], threads=r["threads"]):
                self.assertEqual(int(r["lost_updates"]), 0)
                # successes are some of the attempts (ops)
                self.assertLessEqual(num(r["successes_per_sec"]), num(r["ops_per_sec"]) + 0.05)
                if int(r["ops"]) == 0:
                    # A collapsed run on a loaded machine: no attempt fell
                    # in the window, so there is no ratio.
                    self.assertEqual(r["success_ratio"], "")
                    continue
                ratio = num(r["success_ratio"])
                self.assertGreaterEqual(ratio, 0)
                self.assertLessEqual(ratio, 1)
                self.assertAlmostEqual(num(r["successes_per_sec"]),
                                       ratio * num(r["ops_per_sec"]),
                                       delta=1e-3 * num(r["ops_per_sec"]) + 1e-3)

    def test_trylock_no_backoff(self):
        self.sweep("trylock", ["futex-mutex", "futex-recursive", "futex-sem"],
                   ("backoff_ns=0",), threads=[2])

    def test_trylock_broken_lock_fails(self):
        p, rows = run(["--workload", "trylock", "--impl", "test-busted", "--threads", "2",
                       "--no-plot"] + lbtest.BUSTED_WINDOWS)
        self.assertEqual(p.returncode, 1, describe(p))
        self.assertIn("CHECK FAILED", p.stderr)
        self.assertEqual(len(rows), 10)
        failed = [r for r in rows if r["verified"] == "fail"]
        self.assertTrue(failed, rows)
        for r in failed:
            self.assertGreater(int(r["lost_updates"]), 0, r)
        for r in rows:
            self.assertIn(r["verified"], ("ok", "fail"), r)

    # ---- recursive ----

    def test_recursive_every_impl(self):
        impls = impls_of("recursive")
        rec = [i for i, (k, _, _) in listing().items() if k == "recursive"]
        self.assertEqual(sorted(impls), sorted(rec))
        for params in ((), ("depth=1",), ("depth=50",)):
            for r in self.sweep("recursive", impls, params):
                self.assertEqual(int(r["lost_updates"]), 0, r)

    # ---- usage errors ----

    def test_bad_params(self):
        cases = [
            ("readmostly", "read_pct=101"), ("readmostly", "read_pct=abc"),
            ("readmostly", "read_pct=-1"),
            ("pool", "permits=0"), ("pool", "permits=1001"), ("pool", "permits=x"),
            ("trylock", "backoff_ns=-5"), ("trylock", "backoff_ns=100000001"),
            ("recursive", "depth=0"), ("recursive", "depth=1001"),
        ]
        for wl, kv in cases:
            with self.subTest(workload=wl, param=kv):
                p, rows = run(["--workload", wl, "--threads", "2", "--param", kv] + SHORT,
                              timeout=60)
                self.assertEqual(p.returncode, 2, describe(p))
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                key, val = kv.split("=", 1)
                self.assertIn(key, lines[0])
                self.assertIn(val, lines[0])
                self.assertEqual(rows, [])


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
