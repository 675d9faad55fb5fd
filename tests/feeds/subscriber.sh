#!/bin/sh
# A real subscriber of a slotd staff feed: vdirsyncer (http storage ->
# filesystem storage) copies the feed into a local calendar folder, then
# khal lists the days asked for in Europe/Helsinki, one event a line:
#
#   START-END TITLE [STATUS]       (times HH:MM, local)
#
# Everything lives in a temporary HOME, removed afterwards.
#
# usage: subscriber.sh URL DAY [DAY...]      (days as YYYY-MM-DD)
set -eu

url=$1
shift

work=$(mktemp -d "${TMPDIR:-/tmp}/slotd-subscriber-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export HOME="$work/home"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_CACHE_HOME="$HOME/.cache"
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=Europe/Helsinki
mkdir -p "$HOME" "$work/calendars/slotd" "$work/status"

cat > "$work/vdirsyncer.conf" <<EOF
[general]
status_path = "$work/status/"

[pair slotd]
a = "slotd_feed"
b = "slotd_local"
collections = null
conflict_resolution = "a wins"

[storage slotd_feed]
type = "http"
url = "$url"

[storage slotd_local]
type = "filesystem"
path = "$work/calendars/slotd/"
fileext = ".ics"
EOF

cat > "$work/khal.conf" <<EOF
[calendars]
[[slotd]]
path = $work/calendars/slotd/
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = Europe/Helsinki
default_timezone = Europe/Helsinki
firstweekday = 0

[default]
default_calendar = slotd
EOF

vdirsyncer -c "$work/vdirsyncer.conf" discover >/dev/null 2>&1 || true
vdirsyncer -c "$work/vdirsyncer.conf" sync >&2
echo "synced: $(ls "$work/calendars/slotd" | wc -l) events" >&2
for day in "$@"; do
	echo "== $day"
	khal -c "$work/khal.conf" list --day-format "" \
		--format "{start-time}-{end-time} {title} [{status}]" \
		"$day" 1d
done
