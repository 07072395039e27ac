#!/bin/sh
# The main job: build the example apps from their Dockerfiles into slipway's
# image store on a busybox base, run the multi-stage example's image under
# runc, release hello (image + config + its slipway.yaml) with a config
# change, then deploy it to slipwayd: 3 pods behind a Service on
# 127.0.0.1:8080, scaled to 4, and the rollout history. The app keeps
# running afterwards (`slipway get pods`; `slipway delete deploy/hello svc/hello`
# removes it; `slipway down` stops slipwayd).
#
# State goes to the default state dir (/var/lib/slipway as root) unless
# SLIPWAY_HOME says otherwise. Needs root (overlayfs, runc).
set -eu
cd "$(dirname "$0")"
slipway=${SLIPWAY:-slipway}
case "$slipway" in /*) ;; */*) slipway="$(cd .. && pwd)/$slipway" ;; esac
export SLIPWAY="$slipway"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: slipway build needs root (overlayfs, runc); run make demo as root" >&2
	exit 1
fi

echo "== 1. read a Dockerfile as Docker does"
"$slipway" dockerfile parse -f hello/Dockerfile

echo
echo "== 2. a base image: busybox from Debian's busybox-static (no registry here)"
base/busybox.sh slipway/busybox:1.35

echo
echo "== 3. build: Dockerfile + context -> reproducible OCI image, no daemon"
"$slipway" build --progress plain -t hello:demo hello
"$slipway" build --progress plain -t multistage:demo multistage
"$slipway" images

echo
echo "== 4. the same inputs give the same digest: rebuild from the cache"
"$slipway" build -q -t hello:demo hello

echo
echo "== 5. run the multi-stage image under runc"
state=${SLIPWAY_HOME:-/var/lib/slipway}
tmp=$(mktemp -d)
trap 'runc --root "$tmp/runc" delete -f slipway-demo >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
umoci unpack --image "$state/images:multistage:demo" "$tmp/bundle" >/dev/null
# umoci asks for a terminal; the demo may run without one
sed -i 's/"terminal": *true/"terminal": false/' "$tmp/bundle/config.json"
runc --root "$tmp/runc" run --bundle "$tmp/bundle" slipway-demo </dev/null

echo
echo "== 6. release: image + config vars -> an immutable release ID (a new one per change)"
r1=$("$slipway" release hello --image hello:demo -f hello/slipway.yaml --note "make demo" -q)
r2=$("$slipway" config set hello GREETING="hello from a release" -q)
"$slipway" releases hello -n 3
"$slipway" release diff hello "$r1" "$r2"

echo
echo "== 7. run: slipwayd (started in the background if it is not running) deploys the release"
"$slipway" up
"$slipway" deploy hello --timeout 180s
"$slipway" get deploy,rs,pods,svc,endpoints -o wide
echo "-- GET http://127.0.0.1:8080/ through slipway-proxy:"
i=0
until curl -fsS --max-time 2 http://127.0.0.1:8080/; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "demo: the Service did not answer" >&2; exit 1; }
	sleep 0.2
done
"$slipway" scale deployment hello --replicas 4
"$slipway" rollout status deployment/hello --timeout 120s
"$slipway" rollout history deployment/hello

echo
echo "demo: hello runs on http://127.0.0.1:8080/ (slipway get pods; slipway logs deployment/hello;"
echo "      slipway delete deploy/hello svc/hello removes it; slipway down stops slipwayd)"
