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
HW = ["cycles_per_op", "instructions_per_op", "cache_misses_per_op", "c2c_per_op"]
HW_EVENTS = {"cycles_per_op": "cycles", "instructions_per_op": "instructions",
             "cache_misses_per_op": "cache-misses"}
# libpfm4's tables, forced with its own LIBPFM_FORCE_PMU: the c2c event each
# PMU must be given (counters.c's candidates, first that encodes).
C2C_BY_PMU = {
    "snb": "snb::MEM_LOAD_UOPS_LLC_HIT_RETIRED:XSNP_HITM",
    "hsw": "hsw::MEM_LOAD_UOPS_L3_HIT_RETIRED:XSNP_HITM",
    "skl": "skl::MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM",
    "icl": "icl::MEM_LOAD_L3_HIT_RETIRED:XSNP_HITM",
    "spr": "spr::MEM_LOAD_L3_HIT_RETIRED:XSNP_FWD",
    "amd64_fam17h_zen2": "amd64_fam17h_zen2::DATA_CACHE_REFILLS_FROM_SYSTEM:"
                         "LS_MABRESP_LCL_CACHE:LS_MABRESP_RMT_CACHE",
    "amd64_fam19h_zen3": "amd64_fam19h_zen3::DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:"
                         "INT_CACHE:EXT_CACHE_LCL:EXT_CACHE_RMT",
    "amd64_fam19h_zen4": "amd64_fam19h_zen4::DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:"
                         "LOCAL_CCX:NEAR_CACHE_NEAR_FAR:FAR_CACHE_NEAR_FAR",
}
SW = ["context_switches", "cpu_migrations", "page_faults"]


def run_with_meta(args, env=None):
    out = tempfile.mkdtemp(prefix="lb-counters-")
    try:
        p = subprocess.run([BINARY] + args + ["--repeat", "2", "--duration", "0.1",
                                              "--warmup", "0", "--no-plot", "--quiet",
                                              "--out", os.path.join(out, "run")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=lbtest.HANG_GUARD, env=env)
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

    def check_c2c(self, rows, meta, name):
        """The c2c column is the named event's count per op where the
        kernel opened it, and empty with perf_event_open's reason where not
        (this VM: no PMU)."""
        status = meta["counters"]["c2c-transfers"]
        self.assertIn(name, status)
        for r in rows:
            if status.startswith("ok"):
                self.assertRegex(r["c2c_per_op"], r"^\d+\.\d{3}$", r)
            else:
                self.assertTrue(status.startswith("unavailable: perf_event_open: "), status)
                self.assertEqual(r["c2c_per_op"], "", r)
            self.assertEqual(r["verified"], "ok")

    def test_c2c_event_named_for_each_pmu(self):
        # libpfm4 reads the CPU from cpuid; forcing its PMU table shows that
        # each generation gets its own name for the event.
        for pmu, name in sorted(C2C_BY_PMU.items()):
            with self.subTest(pmu=pmu):
                env = dict(os.environ, LIBPFM_FORCE_PMU=pmu)
                p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                               "--threads", "2"], env)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(len(rows), 2)
                self.check_c2c(rows, meta, name)

    def test_c2c_without_a_known_pmu(self):
        # netburst (Pentium 4) has no such event in libpfm4: the column is
        # empty, meta.json says why, the run passes.
        env = dict(os.environ, LIBPFM_FORCE_PMU="netburst")
        p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                       "--threads", "2"], env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(meta["counters"]["c2c-transfers"],
                         "unavailable: libpfm4 names no cross-core transfer event for this "
                         "CPU (PMUs it found: netburst); name one with "
                         "--c2c-event")
        self.assertEqual({r["c2c_per_op"] for r in rows}, {""})

    def test_c2c_plumbing_with_a_software_event(self):
        # A named event goes from libpfm4's encoding through the workers'
        # groups to the column: name a software event, which counts on any
        # machine, and it must equal the context_switches column (the same
        # event, read at the same edges), per op.
        p, rows, meta = run_with_meta(["--workload", "handoff", "--impl", "futex-sem",
                                       "--threads", "2", "--c2c-event",
                                       "perf::PERF_COUNT_SW_CONTEXT_SWITCHES"])
        self.assertEqual(p.returncode, 0, p.stderr)
        status = meta["counters"]["c2c-transfers"]
        self.assertTrue(status.startswith("ok"), status)
        self.assertIn("perf::PERF_COUNT_SW_CONTEXT_SWITCHES", status)
        for r in rows:
            ops, ctx = int(r["ops"]), int(r["context_switches"])
            self.assertGreater(ctx, 0, r)
            if "user space only" in status:
                continue  # perf_event_paranoid: switches happen in the kernel
            # both groups are read back to back at each edge: a few switches
            # may fall between the reads (as against getrusage above)
            c2c = float(r["c2c_per_op"]) * ops
            self.assertLessEqual(abs(c2c - ctx), max(2 * int(r["threads"]), ctx // 50) + 1, r)

    def test_bad_c2c_event(self):
        with tempfile.TemporaryDirectory() as d:
            for args, err in [
                    (["--c2c-event", "NO_SUCH_EVENT"],
                     "lockbench: --c2c-event: libpfm4 cannot encode 'NO_SUCH_EVENT' (event not "
                     "found); give an event of a PMU it found here (perf, perf_raw), as "
                     "`perf list` or libpfm4's showevtinfo names it\n"),
                    (["--c2c-event", "perf::CYCLES", "--counters", "software"],
                     "lockbench: --c2c-event names a hardware event; --counters software "
                     "counts none (drop one of the two)\n")]:
                env = dict(os.environ)
                env.pop("LIBPFM_FORCE_PMU", None)
                q = subprocess.run([BINARY, "--workload", "counter", "--out",
                                    os.path.join(d, "run")] + args, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=60, env=env)
                self.assertEqual(q.returncode, 2, args)
                self.assertEqual(q.stderr, err)
                self.assertEqual(os.listdir(d), [])

    def test_software_only_and_off(self):
        p, rows, meta = run_with_meta(["--workload", "counter", "--impl", "futex-mutex",
                                       "--threads", "2", "--counters", "software"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for col, ev in dict(HW_EVENTS, c2c_per_op="c2c-transfers").items():
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
