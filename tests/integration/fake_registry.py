#!/usr/bin/env python3
"""A misbehaving registry for tests/integration/registry.sh.

usage: fake_registry.py PORTFILE LAYOUT MANIFEST_DIGEST

Serves one image from an OCI layout (slipway's store) on 127.0.0.1, under
repositories that each break something:
  good/x      everything as it should be
  corrupt/x   the largest blob has one byte changed (same length)
  truncated/x the largest blob stops half way (Content-Length is the full size)
  flaky/x     the largest blob is truncated the first time, whole afterwards
  baddigest/x the manifest's Docker-Content-Digest header is wrong
  tokened/x   needs a bearer token from /token, which needs user:secret
  basic/x     answers 401 Basic to everything
The chosen port is written to PORTFILE once listening.
"""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import sys

portfile, layout, mdigest = sys.argv[1], sys.argv[2], sys.argv[3]


def blob(d):
    with open(os.path.join(layout, "blobs", "sha256", d.split(":", 1)[1]), "rb") as f:
        return f.read()


manifest = blob(mdigest)
m = json.loads(manifest)
descs = [m["config"]] + m["layers"]
big = max(descs, key=lambda d: d["size"])["digest"]
flaky_count = {"n": 0}
TOKEN = "t0ken-" + hashlib.sha256(b"fake").hexdigest()[:16]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=None, length=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path.split("?", 1)[0]
        if p == "/token":
            want = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return self.send(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
        parts = p.split("/")
        if len(parts) < 6 or parts[1] != "v2":
            return self.send(200 if p == "/v2/" else 404, b"{}")
        repo, kind, ref = parts[2], parts[4], parts[5]
        if repo == "basic":
            return self.send(401, b"", {"WWW-Authenticate": 'Basic realm="fake"'})
        if repo == "tokened" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            host = "127.0.0.1:%d" % self.server.server_address[1]
            ch = 'Bearer realm="http://%s/token",service="fake",scope="repository:tokened/x:pull"' % host
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": ch})
        if kind == "manifests":
            d = "sha256:" + hashlib.sha256(manifest).hexdigest()
            if repo == "baddigest":
                d = "sha256:" + "0" * 64
            return self.send(200, manifest, {"Content-Type": m["mediaType"], "Docker-Content-Digest": d})
        if kind != "blobs" or ref not in [x["digest"] for x in descs]:
            return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
        data = blob(ref)
        if ref == big and repo == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 1])
        truncate = ref == big and (repo == "truncated" or (repo == "flaky" and flaky_count["n"] == 0))
        if truncate and self.command == "GET":
            if repo == "flaky":
                flaky_count["n"] += 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        return self.send(200, data, {"Content-Type": "application/octet-stream"})


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = S(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
