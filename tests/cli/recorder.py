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

import httpbase

LOCK = threading.Lock()
STATE = {"fail_first": 0, "fail_paths": []}


class Handler(httpbase.Handler):
    def _answer(self, status, body=b"", extra=()):
        self.send_bytes(status, body, [("Content-Type", "application/json")] + list(extra))

    def _handle(self):
        body = self.read_body()
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
            status, out, extra = 503, b'{"message": "unavailable"}', [("Retry-After", "0")]
        elif self.path.split("?")[0].endswith("/dispatches"):
            status, out, extra = 204, b"", ()
        elif self.path.split("?")[0].endswith("/trigger/pipeline"):
            status, out, extra = 201, b'{"id": 1, "status": "created"}', ()
        else:
            status, out, extra = 200, b'{"ok": true}', ()
        self.record(LOG, body, status)
        self._answer(status, out, extra)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


if __name__ == "__main__":
    LOG, portfile = sys.argv[1], sys.argv[2]
    httpbase.serve(httpbase.listen(Handler), portfile)
