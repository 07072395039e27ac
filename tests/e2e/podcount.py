#!/usr/bin/env python3
"""podcount.py SOCKET NAMESPACE SELECTOR OUT STOPFILE

Watches pods through slipwayd's API (Unix socket) and, after every event,
appends "TOTAL READY" to OUT: the pods that are not terminating, and those
of them that are Ready. Every state the store goes through is seen, not a
sample of them. Ends when STOPFILE exists (checked every 0.2 s).
"""
import json
import os
import socket
import sys
import urllib.parse


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def main():
    sock_path, ns, selector, out_path, stop = sys.argv[1:6]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    q = urllib.parse.urlencode({"watch": "1", "labelSelector": selector})
    s.sendall(("GET /api/v1/namespaces/%s/pods?%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % (ns, q)).encode())
    s.settimeout(0.2)
    pods = {}
    raw = b""
    body = b""
    headers_done = False
    with open(out_path, "w") as out:
        print("watching", file=out, flush=True)
        while not os.path.exists(stop):
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            raw += data
            if not headers_done:
                if b"\r\n\r\n" not in raw:
                    continue
                raw = raw.split(b"\r\n\r\n", 1)[1]
                headers_done = True
            # de-chunk what is complete
            while True:
                if b"\r\n" not in raw:
                    break
                size_line, rest = raw.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0] or b"0", 16)
                if len(rest) < size + 2:
                    break
                body += rest[:size]
                raw = rest[size + 2:]
            while b"\n" in body:
                line, body = body.split(b"\n", 1)
                if not line.strip():
                    continue
                ev = json.loads(line)
                obj = ev.get("object", {})
                name = obj.get("metadata", {}).get("name")
                if not name:
                    continue
                if ev.get("type") == "DELETED":
                    pods.pop(name, None)
                else:
                    pods[name] = obj
                live = [p for p in pods.values() if "deletionTimestamp" not in p.get("metadata", {})]
                print(len(live), sum(1 for p in live if ready(p)), file=out, flush=True)


if __name__ == "__main__":
    main()
