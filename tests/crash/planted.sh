#!/bin/sh
# Does the crash test catch "reply before COMMIT"? Builds slotd from a
# scratch copy of this tree (nothing in the repository changes) in which
# run_batch() in daemon/scheduler.c answers every change of a batch
# before capacity_batch_end() commits it, then runs tests/crash/crash.py
# against that build once per seed, with the suite's settings, and
# counts the runs that found an acknowledged change lost.
#
#   tests/crash/planted.sh [SEEDS] [FIRST_SEED]     (20 seeds from 1)
#   CRASH_ROUNDS=N                                 (4, as in the suite)
#
# Prints "planted reply-before-COMMIT: caught in N/M seeds"; exits 0
# only when every seed caught it.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
seeds=${1:-20}
first=${2:-1}
scratch=$(mktemp -d /tmp/slotd-planted-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The tree as it is now, committed or not.
mkdir "$scratch/src"
(cd "$root" && git ls-files -co --exclude-standard -z) |
	(cd "$root" && xargs -0 tar -cf - --no-recursion) |
	tar -xf - -C "$scratch/src"

python3 - "$scratch/src/daemon/scheduler.c" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
old = """		capacity_batch_end(daemon->capacity, &commit_error);
	}
	while (!g_queue_is_empty(&batch))
		change_answer(g_queue_pop_head(&batch), commit_error);
"""
new = """		/* PLANTED: the answers go out before the COMMIT. */
		while (!g_queue_is_empty(&batch))
			change_answer(g_queue_pop_head(&batch), NULL);
		capacity_batch_end(daemon->capacity, &commit_error);
	}
	while (!g_queue_is_empty(&batch))
		change_answer(g_queue_pop_head(&batch), commit_error);
"""
if text.count(old) != 1:
    sys.exit("planted.sh: run_batch() changed; update the plant")
open(path, "w").write(text.replace(old, new))
EOF

echo "planted.sh: building the planted slotd in $scratch/build"
meson setup "$scratch/build" "$scratch/src" --buildtype=debugoptimized \
	>"$scratch/setup.log" 2>&1 || { cat "$scratch/setup.log"; exit 1; }
ninja -C "$scratch/build" daemon/slotd tests/crash-client \
	tests/crash-powerloss-vfs.so plugins/home-hospital.so \
	plugins/crisis-duty.so plugins/walk-in.so plugins/example.so \
	>"$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log"; exit 1; }

rounds=${CRASH_ROUNDS:-4}
caught=0
in_round=""
seed=$first
last=$((first + seeds - 1))
while [ "$seed" -le "$last" ]; do
	if CRASH_EXPECT_LOSS=1 CRASH_SEED=$seed CRASH_ROUNDS=$rounds \
		SLOTD_SOURCE_ROOT="$scratch/src" \
		SLOTD_BUILD_ROOT="$scratch/build" \
		python3 "$root/tests/crash/crash.py" >"$scratch/run.log" 2>&1
	then
		caught=$((caught + 1))
		# The round whose power cut showed the loss.
		in_round="$in_round $(grep -c '^round ' "$scratch/run.log")"
	fi
	grep -v '^round ' "$scratch/run.log"
	seed=$((seed + 1))
done
echo "planted reply-before-COMMIT: caught in $caught/$seeds seeds" \
	"(CRASH_ROUNDS=$rounds, seeds $first-$last); in round:$in_round"
[ "$caught" -eq "$seeds" ]
