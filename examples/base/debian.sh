#!/bin/sh
# debian.sh [REF]
# debian.sh --mirror     (prints the mirror it would use and exits)
#
# Makes a Debian bookworm base image (default REF slipway/debian:bookworm) in
# slipway's image store from Debian's own packages: `debootstrap
# --variant=minbase` (essential packages and apt) into a temp dir, apt lists,
# caches and logs removed, packed into a reproducible tarball (sorted, numeric
# owners, every mtime SOURCE_DATE_EPOCH, default 0; no /proc, /sys or /dev
# contents: the runtime provides them) and imported with `slipway image import
# --rootfs`. No registry is reachable here, so this is how a Debian base
# arrives; examples/cbuild compiles a C program on it.
#
# Slow (a few minutes; ~200 MB downloaded) and needs root and debootstrap.
# The mirror is the one this machine's apt uses (/etc/apt/sources.list.d/
# debian.sources or /etc/apt/sources.list), else deb.debian.org; MIRROR=URL
# overrides it. DEBOOTSTRAP_CACHE=DIR keeps the downloaded .debs between runs.
# SLIPWAY names the slipway binary.
set -eu
ref=${1:-slipway/debian:bookworm}
print_mirror=""
[ "$ref" = --mirror ] && print_mirror=1
slipway=${SLIPWAY:-slipway}
suite=bookworm
epoch=${SOURCE_DATE_EPOCH:-0}

# the mirror apt uses here: the first Debian archive URI serving $suite (not
# the security archive)
find_mirror() {
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		# deb822: a stanza's URIs with a Suites line naming the suite
		awk -v suite="$suite" '
			/^[ \t]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
			END { if (uri != "" && ok) print uri }
		' /etc/apt/sources.list.d/debian.sources | grep -v -- '-security' | head -n 1
	fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		# deb [options] URI SUITE COMPONENTS...
		sed -e 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
	done | grep -v -- '-security' | head -n 1
}
mirror=${MIRROR:-$(find_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
if [ -n "$print_mirror" ]; then
	echo "$mirror"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "debian.sh: debootstrap needs root" >&2
	exit 1
fi
command -v debootstrap >/dev/null 2>&1 ||
	{ echo "debian.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-debian.XXXXXX")
cleanup() {
	# debootstrap mounts /proc and /sys in the target; never rm through them
	grep " $tmp/" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

root=$tmp/rootfs
cache=""
if [ -n "${DEBOOTSTRAP_CACHE:-}" ]; then
	mkdir -p "$DEBOOTSTRAP_CACHE"
	cache="--cache-dir=$(cd "$DEBOOTSTRAP_CACHE" && pwd)"
fi
echo "debian.sh: debootstrap --variant=minbase $suite from $mirror" >&2
# shellcheck disable=SC2086
if ! debootstrap --variant=minbase $cache "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
	tail -n 20 "$tmp/debootstrap.log" >&2
	[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 20 "$root/debootstrap/debootstrap.log" >&2
	echo "debian.sh: debootstrap failed (mirror $mirror)" >&2
	exit 1
fi

# nothing host- or time-specific: package lists and caches (apt-get update
# fetches fresh lists in a RUN), logs, ldconfig's aux cache, backups of
# dpkg's and debconf's databases
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/ldconfig/aux-cache \
	"$root"/var/log/* "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old \
	"$root"/tmp/* "$root"/run/*
mkdir -p "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial"
# resolv.conf and hostname come from the runtime
: >"$root/etc/resolv.conf"
printf 'localhost\n' >"$root/etc/hostname"

tar --sort=name --numeric-owner --mtime="@$epoch" \
	--exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
	-C "$root" -cf "$tmp/rootfs.tar" .
"$slipway" image import --rootfs "$tmp/rootfs.tar" "$ref"
