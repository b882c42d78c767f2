#!/bin/sh
# The whole test suite, as CI runs it (./bench test calls this after making
# sure the packages are installed).
#
#   ./bench test [--repeat N]
#
#   1. release build with -Werror: every suite (unit, primitives, cli,
#      e2e, workloads), then the 'hazards' suite (watchdog, hazard
#      detectors, signals, SIGSTOP) N more times (default 5): a race in the
#      harness shows up as a flake there, and a flake is a bug
#   2. ThreadSanitizer build: every primitive's tests (CK's and liburcu's
#      wrappers declare their edges: primitives/tsan.h, tests/tsan.supp)
#      and one short sweep of every workload over every implementation
#   3. AddressSanitizer + UBSan build (detect_stack_use_after_return=1):
#      unit and primitives suites, and the same sweep (LeakSanitizer
#      checks every workload's teardown at exit)
#
# The sanitizer trees are configured and built in the background (nice 10)
# while step 1's tests run: those leave a CPU idle for a minute or more
# (the e2e suite runs one test at a time, the hazard tests mostly wait),
# and no test asserts on time.  A failed build shows its log.
#
# Ends with one line "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

REPEAT=5
while [ $# -gt 0 ]; do
	case $1 in
	--repeat)
		[ $# -ge 2 ] || { echo "run-tests.sh: --repeat needs a count" >&2; exit 2; }
		REPEAT=$2
		shift 2 ;;
	--repeat=*)
		REPEAT=${1#--repeat=}
		shift ;;
	*)
		echo "run-tests.sh: unknown argument '$1'; valid: --repeat N" >&2
		exit 2 ;;
	esac
done
case $REPEAT in
''|*[!0-9]*) echo "run-tests.sh: --repeat: '$REPEAT' is not a count; give 0 or more" >&2; exit 2 ;;
esac

passed=0
failed=0
# UBSan only prints by default; make every sanitizer report fail the test.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$ROOT/tests/tsan.supp"

# child CMD...: runs CMD as $kid, so that a TERM trap can stop it (a
# background list ignores SIGINT: the terminal's ^C would not reach it).
kid=
child() {
	"$@" &
	kid=$!
	wait "$kid"
	set -- $?
	kid=
	return "$1"
}
# build_quiet BUILDDIR MESON_SETUP_ARGS...: configure once, then build,
# quietly; the status says how it went (0 built, 1 setup failed, 2 build
# failed), $dir.setup.log and $dir.build.log what happened.  $WRAP prefixes
# the commands: "child nice -n 10" in the background.
WRAP=
build_quiet() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ] &&
		! $WRAP meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
		return 1
	fi
	$WRAP ninja -C "$dir" >"$dir.build.log" 2>&1 || return 2
}

# Reports a tree's build status ($3: build_quiet's, or 3 when the background
# job left none); 0 when it built.
built() {
	name=$1 dir=$2 st=$3
	case $st in
	0) return 0 ;;
	3) echo "== $name: not built: the background build job ended without a status" >&2 ;;
	1) cat "$dir.setup.log" >&2
	   echo "== $name: meson setup FAILED" >&2 ;;
	*) cat "$dir.build.log" >&2
	   echo "== $name: build FAILED" >&2 ;;
	esac
	failed=$((failed + 1))
	return 1
}

# build NAME BUILDDIR MESON_SETUP_ARGS...: the same in the foreground.
build() {
	name=$1 dir=$2
	shift 2
	echo "== $name: configure and build ($dir)" >&2
	build_quiet "$dir" "$@"
	built "$name" "$dir" $?
}

# run NAME BUILDDIR MESON_TEST_ARGS...: meson test, counted from its JSON log.
run() {
	name=$1 dir=$2
	shift 2
	echo "== $name: meson test $*" >&2
	# --timeout-multiplier: the timeouts are hang guards, and CI may share
	# the machine with a CPU-heavy process; no test asserts on time.
	meson test -C "$dir" --print-errorlogs --timeout-multiplier 3 "$@"
	log="$dir/meson-logs/testlog.json"
	p=$(grep -c '"result": "OK"' "$log" 2>/dev/null || true)
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" 2>/dev/null || true)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

# sanitizer_builds STATUSFILE: both sanitizer trees, niced, for the
# background; writes "TSAN_STATUS ASAN_STATUS" (build_quiet's) to the file.
sanitizer_builds() {
	WRAP="child nice -n 10"
	trap '[ -z "$kid" ] || kill "$kid"; exit 143' TERM
	build_quiet build-tsan -Dwerror=true -Db_sanitize=thread -Dbuildtype=debugoptimized
	set -- "$1" $?
	build_quiet build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized
	echo "$2 $?" >"$1"
}

build "release -Werror" build-ci -Dwerror=true
ci=$?
echo "== thread sanitizer, address+undefined sanitizers: configure and build" \
	"(build-tsan, build-asan), in the background" >&2
status=build-sanitizers.status
rm -f "$status"
sanitizer_builds "$status" </dev/null >/dev/null 2>&1 &
bg=$!
# interrupted: stop the background builds too (none is left running)
trap 'kill "$bg" 2>/dev/null; exit 130' INT
trap 'kill "$bg" 2>/dev/null; exit 143' TERM
if [ "$ci" -eq 0 ]; then
	run "release -Werror" build-ci --suite unit --suite primitives --suite cli \
		--suite e2e --suite workloads
	[ "$REPEAT" -gt 0 ] && run "hazards x$REPEAT" build-ci --suite hazards --repeat "$REPEAT"
fi
wait "$bg"
trap - INT TERM
tsan=3 asan=3
[ -f "$status" ] && read -r tsan asan <"$status"
rm -f "$status"
if built "thread sanitizer" build-tsan "$tsan"; then
	run "thread sanitizer" build-tsan --suite primitives --suite sweep
fi
if built "address+undefined sanitizers" build-asan "$asan"; then
	run "address+undefined sanitizers" build-asan --suite unit --suite primitives \
		--suite sweep
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
