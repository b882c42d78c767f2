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
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$ROOT/tests/tsan.supp"

# build NAME BUILDDIR MESON_SETUP_ARGS...: configure once, then build.
build() {
	name=$1 dir=$2
	shift 2
	echo "== $name: configure and build ($dir)" >&2
	if [ ! -f "$dir/build.ninja" ] && ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
		cat "$dir.setup.log" >&2
		echo "== $name: meson setup FAILED" >&2
		failed=$((failed + 1))
		return 1
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.build.log" >&2
		echo "== $name: build FAILED" >&2
		failed=$((failed + 1))
		return 1
	fi
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

if build "release -Werror" build-ci -Dwerror=true; then
	run "release -Werror" build-ci --suite unit --suite primitives --suite cli \
		--suite e2e --suite workloads
	[ "$REPEAT" -gt 0 ] && run "hazards x$REPEAT" build-ci --suite hazards --repeat "$REPEAT"
fi
if build "thread sanitizer" build-tsan -Dwerror=true -Db_sanitize=thread \
	-Dbuildtype=debugoptimized; then
	run "thread sanitizer" build-tsan --suite primitives --suite sweep
fi
if build "address+undefined sanitizers" build-asan -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized; then
	run "address+undefined sanitizers" build-asan --suite unit --suite primitives \
		--suite sweep
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
