#!/bin/sh
# The daemon tests with slotd under valgrind memcheck: every slotd the
# tests start runs as `valgrind --leak-check=full
# --errors-for-leak-kinds=definite --error-exitcode=97 ...` (through
# SLOTD_TEST_WRAPPER, which tests/harness.c puts before the daemon), so a
# memory error or a definite leak fails the test that met it (slotd must
# exit 0), and the logs are summed up at the end.
#
#   tests/valgrind.sh [BUILD_DIR] [TEST...]
#
# BUILD_DIR is a plain (not sanitized) build, build/default by default;
# it is set up and built when missing. Logs: BUILD_DIR/valgrind/.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
[ $# -gt 0 ] && shift
# Not test-lifecycle: it asserts a call rate valgrind cannot reach.
tests=${*:-"scheduler bad-input race introspection reload access security
	storage-faults fuzz-bus load"}

command -v valgrind >/dev/null || { echo "valgrind: not installed"; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { echo "valgrind: build failed"; exit 1; }
build=$(cd "$build" && pwd)

logs=$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# GLib's own, and libsoup's lost sockets (tests/valgrind.supp says why).
supp="--suppressions=$root/tests/valgrind.supp"
[ -f /usr/share/glib-2.0/valgrind/glib.supp ] &&
	supp="$supp --suppressions=/usr/share/glib-2.0/valgrind/glib.supp"
vg="valgrind --leak-check=full --errors-for-leak-kinds=definite"
vg="$vg --error-exitcode=97 --num-callers=30 $supp"
export SLOTD_TEST_WRAPPER="$vg --log-file=$logs/%q{VALGRIND_TEST}-%p.log"
export SLOTD_SOURCE_ROOT="$root" SLOTD_BUILD_ROOT="$build"
export G_DEBUG=fatal-criticals
# Shorter variants: valgrind runs slotd some twenty times slower.
export SLOTD_FUZZ_CALLS=${SLOTD_FUZZ_CALLS:-400}
export SLOTD_LOAD_SECONDS=${SLOTD_LOAD_SECONDS:-10}

failed=0
ran=0
for t in $tests; do
	exe=$build/tests/test-$t
	[ -x "$exe" ] || { echo "valgrind: $t: not built, skipped"; continue; }
	ran=$((ran + 1))
	if VALGRIND_TEST=$t "$exe" >"$logs/$t.out" 2>&1; then
		echo "valgrind: $t: passed"
	else
		echo "valgrind: $t: FAILED (see $logs/$t.out)"
		failed=$((failed + 1))
	fi
done

# Sum the memcheck logs: one per slotd started.
daemons=$(ls "$logs"/*.log 2>/dev/null | wc -l)
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' \
	"$logs"/*.log 2>/dev/null | tr -d , | awk '{s += $1} END {print s + 0}')
lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' \
	"$logs"/*.log 2>/dev/null | tr -d , | awk '{s += $1} END {print s + 0}')
echo "valgrind: $ran tests, $failed failed; $daemons slotd runs under" \
	"memcheck: $errors errors, $lost bytes definitely lost"
[ "$failed" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$lost" -eq 0 ] &&
	[ "$daemons" -gt 0 ]
