#!/usr/bin/env python3
"""A Docker token server for tests/integration/registry_token.sh.

usage: token_server.py PORTFILE KEY CERT ISSUER SERVICE

Serves GET /token on 127.0.0.1 (a free port, written to PORTFILE once
listening). Basic credentials alice:secret get the actions asked for in
scope=repository:NAME:ACTIONS; anonymous requests get only pull; wrong
credentials get 401. The answer is {"token", "access_token", "expires_in"}
with an RS256 JWT whose header carries the certificate (x5c) that the
registry checks against its rootcertbundle. Signing is done by
`openssl dgst -sha256 -sign KEY`.
"""
import base64
import http.server
import json
import os
import socketserver
import subprocess
import sys
import time
import urllib.parse

portfile, keyfile, certfile, issuer, service = sys.argv[1:6]
USER, PASSWORD = "alice", "secret"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der():
    pem = open(certfile).read()
    body = pem.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    return base64.b64decode("".join(body.split()))


X5C = base64.b64encode(cert_der()).decode()


def make_jwt(sub, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [X5C]}
    claims = {"iss": issuer, "sub": sub, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", keyfile], input=signing_input.encode(),
                         stdout=subprocess.PIPE, check=True).stdout
    return signing_input + "." + b64url(sig)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/token":
            return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')
        q = urllib.parse.parse_qs(u.query)
        if q.get("service", [service])[0] != service:
            return self.send(400, b'{"errors":[{"code":"BAD_SERVICE"}]}')
        sub = ""
        auth = self.headers.get("Authorization")
        if auth is not None:
            ok = False
            if auth.startswith("Basic "):
                try:
                    ok = base64.b64decode(auth[6:], validate=True).decode() == USER + ":" + PASSWORD
                except ValueError:
                    ok = False
            if not ok:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}',
                                 {"WWW-Authenticate": 'Basic realm="slipway-test-token"'})
            sub = USER
        access = []
        for scope in q.get("scope", []):
            for s in scope.split(" "):
                parts = s.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                granted = [a for a in actions if a in ("pull", "push")] if sub else \
                    [a for a in actions if a == "pull"]
                if granted:
                    access.append({"type": "repository", "name": name, "actions": granted})
        tok = make_jwt(sub, access)
        self.send(200, json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode())


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = S(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
