#!/bin/sh
# platform-suite.sh LOCKBENCH OUTDIR [lockbench options...]
#
# The reference sweep of one hardware platform: every workload with its
# default sweep (deadlock and livelock as their fixes, order=fixed and
# backoff=random: their defaults end in a watchdog report by design), each
# into OUTDIR/<workload>[-fix], its table beside it as <name>.table.txt.
# Extra options (e.g. --duration 0.1 --warmup 0.02 --no-plot) go to every
# run.  A workload that fails its check is reported and the sweep goes on;
# the exit status is 1 if any did.  results/reference/README.md (in the
# top-level README) says how to commit a platform.
set -u
[ $# -ge 2 ] || { echo "platform-suite.sh: usage: platform-suite.sh LOCKBENCH OUTDIR [options...]" >&2; exit 2; }
BIN=$1
OUT=$2
shift 2
[ -x "$BIN" ] || { echo "platform-suite.sh: $BIN: not an executable" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
status=0
for spec in counter trylock recursive pool readmostly barrier handoff broadcast prodcons \
	deadlock-fixed:order=fixed livelock-random:backoff=random; do
	name=${spec%%:*}
	wl=${name%%-*}
	case $spec in
	*:*) param="--param ${spec#*:}" ;;
	*) param= ;;
	esac
	echo "platform-suite.sh: $name" >&2
	# shellcheck disable=SC2086
	if ! "$BIN" --workload "$wl" $param --out "$OUT/$name" "$@" >"$OUT/$name.table.txt"; then
		echo "platform-suite.sh: $name FAILED (see $OUT/$name/meta.json)" >&2
		status=1
	fi
done
exit $status
