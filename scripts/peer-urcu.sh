#!/bin/sh
# liburcu's own benchmark beside lockbench, on a matched workload.
#
#   scripts/peer-urcu.sh URCU_SRC OUT [SECONDS] [ROUNDS]
#
# URCU_SRC is a liburcu source tree at the version Debian installs (0.13.2
# here: `git -C userspace-rcu checkout v0.13.2`); nothing is downloaded.
# Its tests/benchmark/test_urcu.c (memb, mb, signal), test_urcu_qsbr.c and
# test_urcu_bp.c are built against the installed liburcu, as its
# Makefile.am builds them (-O2, _LGPL_SOURCE, one flavour macro each), and
# run as `test_urcu_X 1 1 SECONDS -a 0 -a 1`: one reader, one writer, each
# on its own CPU, the writer never pausing (wdelay 0).  lockbench runs the
# same shape: readmostly with --threads 2 --param writers=1 (thread 0
# writes on every op, thread 1 reads on every op), --param read_words=1
# (a read loads one word, as test_urcu's loads one int), --pin compact
# (CPUs 0 and 1), one SECONDS window.  The two alternate, flavour by flavour, for
# ROUNDS rounds, so that a drift of the machine lands on both.
#
# OUT/peer-urcu.csv: flavour, round, tool, reads_per_s, writes_per_s.
# What differs between the two, by design (README, "liburcu's benchmark"):
# lockbench's writer takes the writers' mutex (and QSBR goes offline
# around it) and fills a 64-byte record where test_urcu's, its only
# writer, fills one int and swaps the pointer with rcu_xchg_pointer; and
# each tool's loop has its own per-op bookkeeping.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 URCU_SRC OUT [SECONDS] [ROUNDS]" >&2; exit 2; }
SRC=$1
OUT=$2
SECS=${3:-5}
ROUNDS=${4:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$SRC/tests/benchmark
[ -f "$B/test_urcu.c" ] || { echo "$0: $SRC: no tests/benchmark/test_urcu.c (a liburcu source tree?)" >&2; exit 2; }
case $SECS$ROUNDS in *[!0-9]*) echo "$0: SECONDS and ROUNDS are whole numbers" >&2; exit 2 ;; esac
mkdir -p "$OUT/bin"

# HAVE_GETTID, HAVE_RAND_R: what liburcu's configure finds in glibc.
CF="-O2 -g -I$SRC/tests/common -I$SRC/src -I$B -D_GNU_SOURCE -DHAVE_GETTID -DHAVE_RAND_R -pthread"
build() { # flavour source macro library
	# shellcheck disable=SC2086
	cc $CF $3 "$B/$2" -o "$OUT/bin/test_urcu_$1" -l"$4"
}
build memb test_urcu.c -DRCU_MEMBARRIER urcu-memb
build mb test_urcu.c -DRCU_MB urcu-mb
build signal test_urcu.c -DRCU_SIGNAL urcu-signal
build qsbr test_urcu_qsbr.c "" urcu-qsbr
build bp test_urcu_bp.c "" urcu-bp

"$ROOT/bench" --list >/dev/null # builds lockbench if needed
LB=$ROOT/build/lockbench
CSV=$OUT/peer-urcu.csv
echo "flavour,round,tool,reads_per_s,writes_per_s" >"$CSV"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for f in memb mb signal qsbr bp; do
		echo "peer-urcu: round $r/$ROUNDS: $f" >&2
		line=$("$OUT/bin/test_urcu_$f" 1 1 "$SECS" -a 0 -a 1 | grep '^SUMMARY')
		echo "$line" | awk -v f="$f" -v r="$r" -v s="$SECS" '{
			for (i = 1; i < NF; i++) { if ($i == "nr_reads") rd = $(i+1); if ($i == "nr_writes") wr = $(i+1) }
			printf "%s,%s,liburcu,%.1f,%.1f\n", f, r, rd / s, wr / s }' >>"$CSV"
		d=$OUT/lockbench-$f-$r
		"$LB" --workload readmostly --impl "urcu-$f" --threads 2 --param writers=1 \
			--param read_words=1 \
			--pin compact --duration "$SECS" --warmup 0.5 --repeat 1 --no-plot --quiet \
			--out "$d" >/dev/null
		python3 - "$d/results.csv" "$f" "$r" >>"$CSV" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print("%s,%s,lockbench,%.1f,%.1f" % (sys.argv[2], sys.argv[3],
      float(row["reader_ops_per_sec"]), float(row["writer_ops_per_sec"])))
PY
	done
	r=$((r + 1))
done
python3 - "$CSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("%-7s %14s %14s %7s   %12s %12s %7s" % ("flavour", "reads/s urcu", "lockbench", "ratio",
                                               "writes/s urcu", "lockbench", "ratio"))
for f in ["memb", "mb", "signal", "qsbr", "bp"]:
    med = {}
    for tool in ["liburcu", "lockbench"]:
        sel = [r for r in rows if r["flavour"] == f and r["tool"] == tool]
        med[tool] = (statistics.median(float(r["reads_per_s"]) for r in sel),
                     statistics.median(float(r["writes_per_s"]) for r in sel))
    u, l = med["liburcu"], med["lockbench"]
    print("%-7s %14.0f %14.0f %7.2f   %12.0f %12.0f %7.2f" % (
        f, u[0], l[0], l[0] / u[0] if u[0] else float("nan"),
        u[1], l[1], l[1] / u[1] if u[1] else float("nan")))
PY
