#!/bin/sh
# Builds slotd and runs the whole test suite twice: a normal build and an
# ASan+UBSan build. The last line is "N passed, N failed" over both runs.
set -u
cd "$(dirname "$0")"
tools/install-deps.sh || exit 1

passed=0
failed=0

run_suite() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			failed=$((failed + 1))
			return
		}
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.build.log"
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 \
		--timeout-multiplier "${SLOTD_TIMEOUT_MULTIPLIER:-3}"
	p=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir/meson-logs/testlog.txt" | tail -n 1)
	f=$(sed -n 's/^\(Fail\|Unexpected Pass\|Timeout\): *\([0-9]*\).*/\2/p' \
		"$dir/meson-logs/testlog.txt" | awk '{s += $1} END {print s + 0}')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

mkdir -p build
run_suite build/default --buildtype=debugoptimized
if [ "${SLOTD_SKIP_SANITIZERS:-0}" != 1 ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build/sanitize --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dsanitized=true
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
