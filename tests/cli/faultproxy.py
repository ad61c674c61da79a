#!/usr/bin/python3
"""A small HTTP proxy for the registry tests: it sits in front of a
docker-registry, forwards every request (keeping the Host header, so the
registry's upload Locations point back at the proxy), logs one line per
request ("METHOD PATH REQUEST_BODY_BYTES STATUS RANGE") and injects faults:

  pass        forward only
  drop        cut the connection half-way through the first large blob GET
  stall       send half of the first large blob GET, then hang (the test kills
              the client); writes 'stalled' to the log first
  503:N       answer the first N requests with 503 and Retry-After: 1
  corrupt     flip one byte in the middle of every large blob GET body

Usage: faultproxy.py UPSTREAM_PORT MODE LOGFILE PORTFILE
The port it listens on (on 127.0.0.1) is written to PORTFILE once it is ready.
"""
import http.client
import http.server
import socket
import sys
import threading

UPSTREAM = int(sys.argv[1])
MODE = sys.argv[2]
LOG = sys.argv[3]
PORTFILE = sys.argv[4]
LARGE = 64 * 1024
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate"}

lock = threading.Lock()
state = {"requests": 0, "faulted": 0}


def log(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        with lock:
            state["requests"] += 1
            n = state["requests"]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if MODE.startswith("503:") and n <= int(MODE[4:]):
            log("%s %s %d 503 -" % (self.command, self.path, len(body)))
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        log("%s %s %d %d %s" % (self.command, self.path, len(body), resp.status,
                                self.headers.get("Range", "-").replace(" ", "")))
        blob_get = (self.command == "GET" and "/blobs/sha256:" in self.path and
                    resp.status in (200, 206) and len(data) >= LARGE)
        fault = None
        if blob_get and MODE in ("drop", "stall"):
            with lock:
                if not state["faulted"]:
                    state["faulted"] = 1
                    fault = MODE
        if blob_get and MODE == "corrupt":
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            if fault == "stall":
                log("stalled")
                threading.Event().wait(600)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Proxy)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
