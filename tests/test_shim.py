"""liblbshim.so under its test program (tests/shim_prog.c).

The program prints one line per case and exits 0 when every case came out
as it must.  Under glibc and under the shim with every mutex the shim
takes, the output must be identical line for line; the shim's counts file
must name the implementation and count what the program did.  Bad
LB_SHIM_IMPL values must be refused with one line and exit status 2.

usage: test_shim.py LIBLBSHIM SHIM_PROG LOCKBENCH
"""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

import lbtest

SHIM = PROG = BIN = None
GUARD = 120  # a hang guard per run, not a speed limit


def run(impl=None, stats=None):
    env = dict(os.environ)
    if impl is not None:
        env["LD_PRELOAD"] = SHIM
        env["LB_SHIM_IMPL"] = impl
    if stats:
        env["LB_SHIM_STATS"] = stats
    return subprocess.run([PROG], env=env, capture_output=True, text=True, timeout=GUARD)


def shim_impls():
    """Mutexes the shim takes: a trylock, not glibc's own, not hidden."""
    return sorted(i for i, im in lbtest.listing(BIN).items()
                  if im.kind == "mutex" and "trylock" in im.caps and not i.startswith("pthread-")
                  and "hidden" not in im.caps and "unavailable" not in im.caps)


class Shim(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.glibc = run()

    def test_glibc_baseline(self):
        p = self.glibc
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 12, p.stdout)
        self.assertEqual(lines[0], "static: counter 400000 (want 400000)")
        self.assertEqual(lines[-1], "fork: the child's 2 threads counted 20000")

    def test_every_mutex_gives_glibcs_output(self):
        ids = shim_impls()
        self.assertIn("futex-mutex", ids)
        self.assertIn("ck-mcs", ids)
        self.assertNotIn("ck-clh", ids)  # no trylock
        for impl in ids:
            with self.subTest(impl=impl), tempfile.TemporaryDirectory() as d:
                p = run(impl, d)
                self.assertEqual((p.returncode, p.stdout, p.stderr),
                                 (0, self.glibc.stdout, ""), impl)
                files = sorted(os.listdir(d))
                # the program and its forked child each leave their counts,
                # the child's from zero: its 2 x 10000, not the parent's too
                self.assertEqual(len(files), 2, files)
                child = [f for f in files if f != "shim.%d.csv" % p_pid(d, files)][0]
                with open(os.path.join(d, child)) as f:
                    crow = list(csv.reader(f))
                self.assertEqual(dict(zip(crow[0], crow[1]))["acquisitions"], "20000")
                with open(os.path.join(d, "shim.%d.csv" % p_pid(d, files))) as f:
                    rows = list(csv.reader(f))
                head = dict(zip(rows[0], rows[1]))
                self.assertEqual(head["impl"], impl)
                # 2 x 200000 static + 2 x 50000 x 3 nested + the rest
                self.assertGreaterEqual(int(head["acquisitions"]), 700000)
                self.assertLessEqual(int(head["contended"]), int(head["acquisitions"]))
                # the attr-made recursive and error-checking mutexes
                self.assertEqual(int(head["fallback_locks"]), 2)
                self.assertGreaterEqual(int(head["fallback_acquisitions"]), 4)
                self.assertEqual(int(head["cond_timeouts"]), 3)
                self.assertGreaterEqual(int(head["locks_seen"]), 8)
                self.assertEqual(rows[2], ["lock_rank", "acquisitions", "contended"])
                self.assertEqual(rows[3][:2], ["1", "400000"])  # the static mutex

    def test_refusals(self):
        for bad in ("nope", "pthread-mutex", "ck-clh", "ck-rwlock", "test-stuck", ""):
            with self.subTest(impl=bad):
                p = run(bad)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn("lbshim: LB_SHIM_IMPL='%s' is not a mutex with a trylock" % bad,
                              lines[0])


def p_pid(d, files):
    """The parent's pid among the two files: the one whose counts include
    the 400000 static acquisitions (the child's counted 20000)."""
    for name in files:
        with open(os.path.join(d, name)) as f:
            rows = list(csv.reader(f))
        if int(dict(zip(rows[0], rows[1]))["acquisitions"]) >= 400000:
            return int(name.split(".")[1])
    raise AssertionError("no counts file has the parent's acquisitions: %s" % files)


if __name__ == "__main__":
    SHIM, PROG, BIN = (os.path.abspath(a) for a in sys.argv[1:4])
    del sys.argv[1:4]
    unittest.main(verbosity=2)
