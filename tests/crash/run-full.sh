#!/bin/sh
# The full crash-safety run: 100 rounds of SIGKILL at a random moment
# while 8 clients book, cancel and reschedule (tests/crash/crash.py).
#
#   tests/crash/run-full.sh [BUILD_DIR]     (build/default by default)
#   CRASH_ROUNDS=N CRASH_SEED=S             other lengths, a repeat run
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/default}" && pwd)
ninja -C "$build" >/dev/null
CRASH_ROUNDS=${CRASH_ROUNDS:-100} SLOTD_SOURCE_ROOT="$root" \
	SLOTD_BUILD_ROOT="$build" exec python3 "$root/tests/crash/crash.py"
