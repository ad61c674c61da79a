#!/usr/bin/env python3
"""A fake of the comment APIs of GitHub (issue comments) and GitLab (merge
request notes), for `modelgate comment` tests.

    ci_recorder.py LOG PORTFILE

Listens on a free loopback port (written to PORTFILE), keeps comments in
memory per pull/merge request, and appends every request to LOG as one JSON
line: method, path (with query), headers (names lower-cased), body, status.
  GET    /repos/O/R/issues/N/comments?per_page=&page=    a page of comments
  POST   /repos/O/R/issues/N/comments                    201, new comment
  PATCH  /repos/O/R/issues/comments/ID                   200
  GET    /api/v4/projects/P/merge_requests/I/notes?...   a page of notes
  POST   /api/v4/projects/P/merge_requests/I/notes       201
  PUT    /api/v4/projects/P/merge_requests/I/notes/ID    200
Requests without an Authorization, PRIVATE-TOKEN or JOB-TOKEN header get
401. POST /__seed {"thread": "gh:N" | "gl:I", "comments": [BODY...]} adds
comments written by others. Python 3 standard library only.
"""
import json
import re
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import httpbase

LOCK = threading.Lock()
THREADS = {}  # "gh:N" / "gl:I" -> list of {"id", "body"}
NEXT = [1000]

ROUTES = [
    ("GET", r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", "gh", "list"),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", "gh", "create"),
    ("PATCH", r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", "gh", "update"),
    ("GET", r"/api/v4/projects/[^/]+/merge_requests/(\d+)/notes", "gl", "list"),
    ("POST", r"/api/v4/projects/[^/]+/merge_requests/(\d+)/notes", "gl", "create"),
    ("PUT", r"/api/v4/projects/[^/]+/merge_requests/\d+/notes/(\d+)", "gl", "update"),
]


def new_comment(body):
    NEXT[0] += 1
    return {"id": NEXT[0], "body": body, "user": {"login": "someone"}}


class Handler(httpbase.Handler):
    def _route(self, body):
        url = urlsplit(self.path)
        if url.path == "/__seed":
            req = json.loads(body)
            THREADS.setdefault(req["thread"], []).extend(new_comment(b) for b in req["comments"])
            return 200, {}
        if not any(h in self.headers for h in ("Authorization", "PRIVATE-TOKEN", "JOB-TOKEN")):
            return 401, {"message": "Requires authentication"}
        for method, pattern, forge, action in ROUTES:
            m = re.fullmatch(pattern, url.path)
            if self.command != method or not m:
                continue
            n = m.group(1)
            if action == "list":
                q = parse_qs(url.query)
                per, page = int(q.get("per_page", ["30"])[0]), int(q.get("page", ["1"])[0])
                items = THREADS.get("%s:%s" % (forge, n), [])
                return 200, items[(page - 1) * per:page * per]
            if action == "create":
                c = new_comment(json.loads(body)["body"])
                THREADS.setdefault("%s:%s" % (forge, n), []).append(c)
                return 201, c
            for items in THREADS.values():
                for c in items:
                    if str(c["id"]) == n:
                        c["body"] = json.loads(body)["body"]
                        return 200, c
            return 404, {"message": "Not Found"}
        return 404, {"message": "Not Found"}

    def _handle(self):
        body = self.read_body().decode("utf-8", "replace")
        with LOCK:
            status, obj = self._route(body)
            if self.path != "/__seed":
                self.record(LOG, body, status)
        self.send_json(status, obj)

    do_GET = do_POST = do_PUT = do_PATCH = _handle


if __name__ == "__main__":
    LOG, portfile = sys.argv[1], sys.argv[2]
    httpbase.serve(httpbase.listen(Handler), portfile)
