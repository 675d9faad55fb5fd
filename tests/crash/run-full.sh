#!/bin/sh
# The full crash-safety run: 100 power cuts while 8 clients make every
# kind of change (tests/crash/crash.py, with its synchronous=OFF
# self-check at the end), then the planted reply-before-COMMIT bug on 20
# seeds with the suite's 4 rounds (tests/crash/planted.sh).
#
#   tests/crash/run-full.sh [BUILD_DIR]     (build/default by default)
#   CRASH_ROUNDS=N CRASH_SEED=S             other lengths, a repeat run
#   CRASH_PLANTED_SEEDS=N                   planted seeds (0: skip)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/default}" && pwd)
ninja -C "$build" >/dev/null
CRASH_ROUNDS=${CRASH_ROUNDS:-100} SLOTD_SOURCE_ROOT="$root" \
	SLOTD_BUILD_ROOT="$build" python3 "$root/tests/crash/crash.py"
seeds=${CRASH_PLANTED_SEEDS:-20}
if [ "$seeds" -gt 0 ]; then
	CRASH_ROUNDS=4 "$root/tests/crash/planted.sh" "$seeds"
fi
