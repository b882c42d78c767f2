"""Measurement must not disturb what it measures: in the release build the
cheapest locks' and counters' hot loops call no function per operation.
Each workload instantiates its loop once per implementation with the ops
as compile-time constants (workloads/workload.h); this reads the
machine code of those loops back with objdump and checks that every call
and every jump out of the loop goes to the harness's slow paths (the
window transitions and the latency samples), never to a lock operation.

usage: python3 test_inline.py PATH_TO_lockbench PATH_TO_objdump

Only meaningful in an optimised build without sanitizers (instrumented
code calls the sanitizer runtime on every access): tests/meson.build
registers it only there.
"""
import re
import subprocess
import unittest

import lbtest

BIN = None
OBJDUMP = None

# What a hot loop may call: the harness's slow paths, each taken once per
# window transition or once per latency sample, never per operation
# (harness/worker.h), and the clock those samples read.  A new call here
# is a change to what every measurement includes: add it only knowingly.
SLOW_PATHS = {"lb_worker_transition", "lb_finish", "lb_sample_take", "lb_hist_bucket",
              "clock_gettime@plt"}

# The cheapest implementations: a call per op would be a large part of
# their cost.  Loops named <workload>_loop_<sym>.
LOOPS = ["counter_loop_ck_fas", "counter_loop_ck_mcs", "counter_loop_ck_ticket",
         "counter_loop_futex_mutex", "counter_loop_atomic_faa", "counter_loop_none_noop",
         "counter_loop_lit_ttas_eb", "counter_loop_lit_partitioned_ticket",
         "trylock_loop_ck_fas", "trylock_loop_futex_mutex"]
# futex-mutex's lock and unlock are inline; their slow paths enter the
# kernel through syscall(2), only when contended.
KERNEL = {"counter_loop_futex_mutex": {"syscall@plt"}, "trylock_loop_futex_mutex": {"syscall@plt"}}

_DIS = {}


def disassembly():
    """{function: [instruction text]} of the binary's .text (cached)."""
    if not _DIS:
        out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", BIN], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        fn = None
        for line in out.splitlines():
            m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
            if m:
                fn = m.group(1)
                _DIS[fn] = []
            elif fn and re.match(r"^\s+[0-9a-f]+:\s", line):
                _DIS[fn].append(line.split(":", 1)[1].strip())
    return _DIS


def targets(fn):
    """The calls and jumps of fn that leave it: a set of symbol names, with
    '*indirect' for a call through a register or memory.  A function that
    is only a jump to another is that other's twin (the compiler folds
    identical loops, such as none-noop's and atomic-sharded's, into one):
    its targets are the other's."""
    insns = disassembly()[fn]
    m = re.match(r"^jmp\w*\s+[0-9a-f]+ <([^>+]+)>$", insns[0]) if insns else None
    if m and m.group(1) != fn:
        return targets(m.group(1))
    out = set()
    for insn in insns:
        m = re.match(r"^(call|jmp)\w*\s+(.*)$", insn)
        if not m:
            continue
        if m.group(2).startswith("*"):
            out.add("*indirect")
            continue
        t = re.search(r"<([^>+]+)(\+0x[0-9a-f]+)?>", m.group(2))
        if t and t.group(1) != fn:
            out.add(t.group(1))
    return out


class Inline(unittest.TestCase):
    def test_cheapest_loops_call_only_slow_paths(self):
        dis = disassembly()
        for fn in LOOPS:
            with self.subTest(loop=fn):
                self.assertIn(fn, dis, "no %s in %s: renamed, or not a release build?" % (fn, BIN))
                extra = targets(fn) - SLOW_PATHS - KERNEL.get(fn, set())
                self.assertEqual(extra, set(), "%s calls %s per operation" % (fn, sorted(extra)))

    def test_loops_call_the_slow_paths(self):
        # The check above would pass on a stub: each loop must really be a
        # hot loop, which publishes its count and samples latency.
        for fn in LOOPS:
            with self.subTest(loop=fn):
                self.assertIn("lb_sample_take", targets(fn))
                self.assertIn("lb_worker_transition", targets(fn))

    def test_a_call_is_seen(self):
        # The reader itself: pthread-mutex's loop calls glibc's lock.
        self.assertIn("pthread_mutex_lock@plt", targets("counter_loop_pthread_mutex"))
        self.assertIn("pthread_mutex_unlock@plt", targets("counter_loop_pthread_mutex"))


if __name__ == "__main__":
    raise SystemExit(lbtest.main(globals(), ["BIN", "OBJDUMP"]))
