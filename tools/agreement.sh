#!/bin/sh
# The full "what FindSlots offers, Book accepts" run (issue 12): the
# property test with many generated queries, on the example region and
# on the benchmark's generated larger region. The suite runs a small
# seeded version of the same test.
#
#   tools/agreement.sh [PAIRS] [SEED]     (defaults: 5000, random)
#
# Prints each run's count of pairs and disagreements; exits non-zero
# on any disagreement, naming the seed that repeats it.
set -eu
cd "$(dirname "$0")/.."
pairs=${1:-5000}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
build=build/default
if [ ! -f "$build/build.ninja" ]; then
	tools/install-deps.sh
	mkdir -p build
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
export SLOTD_SOURCE_ROOT="$PWD" SLOTD_BUILD_ROOT="$PWD/$build"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

status=0
run() {
	echo "== $1"
	SLOTD_AGREE_SEED=$seed SLOTD_AGREE_PAIRS=$pairs \
		"$build/tests/test-agreement" >"$work/out" 2>&1 || status=1
	sed -n 's/^# \(agreement: [0-9].*\)/\1/p; s/^# \(DISAGREEMENT.*\)/\1/p' \
		"$work/out"
}

run "example region, $pairs pairs, seed $seed"
"$build/bench/slotd-bench-gen" --example config/example --out "$work/region" \
	--scale 0.3 --horizon-days 30 --http-address "" >/dev/null
SLOTD_AGREE_CONFIG="$work/region/slotd.conf" \
	run "generated region (scale 0.3, $(sed -n 's/^units=//p' \
		"$work/region/bench.ini") units), $pairs pairs, seed $seed"
[ "$status" -eq 0 ] || echo "disagreements found: repeat with $0 $pairs $seed"
exit "$status"
