#!/bin/sh
# Installs the Debian 12 packages slotd needs to build, test and run.
# Only missing packages are installed; as root, non-interactively.
set -eu

PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libglib2.0-dev libglib2.0-bin libdbus-1-dev dbus-daemon dbus-bin
libsqlite3-dev sqlite3 libical-dev libsoup-3.0-dev gettext
python3 python3-icalendar vdirsyncer khal libxml2-utils curl
valgrind systemd libsystemd-dev python3-prometheus-client python3-yaml
librsvg2-bin"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "slotd: missing Debian packages:$missing" >&2
		echo "slotd: run as root, or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "slotd: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
