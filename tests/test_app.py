"""./bench app (scripts/app.py) on the shim's test program: interleaved
rows, glibc as the baseline, the correctness check catching a program
whose output changes, --check-output FILE, --threads-env, and one-line
refusals with exit status 2.

usage: test_app.py APP_PY LIBLBSHIM SHIM_PROG LOCKBENCH
"""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

APP = SHIM = PROG = BIN = None
GUARD = 300


def app(args, out):
    p = subprocess.run([sys.executable, APP, SHIM, BIN, "--out", out] + args,
                       capture_output=True, text=True, timeout=GUARD)
    rows = []
    if os.path.exists(os.path.join(out, "results.csv")):
        with open(os.path.join(out, "results.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    return p, rows


class App(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "run")

    def tearDown(self):
        self.tmp.cleanup()

    def test_rows_interleaved_and_checked(self):
        p, rows = app(["--impl", "futex-mutex,ck-mcs", "--repeat", "2", "--", PROG], self.out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([(r["impl"], r["rep"]) for r in rows],
                         [("glibc", "1"), ("futex-mutex", "1"), ("ck-mcs", "1"),
                          ("glibc", "2"), ("futex-mutex", "2"), ("ck-mcs", "2")])
        self.assertEqual({r["output_sha256"] for r in rows}.__len__(), 1)
        for r in rows:
            self.assertEqual((r["verified"], r["exit_status"], r["workload"]), ("ok", "0", "app"))
            self.assertGreater(float(r["wall_s"]), 0)
            if r["impl"] == "glibc":
                self.assertEqual((r["backend"], r["acquisitions"]), ("glibc", ""))
            else:
                # 2 x 200000 + 2 x 50000 x 3 nested + the program's others
                self.assertGreaterEqual(int(r["acquisitions"]), 700000)
                self.assertLessEqual(int(r["contended"]), int(r["acquisitions"]))
                self.assertEqual(int(r["fallback_locks"]), 2)
        lines = p.stdout.splitlines()
        self.assertEqual([l.split()[0] for l in lines], ["impl", "glibc", "futex-mutex", "ck-mcs"])
        self.assertEqual(lines[1].split()[3], "1.00")  # glibc's ratio to itself

    def test_a_changed_output_fails(self):
        p, rows = app(["--impl", "futex-mutex", "--repeat", "1", "--", "sh", "-c",
                       "echo ${LB_SHIM_IMPL:-glibc}"], self.out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual([r["verified"] for r in rows], ["ok", "FAIL"])
        self.assertIn("1 FAILED their check or timed out", p.stderr)

    def test_a_changed_exit_status_fails(self):
        p, rows = app(["--impl", "ck-fas", "--repeat", "1", "--", "sh", "-c",
                       "[ -z \"$LB_SHIM_IMPL\" ]"], self.out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual([(r["exit_status"], r["verified"]) for r in rows],
                         [("0", "ok"), ("1", "FAIL")])

    def test_timeout(self):
        # the shim row sleeps past the limit: killed (its whole process
        # group, the sleep included), TIMEOUT, exit 1
        p, rows = app(["--impl", "futex-mutex", "--repeat", "1", "--timeout", "1", "--", "sh",
                       "-c", "[ -z \"$LB_SHIM_IMPL\" ] || sleep 30"], self.out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual([(r["impl"], r["verified"]) for r in rows],
                         [("glibc", "ok"), ("futex-mutex", "TIMEOUT")])
        self.assertEqual(float(rows[1]["wall_s"]), 1.0)
        self.assertIn("TIMEOUT", p.stdout)

    def test_check_output_file_and_threads_env(self):
        f = os.path.join(self.tmp.name, "made.txt")
        p, rows = app(["--impl", "futex-mutex", "--repeat", "1", "--check-output", f,
                       "--threads-env", "NT=1,2", "--", "sh", "-c",
                       "echo $NT > %s; echo ${LB_SHIM_IMPL:-}" % f], self.out)
        # stdout differs between rows, the file does not: the file is what is checked
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([(r["impl"], r["threads"], r["verified"]) for r in rows],
                         [("glibc", "1", "ok"), ("futex-mutex", "1", "ok"),
                          ("glibc", "2", "ok"), ("futex-mutex", "2", "ok")])

    def test_refusals(self):
        cases = [
            (["--impl", "nope", "--", "true"], "app: --impl 'nope' is not a mutex; valid: glibc, all,"),
            (["--impl", "pthread-mutex", "--", "true"], "is glibc's own: it is the glibc row"),
            (["--impl", "ck-clh", "--", "true"], "has no trylock or cannot run here"),
            (["--impl", "zz-*", "--", "true"], "matches no mutex the shim runs"),
            (["--repeat", "0", "--", "true"], "app: --repeat '0' is not a repetition count"),
            (["--threads-env", "=1", "--", "true"], "is not VAR=V1,V2,..."),
            (["--bogus", "--", "true"], "app: unknown option '--bogus'"),
            (["--timeout", "0", "--", "true"], "app: --timeout '0' is not a time limit"),
            (["--timeout", "x", "--", "true"], "app: --timeout 'x' is not a time limit"),
            (["--impl", "futex-mutex"], "app: give the command after --"),
            (["--impl", "futex-mutex", "--"], "app: no command after --"),
            (["--impl", "futex-mutex", "--", "/nonexistent/prog"],
             "app: cannot run '/nonexistent/prog': not found or not executable"),
        ]
        # an --out that cannot be written: one line, exit 2, nothing made
        p = subprocess.run([sys.executable, APP, SHIM, BIN, "--out", "/proc/lbapp'x",
                            "--impl", "futex-mutex", "--", "true"],
                           capture_output=True, text=True, timeout=GUARD)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("app: --out /proc/lbapp'x: cannot write there", p.stderr)
        for args, needle in cases:
            with self.subTest(args=args):
                out = os.path.join(self.tmp.name, "r%d" % cases.index((args, needle)))
                p, rows = app(args, out)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(needle, lines[0])


if __name__ == "__main__":
    APP, SHIM, PROG, BIN = (os.path.abspath(a) for a in sys.argv[1:5])
    del sys.argv[1:5]
    unittest.main(verbosity=2)
