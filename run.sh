#!/bin/sh
# Builds slotd and runs it on a private D-Bus bus with the example
# Nyland region and an SQLite database under the build tree. Stays in
# the foreground; Ctrl-C stops exactly what it started.
set -eu
cd "$(dirname "$0")"
tools/install-deps.sh

build=build/default
if [ ! -f "$build/build.ninja" ]; then
	mkdir -p build
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" daemon/slotd tools/slotctl plugins/home-hospital.so \
	plugins/crisis-duty.so plugins/walk-in.so >/dev/null

run=$PWD/build/run
mkdir -p "$run"
bus_pid=""
slotd_pid=""
stop() {
	trap - INT TERM EXIT
	[ -n "$slotd_pid" ] && kill -TERM "$slotd_pid" 2>/dev/null && wait "$slotd_pid" 2>/dev/null
	[ -n "$bus_pid" ] && kill -TERM "$bus_pid" 2>/dev/null
	echo "slotd and its bus stopped."
}
trap stop INT TERM EXIT

# A file left by an earlier run must not be read as this bus's address.
rm -f "$run/bus-address" "$run/bus-address.tmp"
dbus-daemon --session --nofork --print-address=3 3>"$run/bus-address.tmp" &
bus_pid=$!
while [ ! -s "$run/bus-address.tmp" ]; do sleep 0.1; done
mv "$run/bus-address.tmp" "$run/bus-address"
address=$(head -n 1 "$run/bus-address")

"$build/daemon/slotd" --config config/example/slotd.conf \
	--state-dir "$run/state" --plugin-dir "$PWD/$build/plugins" \
	--bus-address "$address" &
slotd_pid=$!

slotctl="$build/tools/slotctl --address $address"
i=0
until $slotctl services >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$slotd_pid" 2>/dev/null; then
		echo "slotd did not start" >&2
		exit 1
	fi
	sleep 0.1
done

cat <<EOT

slotd is running with the example Western and Eastern Uusimaa region.
  bus address : $address
  database    : $run/state/slotd.db
  feeds       : http://127.0.0.1:8470/ (see slotctl feed-url)

Try, in another terminal:
  export SLOTCTL="$PWD/$build/tools/slotctl --address $address"
  \$SLOTCTL services
  \$SLOTCTL units
  \$SLOTCTL find home-hospital-west --municipality Lojo --language sv --limit 5
  \$SLOTCTL find social-counselling-walk-in --municipality Lohja --limit 5
  \$SLOTCTL book SLOT client-4711 --municipality Lohja
  \$SLOTCTL show BOOKING
  \$SLOTCTL report home-hospital-west --by day
  \$SLOTCTL staffing crisis-duty-west --csv
  \$SLOTCTL feed-url W-HH-LOH
  gdbus call --address '$address' --dest org.slotd.Slotd1 \\
    --object-path /org/slotd/Slotd1 --method org.slotd.Scheduler1.ListServices

Ctrl-C stops slotd and its bus.
EOT
wait "$slotd_pid" || true
slotd_pid=""
