#!/usr/bin/env python3
"""A small recording HTTP server for the deploy-trigger tests.

    recorder.py LOG PORTFILE

Listens on a free loopback port (written to PORTFILE) and appends every
request to LOG as one JSON line: method, path (with query), headers
(names lower-cased), body (text), and the status it answered. Answers:
  .../dispatches          204 (GitHub repository_dispatch, workflow_dispatch)
  .../trigger/pipeline    201 with a small pipeline JSON (GitLab)
  anything else           200 {"ok": true}
It can be told, with POST /__control {"fail_first": N, "fail_paths": [P...]},
to answer the next N requests 503 (with Retry-After: 0), and every request
whose path starts with one of P 503 as well. Control requests are not
logged. Python 3 standard library only.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"fail_first": 0, "fail_paths": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _answer(self, status, body=b"", ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _handle(self):
        body = self._body()
        if self.path == "/__control":
            with LOCK:
                STATE.update(json.loads(body or b"{}"))
            return self._answer(200, b"{}")
        with LOCK:
            fail = STATE["fail_first"] > 0 or any(
                self.path.startswith(p) for p in STATE["fail_paths"])
            if STATE["fail_first"] > 0:
                STATE["fail_first"] -= 1
        if fail:
            status, out, extra = 503, b'{"message": "unavailable"}', {"Retry-After": "0"}
        elif self.path.split("?")[0].endswith("/dispatches"):
            status, out, extra = 204, b"", None
        elif self.path.split("?")[0].endswith("/trigger/pipeline"):
            status, out, extra = 201, b'{"id": 1, "status": "created"}', None
        else:
            status, out, extra = 200, b'{"ok": true}', None
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "status": status,
        }
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        self._answer(status, out, extra=extra)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


if __name__ == "__main__":
    LOG, portfile = sys.argv[1], sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()
