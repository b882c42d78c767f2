#!/usr/bin/env python3
"""The fleet playbook (scripts/fleet.yml) against this machine, through
Ansible's local connection: what a user's inventory of servers gets.

    python3 tests/test_fleet.py PATH_TO_fleet.yml PATH_TO_suite.py

It installs the dependencies (as root; skipped otherwise), unpacks the
committed tree into a temporary "host" directory, builds it there, runs a
quick one-workload suite, and fetches the platform directory into a
temporary results/ tree, which must hold a complete suite that
./bench compare accepts.  ansible-playbook comes from Debian's
ansible-core (./bench test installs it); its absence fails the test.

Standard library only.  No timing assertions.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

FLEET = None
SUITE = None


class Fleet(unittest.TestCase):
    def test_installs_what_bench_installs(self):
        # The playbook's apt list and ./bench's install step name the same
        # build packages: a dependency added to one must reach the other,
        # or a fleet host fails to build where a fresh machine does not.
        import re
        with open(os.path.join(os.path.dirname(FLEET), "..", "bench")) as f:
            bench = f.read()
        body = bench[bench.index("missing_pkgs() {"):bench.index("ensure_packages() {")]
        test_only = body[body.index('if [ "${1:-}" = test ]'):body.index("\tfi\n")]
        wanted = set()
        for words in re.findall(r'miss="\$miss ([^"]+)"', body.replace(test_only, "")):
            wanted.update(words.split())
        with open(FLEET) as f:
            m = re.search(r"ansible\.builtin\.apt:\s*\n\s*name: \[([^\]]+)\]", f.read())
        self.assertIsNotNone(m)
        listed = {w.strip() for w in m.group(1).split(",")}
        self.assertIn("libpfm4-dev", wanted)
        self.assertEqual(wanted, listed)

    def test_localhost(self):
        play = shutil.which("ansible-playbook")
        self.assertIsNotNone(play, "ansible-playbook not found: ./bench test installs "
                                   "ansible-core (Debian)")
        tmp = tempfile.mkdtemp(prefix="lb-fleet-")
        try:
            # The scratch host builds a fresh tree: with ccache (./bench
            # test installs it) paths relative to the temporary directory
            # and the build directory left out of the hash, every run after
            # the first builds from the cache (meson.build keeps the tree's
            # absolute path out of all but two files).
            env = dict(os.environ, ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ans"),
                       ANSIBLE_REMOTE_TEMP=os.path.join(tmp, "ans"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                       CCACHE_BASEDIR=os.path.realpath(tempfile.gettempdir()),
                       CCACHE_NOHASHDIR="1")
            host_dir = os.path.join(tmp, "host", "lockbench")
            fetched = os.path.join(tmp, "results")
            p = subprocess.run(
                [play, "-i", "localhost,", "-c", "local", FLEET,
                 "-e", "lockbench_dir=%s" % host_dir, "-e", "fetch_root=%s" % fetched,
                 "-e", "suite_args='--quick --workloads handoff'",
                 "-e", "suite_id=test",
                 "-e", "install_deps=%s" % ("true" if os.geteuid() == 0 else "false")],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                universal_newlines=True, timeout=1500, env=env)
            self.assertEqual(p.returncode, 0, p.stdout[-4000:])
            self.assertIn("localhost: %s/localhost/suite-test (ok)" % fetched, p.stdout)
            d = os.path.join(fetched, "localhost", "suite-test")
            with open(os.path.join(d, "suite.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["status"], "ok")
            self.assertEqual([s["name"] for s in meta["steps"]], ["fingerprint", "handoff"])
            for name in ["fingerprint/fingerprint.csv", "handoff/summary.csv", "report.html",
                         "scoreboard.txt"]:
                self.assertTrue(os.path.isfile(os.path.join(d, name)), name)
            # the host's copy is the committed tree, built there
            self.assertTrue(os.path.isfile(os.path.join(host_dir, "build", "lockbench")))
            self.assertFalse(os.path.exists(os.path.join(host_dir, ".git")))
            # what came home compares like any suite
            q = subprocess.run([sys.executable, SUITE, "compare", d, d, "--out",
                                os.path.join(tmp, "cmp")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            self.assertEqual(q.returncode, 0, q.stderr)
            self.assertEqual(glob.glob(os.path.join(fetched, "*", "*", ".plot-*")), [])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            for f in glob.glob("/tmp/lockbench-fleet-test*"):
                os.remove(f)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["FLEET", "SUITE"]))
