#!/bin/sh
# Builds the libFuzzer harnesses in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) against the engine's sources and
# runs each of them on its corpus (tests/fuzz/corpus/NAME, plus what the
# fuzzer finds, kept in the output directory).
#
#   tests/fuzz/build-and-run.sh             5 minutes a harness
#   tests/fuzz/build-and-run.sh --bounded   3 s a harness (the test suite;
#                                           libFuzzer reads its clock in
#                                           whole seconds: up to 4 s)
#   FUZZ_SECONDS=N  FUZZ_ONLY=NAME          other lengths, one harness
#
# The suite's seconds go on from the corpus the earlier runs in the same
# build directory left (besides the seeds in tests/fuzz/corpus); the
# long run is tests/reliability-full.sh's step. Only the engine's
# objects the harnesses need are compiled (what meson's build of the
# engine says they use), and only what changed is built again: an
# object whose source or any header of daemon/ is newer, a harness
# whose source or an object is; all of it when the flags or the
# engine's source list (daemon/meson.build) changed.
#
# Output and findings: $SLOTD_BUILD_ROOT/fuzz (or build/fuzz). Exit
# status 0 when no harness found anything.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=${SLOTD_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
out=${SLOTD_BUILD_ROOT:-$root/build}/fuzz
seconds=${FUZZ_SECONDS:-300}
[ "${1:-}" = "--bounded" ] && seconds=${FUZZ_SECONDS:-3}
targets=${FUZZ_ONLY:-"client-ref feed-path config feed-render"}

command -v clang >/dev/null || { echo "fuzz: no clang; skipped"; exit 77; }
mkdir -p "$out/include" "$out/obj" "$out/artifacts"

# The engine's sources, as daemon/meson.build lists them (with the
# loop watch the engine links).
core=$(sed -n '/^core_names = \[/,/\]/p; /^loop_names = \[/p' \
	"$root/daemon/meson.build" | tr -d "[],'" |
	sed 's/core_names =//; s/loop_names =//')
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
harnesses="client-ref feed-path config feed-render"

# The harnesses first: what they leave undefined says which of the
# engine's objects they need.
for t in $harnesses; do
	# shellcheck disable=SC2086
	if stale "$out/obj/fuzz-$t.o" "$here/fuzz-$t.c" $headers; then
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer-no-link -c "$here/fuzz-$t.c" \
			-o "$out/obj/fuzz-$t.o"
	fi
done

# The engine's objects the harnesses need, a dozen of its forty: the
# closure over undefined symbols, as nm reads it from meson's own build
# of the engine (libslotd-core.a and the libslotd-loop.a it links,
# built before `meson test` runs this).
# Fails without that library or nm.
needed_objects() {
	dir=${SLOTD_BUILD_ROOT:-$root/build}/daemon
	lib="$dir/libslotd-core.a $dir/libslotd-loop.a"
	[ -f "$dir/libslotd-core.a" ] && [ -f "$dir/libslotd-loop.a" ] &&
		command -v nm >/dev/null || return 1
	{
		for t in $harnesses; do
			nm -u "$out/obj/fuzz-$t.o" | awk '{print "need", $NF}'
		done
		nm -A -g --defined-only $lib |
			awk '{n = split($1, p, ":"); print "def", $NF, p[n - 1]}'
		nm -A -u $lib |
			awk '{n = split($1, p, ":"); print "use", $NF, p[n - 1]}'
	} | awk '
		$1 == "def" { owner[$2] = $3 }
		$1 == "use" { uses[$3] = uses[$3] " " $2 }
		$1 == "need" { want[++n] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				o = owner[want[i]]
				if (o == "" || o in got)
					continue
				got[o] = 1
				m = split(uses[o], u, " ")
				for (j = 1; j <= m; j++)
					want[++n] = u[j]
			}
			for (o in got) {
				sub(/.*\//, "", o)
				sub(/\.c\.o$/, "", o)
				print o
			}
		}'
}

# Compiles those of the named objects that are stale; $objs: all of them.
build_objects() {
	objs=""
	todo=""
	for n in "$@"; do
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
}

# Links the stale harnesses with $objs; fails when one does not link.
link_harnesses() {
	for t in $harnesses; do
		# shellcheck disable=SC2086
		stale "$out/fuzz-$t" "$out/obj/fuzz-$t.o" $objs || continue
		echo "fuzz: linking fuzz-$t"
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer "$out/obj/fuzz-$t.o" $objs \
			$libs -o "$out/fuzz-$t" || return 1
	done
}

# Should clang's objects need what gcc's did not, all of them.
if needed=$(needed_objects) && [ -n "$needed" ]; then
	# shellcheck disable=SC2086
	build_objects $needed
	if ! link_harnesses 2>"$out/link.log"; then
		echo "fuzz: the needed objects did not link" \
			"($out/link.log); all of them"
		# shellcheck disable=SC2086
		build_objects $core
		link_harnesses
	fi
else
	# shellcheck disable=SC2086
	build_objects $core
	link_harnesses
fi

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
