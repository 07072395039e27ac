#!/usr/bin/env python3
"""proxy_client.py - HTTP and raw-socket clients for slipway-proxy's tests.

  proxy_client.py get URL [-n N] [-H 'Name: value']... [--method M] [--new-conn]
      N requests over one keep-alive connection (or a new one each); prints
      "BODY COUNT" per distinct (stripped) body, sorted, then status counts
      as "status=NNN COUNT".
  proxy_client.py sticky URL -n N
      first request without cookies, then N with the cookie it was given;
      prints the Set-Cookie value and the distinct bodies seen after it.
  proxy_client.py raw HOST PORT HEXBYTES|@FILE [--wait S] [--trickle S]
      sends the bytes, prints every status line read until the peer closes
      (or S seconds), then "closed" or "open".
  proxy_client.py echo HOST PORT SIZE
      TCP: sends SIZE bytes, half-closes, checks the echo; prints "echo ok".
"""
import http.client
import signal
import socket
import sys
import time
from collections import Counter
from urllib.parse import urlparse


def get(argv):
    url = urlparse(argv[0])
    n, headers, method, new = 1, {}, "GET", False
    i = 1
    while i < len(argv):
        if argv[i] == "-n":
            n = int(argv[i + 1]); i += 2
        elif argv[i] == "-H":
            k, v = argv[i + 1].split(":", 1); headers[k.strip()] = v.strip(); i += 2
        elif argv[i] == "--method":
            method = argv[i + 1]; i += 2
        elif argv[i] == "--new-conn":
            new = True; i += 1
        else:
            raise SystemExit("unknown argument " + argv[i])
    bodies, statuses = Counter(), Counter()
    conn = None
    for _ in range(n):
        if conn is None or new:
            if conn:
                conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        body = "x" if method in ("POST", "PUT") else None
        conn.request(method, url.path or "/", body=body, headers=headers)
        r = conn.getresponse()
        bodies[r.read().decode(errors="replace").strip()] += 1
        statuses[r.status] += 1
        if r.getheader("Connection", "").lower() == "close":
            conn.close(); conn = None
    for b, c in sorted(bodies.items()):
        print(b, c)
    for s, c in sorted(statuses.items()):
        print("status=%d %d" % (s, c))


def sticky(argv):
    url = urlparse(argv[0])
    n = int(argv[2])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", url.path or "/")
    r = conn.getresponse()
    first = r.read().decode().strip()
    cookie = r.getheader("Set-Cookie", "")
    print("set-cookie", cookie.split(";")[0])
    kv = cookie.split(";")[0]
    seen = Counter([first])
    for _ in range(n):
        conn.request("GET", url.path or "/", headers={"Cookie": "other=1; " + kv})
        r = conn.getresponse()
        seen[r.read().decode().strip()] += 1
        if r.getheader("Set-Cookie"):
            print("unexpected set-cookie", r.getheader("Set-Cookie"))
    print("bodies", " ".join(sorted(seen)))


def raw(argv):
    host, port, data = argv[0], int(argv[1]), argv[2]
    wait, trickle = 5.0, 0.0
    i = 3
    while i < len(argv):
        if argv[i] == "--wait":
            wait = float(argv[i + 1]); i += 2
        elif argv[i] == "--trickle":
            trickle = float(argv[i + 1]); i += 2
    if data.startswith("@"):
        payload = open(data[1:], "rb").read()
    else:
        payload = bytes.fromhex(data)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    s = socket.create_connection((host, port), timeout=wait)
    try:
        if trickle:
            for b in payload:
                s.sendall(bytes([b]))
                time.sleep(trickle)
        else:
            s.sendall(payload)
    except OSError:
        pass  # the proxy may close early (431); read what it said
    got = b""
    deadline = time.time() + wait
    state = "open"
    while time.time() < deadline:
        try:
            s.settimeout(max(0.01, deadline - time.time()))
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            state = "closed"
            break
        if not d:
            state = "closed"
            break
        got += d
    for line in got.split(b"\n"):
        if line.startswith(b"HTTP/1."):
            print(line.rstrip(b"\r").decode(errors="replace"))
    for line in got.split(b"\n"):
        if line.startswith(b"X-Backend:"):
            print(line.decode(errors="replace"))
    print(state)


def echo(argv):
    host, port, size = argv[0], int(argv[1]), int(argv[2])
    payload = bytes((i * 7) & 0xFF for i in range(size))
    s = socket.create_connection((host, port), timeout=20)
    import threading
    def send():
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
    t.join()
    print("echo ok" if bytes(got) == payload else "echo MISMATCH %d/%d" % (len(got), size))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"get": get, "sticky": sticky, "raw": raw, "echo": echo}[cmd](argv)


if __name__ == "__main__":
    main()
