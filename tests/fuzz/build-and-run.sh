#!/bin/sh
# Builds the libFuzzer harnesses in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) against the engine's sources and
# runs each of them on its corpus (tests/fuzz/corpus/NAME, plus what the
# fuzzer finds, kept in the output directory).
#
#   tests/fuzz/build-and-run.sh             5 minutes a harness
#   tests/fuzz/build-and-run.sh --bounded   10 s a harness (the test suite)
#   FUZZ_SECONDS=N  FUZZ_ONLY=NAME          other lengths, one harness
#
# Output and findings: $SLOTD_BUILD_ROOT/fuzz (or build/fuzz). Exit
# status 0 when no harness found anything.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=${SLOTD_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
out=${SLOTD_BUILD_ROOT:-$root/build}/fuzz
seconds=${FUZZ_SECONDS:-300}
[ "${1:-}" = "--bounded" ] && seconds=${FUZZ_SECONDS:-10}
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

cat >"$out/include/slotd-config.h" <<EOF
#pragma once
#define SLOTD_VERSION "fuzz"
#define SLOTD_SYSCONFDIR "/etc/slotd"
#define SLOTD_PLUGINDIR "/usr/lib/slotd/plugins"
#define SLOTD_STATEDIR "/var/lib/slotd"
#define SLOTD_BUS_NAME "org.slotd.Slotd1"
#define SLOTD_OBJECT_PATH "/org/slotd/Slotd1"
#define SLOTD_SANITIZED 1
EOF

# Rebuilt whole when any source changed since the last build.
stamp="$out/built"
if [ ! -f "$stamp" ] ||
	[ -n "$(find "$root/daemon" "$here" -newer "$stamp" \
		\( -name '*.c' -o -name '*.h' \) | head -n 1)" ]; then
	echo "fuzz: building the harnesses in $out"
	rm -f "$out"/obj/*.o
	objs=""
	for n in $core; do
		[ -f "$root/daemon/$n.c" ] || continue
		objs="$objs $n"
	done
	# shellcheck disable=SC2086
	printf '%s\n' $objs | xargs -P "$(nproc)" -I{} \
		clang $cflags -fsanitize=fuzzer-no-link \
		-c "$root/daemon/{}.c" -o "$out/obj/{}.o"
	for t in client-ref feed-path config feed-render; do
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer "$here/fuzz-$t.c" \
			"$out"/obj/*.o $libs -o "$out/fuzz-$t"
	done
	touch "$stamp"
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
