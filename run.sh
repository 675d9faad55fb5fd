#!/bin/sh
# Builds slotd and runs it on a private D-Bus bus with the example
# Nyland region and an SQLite database under the build tree. Stays in
# the foreground; Ctrl-C stops exactly what it started.
#
#   ./run.sh                          slotd's clock is the machine's
#   ./run.sh --at "next Monday 13:00" slotd's clock starts at that time
#
# --at takes anything `date -d` reads, as Europe/Helsinki local time
# ("2026-12-14 13:00", "next Monday 13:00", "tomorrow 08:00"). It sets
# SLOTD_TEST_TIME for the slotd started here, and only for it, so the
# tour's walk-in check-in finds Lohja's Monday session open; the
# database is then a fresh one (build/run/state-at), as the clock starts
# anew. The installed slotd.service never sets SLOTD_TEST_TIME.
set -eu
cd "$(dirname "$0")"

usage() {
	echo "usage: $0 [--at WHEN]   (WHEN: a date -d expression, Helsinki time)" >&2
	exit "${1:-2}"
}

at=""
while [ $# -gt 0 ]; do
	case $1 in
	--at)
		[ $# -ge 2 ] || usage
		at=$2
		shift 2
		;;
	--at=*)
		at=${1#--at=}
		shift
		;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done

test_time=""
if [ -n "$at" ]; then
	if ! test_time=$(TZ=Europe/Helsinki date -d "$at" +%s 2>/dev/null); then
		echo "run.sh: date -d cannot read \"$at\"" >&2
		exit 2
	fi
fi

tools/install-deps.sh

build=build/default
if [ ! -f "$build/build.ninja" ]; then
	mkdir -p build
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" daemon/slotd tools/slotctl slotctl-gmo service-plugins >/dev/null

run=$PWD/build/run
mkdir -p "$run"
config=config/example/slotd.conf
state=$run/state
if [ -n "$test_time" ]; then
	state=$run/state-at
	rm -rf "$state"
fi

# The plugin SDK (<slotd/plugin.h> and slotd-plugin.pc) staged as
# `meson install` would put it: the .pc in the build tree only works
# from its installed place, as it finds its prefix from where it lies.
rm -rf "$run/sdk"
meson install -C "$build" --no-rebuild --destdir "$run/sdk" \
	--tags devel >/dev/null
pc_file=$(find "$run/sdk" -name slotd-plugin.pc | head -n 1)
pkg_config_path=$(dirname "$pc_file")

bus_pid=""
slotd_pid=""
stop() {
	trap - INT TERM EXIT
	# Ctrl-C reaches slotd from the terminal too: give it time to stop
	# gently, as a second signal makes it stop at once.
	if [ "${1:-}" = INT ] && [ -n "$slotd_pid" ]; then
		i=0
		while [ $i -lt 50 ] && kill -0 "$slotd_pid" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	[ -n "$slotd_pid" ] && kill -TERM "$slotd_pid" 2>/dev/null && wait "$slotd_pid" 2>/dev/null
	[ -n "$bus_pid" ] && kill -TERM "$bus_pid" 2>/dev/null
	rm -f "$run/env"
	echo "slotd and its bus stopped."
}
trap 'stop INT' INT
trap stop TERM EXIT

# A file left by an earlier run must not be read as this bus's address.
rm -f "$run/bus-address" "$run/bus-address.tmp" "$run/env"
dbus-daemon --session --nofork --print-address=3 3>"$run/bus-address.tmp" &
bus_pid=$!
while [ ! -s "$run/bus-address.tmp" ]; do sleep 0.1; done
mv "$run/bus-address.tmp" "$run/bus-address"
address=$(head -n 1 "$run/bus-address")

if [ -n "$test_time" ]; then
	SLOTD_TEST_TIME=$test_time "$build/daemon/slotd" --config "$config" \
		--state-dir "$state" --plugin-dir "$PWD/$build/plugins" \
		--bus-address "$address" &
else
	"$build/daemon/slotd" --config "$config" \
		--state-dir "$state" --plugin-dir "$PWD/$build/plugins" \
		--bus-address "$address" &
fi
slotd_pid=$!

admin() {
	gdbus call --address "$address" --dest org.slotd.Slotd1 \
		--object-path /org/slotd/Slotd1 --method "org.slotd.Admin1.$1"
}
# Ready when every offering's slots are built up to the horizon: a
# search beyond what is built yet answers ServiceUnavailable.
i=0
until admin GetStatus 2>/dev/null | grep -q "'horizon-complete': <true>"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$slotd_pid" 2>/dev/null; then
		echo "slotd did not start" >&2
		exit 1
	fi
	sleep 0.1
done

# The feed server's address as the daemon took it from $config.
http=$(admin GetHttpAddress | sed -n "s/^('\(.*\)',)\$/\1/p")
if [ -n "$http" ]; then
	feeds="http://$http/ (http-address in $config; see slotctl feed-url)"
else
	feeds="none (http-address in $config is empty)"
fi
clock="the machine's"
if [ -n "$test_time" ]; then
	clock="starts at $(TZ=Europe/Helsinki date -d "@$test_time" \
		'+%a %Y-%m-%d %H:%M') Helsinki time (--at)"
fi

slotctl="$PWD/$build/tools/slotctl --address $address"
# slotctl's Finnish and Swedish catalogues, from the build tree.
localedir="$PWD/$build/po"
cat >"$run/env.tmp" <<EOT
export SLOTD_BUS='$address'
export SLOTCTL="$slotctl"
export SLOTCTL_LOCALEDIR="$localedir"
export PKG_CONFIG_PATH="$pkg_config_path\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
EOT
mv "$run/env.tmp" "$run/env"

cat <<EOT

slotd is running with the example Western and Eastern Uusimaa region.
  clock       : $clock
  bus address : $address
  database    : $state/slotd.db
  feeds       : $feeds
  plugin SDK  : $run/sdk (meson install --destdir, tag devel)

In another terminal, set these (or: . $run/env):
  export SLOTD_BUS='$address'
  export SLOTCTL="$slotctl"
  export SLOTCTL_LOCALEDIR="$localedir"
  export PKG_CONFIG_PATH="$pkg_config_path"
and follow "A short tour" in README.md (LANGUAGE=fi or sv for slotctl
in Finnish or Swedish); it starts with
  \$SLOTCTL services
  \$SLOTCTL units
  busctl --address="\$SLOTD_BUS" call org.slotd.Slotd1 /org/slotd/Slotd1 \\
    org.slotd.Scheduler1 ListServices

Ctrl-C stops slotd and its bus.
EOT
wait "$slotd_pid" || true
slotd_pid=""
