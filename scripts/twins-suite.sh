#!/bin/sh
# twins-suite.sh LOCKBENCH OUTDIR [lockbench options...]
#
# The futex family against glibc on one machine: every workload that
# drives a kind with futex and pthread members, run with --impl
# futex,pthread --repeat 5 at the default thread counts (1, 2, PUs,
# 2xPUs, 8, 16; the workloads that need two threads start at 2), into
# OUTDIR/<name>, its table beside it as <name>.table.txt and its progress
# in <name>.err.  readmostly runs twice: its default mix and
# read_pct=99 (readmostly99).  Then
#   ./bench scoreboard --twins OUTDIR
# states each futex implementation against its pthread twin.  Extra
# options go to every run.  The exit status is 1 if any run failed.
set -u
[ $# -ge 2 ] || { echo "twins-suite.sh: usage: twins-suite.sh LOCKBENCH OUTDIR [options...]" >&2; exit 2; }
BIN=$1
OUT=$2
shift 2
[ -x "$BIN" ] || { echo "twins-suite.sh: $BIN: not an executable" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
status=0
for spec in counter trylock recursive pool barrier readmostly readmostly99:read_pct=99 \
	handoff broadcast prodcons deadlock-fixed:order=fixed livelock-random:backoff=random; do
	name=${spec%%:*}
	wl=${name%%-*}
	wl=${wl%99}
	case $spec in
	*:*) param="--param ${spec#*:}" ;;
	*) param= ;;
	esac
	case $wl in
	handoff | broadcast | prodcons | deadlock | livelock) threads=2,pus,2xpus,8,16 ;;
	*) threads=1,2,pus,2xpus,8,16 ;;
	esac
	echo "twins-suite.sh: $name" >&2
	# shellcheck disable=SC2086
	if ! "$BIN" --workload "$wl" $param --impl futex,pthread --repeat 5 --threads "$threads" \
		--out "$OUT/$name" "$@" >"$OUT/$name.table.txt" 2>"$OUT/$name.err"; then
		echo "twins-suite.sh: $name FAILED (see $OUT/$name.err)" >&2
		status=1
	fi
done
exit $status
