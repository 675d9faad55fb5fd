#!/bin/sh
# slotd against the physical limits of its building blocks, as ratios.
#
# One run starts a private dbus-daemon, the bare echo server and the
# bare HTTP server (libsoup, for the feed 304), writes a large region
# (all 17 municipalities, about 300 units, 120 days), has slotd
# materialise it, loads 1,000,000 bookings through the store API, and
# then measures slotd and the bare baselines in the same run,
# interleaved: see docs/performance.md for what each figure means.
#
#   bench/bench.sh            the full run (under ten minutes)
#   bench/bench.sh --quick    about a minute: fewer rounds; the full-size
#                             database of the last full run when it is
#                             still fresh, else a smaller region
#   bench/bench.sh --smoke    seconds: proves the programs work (tests)
#   bench/bench.sh --scaling  FindSlots (200 slots) p50 and the echo of
#                             its reply at 100,000, 1,000,000 and
#                             2,000,000 bookings on the full-size region,
#                             and the 2M/1M ratio against its target
#                             (about 6 minutes; not part of the full run);
#                             --scaling --quick tries it on the smaller
#                             region (10,000 to 200,000; no verdict)
#
# Only a run on the full-size region gives verdicts ("met"); a quick run
# on the smaller region and a smoke run print n/a.
#
# Options: --build DIR uses an existing build directory as it is (no
# meson, no ninja); by default build/bench is configured (debugoptimized)
# and built. --keep keeps the work directory. The table goes to stdout,
# the JSON to bench/results/latest.json (smoke: into the work directory;
# --scaling: its table to bench/results/scaling.txt).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
mode=full
scaling=0
build=
keep=0

usage() {
	sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) mode=quick ;;
	--smoke) mode=smoke ;;
	--full) mode=full ;;
	--scaling) scaling=1 ;;
	--build) build=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

say() {
	printf '%s\n' "== $*" >&2
}

# ---- build -------------------------------------------------------------

if [ -z "$build" ]; then
	build=$root/build/bench
	if [ ! -f "$build/build.ninja" ]; then
		mkdir -p "$root/build"
		meson setup "$build" "$root" \
			--buildtype=debugoptimized >/dev/null
	fi
	# Only what the benchmark runs: a half-written test elsewhere in
	# the tree does not stop it.
	targets="daemon/slotd bench/slotd-bench bench/slotd-bench-echo
		bench/slotd-bench-http bench/slotd-bench-ical
		bench/slotd-bench-gen bench/slotd-bench-fill $(ninja \
		-C "$build" -t targets all |
		sed -n 's|^\(plugins/[^/ ]*\.so\): .*|\1|p')"
	# shellcheck disable=SC2086
	if ! ninja -C "$build" $targets >"$build/bench-build.log" 2>&1; then
		cat "$build/bench-build.log" >&2
		echo "bench.sh: the build failed" >&2
		exit 1
	fi
fi
build=$(cd "$build" && pwd)
if { [ "$mode" != smoke ] || [ "$scaling" = 1 ]; } &&
	grep -q '^#define SLOTD_SANITIZED 1' "$build/slotd-config.h"; then
	echo "bench.sh: $build is a sanitizer build; its figures would" \
		"mean nothing (use --smoke, or another build)" >&2
	exit 2
fi
bench=$build/bench/slotd-bench
slotd=$build/daemon/slotd

# ---- the run's parameters ----------------------------------------------

# scale (units), horizon days, bookings, feed bookings, startup runs,
# latency rounds/calls/find calls, rate rounds/seconds, feed rounds/304s,
# the fixed memory workload's searches (and its eight feeds).
set_params() {
	case $1 in
	full) scale=1 horizon=120 bookings=1000000 feed_bookings=10000
	      starts=5 lat_rounds=15 calls=200 find_calls=20
	      rate_rounds=5 rate_seconds=2 feed_rounds=7 not_modified=200
	      searches=100 ;;
	quick) scale=1 horizon=120 bookings=1000000 feed_bookings=10000
	      starts=3 lat_rounds=5 calls=100 find_calls=8
	      rate_rounds=3 rate_seconds=1 feed_rounds=3 not_modified=100
	      searches=100 ;;
	quick-small) scale=0.25 horizon=30 bookings=100000
	      feed_bookings=10000 ;;
	smoke) scale=0.25 horizon=7 bookings=2000 feed_bookings=100
	      starts=1 lat_rounds=1 calls=20 find_calls=2
	      rate_rounds=1 rate_seconds=0.3 feed_rounds=1 not_modified=10
	      searches=10 ;;
	esac
	# The feed rounds, their warm-up and the stall's cold feed; at
	# least the memory workload's eight.
	feed_units_n=$((feed_rounds + 2 > 8 ? feed_rounds + 2 : 8))
}
set_params "$mode"

# ---- processes and clean-up --------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/slotd-bench.XXXXXX")
bus_pid='' echo_pid='' http_pid='' slotd_pid=''

# Stops a process we started and waits (at most 20 s) until it is gone.
# The last slotd is started by `slotd-bench startup`, so it is not this
# shell's child: then only its state in /proc tells that it has exited.
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
	i=0
	while [ $i -lt 400 ] && kill -0 "$1" 2>/dev/null &&
		! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
}

cleanup() {
	stop_pid "$slotd_pid"
	stop_pid "$http_pid"
	stop_pid "$echo_pid"
	stop_pid "$bus_pid"
	if [ "$keep" = 1 ]; then
		echo "bench.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

figures=$work/figures.txt
: >"$figures"
info() {
	echo "info $*" >>"$figures"
}

start_bus() {
	out=$(dbus-daemon --session --fork --address="unix:dir=$work" \
		--print-address=1 --print-pid=1 2>/dev/null)
	address=$(echo "$out" | sed -n 1p)
	bus_pid=$(echo "$out" | sed -n 2p)
}

slotd_args() {
	echo "$slotd --config $work/region/slotd.conf --state-dir $work/state" \
		"--plugin-dir $build/plugins --bus-address $address"
}

# slotd materialises the generated region once, alone, then stops.
materialise() {
	say "slotd materialises the region's slots"
	t0=$(date +%s)
	# shellcheck disable=SC2046,SC2091
	$(slotd_args) 2>>"$work/slotd.log" &
	slotd_pid=$!
	"$bench" wait-horizon "$address" 900
	stop_pid "$slotd_pid"
	slotd_pid=
	echo "figure materialise-s $(($(date +%s) - t0))" >>"$figures"
}

# The database: from the cache of an earlier run when it is the same
# region, load and loader and still fresh (two days: slotd extends the
# horizon by the days that passed), else materialised and loaded now.
cache_key() {
	cat "$work"/region/*.conf "$work"/region/services.d/*.conf \
		"$work/region/bench.ini" "$here/fill.c" | sha256sum | cut -c1-16
}

prepare_database() {
	mkdir -p "$work/state"
	cache=$build/bench-cache/$(cache_key)-$bookings
	if [ "$mode" = quick ] && [ -n "$(find "$cache.db" -mtime -2 \
		2>/dev/null)" ]; then
		say "using the database of an earlier full run ($cache.db)"
		cp "$cache.db" "$work/state/slotd.db"
		cat "$cache.info" >>"$figures"
		return
	fi
	materialise
	say "loading $bookings bookings through the store API"
	check=
	[ "$mode" = smoke ] && check=--check
	# shellcheck disable=SC2086
	"$build/bench/slotd-bench-fill" --db "$work/state/slotd.db" $check \
		--meta "$work/region/bench.ini" --bookings "$bookings" \
		--feed-units "$feed_units_n" \
		--feed-bookings "$feed_bookings" >"$work/fill.txt"
	cat "$work/fill.txt" >>"$figures"
	if [ "$mode" = full ]; then
		rm -rf "$build/bench-cache"
		mkdir -p "$build/bench-cache"
		cp "$work/state/slotd.db" "$cache.db"
		grep '^info feed-units' "$work/fill.txt" >"$cache.info"
	fi
}

generate() {
	rm -rf "$work/region"
	"$build/bench/slotd-bench-gen" --example "$root/config/example" \
		--out "$work/region" --scale "$1" --horizon-days "$2" \
		--http-address 127.0.0.1:0 >&2
}

meta() {
	sed -n "s/^$1=//p" "$work/region/bench.ini"
}

start_echo() {
	"$build/bench/slotd-bench-echo" "$address" 2>>"$work/echo.log" &
	echo_pid=$!
	"$bench" wait-name "$address" org.slotd.BenchEcho 10
}

# slotd on the work directory's region and database, until its horizon
# is complete.
start_slotd() {
	# shellcheck disable=SC2046,SC2091
	$(slotd_args) 2>>"$work/slotd.log" &
	slotd_pid=$!
	"$bench" wait-horizon "$address" 300
}

stop_slotd() {
	stop_pid "$slotd_pid"
	slotd_pid=
}

# The trivial call and FindSlots against the echo.
measure_latency() {
	"$bench" latency --address "$address" --rounds "$lat_rounds" \
		--calls "$calls" --find-calls "$find_calls" \
		--find-service "$(meta find-service)" \
		--find-municipality "$(meta find-municipality)" \
		--find-language "$(meta find-language)" \
		--find-days "$([ "$horizon" -lt 15 ] &&
			echo $((horizon - 1)) || echo 14)" \
		--db "$work/state/slotd.db"
}

# ---- the scaling table ---------------------------------------------------

# FindSlots at three sizes of the same database: the first step's
# bookings loaded, then more loaded into the same database before each
# next step. The third step's are cancelled bookings (no seat): the
# region's seats cannot hold them all.
run_scaling() {
	if [ "$mode" = quick ]; then
		scale=0.25 horizon=30 first=10000 second=100000 third=200000
		lat_rounds=3 calls=20 find_calls=5
	else
		scale=1 horizon=120 first=100000 second=1000000 third=2000000
		lat_rounds=5 calls=20 find_calls=10
	fi
	steps="$first $second $third"
	say "slotd scaling, work directory $work"
	start_bus
	generate "$scale" "$horizon"
	mkdir -p "$work/state"
	materialise
	start_echo
	table=$work/scaling.txt
	loaded=0
	for total in $steps; do
		if [ "$total" = "$third" ]; then
			add="--bookings 0 --cancelled $((total - loaded))"
			what="$((total - loaded)) cancelled"
		else
			add="--bookings $((total - loaded))"
			what="$((total - loaded))"
		fi
		say "loading $what bookings ($total in all)"
		# shellcheck disable=SC2086
		"$build/bench/slotd-bench-fill" --db "$work/state/slotd.db" \
			--meta "$work/region/bench.ini" --feed-units 0 \
			$add >>"$work/fill.txt"
		loaded=$total
		say "FindSlots and the echo at $total bookings"
		start_slotd
		measure_latency >"$work/scaling-$total.txt"
		stop_slotd
	done
	{
		echo "FindSlots, 200 slots, p50, against the echo of the same" \
			"reply; $(meta units) units, $horizon-day horizon"
		echo "(the last step's added bookings are cancelled ones: no" \
			"seat)"
		echo
		printf '%12s %14s %12s %8s\n' bookings "FindSlots us" \
			"echo us" ratio
		for total in $steps; do
			f=$(sed -n 's/^figure find-200-p50-us //p' \
				"$work/scaling-$total.txt")
			e=$(sed -n 's/^figure echo-200-p50-us //p' \
				"$work/scaling-$total.txt")
			awk -v n="$total" -v f="$f" -v e="$e" 'BEGIN {
				printf "%12d %14.0f %12.0f %8.2f\n", n, f, e,
					f / e }'
		done
		awk -v a="$(sed -n 's/^figure find-200-p50-us //p' \
				"$work/scaling-$second.txt")" \
			-v b="$(sed -n 's/^figure find-200-p50-us //p' \
				"$work/scaling-$third.txt")" \
			-v n2="$second" -v n3="$third" \
			-v judged="$([ "$mode" = quick ] && echo 0 || echo 1)" \
			'BEGIN {
			r = b / a
			verdict = r <= 1.5 ? "met" : "NOT met"
			if (!judged)
				verdict = "n/a, a smaller region"
			printf "\nFindSlots p50 at %d / at %d bookings: %.2f", \
				n3, n2, r
			printf " (target <= 1.50x: %s)\n", verdict }'
	} >"$table"
	echo
	cat "$table"
	if [ "$mode" != quick ]; then
		mkdir -p "$here/results"
		cp "$table" "$here/results/scaling.txt"
	fi
}

# ---- the run -------------------------------------------------------------

if [ "$scaling" = 1 ]; then
	run_scaling
	exit 0
fi

say "slotd benchmark, $mode run, work directory $work"
info run "$mode"
info machine "$(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' \
	/proc/cpuinfo | head -n 1), $(uname -sr)"
say "disk: fdatasync latency of $work"
probes=200
[ "$mode" = smoke ] && probes=20
"$bench" fsync "$work" "$probes" >>"$figures"

start_bus
generate "$scale" "$horizon"
if [ "$mode" = quick ] && [ -z "$(find \
	"$build/bench-cache/$(cache_key)-$bookings.db" -mtime -2 \
	2>/dev/null)" ]; then
	say "no fresh full-size database from a full run: a smaller region"
	set_params quick-small
	generate "$scale" "$horizon"
fi
info region "$(meta units) units, $(meta offering-count) offerings," \
	"$horizon-day horizon, $bookings bookings loaded"
# The targets name the full-size region; on a smaller one the report
# gives no verdicts.
if [ "$scale" = 1 ] && [ "$horizon" = 120 ] && [ "$bookings" = 1000000 ]
then
	echo "figure full-region 1" >>"$figures"
else
	echo "figure full-region 0" >>"$figures"
	info scale "smaller than the targets' region: no verdicts"
fi
prepare_database
feed_units=$(sed -n 's/^info feed-units //p' "$figures" | tail -n 1)
all_feed_units=$feed_units
# The last unit's feed stays cold for the stall figure.
stall_unit=$(echo "$feed_units" | tr ';' '\n' | tail -n 1)
feed_units=$(echo "$feed_units" | tr ';' '\n' | sed '$d' | tr '\n' ';')

say "the bare echo server and the bare HTTP server"
start_echo
"$build/bench/slotd-bench-http" >"$work/bare-http.address" \
	2>>"$work/bare-http.log" &
http_pid=$!
i=0
while [ ! -s "$work/bare-http.address" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
bare_http=$(head -n 1 "$work/bare-http.address")

# On a slotd of its own, so that the figures' slotd keeps its feeds
# cold and this peak is the workload's alone.
say "memory on a fixed workload: 8 staff feeds, $searches whole-region searches"
start_slotd
# shellcheck disable=SC2046
"$bench" memory --address "$address" --pid "$slotd_pid" \
	$(echo "$all_feed_units" | tr ';' '\n' | sed '/^$/d; s/^/--unit /') \
	--feeds 8 --searches "$searches" --days "$horizon" >>"$figures"
stop_slotd

say "start-up with the bookings: $starts start(s)"
# shellcheck disable=SC2046
"$bench" startup --address "$address" --runs "$starts" \
	--pidfile "$work/slotd.pid" --log "$work/slotd.log" \
	-- $(slotd_args) >>"$figures"
slotd_pid=$(cat "$work/slotd.pid")
"$bench" wait-horizon "$address" 300
# Memory before any work, beside the peak after all of it.
"$bench" rss "$slotd_pid" | sed 's/^figure rss-/figure start-rss-/' \
	>>"$figures"

say "latency: trivial call and FindSlots against the echo"
measure_latency >>"$figures"

say "staff feeds of $feed_bookings bookings against libical"
# shellcheck disable=SC2046
"$bench" feed --address "$address" \
	$(echo "$feed_units" | tr ';' '\n' | sed '/^$/d; s/^/--unit /') \
	--rounds "$feed_rounds" --not-modified "$not_modified" \
	--ical "$build/bench/slotd-bench-ical" --db "$work/state/slotd.db" \
	--region "$work/region" \
	${bare_http:+--bare-http "$bare_http"} >>"$figures"

say "durable booking rates against bare SQLite"
"$bench" rates --address "$address" --dir "$work" --rounds "$rate_rounds" \
	--seconds "$rate_seconds" --service "$(meta book-service)" \
	--language "$(meta book-language)" --pool-days "$horizon" \
	--db "$work/state/slotd.db" --pid "$slotd_pid" >>"$figures"

"$bench" rss "$slotd_pid" >>"$figures"

# Last, as it changes the region: every window five minutes later (where
# the minutes allow), so that the Reload reshapes every offering.
say "main-loop stalls: a 36-week report (rows in a memfd, then in the reply), a cold feed, a reload"
perl -pi -e 's/^(window-[^=]*=)(\d\d):([0-4]\d)-(\d\d):([0-4]\d)/
	sprintf("%s%s:%02d-%s:%02d", $1, $2, $3 + 5, $4, $5 + 5)/e' \
	"$work"/region/services.d/*.conf
"$bench" stall --address "$address" --service "$(meta find-service)" \
	--unit "$stall_unit" --reload >>"$figures"
stop_pid "$slotd_pid"
slotd_pid=

complete=
if [ "$mode" = smoke ]; then
	json=$work/latest.json
	# The smoke run is the suite's: a figure the table no longer gets
	# fails it.
	complete=--complete
else
	mkdir -p "$here/results"
	json=$here/results/latest.json
	cp "$figures" "$here/results/latest-figures.txt"
fi
echo
# shellcheck disable=SC2086
"$bench" report "$figures" "$json" $complete
echo
echo "JSON: $json"
