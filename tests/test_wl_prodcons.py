#!/usr/bin/env python3
"""prodcons workload: verified runs over every implementation it drives
(condition, semaphore, queue and stack kinds) at 2 and 4 threads, uneven
producer/consumer splits with a one-item buffer, the spsc queue beyond one
pair, its own result columns checked for sanity, and bad --param values
refused as usage errors.  The stack and map workloads (the stack and set
kinds' own): every implementation verified with exact columns, and their
bad parameters.

    python3 tests/test_wl_prodcons.py PATH_TO_lockbench

Standard library only.  Runs are short; no assertion depends on timing.
"""
import sys
import unittest

import lbtest

BIN = None
HANG_GUARD = lbtest.HANG_GUARD
SHORT = ["--duration", "0.05", "--warmup", "0.01", "--repeat", "1", "--no-plot"]
EXTRA = ["producers", "consumers", "capacity", "items_per_sec", "unreclaimed_peak_bytes",
         "unreclaimed_mean_bytes"]
RINGS = {"ck-ring-spsc", "ck-ring-mpmc"}  # capacity rounded up to 2^n - 1


def run(args, timeout=HANG_GUARD):
    """(process, results.csv rows as dicts) of one lockbench run."""
    return lbtest.run(BIN, ["--workload", "prodcons"] + list(args), timeout)


def listing():
    return lbtest.listing(BIN)


def impls():
    return sorted(i for i, (_, _, wls) in listing().items() if "prodcons" in wls)


num = lbtest.num


def describe(p):
    return "exit %s\nstderr:\n%s" % (p.returncode, p.stderr[-3000:])


class ProdCons(unittest.TestCase):
    def sweep(self, ids, threads, params=()):
        """Run ids x threads; assert exit 0 and one ok row per pair, with
        sane common and extra columns; return the rows."""
        args = ["--impl", ",".join(ids), "--threads", ",".join(map(str, threads))]
        for kv in params:
            args += ["--param", kv]
        p, rows = run(args + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        got = sorted((r["impl"], int(r["threads"])) for r in rows)
        self.assertEqual(got, sorted((i, t) for i in ids for t in threads))
        for r in rows:
            what = "%s threads=%s" % (r["impl"], r["threads"])
            self.assertEqual(r["workload"], "prodcons")
            self.assertEqual(r["verified"], "ok", what)
            self.assertEqual(int(r["lost_updates"]), 0, what)
            self.assertIn(r["kind"], ("condition", "semaphore", "queue", "stack"), what)
            for col in EXTRA:
                self.assertIn(col, r, "results.csv lacks column %s" % col)
            prod, cons = num(r["producers"]), num(r["consumers"])
            self.assertEqual(prod + cons, int(r["threads"]), what)
            self.assertGreaterEqual(prod, 1, what)
            self.assertGreaterEqual(cons, 1, what)
            self.assertGreaterEqual(num(r["capacity"]), 1, what)
            # items are the consumers' side of the ops: never more than all
            # of them (one decimal of rounding in ops_per_sec)
            self.assertLessEqual(num(r["items_per_sec"]), num(r["ops_per_sec"]) + 0.05, what)
            # ops may be 0 (a spinning condition lock whose holder is
            # preempted can make a 50 ms window empty: a measurement; the
            # exactly-once check covers correctness), but it is the sum of
            # the threads': between threads x min and threads x max.
            t = int(r["threads"])
            self.assertLessEqual(t * int(r["thread_ops_min"]), int(r["ops"]), what)
            self.assertLessEqual(int(r["ops"]), t * int(r["thread_ops_max"]), what)
        return rows

    def test_every_impl_2_and_4_threads(self):
        ids = impls()
        kinds = {listing()[i][0] for i in ids}
        self.assertEqual(kinds, {"condition", "semaphore", "queue", "stack"})
        for i in ("ck-ring-spsc", "ck-ring-mpmc", "ck-fifo-mpmc", "urcu-wfcqueue",
                  "urcu-lfstack", "urcu-wfstack", "ck-stack-mpmc", "ck-stack-upmc",
                  "ck-hp-stack", "pthread-mutex-stack", "futex-mutex-stack", "ck-fas-stack"):
            self.assertIn(i, ids)
        rows = self.sweep(ids, [2, 4])
        for r in rows:
            what = "%s threads=%s" % (r["impl"], r["threads"])
            t = int(r["threads"])
            self.assertEqual(num(r["producers"]), t // 2, what)  # default: half each
            cap = num(r["capacity"])
            if r["impl"] == "ck-ring-mpmc" or (r["impl"] == "ck-ring-spsc" and t == 2):
                self.assertEqual(cap, 127, what)  # 64 rounded up to 2^7 - 1
            elif r["impl"] == "ck-ring-spsc":
                self.assertGreaterEqual(cap, 64, what)  # split over 2 x 2 rings
            else:
                self.assertEqual(cap, 64, what)
        # The queue kind's summary says which side may be multiple.
        caps = {i: listing()[i][1] for i in ids}
        self.assertIn("fifo", caps["ck-ring-mpmc"])
        self.assertNotIn("fifo", caps["urcu-lfstack"])

    def test_uneven_split_one_slot(self):
        # 2 producers, 1 consumer, a buffer of one item: every push waits
        # for a pop; the spsc queue runs as two one-slot rings.
        rows = self.sweep(impls(), [3], ["consumers=1", "capacity=1"])
        for r in rows:
            self.assertEqual((num(r["producers"]), num(r["consumers"])), (2, 1))
            want = 2 if r["impl"] == "ck-ring-spsc" else 1
            self.assertEqual(num(r["capacity"]), want, r["impl"])

    def test_more_consumers_than_producers(self):
        ids = ["futex-cond", "pthread-sem", "ck-ring-spsc", "ck-ring-mpmc", "urcu-wfcqueue"]
        rows = self.sweep(ids, [5], ["producers=1", "capacity=63"])
        for r in rows:
            self.assertEqual((num(r["producers"]), num(r["consumers"])), (1, 4))
            if r["impl"] == "ck-ring-mpmc":
                self.assertEqual(num(r["capacity"]), 63)  # 2^6 - 1: no rounding

    def test_explicit_pair_drops_other_counts(self):
        # producers=1,consumers=1 fits only 2 threads: the default sweep
        # keeps that count alone and says so.
        p, rows = run(["--impl", "ck-ring-spsc,futex-sem", "--param", "producers=1",
                       "--param", "consumers=1"] + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(sorted(int(r["threads"]) for r in rows), [2, 2])
        self.assertTrue(all(r["verified"] == "ok" for r in rows))
        self.assertIn("left out", p.stderr)

    def test_bad_params(self):
        cases = [
            (["--threads", "1"], "2 threads"),
            (["--threads", "4", "--param", "producers=2", "--param", "consumers=3"],
             "--threads 5"),
            (["--threads", "4", "--param", "producers=4"], "producers=4"),
            (["--threads", "4", "--param", "consumers=4"], "consumers=4"),
            (["--threads", "4", "--param", "capacity=0"], "'0'"),
            (["--threads", "4", "--param", "capacity=1000001"], "'1000001'"),
            (["--threads", "4", "--param", "producers=x"], "'x'"),
            (["--threads", "4", "--param", "consumers=-1"], "'-1'"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                p, rows = run(args + SHORT, timeout=60)
                self.assertEqual(p.returncode, 2, describe(p))
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(needle, lines[0])
                self.assertEqual(rows, [])


class Stack(unittest.TestCase):
    """The stack workload over every stack, prefilled: exact columns."""

    def test_every_stack_1_2_4_threads(self):
        ids = sorted(i for i, (kind, _, wls) in listing().items() if "stack" in wls)
        self.assertEqual(ids, sorted(
            ["pthread-mutex-stack", "futex-mutex-stack", "ck-fas-stack", "ck-stack-mpmc",
             "ck-stack-upmc", "ck-hp-stack", "urcu-lfstack", "urcu-wfstack"]))
        p = lbtest.run(BIN, ["--workload", "stack", "--impl", ",".join(ids), "--threads",
                             "1,2,4", "--param", "prefill=300"] + SHORT, HANG_GUARD)[0:2]
        proc, rows = p
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertEqual(sorted((r["impl"], int(r["threads"])) for r in rows),
                         sorted((i, t) for i in ids for t in (1, 2, 4)))
        for r in rows:
            what = "%s threads=%s" % (r["impl"], r["threads"])
            self.assertEqual((r["kind"], r["verified"], r["lost_updates"]),
                             ("stack", "ok", "0"), what)
            self.assertEqual((num(r["prefill"]), num(r["empty_pops"]), num(r["left"])),
                             (300, 0, 300), what)

    def test_bad_prefill(self):
        proc, rows = lbtest.run(BIN, ["--workload", "stack", "--param", "prefill=2000000"]
                                + SHORT, 60)
        self.assertEqual(proc.returncode, 2, describe(proc))
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("2000000", proc.stderr)
        self.assertEqual(rows, [])


SETS = ["pthread-mutex-hash", "pthread-rwlock-hash", "futex-mutex-hash", "futex-rwlock-hash",
        "futex-striped-hash", "ck-fas-hash", "ck-rwlock-hash", "ck-ht-fas", "ck-hs-fas",
        "ck-rhs-fas", "urcu-lfht-memb", "urcu-lfht-qsbr"] + [
        "atomic-michael-leak", "ck-michael-epoch", "ck-michael-hp"] + [
        "urcu-michael-" + f for f in ("memb", "mb", "signal", "qsbr", "bp")]
RESIZE_COUNTED = {"ck-ht-fas", "ck-hs-fas", "ck-rhs-fas"}
# The reclamation axis (README, Memory reclamation): one structure per kind
# under each scheme, reporting the memory unlinked and not yet freed.
MICHAEL = [i for i in SETS if "-michael-" in i]
MSQ = ["atomic-msq-leak", "ck-msq-epoch", "ck-msq-hp"] + [
    "urcu-msq-" + f for f in ("memb", "mb", "signal", "qsbr", "bp")]
NODE_BYTES = {"map": 64, "prodcons": 56}  # sizeof(struct lb_mh_node), (struct lb_msq_node)


class Map(unittest.TestCase):
    """The map workload over every set implementation."""

    def run_map(self, threads, params):
        args = ["--workload", "map", "--impl", ",".join(SETS), "--threads", threads]
        for kv in params:
            args += ["--param", kv]
        proc, rows = lbtest.run(BIN, args + SHORT, HANG_GUARD)[0:2]
        self.assertEqual(proc.returncode, 0, describe(proc))
        return rows

    def test_every_set(self):
        ids = sorted(i for i, (kind, _, wls) in listing().items() if "map" in wls)
        self.assertEqual(ids, sorted(SETS))
        rows = self.run_map("1,2,4", ["keys=256", "update_pct=50"])
        self.assertEqual(sorted((r["impl"], int(r["threads"])) for r in rows),
                         sorted((i, t) for i in SETS for t in (1, 2, 4)))
        for r in rows:
            what = "%s threads=%s" % (r["impl"], r["threads"])
            self.assertEqual((r["kind"], r["verified"], r["lost_updates"]),
                             ("set", "ok", "0"), what)
            self.assertEqual(r["param"],
                             "keys=256;update_pct=50;prefill=half;dist=uniform;stall_ms=0", what)
            self.assertLessEqual(num(r["final_size"]), 256, what)
            # both kinds of op ran, in the proportion asked for (a 50 ms
            # window of a starved run may be empty: then both are 0)
            lk, up = num(r["lookups_per_sec"]), num(r["updates_per_sec"])
            self.assertAlmostEqual(lk + up, num(r["ops_per_sec"]),
                                   delta=0.01 * num(r["ops_per_sec"]) + 1, msg=what)
            if r["impl"] in RESIZE_COUNTED:
                self.assertGreaterEqual(num(r["resizes"]), 0, what)
            else:
                self.assertEqual(r["resizes"], "", what)
            if r["impl"] not in MICHAEL:
                self.assertEqual((r["unreclaimed_peak_bytes"], r["unreclaimed_mean_bytes"]),
                                 ("", ""), what)

    def test_read_only_keeps_the_prefill(self):
        """update_pct=0: nothing changes, so the final size is the prefill."""
        for r in self.run_map("2", ["keys=1000", "update_pct=0", "prefill=300"]):
            self.assertEqual((r["verified"], num(r["final_size"]), num(r["updates_per_sec"])),
                             ("ok", 300, 0), r["impl"])

    def test_zipf_and_growth(self):
        """Skewed keys (Zipf 0.99) over a large, fully prefilled range."""
        rows = self.run_map("2", ["keys=65536", "prefill=65536", "update_pct=10",
                                  "dist=zipf:0.99"])
        for r in rows:
            self.assertEqual(r["verified"], "ok", r["impl"])
            self.assertLessEqual(num(r["final_size"]), 65536, r["impl"])

    def test_bad_params(self):
        cases = [
            (["--param", "prefill=2000", "--param", "keys=1000"],
             "map: prefill=2000 is more than the 1000 keys; give 0 to 1000 or half"),
            (["--param", "dist=zipf:2"],
             "--param dist: 'zipf:2' is not a key distribution; valid: uniform, zipf:0.5, "
             "zipf:0.8, zipf:0.9, zipf:0.99, zipf:1.2"),
            (["--param", "prefill=most"],
             "--param prefill: 'most' is not a key count; give 0 to 16777216 or half"),
            (["--param", "update_pct=101"], "--param update_pct: '101' is not a percentage"),
            (["--param", "keys=16777216", "--threads", "64"], "over the 1024 MiB allowed"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                proc, rows = lbtest.run(BIN, ["--workload", "map"] + args + SHORT, 60)
                self.assertEqual(proc.returncode, 2, describe(proc))
                lines = proc.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, proc.stderr)
                self.assertIn(needle, lines[0])
                self.assertEqual(rows, [])



class Reclaim(unittest.TestCase):
    """The reclamation axis end to end: both workloads, every scheme, a
    stalled reader, and what the unreclaimed columns may hold."""

    def check(self, wl, rows, ids, threads):
        self.assertEqual(sorted(r["impl"] for r in rows), sorted(ids))
        node = NODE_BYTES[wl]
        for r in rows:
            what = "%s %s" % (wl, r["impl"])
            self.assertEqual(r["verified"], "ok", what)
            self.assertIn("stall_ms=100", r["param"], what)
            peak, mean = num(r["unreclaimed_peak_bytes"]), num(r["unreclaimed_mean_bytes"])
            # every sample is whole nodes; the peak is the largest of them
            self.assertEqual(peak % node, 0, what)
            self.assertLessEqual(mean, peak, what)
            self.assertGreaterEqual(mean, 0, what)
            if r["impl"].endswith("-leak"):
                # never freed: the last sample (after the run) holds every
                # node unlinked, and the run unlinked some
                self.assertGreater(peak, 0, what)
            if r["impl"].endswith("-hp"):
                # hazard pointers bound it whatever the stall: each thread
                # holds at most 63 pending nodes plus the 3 per thread
                # that anyone may name (smr.h's LB_SMR_POLL, _HAZARDS)
                self.assertLessEqual(peak, threads * (63 + 3 * threads) * node, what)

    def test_map_with_a_stalled_reader(self):
        args = ["--workload", "map", "--impl", "*-michael-*", "--threads", "2",
                "--param", "update_pct=50", "--param", "stall_ms=100"]
        proc, rows = lbtest.run(BIN, args + SHORT, HANG_GUARD)[0:2]
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.check("map", rows, MICHAEL, 2)

    def test_queue_with_a_stalled_consumer(self):
        p, rows = run(["--impl", "*-msq-*", "--threads", "4", "--param", "producers=2",
                       "--param", "stall_ms=100"] + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        self.check("prodcons", rows, MSQ, 4)

    def test_stall_elsewhere_is_a_pause(self):
        """Where there is no read-side section to stall in, the thread
        pauses between ops: the run is still checked, the columns empty."""
        p, rows = run(["--impl", "futex-sem,ck-ring-mpmc", "--threads", "2",
                       "--param", "stall_ms=50"] + SHORT)
        self.assertEqual(p.returncode, 0, describe(p))
        for r in rows:
            self.assertEqual((r["verified"], r["unreclaimed_peak_bytes"]), ("ok", ""),
                             r["impl"])

    def test_bad_stall(self):
        for wl in ("map", "prodcons"):
            proc, rows = lbtest.run(BIN, ["--workload", wl, "--param", "stall_ms=9000"] +
                                    SHORT, 60)[0:2]
            self.assertEqual(proc.returncode, 2, describe(proc))
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(lines, ["lockbench: --param stall_ms: '9000' is not a stall in "
                                     "milliseconds; give 0 to 5000"], wl)
            self.assertEqual(rows, [])

if __name__ == "__main__":
    sys.exit(lbtest.main(globals(), ["BIN"]))
