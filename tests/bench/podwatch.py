#!/usr/bin/env python3
"""podwatch.py SOCKET NAMESPACE COUNT TIMEOUT

Watches pods in NAMESPACE through slipwayd's API on its Unix socket and
times each pod from the moment the watch first shows it (ADDED) to the
moment its Ready condition turns True. Prints "watching" once the watch is
open, then one JSON line when COUNT pods are Ready (or TIMEOUT seconds
passed):
  {"ready": N, "first_added": t, "last_ready": t, "per_pod_ms": [...]}
Times are time.monotonic() seconds; the caller compares them with its own
start time taken with the same clock (`podwatch.py --now`).
"""
import http.client
import json
import signal
import socket
import sys
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def main():
    if sys.argv[1:] == ["--now"]:
        print("%.6f" % time.monotonic())
        return
    sock_path, ns, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    added, ready = {}, {}

    def report(*_):
        per_pod = sorted((ready[n] - added[n]) * 1000 for n in ready)
        print(json.dumps({
            "ready": len(ready),
            "first_added": min(added.values()) if added else 0,
            "last_ready": max(ready.values()) if ready else 0,
            "per_pod_ms": per_pod,
        }), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGALRM, report)
    signal.alarm(timeout)
    conn = UnixConnection(sock_path)
    conn.request("GET", "/api/v1/namespaces/%s/pods?watch=1" % ns)
    resp = conn.getresponse()
    print("watching", flush=True)
    buf = b""
    while len(ready) < count:
        data = resp.read1(65536)
        if not data:
            break
        t = time.monotonic()
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            obj = json.loads(line).get("object", {})
            name = obj.get("metadata", {}).get("name")
            if not name:
                continue
            added.setdefault(name, t)
            conds = obj.get("status", {}).get("conditions", [])
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                ready.setdefault(name, t)
    report()


if __name__ == "__main__":
    main()
