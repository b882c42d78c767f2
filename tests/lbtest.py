"""Helpers the workload tests share: run lockbench into a throw-away
directory and read its tables back; what --list says each implementation
is and drives.  Imported by the tests/test_wl_*.py scripts (their own
directory is on sys.path when run as scripts)."""
import collections
import csv
import math
import os
import shutil
import subprocess
import tempfile

HANG_GUARD = 240  # seconds per process; a guard against hangs, not a timing assertion

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


def listing(binary):
    """{impl id: Impl(kind, caps, workloads)} from --list (cached)."""
    if binary not in _LIST:
        p = subprocess.run([binary, "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, check=True)
        found, kind = {}, None
        for line in p.stdout.splitlines():
            if line.startswith("kind "):
                kind = line.split()[1].rstrip(":")
                continue
            parts = line.split()
            if kind and len(parts) >= 4 and parts[0] != "impl":
                found[parts[0]] = Impl(kind, parts[2].split(","), parts[3].split(","))
        _LIST[binary] = found
    return _LIST[binary]


def impls_of(binary, workload):
    """The ids --list says the workload drives."""
    return [i for i, im in listing(binary).items() if workload in im.workloads]


def num(s):
    """A CSV cell as a finite float (ValueError otherwise, empty included)."""
    v = float(s)
    if math.isnan(v) or math.isinf(v):
        raise ValueError("not a finite number: %r" % s)
    return v
