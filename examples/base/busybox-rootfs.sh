#!/bin/sh
# busybox-rootfs.sh DIR [TAR]
#
# Fills DIR with a small root filesystem made from Debian's busybox-static
# (every applet as a symlink, /etc/passwd and /etc/group with root, app
# (1000) and nobody (65534), a 1777 /tmp) and, with TAR, packs it into a
# reproducible tarball (sorted, owner 0, mtime 0). No registry is reachable
# here, so this is how slipway gets a base image: see busybox.sh.
set -eu
dir=${1:?usage: busybox-rootfs.sh DIR [TAR]}
tar=${2:-}

busybox=""
for p in /bin/busybox /usr/bin/busybox; do
	# the static build: the dynamic one would need the host's libc in the image
	if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
done
[ -n "$busybox" ] || { echo "busybox-rootfs.sh: no static busybox (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/home/app" "$dir/usr/bin" "$dir/var"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
	[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dir/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chmod 1777 "$dir/tmp"
chown 1000:1000 "$dir/home/app" 2>/dev/null || true

if [ -n "$tar" ]; then
	owner="--owner=0 --group=0"
	# as root the files really belong to root and /home/app to 1000
	[ "$(id -u)" -eq 0 ] && owner=""
	# shellcheck disable=SC2086
	tar --sort=name $owner --numeric-owner --mtime=@0 -C "$dir" -cf "$tar" .
fi
