#!/bin/sh
# hello: serve / and /healthz on $PORT with busybox httpd; the greeting comes
# from the environment (12-factor config).
#
# BIND_ADDR is the address to bind, 127.0.0.1 by default: slipway pods share
# the host's network and are reached through the service proxy on the same
# host, so listening on every address would expose the app past the proxy.
# Set BIND_ADDR=0.0.0.0 where the app has its own network namespace (docker run
# -p) or must be reached directly.
set -eu
: "${PORT:=8080}"
: "${GREETING:=hello}"
: "${BIND_ADDR:=127.0.0.1}"
mkdir -p /tmp/www/cgi-bin
printf '%s\n' "$GREETING" > /tmp/www/index.html
printf 'ok\n' > /tmp/www/healthz

# The shell stays as the container's init so that SIGTERM stops the app (a
# pid-namespace init only gets the signals it handles, and httpd handles none):
# on TERM or INT it stops httpd and exits 0 (12-factor disposability). If
# httpd exits by itself (port taken, say), the app exits with its status.
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait; exit 0' TERM INT
httpd -f -v -p "$BIND_ADDR:$PORT" -h /tmp/www &
pid=$!
wait "$pid"
