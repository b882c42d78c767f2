#!/usr/bin/env python3
"""CLI contract tests for lockbench (no benchmark runs).

    python3 tests/test_cli.py PATH_TO_lockbench

Every usage error must exit with status 2, print exactly one line on stderr
that starts with "lockbench: ", names the bad value and (where there are
choices) lists the valid ones, and write nothing: the --out directory is
not created.  --help, --version, --list and --topology must work.

Standard library only.  No timing assertions.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

BINARY = None  # set from argv in main()
TIMEOUT = 30   # a hang guard, not a timing assertion

# Every flag of the DESIGN CLI contract.
CONTRACT_FLAGS = [
    "--workload", "--impl", "--threads", "--duration", "--warmup", "--repeat",
    "--pin", "--cs", "--think", "--param", "--out", "--format", "--no-plot",
    "--seed", "--list", "--topology", "--help", "--version",
]

# Implementation ids the DESIGN names for the counter workload (a floor; the
# full list is read from the binary's own error message, see visible_impls).
KNOWN_IMPLS = ["pthread-mutex", "futex-mutex", "ck-mcs", "atomic-faa", "none-racy",
               "none-noop"]
HIDDEN_IMPLS = ["test-busted", "test-stuck", "test-notry", "test-barrier-early",
                "test-queue-dup", "test-queue-drop", "test-seqlock-blind", "test-treiber-aba",
                "test-set-uaf"]


def run(args, cwd=None):
    return subprocess.run([BINARY] + list(args), cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=TIMEOUT)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lockbench-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def out_dir(self):
        """A fresh --out path inside the temporary directory (not created)."""
        return os.path.join(self.tmp, "out")

    def assert_usage_error(self, args, must_contain=(), out=None, append_out=True,
                           out_exists=False):
        """Run args (plus --out OUT unless append_out is False) and check the
        usage-error contract.  Returns the stderr line."""
        out = out or self.out_dir()
        argv = list(args) + (["--out", out] if append_out else [])
        before = sorted(os.listdir(self.tmp))
        p = run(argv, cwd=self.tmp)
        desc = "lockbench %s\nstdout: %r\nstderr: %r" % (" ".join(argv), p.stdout, p.stderr)
        self.assertEqual(p.returncode, 2, "exit status should be 2 (usage error)\n" + desc)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, "stderr must be exactly one line\n" + desc)
        line = lines[0]
        self.assertTrue(line.startswith("lockbench: "),
                        "stderr must start with 'lockbench: '\n" + desc)
        self.assertEqual(p.stdout, "", "a usage error prints nothing on stdout\n" + desc)
        for s in must_contain:
            self.assertIn(s, line, "the message should mention %r\n%s" % (s, desc))
        # Nothing written: the --out directory is not created (or stays as it
        # was), and nothing appears in the working directory.
        if out.startswith(self.tmp + os.sep) and not out_exists:
            self.assertFalse(os.path.exists(out), "a usage error must not create --out\n" + desc)
        self.assertEqual(sorted(os.listdir(self.tmp)), before,
                         "a usage error must not write files\n" + desc)
        return line


def visible_impls():
    """The implementation ids --impl accepts for counter, read from the list
    the binary prints when given an unknown id."""
    p = run(["--workload", "counter", "--impl", "no-such-impl", "--out",
             os.path.join(tempfile.gettempdir(), "lockbench-never-created-%d" % os.getpid())])
    m = re.search(r"valid for counter: (.*?); backends", p.stderr)
    if not m:
        return []
    return [s.strip() for s in m.group(1).split(",") if s.strip() and s.strip() != "all"]


class UsageErrors(Base):
    W = ["--workload", "counter"]

    # --- workload ---

    def test_unknown_workload(self):
        self.assert_usage_error(["--workload", "nope"], ["'nope'", "counter"])

    def test_missing_workload(self):
        self.assert_usage_error([], ["--workload", "counter"])

    def test_missing_workload_with_other_options(self):
        self.assert_usage_error(["--threads", "2", "--impl", "pthread-mutex"],
                                ["--workload", "counter"])

    # --- impl ---

    def test_unknown_impl(self):
        line = self.assert_usage_error(self.W + ["--impl", "nope"],
                                       ["'nope'", "futex-mutex", "pthread"])
        for impl in KNOWN_IMPLS:
            self.assertIn(impl, line)
        for impl in HIDDEN_IMPLS:
            self.assertNotIn(impl, line, "hidden implementations are not advertised")
        # the whole list, however long the registry grows: every visible
        # implementation, then the backends, to the end of the line
        for impl in lbtest.impls_of(BINARY, "counter"):
            self.assertRegex(line, " %s[,;]" % re.escape(impl))
        self.assertRegex(line, r"; backends: [a-z]+(, [a-z]+)*; kinds: [a-z]+(, [a-z]+)*; "
                               r"or a glob such as 'ck-\*'$")

    def test_unknown_impl_in_list(self):
        self.assert_usage_error(self.W + ["--impl", "pthread-mutex,bogus-lock"],
                                ["'bogus-lock'", "futex-mutex"])

    def test_impl_not_driven_by_workload(self):
        # a mutex cannot run the barrier workload, nor a barrier the counter
        self.assert_usage_error(["--workload", "barrier", "--impl", "futex-mutex"],
                                ["workload barrier does not drive 'futex-mutex' (kind mutex)",
                                 "futex-barrier", "ck-dissemination"])
        self.assert_usage_error(["--workload", "counter", "--impl", "pthread-barrier"],
                                ["does not drive 'pthread-barrier' (kind barrier)",
                                 "futex-mutex"])
        # a backend with nothing for the workload
        self.assert_usage_error(["--workload", "barrier", "--impl", "atomic"],
                                ["drives nothing from backend 'atomic'"])

    def test_malformed_impl_list(self):
        for spec in ["a,,b", "pthread-mutex,", ",pthread-mutex", "pthread-mutex,,futex-mutex",
                     ""]:
            with self.subTest(impl=spec):
                self.assert_usage_error(self.W + ["--impl", spec],
                                        ["'%s'" % spec, "pthread-mutex", "futex-mutex"])

    # --- threads ---

    def test_bad_threads(self):
        for spec in ["0", "4-2", "x", "1,,2", "2000", "-1", "", "1,", "2-x", "0-3",
                     "1-99999999999999999999"]:
            with self.subTest(threads=spec):
                self.assert_usage_error(self.W + ["--threads", spec], ["'%s'" % spec])

    def test_threads_empty_item_blames_the_right_item(self):
        # '1,,2' and '1,' have an empty item; the message must not call the
        # valid item '1' the bad one.
        for spec in ["1,,2", "1,"]:
            with self.subTest(threads=spec):
                line = self.assert_usage_error(self.W + ["--threads", spec], ["'%s'" % spec])
                self.assertNotIn("bad item '1'", line,
                                 "the message blames the valid item '1' for an empty item")

    # --- durations and counts ---

    def test_bad_duration(self):
        for v in ["-1", "0", "abc", "", "1e9", "nan", "inf", "0.5s"]:
            with self.subTest(duration=v):
                self.assert_usage_error(self.W + ["--duration", v], ["'%s'" % v])

    def test_bad_warmup(self):
        for v in ["-0.5", "abc", "nan"]:
            with self.subTest(warmup=v):
                self.assert_usage_error(self.W + ["--warmup", v], ["'%s'" % v])

    def test_bad_repeat(self):
        for v in ["0", "x", "-3", "1.5", "100000"]:
            with self.subTest(repeat=v):
                self.assert_usage_error(self.W + ["--repeat", v], ["'%s'" % v])

    def test_bad_cs_and_think(self):
        for opt in ["--cs", "--think"]:
            for v in ["-5", "abc", "1.5"]:
                with self.subTest(opt=opt, value=v):
                    self.assert_usage_error(self.W + [opt, v], [opt, "'%s'" % v])

    def test_bad_seed(self):
        self.assert_usage_error(self.W + ["--seed", "-1"], ["--seed", "'-1'"])

    def test_bad_watchdog(self):
        for v in ["0", "-1", "abc"]:
            with self.subTest(watchdog=v):
                self.assert_usage_error(self.W + ["--watchdog", v], ["'%s'" % v])

    # --- pin ---

    def test_bad_pin_policy(self):
        self.assert_usage_error(self.W + ["--pin", "diagonal"],
                                ["'diagonal'", "compact", "scatter", "cores", "none"])

    def test_pin_cpu_not_available(self):
        # 99999 is beyond the CPU-list syntax; 65000 is syntactically fine but
        # not a CPU of this machine.  Either way the valid CPUs are listed.
        for spec, bad in [("0,99999", "99999"), ("0,65000", "65000")]:
            with self.subTest(pin=spec):
                line = self.assert_usage_error(self.W + ["--pin", spec], [bad])
                tail = line[line.find("valid"):] if "valid" in line else ""
                self.assertRegex(tail, r"\b\d+(-\d+)?(,\d+(-\d+)?)*\s*$",
                                 "the message should end with the list of valid CPUs: %r"
                                 % line)

    def test_bad_pin_cpu_list(self):
        for spec in ["0,,1", "0,0", "1-0", "0,"]:
            with self.subTest(pin=spec):
                self.assert_usage_error(self.W + ["--pin", spec], ["'%s'" % spec, "compact"])

    # --- format, param ---

    def test_bad_format(self):
        self.assert_usage_error(self.W + ["--format", "xml"],
                                ["'xml'", "table", "csv", "json"])

    def test_unknown_param(self):
        # counter takes depth=; anything else is named, with the valid keys
        self.assert_usage_error(self.W + ["--param", "nosuch=2"], ["nosuch", "depth"])

    def test_bad_param_value(self):
        for v in ["0", "-1", "x", "1001"]:
            with self.subTest(depth=v):
                self.assert_usage_error(self.W + ["--param", "depth=" + v],
                                        ["'%s'" % v, "1 to 1000"])

    def test_malformed_param(self):
        for v in ["nokey", "=3", "k="]:
            with self.subTest(param=v):
                self.assert_usage_error(self.W + ["--param", v], ["'%s'" % v])

    # --- option syntax ---

    def test_did_you_mean(self):
        # a typo gets the nearest real name, for each kind of name
        self.assertIn("lockbench: --workload: unknown workload 'countr' (did you mean counter?);"
                      " valid: counter, ", self.assert_usage_error(["--workload", "countr"]))
        self.assertIn("unknown implementation 'futex-mutx' (did you mean futex-mutex?); valid "
                      "for counter: all, ",
                      self.assert_usage_error(self.W + ["--impl", "futex-mutx"]))
        self.assertIn("has no parameter 'dept' (did you mean depth?); valid: depth, data",
                      self.assert_usage_error(self.W + ["--param", "dept=2"]))
        self.assertEqual("lockbench: unknown option '--durration' (did you mean --duration? "
                         "see --help)",
                         self.assert_usage_error(self.W + ["--durration=1"]))
        # nothing near, or two equally near: no guess
        self.assertNotIn("did you mean", self.assert_usage_error(self.W + ["--impl", "ck-fa"]))
        self.assertNotIn("did you mean", self.assert_usage_error(["--workload", "nope"]))

    def test_unknown_option(self):
        self.assert_usage_error(self.W + ["--frobnicate"], ["--frobnicate"])

    def test_option_missing_value(self):
        # --out comes first so that --threads is really the last argument.
        out = self.out_dir()
        self.assert_usage_error(["--out", out] + self.W + ["--threads"], ["--threads"],
                                out=out, append_out=False)

    def test_unexpected_positional(self):
        self.assert_usage_error(self.W + ["extra"], ["'extra'"])

    # --- out ---

    def test_out_under_a_regular_file(self):
        f = os.path.join(self.tmp, "F")
        with open(f, "w") as fh:
            fh.write("not a directory\n")
        bad = os.path.join(f, "sub")
        self.assert_usage_error(self.W + ["--no-plot"], [bad], out=bad)
        with open(f) as fh:
            self.assertEqual(fh.read(), "not a directory\n")

    def test_out_is_a_regular_file(self):
        f = os.path.join(self.tmp, "F")
        with open(f, "w") as fh:
            fh.write("not a directory\n")
        self.assert_usage_error(self.W + ["--no-plot"], [f], out=f, out_exists=True)
        with open(f) as fh:
            self.assertEqual(fh.read(), "not a directory\n")

    def test_out_in_proc(self):
        self.assert_usage_error(self.W + ["--no-plot"], ["/proc/x"], out="/proc/x")

    def test_out_already_holds_results(self):
        d = os.path.join(self.tmp, "old-run")
        os.mkdir(d)
        res = os.path.join(d, "results.csv")
        content = "run_id,impl\nprevious,pthread-mutex\n"
        with open(res, "w") as fh:
            fh.write(content)
        st = os.stat(res)
        self.assert_usage_error(self.W + ["--no-plot", "--duration", "0.05", "--warmup",
                                          "0.01", "--repeat", "1", "--threads", "1",
                                          "--impl", "none-noop"], ["results.csv"], out=d,
                                out_exists=True)
        self.assertEqual(sorted(os.listdir(d)), ["results.csv"],
                         "nothing else may be written into the old run directory")
        with open(res) as fh:
            self.assertEqual(fh.read(), content, "the existing results.csv was modified")
        self.assertEqual(os.stat(res).st_mtime_ns, st.st_mtime_ns)

    def test_first_error_wins_and_nothing_written(self):
        # A bad value late on the line still stops everything before any file.
        self.assert_usage_error(self.W + ["--impl", "pthread-mutex", "--threads", "1",
                                          "--format", "yaml"], ["'yaml'"])


class Informational(Base):
    def test_help(self):
        p = run(["--help"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        for flag in CONTRACT_FLAGS:
            self.assertRegex(p.stdout, r"(?<![\w-])%s(?![\w-])" % re.escape(flag),
                             "--help does not mention %s" % flag)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_version(self):
        p = run(["--version"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^lockbench \d+\.\d+")
        self.assertEqual(os.listdir(self.tmp), [])

    def test_list(self):
        p = run(["--list"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^\s+counter\b", "--list does not name the counter "
                         "workload")
        ids = visible_impls()
        self.assertTrue(ids, "could not read the implementation ids from the binary")
        for impl in sorted(set(ids) | set(KNOWN_IMPLS)):
            self.assertRegex(p.stdout, r"(?m)^\s+%s\s" % re.escape(impl),
                             "--list does not show %s" % impl)
        for impl in HIDDEN_IMPLS:
            self.assertNotIn(impl, p.stdout, "--list shows the hidden %s without --all" % impl)
        # the selectors --impl takes: every backend and every kind, by name
        sel = re.search(r"(?ms)^--impl takes a comma list of:\n(.*?)\n\n", p.stdout)
        self.assertIsNotNone(sel, "--list does not show the --impl selectors")
        rows = dict(re.findall(r"(?m)^  (all|a backend|a kind|an id|a glob) +(.*)$", sel.group(1)))
        self.assertEqual(sorted(rows), ["a backend", "a glob", "a kind", "all", "an id"])
        listing = lbtest.list_csv(BINARY, show_all=True)
        self.assertEqual(set(rows["a kind"].split(", ")),
                         {r["kind"] for r in listing if r["record"] == "impl"})
        self.assertEqual(set(rows["a backend"].split(", ")),
                         {r["backend"] for r in listing if r["record"] == "impl"} - {"test"})
        self.assertEqual(os.listdir(self.tmp), [])

    def test_list_all(self):
        p = run(["--list", "--all"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        for impl in KNOWN_IMPLS + HIDDEN_IMPLS:
            self.assertRegex(p.stdout, r"(?m)^\s+%s\s" % re.escape(impl),
                             "--list --all does not show %s" % impl)

    def test_list_csv(self):
        p = run(["--list", "--format", "csv"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(p.stdout.splitlines()))
        self.assertEqual(list(rows[0].keys()), ["record", "name", "kind", "backend",
                                                "capabilities", "workloads", "params",
                                                "checks", "summary", "unavailable"])
        impls = {r["name"]: r for r in rows if r["record"] == "impl"}
        wls = {r["name"]: r for r in rows if r["record"] == "workload"}
        self.assertEqual(len(impls) + len(wls), len(rows))
        counter = sorted(i for i, r in impls.items() if "counter" in r["workloads"].split())
        self.assertEqual(counter, sorted(visible_impls()))
        self.assertEqual(impls["futex-mutex"]["kind"], "mutex")
        self.assertEqual(impls["futex-mutex"]["backend"], "futex")
        self.assertEqual(impls["futex-mutex"]["capabilities"].split(), ["trylock", "parks"])
        self.assertIn("counter", impls["futex-mutex"]["workloads"].split())
        self.assertEqual(wls["counter"]["params"], "depth=1 data=shared")
        self.assertIn("mutex", wls["counter"]["kind"].split())
        for impl in HIDDEN_IMPLS:
            self.assertNotIn(impl, impls)
        p = run(["--list", "--all", "--format", "csv"], cwd=self.tmp)
        hidden = {r["name"]: r for r in csv.DictReader(p.stdout.splitlines())
                  if r["record"] == "impl" and r["name"] in HIDDEN_IMPLS}
        self.assertEqual(sorted(hidden), sorted(HIDDEN_IMPLS))
        for r in hidden.values():
            self.assertIn("broken", r["capabilities"].split(), r)
        p = run(["--list", "--format", "json"], cwd=self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "lockbench: --list --format: 'json' is not a listing "
                         "format; valid: table, csv\n")

    def test_unavailable_is_never_silently_missing(self):
        # What cannot run here (ck-elide-fas without RTM; urcu-signal in a
        # TSan build) is listed with its reason and drives no workload;
        # naming it is a usage error that gives the reason; choosing it by a
        # glob leaves it out with a line on stderr.  On a machine where all
        # can run, the contract holds vacuously: the listing says so.
        p = run(["--list", "--format", "csv"], cwd=self.tmp)
        rows = [r for r in csv.DictReader(p.stdout.splitlines()) if r["record"] == "impl"]
        for r in rows:
            self.assertEqual("unavailable" in r["capabilities"].split(), bool(r["unavailable"]),
                             r)
        gone = {r["name"]: r for r in rows if r["unavailable"]}
        elide = [r for r in rows if r["name"] == "ck-elide-fas"]
        self.assertEqual(len(elide), 1)
        if elide[0]["unavailable"]:
            self.assertRegex(elide[0]["unavailable"], r"RTM")
        table = run(["--list"], cwd=self.tmp).stdout
        for name, r in gone.items():
            self.assertEqual(r["workloads"], "", r)
            self.assertIn("UNAVAILABLE here: %s" % r["unavailable"], table)
            wl = {"mutex": "counter", "rwlock": "readmostly"}.get(r["kind"])
            if not wl:
                continue
            self.assert_usage_error(["--workload", wl, "--impl", name],
                                    ["'%s' is unavailable here: %s" % (name, r["unavailable"])])
            out = self.out_dir()
            q = run_sweep(["--workload", wl, "--impl", name.split("-")[0] + "-*",
                           "--threads", "1", "--duration", "0.02", "--warmup", "0",
                           "--repeat", "1", "--no-plot", "--quiet", "--out", out])
            self.assertEqual(q.returncode, 0, q.stderr)
            self.assertIn("lockbench: %s: %s is left out: unavailable here (%s)\n"
                          % (wl, name, r["unavailable"]), q.stderr)
            with open(os.path.join(out, "results.csv"), newline="") as f:
                ran = {row["impl"] for row in csv.DictReader(f)}
            self.assertNotIn(name, ran)
            self.assertTrue(ran)

    def test_topology(self):
        p = run(["--topology"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        for policy in ["compact", "scatter", "cores", "none"]:
            self.assertRegex(p.stdout, r"\b%s\b" % policy,
                             "--topology does not show the %s policy" % policy)
        self.assertEqual(os.listdir(self.tmp), [])


def run_sweep(args):
    """A real (short) run: the hang guard of the tests that measure, since
    CI may run it on a machine at load 20."""
    return subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=lbtest.HANG_GUARD)


class Progress(Base):
    ARGS = ["--workload", "counter", "--impl", "futex-mutex", "--threads", "1,2",
            "--duration", "0.02", "--warmup", "0.01", "--repeat", "2", "--no-plot"]

    def test_progress_lines_have_an_eta(self):
        p = run_sweep(self.ARGS + ["--out", self.out_dir()])
        self.assertEqual(p.returncode, 0, p.stderr)
        prog = [l for l in p.stderr.splitlines() if l.startswith("[")]
        self.assertEqual([l.split()[0] for l in prog], ["[1/4]", "[2/4]", "[3/4]", "[4/4]"])
        for l in prog:
            self.assertRegex(l, r"  eta \d+ s( |$)", l)
        self.assertRegex(prog[-1], r"  eta 0 s( |$)")   # nothing left

    def test_quiet(self):
        # the final table on stdout; on stderr only warnings and the path
        p = run_sweep(self.ARGS + ["--quiet", "--out", self.out_dir()])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual([l for l in lines if not l.startswith("lockbench: warning: ")],
                         ["lockbench: 4 rows; results in %s/ (results.csv threads.csv "
                          "summary.csv meta.json; no plots (--no-plot))" % self.out_dir()])
        loud = run_sweep(self.ARGS + ["--out", self.out_dir() + "2"])
        self.assertEqual(p.stdout.splitlines()[:2], loud.stdout.splitlines()[:2])
        self.assertIn("futex-mutex", p.stdout)


class Sweep(Base):
    def test_param_and_cs_lists(self):
        out = self.out_dir()
        p = run_sweep(["--workload", "counter", "--impl", "futex-mutex", "--threads", "1",
                       "--param", "data=shared,local", "--cs", "0,050", "--duration", "0.02",
                       "--warmup", "0.01", "--repeat", "1", "--no-plot", "--out", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(" x 4 settings (cs=0,50;data=shared,local) ", p.stderr)
        prog = [l for l in p.stderr.splitlines() if l.startswith("[")]
        self.assertEqual([l.split("threads=1")[1].split(" rep ")[0].strip() for l in prog],
                         ["cs=0 depth=1;data=shared", "cs=0 depth=1;data=local",
                          "cs=50 depth=1;data=shared", "cs=50 depth=1;data=local"])
        with open(os.path.join(out, "summary.csv"), newline="") as fh:
            rows = list(csv.DictReader(fh))
        # every setting its own configuration, in the order given
        self.assertEqual([(r["cs_ns"], r["param"]) for r in rows],
                         [("0", "depth=1;data=shared"), ("0", "depth=1;data=local"),
                          ("50", "depth=1;data=shared"), ("50", "depth=1;data=local")])
        self.assertEqual({r["rank"] for r in rows}, {"1"})   # each ranked in its setting
        with open(os.path.join(out, "meta.json")) as fh:
            meta = json.load(fh)
        self.assertEqual(meta["options"]["sweep"], "cs=0,50;data=shared,local")
        # each setting's table heading names it
        self.assertEqual(len(re.findall(r"(?m)^mutex \(cs=\d+ depth=1;data=\w+\): ranked",
                                        p.stdout)), 4)


    def test_harness_floor_is_the_cs0_row(self):
        # The floor line is none-noop's cost at 1 thread with nothing else
        # to do: the cs=0 row, wherever the list puts it (here neither
        # first nor last).
        out = self.out_dir()
        p = run_sweep(["--workload", "counter", "--impl", "none-noop", "--threads", "1",
                       "--cs", "200,0,100", "--duration", "0.02", "--warmup", "0.01",
                       "--repeat", "1", "--no-plot", "--out", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "summary.csv"), newline="") as fh:
            rows = {r["cs_ns"]: float(r["ops_per_sec_median"]) for r in csv.DictReader(fh)}
        self.assertEqual(sorted(rows), ["0", "100", "200"])
        floor = re.findall(r"(?m)^harness floor \(none-noop, 1 thread\): ([0-9.]+) ns/op$",
                           p.stdout)
        self.assertEqual(floor, ["%.2f" % (1e9 / rows["0"])])


class Docs(Base):
    """The README's lists against the binary's own (--list --format csv)."""
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def listing(self):
        p = run(["--list", "--format", "csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        return list(csv.DictReader(p.stdout.splitlines()))

    def section(self, path, heading):
        """The text of the markdown section `heading` (up to the next
        heading of its level or above)."""
        with open(os.path.join(self.ROOT, path)) as f:
            text = f.read()
        level = heading.split()[0]
        m = re.search(r"(?ms)^%s\n(.*?)(?=^#{1,%d} |\Z)" % (re.escape(heading), len(level)),
                      text)
        self.assertIsNotNone(m, "%s has no section %r" % (path, heading))
        return m.group(1)

    def test_implementation_table(self):
        impls = {r["name"] for r in self.listing() if r["record"] == "impl"}
        text = self.section("README.md", "## Implementations")
        table = "\n".join(l for l in text.splitlines() if l.startswith("| ")
                          and not l.startswith("| kind "))
        self.assertEqual(set(re.findall(r"`([a-z0-9-]+)`", table)), impls)
        # and every hidden one is named in the paragraph after it
        for impl in HIDDEN_IMPLS:
            self.assertIn("`%s`" % impl, text)

    def test_file_and_symbol_rule(self):
        # One rule from the id, checked for every registry entry:
        # backend-algo's symbol is backend_algo (its ops object
        # lb_backend_algo_ops: the registry's X line names it, so the build
        # checks it exists), and its header is
        # primitives/<kind>_<backend>_<algo>.h, or, sharing code with its
        # backend's other implementations of the kind,
        # primitives/<kind>_<backend>.h (none's: counter_none.h).
        with open(os.path.join(self.ROOT, "primitives", "registry.h")) as f:
            syms = dict((i, s) for s, i in re.findall(r'(?m)^\tX\((\w+), "([a-z0-9-]+)"', f.read()))
        p = run(["--list", "--all", "--format", "csv"])
        impls = [r for r in csv.DictReader(p.stdout.splitlines()) if r["record"] == "impl"]
        self.assertEqual(sorted(syms), sorted(r["name"] for r in impls))
        for r in impls:
            with self.subTest(impl=r["name"]):
                self.assertEqual(syms[r["name"]], r["name"].replace("-", "_"))
                self.assertTrue(r["name"].startswith(r["backend"] + "-"), r["name"])
                kind = "counter" if r["kind"] == "none" else r["kind"]
                cands = ["%s_%s.h" % (kind, syms[r["name"]]), "%s_%s.h" % (kind, r["backend"])]
                found = [c for c in cands
                         if os.path.exists(os.path.join(self.ROOT, "primitives", c))]
                self.assertTrue(found, "no primitives/%s" % " or ".join(cands))

    def test_backends(self):
        backends = {r["backend"] for r in self.listing() if r["record"] == "impl"}
        text = self.section("README.md", "## Command line")
        m = re.search(r"(?m)^- `--impl`: `all` \(default\), a backend \(([^)]*)\)", text)
        self.assertIsNotNone(m, "README: no --impl line naming the backends")
        self.assertEqual(set(re.findall(r"`([a-z]+)`", m.group(1))), backends)
        p = run(["--help"])
        self.assertIn("a backend (%s)" % ", ".join(
            dict.fromkeys(r["backend"] for r in self.listing() if r["record"] == "impl")),
            " ".join(p.stdout.split()))
        rtext = self.section("results/README.md", "## results.csv: one row per configuration per repetition")
        m = re.search(r"(?m)^\| backend \| \| (.*) \|$", rtext)
        self.assertIsNotNone(m, "results/README: no backend row")
        self.assertEqual(set(re.findall(r"`([a-z]+)`", m.group(1))), backends)

    def test_kinds(self):
        kinds = {r["kind"] for r in self.listing() if r["record"] == "impl"}
        rtext = self.section("results/README.md", "## results.csv: one row per configuration per repetition")
        m = re.search(r"(?m)^\| kind \| \| (.*) \|$", rtext)
        self.assertIsNotNone(m, "results/README: no kind row")
        self.assertEqual(set(re.findall(r"`([a-z]+)`", m.group(1))), kinds)

    def test_workloads(self):
        wls = [r["name"] for r in self.listing() if r["record"] == "workload"]
        text = self.section("README.md", "## Workloads")
        self.assertEqual(re.findall(r"(?m)^### (\S+)$", text), wls)
        # every workloads/<name>.c is a workload in the list, and the
        # list is what the binary has (meson.build compiles what
        # workloads/list.h names)
        d = os.path.join(self.ROOT, "workloads")
        files = sorted(f[:-2] for f in os.listdir(d) if f.endswith(".c")
                       and f not in ("checks.c", "registry.c"))
        self.assertEqual(files, sorted(wls))
        with open(os.path.join(d, "list.h")) as f:
            self.assertEqual(re.findall(r"(?m)^\tX\((\w+)\)", f.read()), wls)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BINARY"]))
