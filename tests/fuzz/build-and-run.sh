#!/bin/sh
# Builds the libFuzzer harnesses in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) against the engine's sources and
# runs each of them on its corpus (tests/fuzz/corpus/NAME, plus what the
# fuzzer finds, kept in the output directory).
#
#   tests/fuzz/build-and-run.sh             5 minutes a harness
#   tests/fuzz/build-and-run.sh --bounded   4 s a harness (the test suite)
#   FUZZ_SECONDS=N  FUZZ_ONLY=NAME          other lengths, one harness
#
# The suite's 4 s go on from the corpus the earlier runs in the same
# build directory left (besides the seeds in tests/fuzz/corpus); the
# long run is tests/reliability-full.sh's step. Only what changed is
# built again: an object whose source or any header of daemon/ is newer,
# a harness whose source or an object is; all of it when the flags or
# the engine's source list (daemon/meson.build) changed.
#
# Output and findings: $SLOTD_BUILD_ROOT/fuzz (or build/fuzz). Exit
# status 0 when no harness found anything.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=${SLOTD_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
out=${SLOTD_BUILD_ROOT:-$root/build}/fuzz
seconds=${FUZZ_SECONDS:-300}
[ "${1:-}" = "--bounded" ] && seconds=${FUZZ_SECONDS:-4}
targets=${FUZZ_ONLY:-"client-ref feed-path config feed-render"}

command -v clang >/dev/null || { echo "fuzz: no clang; skipped"; exit 77; }
mkdir -p "$out/include" "$out/obj" "$out/artifacts"

# The engine's sources, as daemon/meson.build lists them.
core=$(sed -n '/^core_names = \[/,/\]/p' "$root/daemon/meson.build" |
	tr -d "[],'" | sed 's/core_names =//')
pkgs="glib-2.0 gmodule-2.0 sqlite3 libical"
cflags="-g -O1 -std=gnu11 -w -fsanitize=address,undefined
	-fno-sanitize-recover=undefined -DG_LOG_USE_STRUCTURED=1
	-I$out/include -I$root/daemon -I$root/daemon/include
	$(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lm"

config_h='#pragma once
#define SLOTD_VERSION "fuzz"
#define SLOTD_SYSCONFDIR "/etc/slotd"
#define SLOTD_PLUGINDIR "/usr/lib/slotd/plugins"
#define SLOTD_STATEDIR "/var/lib/slotd"
#define SLOTD_BUS_NAME "org.slotd.Slotd1"
#define SLOTD_OBJECT_PATH "/org/slotd/Slotd1"
#define SLOTD_SANITIZED 1'

# True when $1 is missing or any of the other files is newer.
stale() {
	target=$1
	shift
	[ -e "$target" ] || return 0
	for f in "$@"; do
		[ "$f" -nt "$target" ] && return 0
	done
	return 1
}

# Other flags, configuration header or list of sources: nothing built
# before is kept.
recipe="$cflags | $libs | $core | $config_h"
if [ "$(cat "$out/recipe" 2>/dev/null)" != "$recipe" ] ||
	[ ! -f "$out/include/slotd-config.h" ]; then
	rm -f "$out"/obj/*.o "$out/built"
	for t in client-ref feed-path config feed-render; do
		rm -f "$out/fuzz-$t"
	done
	printf '%s\n' "$config_h" >"$out/include/slotd-config.h"
	printf '%s\n' "$recipe" >"$out/recipe"
fi
headers=$(find "$root/daemon" -name '*.h')
objs=""
todo=""
for n in $core; do
	[ -f "$root/daemon/$n.c" ] || continue
	objs="$objs $out/obj/$n.o"
	# shellcheck disable=SC2086
	stale "$out/obj/$n.o" "$root/daemon/$n.c" $headers &&
		todo="$todo $n"
done
if [ -n "$todo" ]; then
	echo "fuzz: compiling$todo"
	# shellcheck disable=SC2086
	printf '%s\n' $todo | xargs -P "$(nproc)" -I{} \
		clang $cflags -fsanitize=fuzzer-no-link \
		-c "$root/daemon/{}.c" -o "$out/obj/{}.o"
fi
for t in client-ref feed-path config feed-render; do
	# shellcheck disable=SC2086
	if stale "$out/fuzz-$t" "$here/fuzz-$t.c" $objs $headers; then
		echo "fuzz: linking fuzz-$t"
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer "$here/fuzz-$t.c" $objs \
			$libs -o "$out/fuzz-$t"
	fi
done

export SLOTD_SOURCE_ROOT="$root"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in $targets; do
	corpus="$out/corpus/$t"
	mkdir -p "$corpus"
	log="$out/fuzz-$t.log"
	if "$out/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" \
		"$corpus" "$here/corpus/$t" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz-$t: ${runs:-?} executions in ${seconds} s, nothing found"
	else
		echo "fuzz-$t: FOUND a problem; the input is in $out/artifacts:"
		grep -E "ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x" "$log" | head -n 30
		status=1
	fi
done
exit $status
