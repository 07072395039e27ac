#!/usr/bin/env python3
"""pods.py - reads `slipway get pods -o json` on stdin for the e2e scripts.

  pods.py counts              "TOTAL READY TERMINATING" (total = not terminating)
  pods.py ports               host port of every ready, not terminating pod
  pods.py names               names of the pods that are not terminating
  pods.py field NAME PATH     a value of pod NAME (dotted path; [i] for lists)
  pods.py restarts NAME       restartCount of pod NAME's first container
  pods.py waiting             waiting reasons of every container, one per line
"""
import json
import re
import sys


def ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


def terminating(p):
    return "deletionTimestamp" in p.get("metadata", {})


def host_port(p):
    ports = p.get("status", {}).get("slipwayPorts") or []
    return ports[0]["hostPort"] if ports else 0


def get(obj, path):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            obj = obj[int(part[1:-1])]
        else:
            obj = obj.get(part, {}) if isinstance(obj, dict) else {}
    return obj


def main():
    pods = json.load(sys.stdin).get("items", [])
    cmd = sys.argv[1]
    live = [p for p in pods if not terminating(p)]
    if cmd == "counts":
        print(len(live), sum(1 for p in live if ready(p)), len(pods) - len(live))
    elif cmd == "ports":
        for p in live:
            if ready(p):
                print(host_port(p))
    elif cmd == "names":
        for p in live:
            print(p["metadata"]["name"])
    elif cmd in ("field", "restarts"):
        name = sys.argv[2]
        for p in pods:
            if p["metadata"]["name"] == name:
                if cmd == "restarts":
                    print(get(p, "status.containerStatuses[0].restartCount") or 0)
                else:
                    v = get(p, sys.argv[3])
                    print(v if not isinstance(v, (dict, list)) else json.dumps(v))
                return
        sys.exit("no pod " + name)
    elif cmd == "waiting":
        for p in pods:
            for c in p.get("status", {}).get("containerStatuses", []):
                w = c.get("state", {}).get("waiting")
                if w:
                    print(w.get("reason", ""))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
