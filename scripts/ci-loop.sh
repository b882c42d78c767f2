#!/bin/sh
# ci-loop.sh [COMMIT] [N] [OUTDIR]
#
# Issue 8's flake hunt: N (default 20) consecutive `.ci/run` passes, each
# in a fresh clone of this repository at COMMIT (default HEAD), while
# `stress-ng --cpu 2` keeps both CPUs busy.  Stops at the first failure
# (its clone and log are kept) or when OUTDIR/stop exists; OUTDIR
# (default /tmp/lockbench-ci-loop) gets runN.log and one summary line per
# run in summary.txt.  Needs stress-ng.  A flake is a bug: read the
# failing run's log, find the race, fix it, start again.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C=$(git -C "$ROOT" rev-parse --short "${1:-HEAD}") || exit 2
N=${2:-20}
OUT=${3:-/tmp/lockbench-ci-loop}
case $N in ''|*[!0-9]*) echo "ci-loop.sh: N: '$N' is not a count" >&2; exit 2 ;; esac
command -v stress-ng >/dev/null || { echo "ci-loop.sh: needs stress-ng (apt-get install stress-ng)" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
stress-ng --cpu 2 --timeout 0 --quiet &
SP=$!
trap 'kill $SP 2>/dev/null' EXIT INT TERM
i=0 rc=0
while [ $i -lt "$N" ] && [ ! -e "$OUT/stop" ]; do
	i=$((i + 1))
	d=$OUT/run$i
	rm -rf "$d"
	git clone -q "$ROOT" "$d" && git -C "$d" checkout -q "$C" || exit 2
	s=$(date +%s)
	(cd "$d" && .ci/run) >"$OUT/run$i.log" 2>&1
	rc=$?
	echo "run $i commit $C rc=$rc $(($(date +%s) - s)) s: $(tail -n 1 "$OUT/run$i.log")" \
		>>"$OUT/summary.txt"
	[ $rc -eq 0 ] || break
	rm -rf "$d"
done
echo "ci-loop.sh: $(grep -c 'rc=0' "$OUT/summary.txt") passed; see $OUT/summary.txt" >&2
exit $rc
