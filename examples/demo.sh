#!/bin/sh
# The main job, as far as the code goes today: read every example Dockerfile
# the way `slipway build` will, print its syntax tree and its build plan.
# (Building images, releasing and deploying join this script as they land.)
set -eu
cd "$(dirname "$0")"
slipway=${SLIPWAY:-slipway}
case "$slipway" in /*) ;; */*) slipway="$(cd .. && pwd)/$slipway" ;; esac

for df in */Dockerfile; do
	app=$(dirname "$df")
	echo "== $app: slipway dockerfile parse -f $df"
	"$slipway" dockerfile parse -f "$df"
	echo "== $app: slipway dockerfile plan -f $df"
	"$slipway" dockerfile plan -f "$df"
	echo
done
echo "demo: parsed and planned $(ls */Dockerfile | wc -l) Dockerfiles"
