#!/usr/bin/env python3
"""Event counters: the perf_event_open plumbing and its fallback.

    python3 tests/test_counters.py PATH_TO_lockbench

- Software events count everywhere: a thread's context switches as perf
  counts them must equal its voluntary + involuntary switches as
  getrusage counts them, to within the switches that can fall between the
  two back-to-back reads at each edge (2 per thread, or 2% of thousands);
  pinned threads never migrate in the window (0 exactly).
- Hardware events: where meta.json says "ok" the per-op columns are
  positive numbers; where it gives a reason (this VM shows no PMU) they
  are empty and the run still passes.  --counters software forces that
  fallback on any machine; --counters off empties every counter column.

Standard library only.  No timing assertions.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

BINARY = None
HW = ["cycles_per_op", "instructions_per_op", "cache_misses_per_op"]
HW_EVENTS = {"cycles_per_op": "cycles", "instructions_per_op": "instructions",
             "cache_misses_per_op": "cache-misses"}
SW = ["context_switches", "cpu_migrations", "page_faults"]


def run_with_meta(args):
    out = tempfile.mkdtemp(prefix="lb-counters-")
    try:
        p = subprocess.run([BINARY] + args + ["--repeat", "2", "--duration", "0.1",
                                              "--warmup", "0", "--no-plot", "--quiet",
                                              "--out", os.path.join(out, "run")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=lbtest.HANG_GUARD)
        with open(os.path.join(out, "run", "results.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(out, "run", "meta.json")) as f:
            meta = json.load(f)
        return p, rows, meta
    finally:
        shutil.rmtree(out, ignore_errors=True)


class Counters(unittest.TestCase):
    def test_software_events_agree_with_getrusage(self):
        # handoff sleeps on every op: thousands of switches per window.
        p, rows, meta = run_with_meta(["--workload", "handoff", "--impl", "futex-sem,pthread-sem",
                                       "--threads", "2,4"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for ev in ["context-switches", "cpu-migrations", "page-faults"]:
            self.assertEqual(meta["counters"][ev], "ok")
        self.assertEqual(len(rows), 8)
        for r in rows:
            ctx = int(r["context_switches"])
            rusage = int(r["ctx_voluntary"]) + int(r["ctx_involuntary"])
            self.assertGreater(rusage, 0, r)
            # The two counts are read back to back at each edge; only the
            # switches between those reads can differ: a few, against
            # thousands in the window.
            self.assertLessEqual(abs(ctx - rusage), max(2 * int(r["threads"]), rusage // 50), r)
            self.assertEqual(r["cpu_migrations"], "0", "pinned threads migrated: %s" % r)
            self.assertRegex(r["page_faults"], r"^\d+$")

    def test_hardware_events_or_the_reason(self):
        p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                       "--threads", "1,2"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for col, ev in HW_EVENTS.items():
            status = meta["counters"][ev]
            for r in rows:
                if status.startswith("ok"):
                    self.assertGreater(float(r[col]), 0, (col, r))
                else:
                    self.assertTrue(status.startswith("unavailable: perf_event_open: "), status)
                    self.assertEqual(r[col], "", (col, r))
                    self.assertEqual(r["verified"], "ok")
        for r in rows:
            self.assertRegex(r["context_switches"], r"^\d+$")

    def test_software_only_and_off(self):
        p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                       "--threads", "2", "--counters", "software"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for col, ev in HW_EVENTS.items():
            self.assertEqual(meta["counters"][ev], "off (--counters software)")
            self.assertEqual({r[col] for r in rows}, {""})
        for r in rows:
            for col in SW:
                self.assertRegex(r[col], r"^\d+$", (col, r))
        p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                       "--threads", "2", "--counters", "off"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(meta["counters"].values()), {"off (--counters off)"})
        for r in rows:
            for col in HW + SW:
                self.assertEqual(r[col], "", (col, r))
            self.assertEqual(r["verified"], "ok")

    def test_bad_counter_set(self):
        with tempfile.TemporaryDirectory() as d:
            q = subprocess.run([BINARY, "--workload", "counter", "--counters", "hw",
                                "--out", os.path.join(d, "run")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
            self.assertEqual(q.returncode, 2)
            self.assertEqual(q.stderr, "lockbench: --counters: 'hw' is not a counter set; "
                             "valid: auto, software, off\n")
            self.assertEqual(os.listdir(d), [])


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BINARY"]))
