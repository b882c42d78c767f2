"""report.html renders in headless Chromium (Debian's chromium package) and
every plot on it loads: the page's inline script records loaded/total images
in <body data-plots-loaded>, read back with --dump-dom.

usage: python3 test_report_render.py PATH_TO_lockbench
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import lbtest

BIN = None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Render(unittest.TestCase):
    def test_every_plot_renders(self):
        if not CHROMIUM:
            # ./bench test installs it; a hand-run without it is told so.
            self.skipTest("chromium is not installed (Debian: apt-get install chromium)")
        tmp = tempfile.mkdtemp(prefix="lb-render-")
        try:
            out = os.path.join(tmp, "run")
            p = subprocess.run([BIN, "--workload", "trylock",
                                "--impl", "futex-mutex,pthread-mutex,ck-fas",
                                "--threads", "1,2", "--duration", "0.05", "--warmup", "0.01",
                                "--repeat", "2", "--out", out],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            report = os.path.join(out, "report.html")
            self.assertTrue(os.path.exists(report))
            svgs = glob.glob(os.path.join(out, "*.svg"))
            self.assertGreaterEqual(len(svgs), 7)  # 5 common + 2 trylock columns
            profile = os.path.join(tmp, "profile")
            r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                "--disable-quic", "--no-first-run",
                                "--disable-background-networking", "--disable-component-update",
                                "--disable-sync", "--user-data-dir=" + profile,
                                "--virtual-time-budget=10000", "--dump-dom",
                                "file://" + report],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            m = re.search(r'data-plots-loaded="(\d+)/(\d+)"', r.stdout)
            self.assertIsNotNone(m, "the page's load script did not run: " + r.stdout[:500])
            loaded, total = int(m.group(1)), int(m.group(2))
            self.assertEqual(total, len(svgs), "one image per plot")
            self.assertEqual(loaded, total, "%d of %d plots failed to load" % (total - loaded, total))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
