#!/usr/bin/env python3
"""podwatch.py SOCKET NAMESPACE COUNT TIMEOUT

Watches pods in NAMESPACE through slipwayd's API on its Unix socket and
times each pod from the moment the watch first shows it (ADDED) to the
moment its Ready condition turns True. Prints one JSON line when COUNT pods
are Ready (or TIMEOUT seconds passed):
  {"ready": N, "first_added": t, "last_ready": t, "per_pod_ms": [...]}
Times are time.monotonic() seconds; the caller compares them with its own
start time, taken with the same clock (printed by --now).
"""
import json
import socket
import sys
import time


def now():
    return time.monotonic()


def main():
    if sys.argv[1:] == ["--now"]:
        print("%.6f" % now())
        return
    sock_path, ns, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(("GET /api/v1/namespaces/%s/pods?watch=1 HTTP/1.1\r\nHost: localhost\r\n\r\n" % ns).encode())
    f = s.makefile("rb")
    # headers
    while True:
        line = f.readline()
        if not line or line in (b"\r\n", b"\n"):
            break
    print("watching", flush=True)
    added, ready = {}, {}
    buf = b""
    deadline = now() + timeout
    s.settimeout(0.5)
    while len(ready) < count and now() < deadline:
        try:
            # chunked: size line, data, CRLF
            size_line = f.readline()
        except socket.timeout:
            continue
        if not size_line:
            break
        try:
            size = int(size_line.strip() or b"0", 16)
        except ValueError:
            continue
        if size == 0:
            break
        data = f.read(size)
        f.readline()
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            t = now()
            ev = json.loads(line)
            obj = ev.get("object", {})
            name = obj.get("metadata", {}).get("name")
            if not name:
                continue
            added.setdefault(name, t)
            conds = obj.get("status", {}).get("conditions", [])
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                ready.setdefault(name, t)
    per_pod = sorted((ready[n] - added[n]) * 1000 for n in ready)
    print(json.dumps({
        "ready": len(ready),
        "first_added": min(added.values()) if added else 0,
        "last_ready": max(ready.values()) if ready else 0,
        "per_pod_ms": per_pod,
    }), flush=True)


if __name__ == "__main__":
    main()
