#!/bin/sh
# Floods slotd's feed server with idle connections, as any local user
# could, and checks that it recovers: starts slotd as run.sh does (a
# private bus, the example region), opens N idle TCP connections
# (5000 by default) to the feed port and holds them, checks that a
# D-Bus call still works, closes them all, times the next successful
# feed, and compares slotd's VmRSS before the flood and after it.
# Not part of the test suite (tests/test-http-limits.c is).
#
#   tools/feed-flood.sh [BUILD] [N]      BUILD defaults to build/default
#
# Stops exactly what it started. Figures: docs/reliability.md.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
count=${2:-5000}
[ -x "$build/daemon/slotd" ] || { echo "no $build/daemon/slotd" >&2; exit 1; }

work=$(mktemp -d /tmp/slotd-flood-XXXXXX)
bus_pid=""
slotd_pid=""
stop() {
	trap - INT TERM EXIT
	[ -n "$slotd_pid" ] && kill -TERM "$slotd_pid" 2>/dev/null &&
		wait "$slotd_pid" 2>/dev/null || true
	[ -n "$bus_pid" ] && kill -TERM "$bus_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap stop INT TERM EXIT

cp -r config/example "$work/config"
sed -i 's/^http-address=.*/http-address=127.0.0.1:0/; s/^horizon-days=.*/horizon-days=30/' \
	"$work/config/slotd.conf"
dbus-daemon --session --nofork --print-address=3 3>"$work/bus-address" &
bus_pid=$!
while [ ! -s "$work/bus-address" ]; do sleep 0.1; done
address=$(head -n 1 "$work/bus-address")
"$build/daemon/slotd" --config "$work/config/slotd.conf" \
	--state-dir "$work/state" --plugin-dir "$PWD/$build/plugins" \
	--bus-address "$address" 2>"$work/slotd.log" &
slotd_pid=$!
slotctl="$build/tools/slotctl --address $address"
i=0
until $slotctl services >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "slotd did not start" >&2; exit 1; }
	sleep 0.1
done
url=$($slotctl feed-url W-HH-LOH | grep -o 'http://[^ ]*' | head -n 1)
# The client holds every connection open: it needs the descriptors.
ulimit -n $((count + 1024)) 2>/dev/null || echo "cannot raise ulimit -n"

python3 - "$url" "$slotd_pid" "$count" "$slotctl" <<'EOF'
import os, select, socket, subprocess, sys, time
from urllib.parse import urlsplit
url, pid, count, slotctl = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
parts = urlsplit(url)
host, port = parts.hostname, parts.port

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))

def fetch():
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
              "Connection: close\r\n\r\n".encode())
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return data.split(b"\r\n", 1)[0].decode(errors="replace")

for _ in range(20):
    assert fetch().startswith("HTTP/1.1 200"), "no feed before the flood"
time.sleep(1)
rss_before, fds_before = rss(), fds()
began = time.monotonic()
held, refused, reset = [], 0, 0
for i in range(count):
    try:
        held.append(socket.create_connection((host, port), timeout=5))
    except OSError:
        reset += 1
time.sleep(2)
fds_peak = fds()
still_open = 0
for s in held:
    poll = select.poll()
    poll.register(s, select.POLLIN)
    if not poll.poll(0):
        still_open += 1
        continue
    try:
        refused += s.recv(64).startswith(b"HTTP/1.1 503")
    except OSError:
        reset += 1
bus_ok = subprocess.run(slotctl.split() + ["services"],
                        capture_output=True).returncode == 0
rss_peak = rss()
for s in held:
    s.close()
closed_at = time.monotonic()
while True:
    status = fetch()
    if status.startswith("HTTP/1.1 200"):
        break
    time.sleep(0.01)
recovered = time.monotonic() - closed_at
for _ in range(20):
    fetch()
time.sleep(2)
rss_after, fds_after = rss(), fds()
print(f"connections opened: {len(held)} in {closed_at - began - 2:.1f} s; "
      f"held open by slotd: {still_open}; answered 503: {refused}; "
      f"reset or refused: {reset + len(held) - still_open - refused}")
print(f"D-Bus call during the flood: {'ok' if bus_ok else 'FAILED'}")
print(f"slotd descriptors: {fds_before} before, {fds_peak} during, "
      f"{fds_after} after")
print(f"first feed after closing them all: {recovered * 1000:.0f} ms")
print(f"VmRSS: {rss_before} kB before, {rss_peak} kB during, "
      f"{rss_after} kB after ({rss_after - rss_before:+d} kB)")
ok = bus_ok and recovered < 1.0 and rss_after - rss_before <= 2048
print("feed-flood:", "ok" if ok else "FAILED")
sys.exit(0 if ok else 1)
EOF
