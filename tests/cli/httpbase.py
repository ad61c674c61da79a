"""What the test HTTP servers share (recorder.py, ci_recorder.py,
tokenserver.py, faultproxy.py): a quiet HTTP/1.1 handler that reads a
request body and answers bytes or JSON with a Content-Length, log lines
appended under one lock, and serving on a free loopback port that is
written to a port file (through a rename) once the server is ready.
Python 3 standard library only.
"""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_LOCK = threading.Lock()


def append_line(path, line):
    """Appends line and a newline to the file at path, one writer at a time."""
    with LOG_LOCK:
        with open(path, "a") as f:
            f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_bytes(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send_bytes(status, json.dumps(obj).encode(),
                        [("Content-Type", "application/json")] + list(headers))

    def record(self, log, body, status):
        """Appends the request to log as one JSON line: method, path (with
        query), headers (names lower-cased), body (text) and status."""
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "status": status}
        append_line(log, json.dumps(rec, sort_keys=True))


def listen(handler, host="127.0.0.1", wrap=None):
    """A threading server on a free port of host; wrap (may be None) is
    applied to its socket (TLS)."""
    srv = ThreadingHTTPServer((host, 0), handler)
    srv.daemon_threads = True
    if wrap:
        srv.socket = wrap(srv.socket)
    return srv


def serve(srv, portfile):
    """Writes srv's port to portfile once it listens, then serves forever."""
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()
