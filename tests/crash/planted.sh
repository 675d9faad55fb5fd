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
#   CRASH_PLANT=reply-before-commit (the default), or a waitlist fault
#   (issue 16) in daemon/capacity-waitlist.c:
#     offer-split  AcceptOffer closes the offer and marks the entry
#                  booked in a transaction of its own, committed before
#                  the booking is made (the end state is as it should
#                  be; only a power cut in between shows it)
#     join-lost    JoinWaitlist answers an entry id without writing the
#                  entry
#   A waitlist plant counts the runs that failed at all (offer-split
#   leaves no acknowledged change lost, only a half-done one).
#
# Prints "planted PLANT: caught in N/M seeds"; exits 0 only when every
# seed caught it.
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

plant=${CRASH_PLANT:-reply-before-commit}
case $plant in
reply-before-commit) ;;
offer-split|join-lost)
	python3 - "$scratch/src/daemon/capacity-waitlist.c" "$plant" <<'EOF'
import sys
path, plant = sys.argv[1], sys.argv[2]
text = open(path).read()
if plant == "join-lost":
    edits = [("""	if (!store_wait_insert(capacity->store, j->entry, error))
		return FALSE;
""", """	/* PLANTED: the entry is not written. */
	j->entry->id = 1000000 + (gint64)g_random_int_range(0, 1000000);
""")]
else:
    edits = [("""#include "options.h"
""", """#include "options.h"
#include "store-private.h"
"""), ("""	options = entry_options(e, e->offer_hold);
""", """	/* PLANTED: the offer is closed, the entry marked booked and that
	 * committed before the booking is made. (The request has no
	 * savepoint when it is its batch's only one.) */
	gboolean in_savepoint = capacity->store->savepoints->len > 0;

	if (!store_wait_offer_close(capacity->store, e->offer, "accepted", 0,
				    now, error) ||
	    !store_wait_set_status(capacity->store, e->id, "booked", 0,
				   error) ||
	    (in_savepoint &&
	     !store_release(capacity->store, "request", error)) ||
	    !store_commit(capacity->store, error) ||
	    !store_begin(capacity->store, error) ||
	    (in_savepoint &&
	     !store_savepoint(capacity->store, "request", error)))
		return FALSE;
	options = entry_options(e, e->offer_hold);
"""), ("""	return store_wait_offer_close(capacity->store, e->offer, "accepted",
				      a->booking->id, now, error) &&
""", """	{
		g_autofree char *sql = g_strdup_printf(
			"UPDATE waitlist_offer SET booking = %" G_GINT64_FORMAT
			" WHERE id = %" G_GINT64_FORMAT, a->booking->id,
			e->offer);

		sqlite3_exec(capacity->store->db, sql, NULL, NULL, NULL);
	}
	return store_wait_set_status(capacity->store, e->id, "booked",
				     a->booking->id, error) &&
""")]
for old, new in edits:
    if text.count(old) != 1:
        sys.exit("planted.sh: capacity-waitlist.c changed; update the plant")
    text = text.replace(old, new)
open(path, "w").write(text)
EOF
	;;
*) echo "planted.sh: unknown CRASH_PLANT=$plant" >&2; exit 2 ;;
esac

[ "$plant" = reply-before-commit ] && python3 - "$scratch/src/daemon/scheduler.c" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
old = """		capacity_batch_end(daemon->capacity, &commit_error);
	}
"""
new = """		/* PLANTED: the answers go out before the COMMIT. */
		while (!g_queue_is_empty(&batch))
			change_answer(g_queue_pop_head(&batch), NULL);
		capacity_batch_end(daemon->capacity, &commit_error);
	}
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
	plugins/therapy-course.so plugins/joint-visit.so \
	>"$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log"; exit 1; }

rounds=${CRASH_ROUNDS:-4}
caught=0
in_round=""
seed=$first
last=$((first + seeds - 1))
expect=1
[ "$plant" = reply-before-commit ] || expect=0
while [ "$seed" -le "$last" ]; do
	status=0
	CRASH_EXPECT_LOSS=$expect CRASH_SEED=$seed CRASH_ROUNDS=$rounds \
		SLOTD_SOURCE_ROOT="$scratch/src" \
		SLOTD_BUILD_ROOT="$scratch/build" \
		python3 "$root/tests/crash/crash.py" >"$scratch/run.log" 2>&1 ||
		status=$?
	if { [ "$expect" = 1 ] && [ "$status" = 0 ]; } ||
		{ [ "$expect" = 0 ] && grep -q '^crash: FAILED' "$scratch/run.log"; }
	then
		caught=$((caught + 1))
		# The round whose power cut showed the loss.
		in_round="$in_round $(grep -c '^round ' "$scratch/run.log" || true)"
	fi
	grep -v '^round ' "$scratch/run.log"
	seed=$((seed + 1))
done
echo "planted $plant: caught in $caught/$seeds seeds" \
	"(CRASH_ROUNDS=$rounds, seeds $first-$last); in round:$in_round"
[ "$caught" -eq "$seeds" ]
