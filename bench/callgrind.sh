#!/bin/sh
# Instructions per call of slotd's handlers, counted by callgrind: the
# counts do not depend on how busy the machine is, so they go beside the
# wall-clock ratios of bench.sh (docs/performance.md).
#
# slotd runs under valgrind --tool=callgrind with collection off, and on
# only inside the handlers (--toggle-collect): find_slots (FindSlots),
# list_services (ListServices), and for Book defer_change (the call
# taken and queued) plus batch_due (the batch run as one transaction,
# committed and answered; with one call at a time a batch is one
# booking). Everything they call is counted; the bus daemon, libdbus's
# reading of the message before the handler and the client are not.
# For each kind: two calls not counted (first statements, caches), the
# counters zeroed, --calls calls one at a time, the counters dumped.
#
#   bench/callgrind.sh                  the benchmark's region, small:
#                                       92 units, 30-day horizon,
#                                       100,000 bookings (a few minutes)
#   bench/callgrind.sh --full           the full-size one: 296 units,
#                                       120 days, 1,000,000 bookings
#                                       (loading them takes minutes)
#   bench/callgrind.sh --region example config/example (30-day
#                                       horizon, no bookings loaded):
#                                       FindSlots of home-hospital-west
#                                       from Espoo, with its resources
#
# Options: --calls N (default 5) counted calls of each kind; --find-
# service ID, --find-municipality CODE, --find-language LANG, --find-days
# N (default 14) for FindSlots (200 slots asked); --book-service ID for
# Book (default remote-counselling); --build DIR uses an existing build
# directory as it is (by default build/bench is configured and built as
# bench.sh does); --keep keeps the work directory with the callgrind
# dumps (callgrind_annotate reads them); --whole counts the whole slotd
# process between the zeroing and the dump instead of only the handlers
# (its main loop, libdbus's reading and writing, the signals, SQLite's
# commit: what a call costs slotd in all).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
region=bench
size=small
calls=5
build=
keep=0
whole=0
find_service=
find_municipality=
find_language=
find_days=14
book_service=remote-counselling

usage() {
	sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"
}

while [ $# -gt 0 ]; do
	case $1 in
	--region) region=$2; shift ;;
	--full) size=full ;;
	--calls) calls=$2; shift ;;
	--find-service) find_service=$2; shift ;;
	--find-municipality) find_municipality=$2; shift ;;
	--find-language) find_language=$2; shift ;;
	--find-days) find_days=$2; shift ;;
	--book-service) book_service=$2; shift ;;
	--build) build=$2; shift ;;
	--keep) keep=1 ;;
	--whole) whole=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "callgrind.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
case $region in
bench | example) ;;
*) echo "callgrind.sh: --region is bench or example" >&2; exit 2 ;;
esac
for tool in valgrind callgrind_control dbus-daemon; do
	if ! command -v "$tool" >/dev/null; then
		echo "callgrind.sh: $tool is needed" >&2
		exit 2
	fi
done

say() {
	printf '%s\n' "== $*" >&2
}

# ---- build ---------------------------------------------------------------

if [ -z "$build" ]; then
	build=$root/build/bench
	if [ ! -f "$build/build.ninja" ]; then
		mkdir -p "$root/build"
		meson setup "$build" "$root" \
			--buildtype=debugoptimized >/dev/null
	fi
	targets="daemon/slotd bench/slotd-bench bench/slotd-bench-gen
		bench/slotd-bench-fill $(ninja -C "$build" -t targets all |
		sed -n 's|^\(plugins/[^/ ]*\.so\): .*|\1|p')"
	# shellcheck disable=SC2086
	if ! ninja -C "$build" $targets >"$build/callgrind-build.log" 2>&1
	then
		cat "$build/callgrind-build.log" >&2
		echo "callgrind.sh: the build failed" >&2
		exit 1
	fi
fi
build=$(cd "$build" && pwd)
if grep -q '^#define SLOTD_SANITIZED 1' "$build/slotd-config.h"; then
	echo "callgrind.sh: $build is a sanitizer build (use another)" >&2
	exit 2
fi
bench=$build/bench/slotd-bench

# ---- processes -------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/slotd-callgrind.XXXXXX")
bus_pid='' slotd_pid=''

stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}

cleanup() {
	stop_pid "$slotd_pid"
	stop_pid "$bus_pid"
	if [ "$keep" = 1 ]; then
		echo "callgrind.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

out=$(dbus-daemon --session --fork --address="unix:dir=$work" \
	--print-address=1 --print-pid=1 2>/dev/null)
address=$(echo "$out" | sed -n 1p)
bus_pid=$(echo "$out" | sed -n 2p)

slotd_args() {
	echo "$build/daemon/slotd --config $work/region/slotd.conf" \
		"--state-dir $work/state --plugin-dir $build/plugins" \
		"--bus-address $address"
}

# ---- the region and its database -----------------------------------------

mkdir -p "$work/state"
if [ "$region" = bench ]; then
	if [ "$size" = full ]; then
		scale=1 horizon=120 bookings=1000000
	else
		scale=0.25 horizon=30 bookings=100000
	fi
	"$build/bench/slotd-bench-gen" --example "$root/config/example" \
		--out "$work/region" --scale "$scale" \
		--horizon-days "$horizon" --http-address 127.0.0.1:0 >&2
	meta() {
		sed -n "s/^$1=//p" "$work/region/bench.ini"
	}
	: "${find_service:=$(meta find-service)}"
	: "${find_municipality:=$(meta find-municipality)}"
	: "${find_language:=$(meta find-language)}"
	describe="benchmark region, $(meta units) units, $horizon-day horizon,"
	describe="$describe $bookings bookings"
else
	# The example as it is, but a 30-day horizon and a free port.
	cp -r "$root/config/example" "$work/region"
	sed -i -e 's/^horizon-days=.*/horizon-days=30/' \
		-e 's/^http-address=.*/http-address=127.0.0.1:0/' \
		"$work/region/slotd.conf"
	bookings=0
	: "${find_service:=home-hospital-west}"
	: "${find_municipality:=049}"
	: "${find_language:=fi}"
	describe="example region, 30-day horizon, no bookings loaded"
fi

say "slotd materialises the region's slots"
# shellcheck disable=SC2046,SC2091
$(slotd_args) 2>>"$work/slotd.log" &
slotd_pid=$!
"$bench" wait-horizon "$address" 900
stop_pid "$slotd_pid"
slotd_pid=
if [ "$bookings" -gt 0 ]; then
	say "loading $bookings bookings through the store API"
	"$build/bench/slotd-bench-fill" --db "$work/state/slotd.db" \
		--meta "$work/region/bench.ini" --bookings "$bookings" \
		--feed-units 0 >/dev/null
fi

# ---- slotd under callgrind ---------------------------------------------------

say "slotd under callgrind (slow to start)"
if [ "$whole" = 1 ]; then
	collect="--collect-atstart=yes"
else
	collect="--collect-atstart=no --toggle-collect=find_slots
		--toggle-collect=list_services --toggle-collect=defer_change
		--toggle-collect=batch_due"
fi
# shellcheck disable=SC2046,SC2086
valgrind --tool=callgrind $collect \
	--callgrind-out-file="$work/callgrind.out" \
	--log-file="$work/valgrind.log" \
	$(slotd_args) 2>>"$work/slotd.log" &
slotd_pid=$!
"$bench" wait-horizon "$address" 1800

dumps() {
	find "$work" -maxdepth 1 -name 'callgrind.out.*' | wc -l
}

# Counted calls of a kind: zeroed before, dumped after; prints the
# instructions of the dump. (--first: Book takes the seats after the two
# of the uncounted calls.)
count() {
	kind=$1
	shift
	"$bench" calls --address "$address" --kind "$kind" --count 2 "$@" \
		>/dev/null
	callgrind_control --zero "$slotd_pid" >/dev/null
	"$bench" calls --address "$address" --kind "$kind" \
		--count "$calls" --first 2 "$@" >"$work/calls-$kind.txt"
	before=$(dumps)
	callgrind_control --dump="$kind" "$slotd_pid" >/dev/null
	i=0
	while [ "$(dumps)" -le "$before" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# shellcheck disable=SC2012
	dump=$(ls -t "$work"/callgrind.out.* | head -n 1)
	sed -n 's/^totals: *//p; s/^summary: *//p' "$dump" | head -n 1
}

say "ListServices"
list_ir=$(count list)
say "FindSlots of $find_service, 200 slots asked"
find_ir=$(count find --service "$find_service" \
	--municipality "$find_municipality" --language "$find_language" \
	--days "$find_days" --limit 200)
found=$(sed -n 's/^slots //p' "$work/calls-find.txt")
say "Book of $book_service, one at a time"
"$bench" calls --address "$address" --kind seats \
	--service "$book_service" --days 30 --count $((calls + 2)) \
	--language "fi" >"$work/seats.txt"
book_ir=$(count book --slots "$work/seats.txt" --language "fi")

stop_pid "$slotd_pid"
slotd_pid=

per_call() {
	awk -v ir="$1" -v n="$calls" 'BEGIN {
		v = ir / n
		if (v >= 1e6)
			printf "%.1f M", v / 1e6
		else
			printf "%.0f k", v / 1e3 }'
}

if [ "$whole" = 1 ]; then
	counted="the whole process"
	list_what="" find_what="" book_what=""
else
	counted="the handlers"
	list_what=" (list_services)" find_what=" (find_slots)"
	book_what=" (defer_change + batch_due)"
fi
echo
echo "callgrind, instructions per call in $counted ($calls calls each," \
	"after 2 uncounted); $describe"
printf '  %-62s %10s\n' "ListServices$list_what" "$(per_call "$list_ir")"
printf '  %-62s %10s\n' \
	"FindSlots $find_service, $found slots$find_what" \
	"$(per_call "$find_ir")"
printf '  %-62s %10s\n' "Book $book_service$book_what" \
	"$(per_call "$book_ir")"
