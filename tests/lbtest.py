"""What the Python tests share: the one main() every tests/test_*.py
script ends with; running lockbench into a throw-away directory and
reading its tables back; what --list says each implementation is and
drives.  A script's own directory is on sys.path when it runs, so each
imports this as `lbtest`."""
import collections
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HANG_GUARD = 240  # seconds per process; a guard against hangs, not a timing assertion

# The windows a run of test-busted (no mutual exclusion) gets: it can lose
# updates only while its two threads really run at the same time.  On a
# loaded machine two threads may not share a moment in one 0.05 s window
# (loop 5 of the CI loop: "starved", no loss, exit 0); ten windows of
# 0.1 s apart give them a full second in ten different moments.  The run
# fails if any window lost updates.
BUSTED_WINDOWS = ["--duration", "0.1", "--warmup", "0.01", "--repeat", "10"]

Impl = collections.namedtuple("Impl", "kind caps workloads")


def run(binary, args, timeout=HANG_GUARD, tables=("results.csv",)):
    """(process, rows of each table as dicts...) of one lockbench run with
    --out in a fresh temporary directory, removed afterwards.  A table the
    run did not write reads as no rows."""
    out = tempfile.mkdtemp(prefix="lb-test-")
    try:
        p = subprocess.run([binary] + list(args) + ["--out", os.path.join(out, "run")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
        got = []
        for name in tables:
            path = os.path.join(out, "run", name)
            rows = []
            if os.path.exists(path):
                with open(path, newline="") as f:
                    rows = list(csv.DictReader(f))
            got.append(rows)
        return (p,) + tuple(got)
    finally:
        shutil.rmtree(out, ignore_errors=True)


_LIST = {}


def list_csv(binary, show_all=False):
    """The rows of `--list --format csv` (plus --all) as dicts: record
    (workload or impl), name, kind, backend, capabilities, workloads,
    params, checks, summary; lists inside a cell are space-separated."""
    p = subprocess.run([binary, "--list", "--format", "csv"] + (["--all"] if show_all else []),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, check=True)
    return list(csv.DictReader(p.stdout.splitlines()))


def listing(binary):
    """{impl id: Impl(kind, caps, workloads)} from --list --format csv
    (cached)."""
    if binary not in _LIST:
        _LIST[binary] = {r["name"]: Impl(r["kind"], r["capabilities"].split(),
                                         r["workloads"].split())
                         for r in list_csv(binary) if r["record"] == "impl"}
    return _LIST[binary]


def workloads(binary):
    """The workload names, in --list order."""
    return [r["name"] for r in list_csv(binary) if r["record"] == "workload"]


def impls_of(binary, workload):
    """The ids --list says the workload drives."""
    return [i for i, im in listing(binary).items() if workload in im.workloads]


def num(s):
    """A CSV cell as a finite float (ValueError otherwise, empty included)."""
    v = float(s)
    if math.isnan(v) or math.isinf(v):
        raise ValueError("not a finite number: %r" % s)
    return v


def main(module_globals, paths, optional=(), words=None, setup=None):
    """Run a test script's unittest cases and return its exit status:

        test_X.py PATH... [OPTIONAL_PATH...] [WORD...] [TEST...]

    Each name in `paths` (a global of the script) gets the next argument as
    an absolute path, which must exist; each in `optional` gets the next
    one when it names an existing file (a test name never does), else None.
    With `words`, that global (a list) gets the lowercase words that follow
    (test_sweep's workloads). What is left names the tests to run (Class or
    Class.test_name); none runs them all. `setup(module_globals)` runs
    before the tests. Usage errors: one line, exit 2."""
    me = os.path.basename(sys.argv[0])
    argv = sys.argv[1:]
    if len(argv) < len(paths):
        usage = " ".join(["PATH_TO_" + n for n in paths] + ["[PATH_TO_%s]" % n for n in optional])
        sys.stderr.write("usage: %s %s [TEST...]\n" % (me, usage))
        return 2
    for name in paths:
        path = os.path.abspath(argv.pop(0))
        if not os.path.exists(path):
            sys.stderr.write("%s: %s: no such file (the %s argument)\n" % (me, path, name))
            return 2
        module_globals[name] = path
    for name in optional:
        module_globals[name] = (os.path.abspath(argv.pop(0))
                                if argv and os.path.exists(argv[0]) else None)
    if words is not None:
        while argv and argv[0][:1].islower():
            module_globals[words].append(argv.pop(0))
    if setup:
        setup(module_globals)
    prog = unittest.main(argv=[sys.argv[0]] + argv, verbosity=2, exit=False)
    return 0 if prog.result.wasSuccessful() else 1
