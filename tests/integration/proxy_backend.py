#!/usr/bin/env python3
"""proxy_backend.py - small backends for slipway-proxy's tests (127.0.0.1 only).

usage: proxy_backend.py --port P --name NAME [--mode MODE] [--log FILE]

MODE
  http     (default) HTTP/1.1 keep-alive server. Every answer has the body
           "NAME\\n" and the header X-Backend: NAME. Paths:
             /status/NNN    answers with status NNN
             /sleep/MS      waits MS milliseconds first
             /chunked       a chunked body of three chunks
             /big/N         a body of N bytes
           With --log, one line per request: "METHOD PATH shadow=0|1".
  hang     accepts connections, reads, never answers
  garbage  answers every request with bytes that are not HTTP
  echo     TCP echo server
"""
import argparse
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="backend")
    ap.add_argument("--mode", default="http")
    ap.add_argument("--log")
    a = ap.parse_args()
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # one write per response, no Nagle: headers and body leave together
        wbufsize = 65536
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            if a.log:
                with lock, open(a.log, "a") as f:
                    f.write("%s %s shadow=%s\n" % (self.command, self.path,
                                                   self.headers.get("X-Slipway-Shadow", "0")))
            status = 200
            body = (a.name + "\n").encode()
            parts = self.path.split("/")
            if len(parts) > 2 and parts[1] == "status":
                status = int(parts[2])
            if len(parts) > 2 and parts[1] == "sleep":
                time.sleep(int(parts[2]) / 1000.0)
            if len(parts) > 2 and parts[1] == "big":
                body = b"x" * int(parts[2])
            if self.path == "/chunked":
                self.send_response(status)
                self.send_header("X-Backend", a.name)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in (b"one-", b"two-", (a.name + "\n").encode()):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_response(status)
            self.send_header("X-Backend", a.name)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_any

    class Raw(socketserver.BaseRequestHandler):
        def handle(self):
            s = self.request
            while True:
                try:
                    data = s.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if a.mode == "echo":
                    s.sendall(data)
                elif a.mode == "garbage":
                    s.sendall(b"this is not http at all\r\n\r\n")
                # hang: read and ignore

    if a.mode == "http":
        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer.request_queue_size = 1024
        srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    else:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.daemon_threads = True
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", a.port), Raw)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
