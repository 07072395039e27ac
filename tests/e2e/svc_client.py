#!/usr/bin/env python3
"""svc_client.py - the HTTP client of tests/e2e/service_traffic.sh (127.0.0.1 only).

  count URL N [HEADER:VALUE]   N GETs of URL (new connection each, as separate
                               clients would), prints one line per distinct body:
                               "COUNT BODY", most frequent first, and "errors N"
  hey FILE                     parses hey's output: prints "ok N" or "failed N:
                               DETAILS" (any non-2xx status or error counts) and
                               exits 1 when some failed
  stats URL SVCPREFIX         prints "mirrored=N ok=N GROUP:REQUESTS/MIRRORED..." from /stats
"""
import http.client
import json
import re
import sys
import urllib.parse


def count(url, n, header=None):
    u = urllib.parse.urlsplit(url)
    seen, errors = {}, 0
    headers = {}
    if header:
        k, v = header.split(":", 1)
        headers[k.strip()] = v.strip()
    for _ in range(n):
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", u.path or "/", headers=headers)
            r = c.getresponse()
            body = r.read().decode(errors="replace").strip()
            c.close()
            if r.status != 200:
                errors += 1
                continue
            seen[body] = seen.get(body, 0) + 1
        except Exception:
            errors += 1
    for body, k in sorted(seen.items(), key=lambda kv: -kv[1]):
        print(k, body)
    print("errors", errors)


def hey(path):
    text = open(path).read()
    codes = {}
    m = re.search(r"Status code distribution:\n((?:\s+\[\d+\].*\n?)*)", text)
    if m:
        for code, k in re.findall(r"\[(\d+)\]\s+(\d+) responses", m.group(1)):
            codes[int(code)] = int(k)
    errs = 0
    m = re.search(r"Error distribution:\n((?:\s+\[\d+\].*\n?)*)", text)
    edetail = ""
    if m:
        errs = sum(int(k) for k in re.findall(r"\[(\d+)\]", m.group(1)))
        edetail = m.group(1).strip().replace("\n", "; ")
    ok = codes.get(200, 0)
    bad = sum(k for c, k in codes.items() if c != 200) + errs
    if ok == 0 or bad:
        print("failed %d of %d: statuses %s errors [%s]" % (bad, ok + bad, codes, edetail))
        sys.exit(1)
    print("ok %d requests, 0 failed" % ok)


def stats(url, prefix):
    import urllib.request
    j = json.load(urllib.request.urlopen(url, timeout=5))
    for s in j["services"]:
        if not s["name"].startswith(prefix):
            continue
        # the service's mirror counters; a group's count the requests mirrored to it
        print("mirrored=%d ok=%d" % (s["mirror"]["requests"], s["mirror"]["succeeded"]),
              " ".join("%s:%d/%d" % (g["name"], g["requests"], g["mirror"]["requests"])
                       for g in s["groups"]))


if __name__ == "__main__":
    if sys.argv[1] == "count":
        count(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    elif sys.argv[1] == "hey":
        hey(sys.argv[2])
    elif sys.argv[1] == "stats":
        stats(sys.argv[2], sys.argv[3])
