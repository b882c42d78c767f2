#!/usr/bin/env python3
"""One short run of every workload over every implementation it drives
(every backend: pthread, futex, ck, urcu, atomic, the queues), each check
verified.  Built for the sanitizer trees: under ThreadSanitizer or
AddressSanitizer + UBSan a report aborts the process, so a clean exit is
the sanitizers' verdict on the harness, the workloads and our primitives
(leaks in a workload's teardown included: LeakSanitizer runs at exit).

    python3 tests/test_sweep.py PATH_TO_lockbench [WORKLOAD...]

deadlock and livelock run their fixes (order=fixed, backoff=random): their
defaults end in a watchdog report by design, which test_wl_hazards covers.
"""
import sys
import unittest

import lbtest

BIN = None
ONLY = []
FIXES = {"deadlock": ["--param", "order=fixed"], "livelock": ["--param", "backoff=random"]}


class Sweep(unittest.TestCase):
    def test_every_workload_every_impl(self):
        names = lbtest.workloads(BIN)
        self.assertGreaterEqual(len(names), 11, names)
        for wl in ONLY or names:
            impls = lbtest.impls_of(BIN, wl)
            with self.subTest(workload=wl):
                self.assertTrue(impls, wl)
                p, rows = lbtest.run(BIN, ["--workload", wl, "--impl", ",".join(impls),
                                           "--threads", "2", "--duration", "0.02",
                                           "--warmup", "0.005", "--repeat", "1",
                                           "--no-plot"] + FIXES.get(wl, []), timeout=900)
                self.assertEqual(p.returncode, 0, p.stderr[-4000:])
                self.assertEqual(sorted(r["impl"] for r in rows), sorted(impls))
                for r in rows:
                    self.assertIn(r["verified"], ("ok", "racy"), r)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"], words="ONLY"))
