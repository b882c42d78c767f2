#!/usr/bin/env python3
"""handoff and broadcast workloads (the signalling kinds: event, condition,
semaphore): verified runs over every implementation each drives, at 2 and 4
threads; the per-thread shape of their latency (only the even thread of a
handoff pair and only the broadcast setter record any); broadcast's own
columns; many short oversubscribed runs, so that the exit protocol runs
often; and impossible thread counts and unknown --param keys refused as
usage errors.

    python3 tests/test_wl_signal.py PATH_TO_lockbench

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
    """(process, results.csv rows, threads.csv rows) of one lockbench run."""
    return lbtest.run(BIN, args, timeout, tables=("results.csv", "threads.csv"))


def listing():
    return lbtest.listing(BIN)


def impls_of(workload):
    return lbtest.impls_of(BIN, workload)


num = lbtest.num


class Signal(unittest.TestCase):
    def assert_verified(self, p, rows, impls, threads):
        """Exit 0, one row per implementation and thread count, all ok.  A
        failed check is reported with lockbench's own CHECK FAILED line."""
        failed = [ln for ln in p.stderr.splitlines() if "CHECK FAILED" in ln]
        bad = ["%s/%s threads: %s" % (r["impl"], r["threads"], r["verified"])
               for r in rows if r["verified"] != "ok"]
        self.assertEqual(bad, [], "\n".join(failed))
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertEqual(sorted((r["impl"], int(r["threads"])) for r in rows),
                         sorted((i, t) for i in impls for t in threads),
                         "one row per implementation and thread count")

    def test_handoff_drives_every_signalling_impl(self):
        want = sorted(i for i, (k, _, _) in listing().items()
                      if k in ("event", "condition", "semaphore"))
        self.assertEqual(sorted(impls_of("handoff")), want)
        self.assertGreaterEqual(len(want), 9, want)

    def test_broadcast_drives_every_event_and_condition(self):
        want = sorted(i for i, (k, _, _) in listing().items() if k in ("event", "condition"))
        self.assertEqual(sorted(impls_of("broadcast")), want)
        self.assertGreaterEqual(len(want), 6, want)

    def test_handoff_every_impl(self):
        impls = impls_of("handoff")
        p, rows, trows = run(["--workload", "handoff", "--impl", ",".join(impls),
                              "--threads", ",".join(map(str, THREADS))] + SHORT)
        self.assert_verified(p, rows, impls, THREADS)
        for r in rows:
            self.assertEqual(r["lost_updates"], "", r)  # no lost-update count here
            self.assertEqual(r["param"], "", r)
        self.assertEqual(len(trows), len(impls) * sum(THREADS))
        for t in trows:
            if int(t["tid"]) % 2:
                # the odd thread answers: its op is a ping handled, timed by
                # the partner's round trip, so it records no latency
                self.assertEqual(int(t["lat_samples"]), 0, t)
                self.assertEqual(t["lat_p50_ns"], "", t)

    def test_broadcast_every_impl(self):
        impls = impls_of("broadcast")
        p, rows, trows = run(["--workload", "broadcast", "--impl", ",".join(impls),
                              "--threads", ",".join(map(str, THREADS))] + SHORT)
        self.assert_verified(p, rows, impls, THREADS)
        for r in rows:
            self.assertIn("first_wake_p50_ns", r)
            self.assertIn("first_wake_p99_ns", r)
            setter = [t for t in trows if t["threads"] == r["threads"]
                      and t["impl"] == r["impl"] and int(t["tid"]) == 0]
            self.assertEqual(len(setter), 1, r)
            if int(setter[0]["ops"]) == 0:
                # no round completed in the window: no latency at all, empty
                self.assertEqual((r["first_wake_p50_ns"], r["lat_p50_ns"]), ("", ""), r)
                continue
            self.assertNotEqual(r["first_wake_p50_ns"], "", r)
            self.assertNotEqual(r["lat_p50_ns"], "", r)
            f50, f99 = num(r["first_wake_p50_ns"]), num(r["first_wake_p99_ns"])
            l50, l99 = num(r["lat_p50_ns"]), num(r["lat_p99_ns"])
            # per round, the first waiter runs no later than the last
            self.assertTrue(0 <= f50 <= f99, r)
            self.assertLessEqual(f50, l50, r)
            self.assertLessEqual(f99, l99, r)
            if int(r["threads"]) == 2:  # one waiter: it is first and last
                self.assertEqual((f50, f99), (l50, l99), r)
        for t in trows:
            if int(t["tid"]) == 0:
                # the setter records every round of the window, no sampling
                self.assertEqual(int(t["lat_samples"]), int(t["ops"]), t)
            else:
                self.assertEqual(int(t["lat_samples"]), 0, t)

    def test_exit_protocol_oversubscribed(self):
        """Many short runs with more threads than CPUs: every one of them
        ends with threads blocked in wait() that their partners must
        release (the watchdog would turn a hang into exit 1)."""
        threads = ["2", "6", "8"]
        for wl, impls in (("handoff", "futex-event,pthread-sem,futex-cond"),
                          ("broadcast", "pthread-event,futex-event,futex-cond")):
            with self.subTest(workload=wl):
                p, rows, _ = run(["--workload", wl, "--impl", impls, "--threads",
                                  ",".join(threads), "--duration", "0.01", "--warmup", "0.002",
                                  "--repeat", "3", "--no-plot"])
                self.assertEqual(p.returncode, 0, p.stderr[-3000:])
                self.assertEqual(len(rows), 3 * len(threads) * 3)
                self.assertEqual([r for r in rows if r["verified"] != "ok"], [])

    def assert_usage_error(self, args, *needles):
        p, rows, _ = run(args + SHORT, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, p.stderr)
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertEqual(rows, [])

    def test_handoff_odd_threads_refused(self):
        for t in ("3", "1"):
            with self.subTest(threads=t):
                self.assert_usage_error(["--workload", "handoff", "--impl", "futex-event",
                                         "--threads", t], "even", "got " + t)

    def test_broadcast_one_thread_refused(self):
        self.assert_usage_error(["--workload", "broadcast", "--impl", "futex-event",
                                 "--threads", "1"], "waiter", "got 1")

    def test_unknown_param_refused(self):
        for wl in ("handoff", "broadcast"):
            with self.subTest(workload=wl):
                self.assert_usage_error(["--workload", wl, "--impl", "futex-event",
                                         "--threads", "2", "--param", "permits=1"],
                                        "permits")


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
