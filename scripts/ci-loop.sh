#!/bin/sh
# ci-loop.sh [-j LANES] [COMMIT] [N] [OUTDIR]
#
# Issue 8's flake hunt: N (default 20) green `.ci/run` passes, each in a
# fresh clone of this repository at COMMIT (default HEAD), while
# `stress-ng --cpu 2` keeps both CPUs busy.  LANES (default 1) runs go at
# once: each is then load for the others too, on top of stress-ng.  The
# first failure stops the loop (lanes start no new run; its clone and log
# are kept), as does OUTDIR/stop.  OUTDIR (default /tmp/lockbench-ci-loop)
# gets runK.log and one line per run in summary.txt.  Needs stress-ng.
# A flake is a bug: read the failing run's log, find the race, fix it,
# start again.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LANES=1
if [ "${1:-}" = -j ]; then
	[ $# -ge 2 ] || { echo "ci-loop.sh: -j needs a count of 1 or more" >&2; exit 2; }
	LANES=$2
	shift 2
fi
case $LANES in ''|0|*[!0-9]*) echo "ci-loop.sh: -j: '$LANES' is not a count of 1 or more" >&2; exit 2 ;; esac
C=$(git -C "$ROOT" rev-parse --short "${1:-HEAD}") || exit 2
N=${2:-20}
OUT=${3:-/tmp/lockbench-ci-loop}
case $N in ''|*[!0-9]*) echo "ci-loop.sh: N: '$N' is not a count" >&2; exit 2 ;; esac
command -v stress-ng >/dev/null || { echo "ci-loop.sh: needs stress-ng (apt-get install stress-ng)" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
rm -rf "$OUT"/claim.*
stress-ng --cpu 2 --timeout 0 --quiet &
SP=$!
trap 'kill $SP 2>/dev/null' EXIT INT TERM

# lane L: claim run numbers (mkdir is atomic: one lane gets each) and run
# them until N are claimed, a run failed, or OUTDIR/stop exists.
lane() {
	k=0
	while [ ! -e "$OUT/stop" ]; do
		k=$((k + 1))
		[ $k -le "$N" ] || return 0
		mkdir "$OUT/claim.$k" 2>/dev/null || continue
		d=$OUT/run$k
		rm -rf "$d"
		git clone -q "$ROOT" "$d" && git -C "$d" checkout -q "$C" || { touch "$OUT/stop"; return 2; }
		s=$(date +%s)
		(cd "$d" && .ci/run) >"$OUT/run$k.log" 2>&1
		rc=$?
		echo "run $k lane $1 commit $C rc=$rc $(($(date +%s) - s)) s," \
			"started $(date -u -d "@$s" +%H:%M:%S): $(tail -n 1 "$OUT/run$k.log")" \
			>>"$OUT/summary.txt"
		[ $rc -eq 0 ] || { touch "$OUT/stop"; return 1; }
		rm -rf "$d"
	done
}

l=1
pids=""
while [ $l -le "$LANES" ]; do
	lane $l &
	pids="$pids $!"
	l=$((l + 1))
done
rc=0
for p in $pids; do
	wait "$p" || rc=1
done
echo "ci-loop.sh: $(grep -c 'rc=0' "$OUT/summary.txt") passed," \
	"$(grep -vc 'rc=0' "$OUT/summary.txt") failed; see $OUT/summary.txt" >&2
exit $rc
