#!/usr/bin/env python3
"""podcount.py SOCKET NAMESPACE SELECTOR OUT

Lists pods through slipwayd's API (Unix socket), then watches them from the
list's resourceVersion and, after the list and after every event, appends
"TOTAL READY" to OUT: the pods that are not terminating, and those of them
that are Ready. Every state the store goes through is seen, not a sample of
them. Runs until killed; OUT starts with a line "watching" once the watch is
open.
"""
import http.client
import json
import socket
import sys
import urllib.parse


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def main():
    sock_path, ns, selector, out_path = sys.argv[1:5]
    base = "/api/v1/namespaces/%s/pods?" % ns
    conn = UnixConnection(sock_path)
    conn.request("GET", base + urllib.parse.urlencode({"labelSelector": selector}))
    lst = json.loads(conn.getresponse().read())
    pods = {p["metadata"]["name"]: p for p in lst.get("items", [])}
    rv = lst["metadata"]["resourceVersion"]
    watch = UnixConnection(sock_path)
    watch.request("GET", base + urllib.parse.urlencode(
        {"labelSelector": selector, "watch": "1", "resourceVersion": rv}))
    resp = watch.getresponse()
    with open(out_path, "w") as out:
        def emit():
            live = [p for p in pods.values() if "deletionTimestamp" not in p.get("metadata", {})]
            print(len(live), sum(1 for p in live if ready(p)), file=out, flush=True)
        print("watching", file=out, flush=True)
        emit()
        buf = b""
        while True:
            data = resp.read1(65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
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
                emit()


if __name__ == "__main__":
    main()
