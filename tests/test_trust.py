#!/usr/bin/env python3
"""Results that can't break or lie, and runs that can't be fooled.

    python3 tests/test_trust.py PATH_TO_lockbench

Each test is a way a run used to break or lie (issue 8):
  - a CPU-list pin must not add a field to summary.csv;
  - a full disk or a kill -9 at any moment never leaves a half file under
    its final name, and a write failure exits 1 with one line naming it;
  - two runs with the same --out: exactly one is refused;
  - a run that ends early lists only what it wrote and keeps its diagnosis
    in meta.json;
  - a path or hostname full of shell and gnuplot syntax is only a name;
  - --warmup 0 opens the window only on threads that have run;
  - taskset restricts the topology, and the run says so;
  - SIGSTOP/SIGCONT is not a stall;
  - a concurrent run on the machine is warned about;
  - every run's files agree with each other.
Standard library only; no assertion depends on timing (sleeps only decide
when a signal is sent, never what the result must be).
"""
import csv
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import lbtest

BIN = None
GUARD = 120  # seconds per process: a hang guard, not a timing assertion
SHORT = ["--duration", "0.05", "--warmup", "0.01", "--repeat", "1"]
FINAL = ("results.csv", "threads.csv", "summary.csv", "meta.json", "report.html")


def run(args, **kw):
    return subprocess.run([BIN] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=kw.pop("timeout", GUARD), **kw)


def read_csv(path):
    with open(path, newline="") as fh:
        raw = list(csv.reader(fh))
    return raw[0], [dict(zip(raw[0], r)) for r in raw[1:]], raw[1:]


def describe(p):
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-2000:],
                                                  p.stderr[-3000:])


class Base(unittest.TestCase):
    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="lb-trust-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def assert_complete(self, d):
        """Every file under a final name in d is whole: a CSV whose every row
        has the header's field count and ends in a newline, JSON that
        parses, a PNG that ends with its IEND chunk, an SVG that closes."""
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if name.endswith(".csv"):
                with open(path, "rb") as fh:
                    data = fh.read()
                self.assertTrue(data.endswith(b"\n"), "%s: no final newline" % path)
                header, _, raw = read_csv(path)
                self.assertGreater(len(header), 3, path)
                for i, r in enumerate(raw):
                    self.assertEqual(len(r), len(header), "%s row %d: %d fields, header %d"
                                     % (path, i + 1, len(r), len(header)))
            elif name.endswith(".json"):
                with open(path) as fh:
                    json.load(fh)
            elif name.endswith(".png"):
                with open(path, "rb") as fh:
                    data = fh.read()
                self.assertTrue(data.startswith(b"\x89PNG") and
                                data.endswith(b"IEND\xaeB`\x82"), "%s: truncated PNG" % path)
            elif name.endswith(".svg") or name.endswith(".html"):
                with open(path, "rb") as fh:
                    data = fh.read().rstrip()
                self.assertTrue(data.endswith(b"</svg>") or data.endswith(b"</html>"),
                                "%s: truncated" % path)

    def listed_files(self, stderr, d):
        """The file list of the final 'results in DIR/ (...)' line."""
        key = "results in %s/ (" % d
        line = [l for l in stderr.splitlines() if key in l]
        self.assertEqual(len(line), 1, stderr)
        inside = line[0].split(key, 1)[1].rsplit(")", 1)[0]
        names = inside.split(";")[0].split(",")[0].split()
        return names


class Csv(Base):
    def test_cpu_list_pin_is_one_quoted_cell(self):
        cpus = sorted(os.sched_getaffinity(0))
        pin = ",".join(map(str, cpus[:2]))
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "counter", "--impl", "futex-mutex,none-racy", "--threads",
                 "1,2", "--pin", pin, "--no-plot", "--out", d] + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assert_complete(d)
        for name in ("results.csv", "summary.csv", "threads.csv"):
            _, rows, _ = read_csv(os.path.join(d, name))
            self.assertTrue(rows, name)
            for r in rows:
                self.assertEqual(r["pin"], pin, (name, r))
        _, res, _ = read_csv(os.path.join(d, "results.csv"))
        for r in res:
            # the CPU model carries no padding
            self.assertEqual(r["cpu_model"], r["cpu_model"].strip(), r)
            self.assertNotEqual(r["cpu_model"], "", r)
            want = ";".join(map(str, cpus[:2][:int(r["threads"])]))
            self.assertEqual(r["cpus"], want, r)

    def test_files_agree_with_each_other(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "counter", "--impl", "futex-mutex,ck-ticket,atomic-faa",
                 "--threads", "1,2,3", "--repeat", "2", "--duration", "0.05", "--warmup",
                 "0.01", "--no-plot", "--out", d])
        self.assertEqual(p.returncode, 0, describe(p))
        _, res, _ = read_csv(os.path.join(d, "results.csv"))
        _, thr, _ = read_csv(os.path.join(d, "threads.csv"))
        self.assertEqual(len(res), 3 * 3 * 2)
        for r in res:
            mine = [t for t in thr if (t["impl"], t["threads"], t["rep"]) ==
                    (r["impl"], r["threads"], r["rep"])]
            self.assertEqual(len(mine), int(r["threads"]), r)
            # the row is every thread's, thread 0 included
            self.assertEqual(int(r["lat_samples"]), sum(int(t["lat_samples"]) for t in mine))
            self.assertEqual(int(r["ops"]), sum(int(t["ops"]) for t in mine))
            self.assertEqual(int(r["thread_ops_min"]), min(int(t["ops"]) for t in mine))
            self.assertEqual(int(r["thread_ops_max"]), max(int(t["ops"]) for t in mine))
            if r["lat_p50_ns"] != "":
                p50, p99, p999, mx = (float(r[k]) for k in (
                    "lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns"))
                self.assertTrue(p50 <= p99 <= p999 <= mx, r)
                self.assertEqual(mx, max(float(t["lat_max_ns"]) for t in mine
                                         if t["lat_max_ns"] != ""))
            self.assertGreater(float(r["lat_floor_ns"]), 0, r)
            share = float(r["cpu_share"])
            # Each thread's CPU time (CLOCK_THREAD_CPUTIME_ID) is read inside
            # its own view of the window, and the share's denominator is
            # the span of those views times the CPUs the threads could run
            # on at once: never above 1 (1.0005: the cell's rounding), also
            # with 3 threads on 2 PUs.
            self.assertTrue(0 <= share <= 1.0005, r)
            if r["cpu_wait_share"] != "":
                self.assertTrue(0 <= float(r["cpu_wait_share"]) <= 1.0, r)
                self.assertIn(r["starved"], ("0", "1"), r)
            # --warmup 0.01 and every worker ran before the window opened
            for t in mine:
                self.assertGreaterEqual(int(t["warmup_ops"]), 1, t)
        _, summ, _ = read_csv(os.path.join(d, "summary.csv"))
        for s in summ:
            reps = sorted(float(r["ops_per_sec"]) for r in res
                          if (r["impl"], r["threads"]) == (s["impl"], s["threads"]))
            self.assertEqual(len(reps), 2)
            self.assertAlmostEqual(float(s["ops_per_sec_median"]), sum(reps) / 2, delta=0.1)
            self.assertEqual(float(s["ops_per_sec_min"]), reps[0])
            self.assertEqual(float(s["ops_per_sec_max"]), reps[1])

    def test_one_repetition_has_no_interval(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "counter", "--impl", "futex-mutex", "--threads", "1",
                 "--no-plot", "--out", d] + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        row = [l.split(None, 1)[1] for l in p.stdout.splitlines()
               if l.split()[1:2] == ["futex-mutex"]]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(row[0].split()[3], "-", "+-CI%% of one repetition: %r" % row[0])
        _, summ, _ = read_csv(os.path.join(d, "summary.csv"))
        for k in ("ops_per_sec_ci_lo", "ops_per_sec_ci_hi", "ci_level"):
            self.assertEqual(summ[0][k], "", k)

    def test_repeated_param_refused(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "counter", "--param", "depth=2", "--param", "depth=3",
                 "--out", d])
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertEqual(p.stderr, "lockbench: --param: 'depth' is given twice ('depth=2' "
                         "and 'depth=3'); give each parameter once\n")
        self.assertFalse(os.path.exists(d))


class Files(Base):
    def mount_tiny(self, size="64k"):
        d = self.tmpdir()
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertEqual(m.returncode, 0, "this test needs root to mount a tiny tmpfs "
                         "(CI runs as root): %s" % m.stdout)
        self.addCleanup(subprocess.run, ["umount", "-l", d])
        return d

    def test_disk_full_exits_1_naming_the_file(self):
        mnt = self.mount_tiny()
        d = os.path.join(mnt, "run")
        # three repetitions of 17 configurations of up to 4 threads: far more
        # than 64 KiB of results.csv and threads.csv
        p = run(["--workload", "counter", "--impl", "futex,ck", "--threads", "1-4",
                 "--duration", "0.01", "--warmup", "0.005", "--repeat", "3", "--out", d],
                timeout=300)
        self.assertEqual(p.returncode, 1, describe(p))
        errs = [l for l in p.stderr.splitlines() if "cannot write" in l]
        self.assertEqual(len(errs), 1, p.stderr)
        self.assertRegex(errs[0], r"^lockbench: cannot write %s/\S+: No space left on device"
                         % d)
        self.assert_complete(d)
        # what it lists is what is there, and nothing half-written is left
        for name in os.listdir(d):
            self.assertFalse(name.endswith(".tmp"), name)
        for name in self.listed_files(p.stderr, d):
            self.assertTrue(os.path.exists(os.path.join(d, name)), name)

    def test_fsync_failure_exits_1_naming_the_file(self):
        """The data was accepted but fsync() reports an I/O error (the
        fsync_fail.c shim): the file the run was writing is reported in one
        line, exit 1, and it is not left under its name, for a file written
        at once (summary.csv) and for a streamed one (results.csv)."""
        shim = os.environ.get("LB_TEST_FSYNC_SHIM")
        if not shim:
            self.skipTest("LB_TEST_FSYNC_SHIM not set (meson sets it)")
        for name, suffix in (("summary.csv", ".tmp"), ("results.csv", ".partial")):
            with self.subTest(file=name):
                d = os.path.join(self.tmpdir(), "run")
                env = dict(os.environ, LD_PRELOAD=shim, LB_TEST_FSYNC_FAIL=name + suffix)
                p = subprocess.run([BIN, "--workload", "counter", "--impl", "futex-mutex",
                                    "--threads", "1", "--repeat", "1", "--no-plot", "--out",
                                    d] + SHORT, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=GUARD, env=env)
                self.assertEqual(p.returncode, 1, describe(p))
                errs = [l for l in p.stderr.splitlines() if "cannot write" in l]
                self.assertEqual(len(errs), 1, p.stderr)
                self.assertTrue(errs[0].startswith("lockbench: cannot write %s: "
                                                   "Input/output error"
                                                   % os.path.join(d, name)), errs[0])
                self.assertFalse(os.path.exists(os.path.join(d, name)))
                self.assertFalse(os.path.exists(os.path.join(d, name + suffix)))
                for left in os.listdir(d):
                    self.assertFalse(left.endswith(".tmp"), left)

    def test_kill_9_never_leaves_a_half_file(self):
        rnd = random.Random(8)
        for i in range(8):
            d = os.path.join(self.tmpdir(), "run")
            proc = subprocess.Popen([BIN, "--workload", "counter", "--impl",
                                     "futex-mutex,ck-fas,none-noop", "--threads", "1,2",
                                     "--duration", "0.05", "--warmup", "0.01", "--repeat",
                                     "4", "--out", d], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.05, 3.0))  # when to kill, not what to expect
            proc.kill()
            proc.wait(timeout=GUARD)
            with self.subTest(kill=i):
                if os.path.isdir(d):
                    self.assert_complete(d)
                    names = os.listdir(d)
                    # rows kept so far, under a name no reader takes for a result
                    if "results.csv" not in names:
                        self.assertNotIn("summary.csv", names)

    def test_same_out_at_once_one_is_refused(self):
        d = os.path.join(self.tmpdir(), "run")
        args = [BIN, "--workload", "counter", "--impl", "none-noop", "--threads", "1",
                "--no-plot", "--out", d] + SHORT
        procs = [subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True)
                 for _ in range(2)]
        outs = [pr.communicate(timeout=GUARD) for pr in procs]
        codes = sorted(pr.returncode for pr in procs)
        self.assertEqual(codes, [0, 2], outs)
        refused = outs[[pr.returncode for pr in procs].index(2)][1]
        self.assertIn("is taken by another lockbench run", refused)
        self.assertEqual(len(refused.strip().splitlines()), 1, refused)
        _, rows, _ = read_csv(os.path.join(d, "results.csv"))
        self.assertEqual(len({r["run_id"] for r in rows}), 1)
        with open(os.path.join(d, "meta.json")) as fh:
            self.assertEqual(json.load(fh)["rows"], len(rows))

    def test_stall_lists_only_what_it_wrote_and_keeps_the_diagnosis(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "deadlock", "--impl", "futex-mutex", "--threads", "2",
                 "--duration", "30", "--warmup", "0.05", "--repeat", "1", "--no-plot",
                 "--out", d])
        self.assertEqual(p.returncode, 1, describe(p))
        listed = self.listed_files(p.stderr, d)
        self.assertEqual(sorted(listed),
                         sorted(n for n in os.listdir(d) if n in FINAL or n.endswith(".png")))
        self.assertIn("no plots (--no-plot)", p.stderr)
        self.assertNotIn(", plots", p.stderr)
        with open(os.path.join(d, "meta.json")) as fh:
            meta = json.load(fh)
        self.assertEqual(meta["status"], "stalled")
        diag = meta["diagnosis"]
        self.assertEqual(diag["kind"], "deadlock")
        self.assertIn("watchdog: STALL", diag["summary"])
        self.assertIn("DEADLOCK: wait-for cycle: thread", diag["detail"])
        self.assertEqual([t["tid"] for t in diag["threads"]], [0, 1])
        self.assertEqual(sorted(meta["files"]), sorted(listed))
        self.assert_complete(d)

    def test_stall_report_html_shows_the_diagnosis(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "deadlock", "--impl", "pthread-mutex", "--threads", "2",
                 "--duration", "30", "--warmup", "0.05", "--repeat", "1", "--out", d])
        self.assertEqual(p.returncode, 1, describe(p))
        listed = self.listed_files(p.stderr, d)
        self.assertIn("report.html", listed)
        self.assertIn("(the diagnosis is in meta.json and report.html)", p.stderr)
        with open(os.path.join(d, "report.html")) as fh:
            page = fh.read()
        self.assertIn("DEADLOCK: wait-for cycle: thread 0 -&gt; (lock B) -&gt; thread 1", page)
        self.assertEqual(sorted(listed),
                         sorted(n for n in os.listdir(d) if n in FINAL or n.endswith(".png")))
        self.assert_complete(d)

    def test_check_failure_diagnosis(self):
        d = os.path.join(self.tmpdir(), "run")
        p = run(["--workload", "counter", "--impl", "test-busted", "--threads", "2",
                 "--no-plot", "--out", d] + lbtest.BUSTED_WINDOWS)
        self.assertEqual(p.returncode, 1, describe(p))
        with open(os.path.join(d, "meta.json")) as fh:
            meta = json.load(fh)
        self.assertEqual(meta["status"], "check-failed")
        self.assertEqual(meta["diagnosis"]["kind"], "check-failed")
        f = meta["diagnosis"]["failures"]
        self.assertTrue(f)
        # one entry per failed repetition, each naming the loss
        with open(os.path.join(d, "results.csv"), newline="") as fh:
            want = [("test-busted", 2, int(r["rep"])) for r in csv.DictReader(fh)
                    if r["verified"] == "fail"]
        self.assertEqual([(x["impl"], x["threads"], x["rep"]) for x in f], want)
        for x in f:
            self.assertIn("lost", x["message"])


class Hostile(Base):
    PAYLOAD = "x'; touch %s; echo '$(touch %s)`touch %s`\"\n"

    def test_out_path_is_only_a_name(self):
        base = self.tmpdir()
        canary = os.path.join(base, "pwned")
        name = self.PAYLOAD % (canary, canary, canary)
        d = os.path.join(base, name)
        p = run(["--workload", "counter", "--impl", "futex-mutex", "--threads", "1,2",
                 "--out", d] + SHORT)
        self.assertFalse(os.path.exists(canary), "a shell ran part of the path")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertTrue(os.path.isfile(os.path.join(d, "results.csv")))
        self.assert_complete(d)

    def test_hostname_is_sanitised(self):
        base = self.tmpdir()
        canary = os.path.join(base, "pwned")
        host = "a'b;touch %s;$(x)" % canary
        # sethostname(2) itself takes any bytes (hostname(1) would refuse)
        code = ("import os, socket, sys; socket.sethostname(sys.argv[1]); "
                "os.execv(sys.argv[2], sys.argv[2:])")
        u = subprocess.run(["unshare", "--uts", sys.executable, "-c", code, host, BIN,
                            "--workload", "counter", "--impl", "none-noop", "--threads", "1",
                            "--no-plot"] + SHORT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        self.assertEqual(u.returncode, 0, "needs root for unshare --uts (CI runs as root)\n"
                         + describe(u))
        self.assertFalse(os.path.exists(canary))
        line = [l for l in u.stderr.splitlines() if "results in " in l]
        self.assertEqual(len(line), 1, u.stderr)
        d = line[0].split("results in ", 1)[1].split("/ (", 1)[0]
        self.addCleanup(shutil.rmtree, os.path.dirname(d), ignore_errors=True)
        safe = "a_b_touch_" + canary.replace("/", "_") + "___x_"
        self.assertEqual(os.path.basename(os.path.dirname(d)), safe)
        _, rows, _ = read_csv(os.path.join(d, "results.csv"))
        self.assertEqual(rows[0]["host"], safe)


class Machine(Base):
    def test_taskset_restricts_the_topology(self):
        cpus = sorted(os.sched_getaffinity(0))
        self.assertGreaterEqual(len(cpus), 2, "needs two CPUs to restrict to one")
        one = str(cpus[-1])
        t = subprocess.run(["taskset", "-c", one, BIN, "--topology"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=GUARD)
        self.assertEqual(t.returncode, 0, describe(t))
        self.assertIn("restricted to CPUs %s of " % one, t.stdout)
        self.assertIn("1 PU(s)", t.stdout)
        listed = [l.split()[1].rstrip(":") for l in t.stdout.splitlines()
                  if l.startswith("  cpu ")]
        self.assertEqual(listed, [one])
        d = os.path.join(self.tmpdir(), "run")
        p = subprocess.run(["taskset", "-c", one, BIN, "--workload", "counter", "--impl",
                            "futex-mutex", "--threads", "1,2", "--no-plot", "--out", d] + SHORT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=GUARD)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("lockbench: restricted to CPUs %s of " % one, p.stderr)
        _, res, _ = read_csv(os.path.join(d, "results.csv"))
        for r in res:
            self.assertEqual(r["pus"], "1", r)
            self.assertEqual(set(r["cpus"].split(";")), {one}, r)
            self.assertEqual(r["oversubscribed"], "1" if r["threads"] == "2" else "0", r)
        _, thr, _ = read_csv(os.path.join(d, "threads.csv"))
        self.assertEqual({t["cpu"] for t in thr}, {one})

    def test_sigstop_is_not_a_stall(self):
        d = os.path.join(self.tmpdir(), "run")
        proc = subprocess.Popen([BIN, "--workload", "counter", "--impl", "futex-mutex",
                                 "--threads", "2", "--duration", "4", "--warmup", "0.1",
                                 "--repeat", "1", "--watchdog", "0.5", "--no-plot", "--out", d],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        # once it is running: stop it for six watchdog periods, go on
        deadline = time.monotonic() + GUARD
        while not os.path.exists(os.path.join(d, "results.csv.partial")):
            self.assertLess(time.monotonic(), deadline, "the run never started")
            time.sleep(0.01)
        time.sleep(0.5)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(3)
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=GUARD)
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn("watchdog", err)
        _, res, _ = read_csv(os.path.join(d, "results.csv"))
        self.assertEqual([r["verified"] for r in res], ["ok"])

    def test_concurrent_run_is_warned_about(self):
        with open("/tmp/lockbench.machine.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # waits for any run that has it now
            try:
                fh.seek(0)
                fh.truncate()
                fh.write("%d\n" % os.getpid())
                fh.flush()
                d = os.path.join(self.tmpdir(), "run")
                p = run(["--workload", "counter", "--impl", "none-noop", "--threads", "1",
                         "--no-plot", "--out", d] + SHORT)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("lockbench: warning: another lockbench run (pid %d) is using this "
                      "machine" % os.getpid(), p.stderr)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
