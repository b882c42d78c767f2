"""./bench app: run an unmodified program under lockbench's mutexes.

usage: app.py SHIM LOCKBENCH --impl LIST [--repeat N] [--check-output [FILE]]
              [--threads-env VAR=V1,V2,...] [--timeout S] [--out DIR] -- COMMAND ARGS...

COMMAND runs once per implementation and repetition, interleaved (every
implementation's first repetition, then every one's second, ...), as
lockbench's sweeps are, so that drift in the machine spreads over all rows
alike.  `glibc` (the program as it is, no shim) is always a row and the
baseline; every other row preloads liblbshim.so (shim/lbshim.c) with
LB_SHIM_IMPL set.  --impl takes ids, globs over them ('ck-*'), or `all`:
the mutexes the shim can run (a trylock, not the pthread backend).

Each run records its wall time, its CPU time (user + system, the
process and the children it waited for), its voluntary and involuntary
context switches (wait4's rusage), its exit status and the SHA-256 of
its stdout (or, with --check-output FILE, of FILE after the run), and
the shim's own counts: locks seen, acquisitions, contended acquisitions,
glibc fallbacks (summed over the processes the command made).
Correctness: a run whose exit status or checksum differs from the glibc
run of the same repetition and configuration is FAIL, and app exits 1.
--threads-env VAR=V1,V2 runs every configuration once per value of the
environment variable VAR (the `threads` column).  --timeout S ends a run
that takes longer than S seconds (its process group gets SIGKILL): the row
says TIMEOUT, wall_s is S, and app exits 1, as for a failed check (a
spinlock under a program that oversubscribes the CPUs may take hours).

Output: DIR (default results/<host>/app-<UTC time>/) gets results.csv, one
row per run, written and flushed as each run ends (an interrupted sweep
keeps its rows), and meta.json (the command, the implementations, the
platform); stdout gets one line per implementation: median wall time,
its ratio to glibc's, median CPU time and context switches, the shim's
median acquisitions and contended share.  Progress goes to stderr.  Bad
input: one line on stderr, exit 2.
"""
import csv
import fnmatch
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

COLUMNS = ["run_id", "host", "cpu_model", "pus", "workload", "kind", "backend", "impl",
           "threads", "param", "rep", "wall_s", "cpu_s", "ctx_voluntary", "ctx_involuntary",
           "exit_status", "output_sha256", "verified", "locks_seen", "acquisitions",
           "contended", "fallback_locks", "fallback_acquisitions"]


class Usage(Exception):
    pass


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def eligible(lockbench):
    """The ids the shim runs, in registry order, and every mutex id."""
    p = subprocess.run([lockbench, "--list", "--format", "csv"], capture_output=True,
                       text=True, check=True)
    ok, mutexes = [], {}
    for r in csv.DictReader(p.stdout.splitlines()):
        if r["record"] != "impl" or r["kind"] != "mutex":
            continue
        caps = r["capabilities"].split()
        mutexes[r["name"]] = r["backend"]
        if "trylock" in caps and r["backend"] != "pthread" and "unavailable" not in caps:
            ok.append(r["name"])
    return ok, mutexes


def parse(argv, lockbench):
    if "--" not in argv:
        raise Usage("app: give the command after --: ./bench app --impl LIST -- COMMAND ARGS...")
    cut = argv.index("--")
    opts, command = argv[:cut], argv[cut + 1:]
    if not command:
        raise Usage("app: no command after --; give the program to run and its arguments")
    impl_text, repeat, check, tenv, out, timeout = "all", 3, None, None, None, None
    i = 0
    while i < len(opts):
        o = opts[i]
        val = opts[i + 1] if i + 1 < len(opts) else None
        if o == "--impl" and val is not None:
            impl_text = val
        elif o == "--repeat" and val is not None:
            if not val.isdigit() or not 1 <= int(val) <= 1000:
                raise Usage("app: --repeat '%s' is not a repetition count; give 1 to 1000" % val)
            repeat = int(val)
        elif o == "--check-output":
            if val is not None and not val.startswith("--"):
                check = val
            else:
                check = "-"
                i -= 1
        elif o == "--threads-env" and val is not None:
            var, _, vals = val.partition("=")
            values = [v for v in vals.split(",") if v]
            if not var or not var.replace("_", "a").isalnum() or not values:
                raise Usage("app: --threads-env '%s' is not VAR=V1,V2,...; give e.g. "
                            "OMP_NUM_THREADS=1,2,4" % val)
            tenv = (var, values)
        elif o == "--out" and val is not None:
            out = val
        elif o == "--timeout" and val is not None:
            try:
                timeout = float(val)
            except ValueError:
                timeout = -1
            if not 0 < timeout <= 86400:
                raise Usage("app: --timeout '%s' is not a time limit; give seconds, more "
                            "than 0 and at most 86400" % val)
        elif o in ("--impl", "--repeat", "--threads-env", "--out", "--timeout"):
            raise Usage("app: %s needs a value" % o)
        else:
            raise Usage("app: unknown option '%s'; valid: --impl LIST, --repeat N, "
                        "--check-output [FILE], --threads-env VAR=V1,V2, --timeout S, "
                        "--out DIR" % o)
        i += 2
    if not shutil.which(command[0]):
        raise Usage("app: cannot run '%s': not found or not executable" % command[0])
    ok, mutexes = eligible(lockbench)
    impls = []
    for tok in impl_text.split(","):
        tok = tok.strip()
        if tok == "all":
            picked = ok
        elif tok == "glibc":
            picked = []
        elif any(c in tok for c in "*?["):
            picked = [i for i in ok if fnmatch.fnmatchcase(i, tok)]
            if not picked:
                raise Usage("app: --impl '%s' matches no mutex the shim runs; valid: glibc, "
                            "all, %s" % (tok, ", ".join(ok)))
        elif tok in ok:
            picked = [tok]
        else:
            why = ("is glibc's own: it is the glibc row" if mutexes.get(tok) == "pthread"
                   else "has no trylock or cannot run here" if tok in mutexes
                   else "is not a mutex")
            raise Usage("app: --impl '%s' %s; valid: glibc, all, %s" % (tok, why, ", ".join(ok)))
        impls += [i for i in picked if i not in impls]
    return dict(impls=impls, repeat=repeat, check=check, tenv=tenv, out=out, command=command,
                timeout=timeout,
                backends={i: mutexes[i] for i in impls})


def shim_counts(stats_dir):
    """The shim's totals over every process of one run (shim.<pid>.csv)."""
    tot = dict(locks_seen=0, acquisitions=0, contended=0, fallback_locks=0,
               fallback_acquisitions=0)
    for name in sorted(os.listdir(stats_dir)):
        with open(os.path.join(stats_dir, name), newline="") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            continue
        head = dict(zip(rows[0], rows[1]))
        for k in tot:
            tot[k] += int(head[k])
    return tot


def run_once(shim, impl, cfg, tval, workdir):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if cfg["tenv"]:
        env[cfg["tenv"][0]] = tval
    stats = tempfile.mkdtemp(prefix="shim.", dir=workdir)
    if impl != "glibc":
        env["LD_PRELOAD"] = shim
        env["LB_SHIM_IMPL"] = impl
        env["LB_SHIM_STATS"] = stats
    out_path = os.path.join(workdir, "stdout")
    with open(out_path, "wb") as out:
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(cfg["command"], env=env, stdout=out, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as e:
            raise Usage("app: cannot run '%s': %s" % (cfg["command"][0], e.strerror))
        timed_out = False
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if cfg["timeout"] and time.monotonic() - t0 > cfg["timeout"]:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out = True
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.monotonic() - t0
        if timed_out:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # what it left behind
            except ProcessLookupError:
                pass
    proc.returncode = os.waitstatus_to_exitcode(status)
    check = out_path if cfg["check"] in (None, "-") else cfg["check"]
    h = hashlib.sha256()
    try:
        with open(check, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    except OSError:
        digest = "missing"
    counts = shim_counts(stats) if impl != "glibc" else None
    return dict(timed_out=timed_out,
                wall_s=cfg["timeout"] if timed_out else wall,
                cpu_s=ru.ru_utime + ru.ru_stime, ctx_voluntary=ru.ru_nvcsw,
                ctx_involuntary=ru.ru_nivcsw, exit_status=proc.returncode,
                output_sha256=digest, counts=counts)


def main(argv):
    if len(argv) < 2:
        print("usage: app.py SHIM LOCKBENCH [options] -- COMMAND...", file=sys.stderr)
        return 2
    shim, lockbench = argv[0], argv[1]
    try:
        cfg = parse(argv[2:], lockbench)
    except Usage as e:
        print(e, file=sys.stderr)
        return 2
    host = socket.gethostname()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = cfg["out"] or os.path.join("results", host, "app-" + stamp)
    if os.path.exists(os.path.join(out, "results.csv")):
        print("app: --out %s already holds a run; give a new directory" % out, file=sys.stderr)
        return 2
    try:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, ".lbapp-write-test"), "w"):
            pass
        os.remove(os.path.join(out, ".lbapp-write-test"))
    except OSError as e:
        print("app: --out %s: cannot write there (%s); give a writable directory"
              % (out, e.strerror), file=sys.stderr)
        return 2
    run_id = "app-" + stamp
    rows_impl = ["glibc"] + cfg["impls"]
    tvals = cfg["tenv"][1] if cfg["tenv"] else [""]
    total = len(rows_impl) * len(tvals) * cfg["repeat"]
    meta = dict(run_id=run_id, workload="app", command=cfg["command"], impls=rows_impl,
                repeat=cfg["repeat"], check_output=cfg["check"], threads_env=cfg["tenv"],
                host=host, cpu_model=cpu_model(), pus=os.cpu_count(),
                started_unix=int(time.time()), status="running")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    param = " ".join(cfg["command"])
    failures, results, n = 0, [], 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="lbapp.") as work, \
            open(os.path.join(out, "results.csv"), "w", newline="") as rf:
        w = csv.DictWriter(rf, COLUMNS)
        w.writeheader()
        rf.flush()
        try:
            for rep in range(1, cfg["repeat"] + 1):
                for tval in tvals:
                    base = None
                    for impl in rows_impl:
                        n += 1
                        r = run_once(shim, impl, cfg, tval, work)
                        if impl == "glibc" and not r["timed_out"]:
                            base = r
                        ok = not r["timed_out"] and base is not None and \
                            (r["exit_status"], r["output_sha256"]) == \
                            (base["exit_status"], base["output_sha256"])
                        failures += not ok
                        verdict = "TIMEOUT" if r["timed_out"] else "ok" if ok else "FAIL"
                        c = r["counts"] or {}
                        row = dict(run_id=run_id, host=host, cpu_model=meta["cpu_model"],
                                   pus=meta["pus"], workload="app", kind="mutex",
                                   backend=cfg["backends"].get(impl, "glibc"), impl=impl,
                                   threads=tval, param=param, rep=rep,
                                   wall_s="%.6f" % r["wall_s"], cpu_s="%.6f" % r["cpu_s"],
                                   ctx_voluntary=r["ctx_voluntary"],
                                   ctx_involuntary=r["ctx_involuntary"],
                                   exit_status=r["exit_status"],
                                   output_sha256=r["output_sha256"],
                                   verified=verdict,
                                   **{k: c.get(k, "") for k in ("locks_seen", "acquisitions",
                                                               "contended", "fallback_locks",
                                                               "fallback_acquisitions")})
                        w.writerow(row)
                        rf.flush()
                        results.append(row)
                        print("[%d/%d] %-22s %s rep %d/%d  %8.3f s  %s%s" % (
                            n, total, impl, ("%s=%s" % (cfg["tenv"][0], tval)) if tval else "",
                            rep, cfg["repeat"], r["wall_s"], row["verified"],
                            "" if ok or r["timed_out"] or base is None
                            else "  (exit %s, want %s; output %s, want %s)" % (
                                r["exit_status"], base["exit_status"],
                                r["output_sha256"][:12], base["output_sha256"][:12])),
                            file=sys.stderr)
        except KeyboardInterrupt:
            print("app: interrupted; %d completed runs kept in %s" % (len(results), out),
                  file=sys.stderr)
            meta["status"] = "interrupted"
    meta["status"] = meta["status"] if meta["status"] == "interrupted" else \
        ("failed" if failures else "ok")
    meta["finished_unix"] = int(time.time())
    meta["rows"] = len(results)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(table(results, rows_impl, tvals, cfg))
    print("app: %d runs; results in %s/ (results.csv, meta.json)%s" % (
        len(results), out, "; %d FAILED their check or timed out" % failures if failures
        else ""),
        file=sys.stderr)
    if meta["status"] == "interrupted":
        return 130
    return 1 if failures else 0


def table(results, impls, tvals, cfg):
    lines = ["%-22s %-8s %10s %7s %9s %10s %10s %14s %10s %s" % (
        "impl", "threads", "wall s", "ratio", "cpu s", "vcsw", "icsw", "acquisitions",
        "contended", "check")]
    for tval in tvals:
        def med(impl, col):
            v = [float(r[col]) for r in results if r["impl"] == impl and r["threads"] == tval
                 and r[col] != ""]
            return statistics.median(v) if v else None
        base = med("glibc", "wall_s")
        for impl in impls:
            wall = med(impl, "wall_s")
            if wall is None:
                continue
            acq, cont = med(impl, "acquisitions"), med(impl, "contended")
            checks = {r["verified"] for r in results if r["impl"] == impl
                      and r["threads"] == tval}
            lines.append("%-22s %-8s %10.3f %7.2f %9.3f %10.0f %10.0f %14s %10s %s" % (
                impl, tval or "-", wall, wall / base if base else float("nan"),
                med(impl, "cpu_s"), med(impl, "ctx_voluntary"), med(impl, "ctx_involuntary"),
                "-" if acq is None else "%.0f" % acq,
                "-" if cont is None or not acq else "%.1f%%" % (100 * cont / acq),
                "FAIL" if "FAIL" in checks else "TIMEOUT" if "TIMEOUT" in checks else "ok"))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
