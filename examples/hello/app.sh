#!/bin/sh
# hello: serve / and /healthz on $PORT with busybox httpd; the greeting comes
# from the environment (12-factor config).
set -eu
: "${PORT:=8080}"
: "${GREETING:=hello}"
mkdir -p /tmp/www/cgi-bin
printf '%s\n' "$GREETING" > /tmp/www/index.html
printf 'ok\n' > /tmp/www/healthz
exec httpd -f -v -p "0.0.0.0:$PORT" -h /tmp/www
