#!/bin/sh
# The plugin loader race at full length (issue 20). Not in the suite,
# which runs 200 rounds as `meson test loader-race`.
#
# A swapper process renames a module the ELF check refuses
# (tests/plugins/foreign.c) over a sound one (tests/plugins/good.c) at
# one path of a plugin directory, as fast as it can, while ROUNDS
# directory passes, what a reload runs, load that directory, each in a
# fresh process. A pass that loads the refused module ran code other
# than the code it checked: a foreign load. Prints the counts; exits 1
# on a foreign load, 77 when the swapper never met a pass.
#
# usage: tools/loader-race.sh [BUILD] [ROUNDS]   (build/default, 10000)
# LOADER_RACE_SEED=S repeats a run's swap timing.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build/default}
rounds=${2:-10000}
seed=${LOADER_RACE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

ninja -C "$build" tests/loader-race tests/loader-good.so \
	tests/loader-foreign.so >/dev/null || exit 2
start=$(date +%s)
SLOTD_BUILD_ROOT=$(cd "$build" && pwd) \
	"$build/tests/loader-race" --rounds "$rounds" --seed "$seed"
status=$?
echo "loader-race: $(($(date +%s) - start)) s, exit status $status"
exit $status
