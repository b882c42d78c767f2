"""counter: every implementation it drives, at 2 and 4 threads, verified;
--param depth for the recursive locks; the negative controls.

usage: python3 test_wl_counter.py PATH_TO_lockbench
"""
import sys
import unittest

import lbtest

BIN = None
SHORT = ["--duration", "0.05", "--warmup", "0.01", "--repeat", "1", "--no-plot"]


def run(args, timeout=240):
    return lbtest.run(BIN, args, timeout)


def listing():
    return lbtest.listing(BIN)


class Counter(unittest.TestCase):
    def test_every_impl_2_and_4_threads(self):
        ids = lbtest.impls_of(BIN, "counter")
        kinds = {listing()[i][0] for i in ids}
        # every exclusive kind, the lock-free counters and the controls
        self.assertEqual(kinds, {"mutex", "recursive", "semaphore", "rwlock", "counter", "none"})
        self.assertNotIn("urcu-memb", ids)  # RCU is not exclusive
        p, rows = run(["--workload", "counter", "--impl", ",".join(ids),
                       "--threads", "2,4", "--param", "depth=3"] + SHORT)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertEqual(len(rows), 2 * len(ids))
        for r in rows:
            if r["impl"] == "none-racy":
                self.assertIn(r["verified"], ("ok", "racy"), r)
            else:
                self.assertEqual(r["verified"], "ok", r)
                self.assertEqual(r["lost_updates"], "0", r)
            # every parameter is in the param column, defaults included
            self.assertEqual(r["param"], "depth=3;data=shared")

    def test_data_local_every_lock(self):
        # each thread's own padded counter under the lock (the libraries'
        # own benchmarks' workload): still counted exactly
        ids = [i for i in lbtest.impls_of(BIN, "counter")
               if listing()[i][0] in ("mutex", "recursive", "semaphore", "rwlock")]
        p, rows = run(["--workload", "counter", "--impl", ",".join(ids), "--threads", "1,3",
                       "--param", "data=local"] + SHORT)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertEqual(len(rows), 2 * len(ids))
        for r in rows:
            self.assertEqual(r["verified"], "ok", r)
            self.assertEqual(r["lost_updates"], "0", r)
            self.assertEqual(r["param"], "depth=1;data=local")
        # Nothing is shared with data=local, so it cannot show a broken
        # lock (test-busted counts exactly there): data=shared, the
        # default, is the mutual-exclusion check, and --list says so.
        p = lbtest.subprocess.run([BIN, "--list"], stdout=lbtest.subprocess.PIPE,
                                  universal_newlines=True, check=True)
        self.assertIn("data=local counts only", p.stdout)
        p, rows = run(["--workload", "counter", "--param", "data=global"] + SHORT)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(),
                         "lockbench: --param data: 'global' is not a data layout; valid: "
                         "shared, local")

    def test_broken_lock_fails_the_run(self):
        p, rows = run(["--workload", "counter", "--impl", "test-busted,futex-mutex",
                       "--threads", "2", "--no-plot"] + lbtest.BUSTED_WINDOWS)
        self.assertEqual(p.returncode, 1, p.stderr[-2000:])
        busted = [r for r in rows if r["impl"] == "test-busted"]
        self.assertEqual(len(busted), 10)
        self.assertTrue(any(r["verified"] == "fail" and int(r["lost_updates"]) > 0
                            for r in busted), busted)
        for r in rows:
            if r["impl"] == "futex-mutex":
                self.assertEqual(r["verified"], "ok", r)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
