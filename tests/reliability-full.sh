#!/bin/sh
# Every reliability check of docs/reliability.md at its full length, on
# one plain build: 100 crash rounds, a minute of load with the stall and
# memory limits asserted, 20000 fuzzed D-Bus calls, five minutes of each
# libFuzzer harness, and the daemon tests under valgrind. About an hour
# on two cores; the figures go to stdout for docs/reliability.md.
#
#   tests/reliability-full.sh [BUILD_DIR]   (build/default by default)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null || exit 1
ninja -C "$build" >/dev/null || exit 1
build=$(cd "$build" && pwd)
export SLOTD_SOURCE_ROOT="$root" SLOTD_BUILD_ROOT="$build"
failed=0

step() {
	echo "== $1"
	shift
	"$@" || { echo "== FAILED: $*"; failed=$((failed + 1)); }
}


step "crash: 100 rounds" "$root/tests/crash/run-full.sh" "$build"
step "load: 60 s, strict" sh -c "SLOTD_LOAD_SECONDS=60 SLOTD_LOAD_STRICT=1 \
	'$build/tests/test-load' | grep -E '^(load|ok|not ok)'"
step "fuzz-bus: 20000 calls" sh -c "SLOTD_FUZZ_CALLS=20000 \
	'$build/tests/test-fuzz-bus' | grep -E '^(fuzz-bus|ok|not ok)'"
step "storage faults" sh -c "'$build/tests/test-storage-faults' |
	grep -E '^(storage-faults|ok|not ok)'"
step "security" sh -c "'$build/tests/test-security' | grep -E '^(ok|not ok)'"
step "libFuzzer: 5 minutes a harness" "$root/tests/fuzz/build-and-run.sh"
step "valgrind" "$root/tests/valgrind.sh" "$build"
echo "reliability-full: $failed step(s) failed"
[ "$failed" -eq 0 ]
