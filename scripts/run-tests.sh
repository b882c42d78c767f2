#!/bin/sh
# The whole test suite, as CI runs it (./bench test calls this after making
# sure the packages are installed).
#
#   1. release build with -Werror: every suite (unit, primitives, cli, e2e)
#   2. ThreadSanitizer build: the futex (and pthread) primitives' tests
#   3. AddressSanitizer + UBSan build: unit and primitives tests
#
# Ends with one line "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

passed=0
failed=0
# UBSan only prints by default; make every sanitizer report fail the test.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export TSAN_OPTIONS="halt_on_error=1"

# meson_test NAME BUILDDIR MESON_SETUP_ARGS -- MESON_TEST_ARGS
suite() {
	name=$1 dir=$2
	shift 2
	setup_args=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		setup_args="$setup_args $1"
		shift
	done
	[ $# -gt 0 ] && shift
	echo "== $name: configure and build ($dir)" >&2
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		if ! meson setup "$dir" $setup_args >"$dir.setup.log" 2>&1; then
			cat "$dir.setup.log" >&2
			echo "== $name: meson setup FAILED" >&2
			failed=$((failed + 1))
			return
		fi
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.build.log" >&2
		echo "== $name: build FAILED" >&2
		failed=$((failed + 1))
		return
	fi
	echo "== $name: meson test $*" >&2
	meson test -C "$dir" --print-errorlogs "$@"
	# Count from meson's own JSON log: one object per test.
	log="$dir/meson-logs/testlog.json"
	p=$(grep -c '"result": "OK"' "$log" 2>/dev/null || true)
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" 2>/dev/null || true)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

suite "release -Werror" build-ci -Dwerror=true -- --suite unit --suite primitives \
	--suite futex --suite cli --suite e2e --suite workloads
suite "thread sanitizer" build-tsan -Dwerror=true -Db_sanitize=thread \
	-Dbuildtype=debugoptimized -- --suite futex
suite "address+undefined sanitizers" build-asan -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized -- \
	--suite unit --suite primitives --suite futex

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
