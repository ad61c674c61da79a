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
  POST   /api/v4/projects/P/uploads                      201, a multipart/form-data
         upload of one "file" part; answers GitLab's "alt", "url" and
         "markdown"; GET /uploads/SECRET/NAME serves it back (no token)
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
UPLOADS = {}  # "/uploads/SECRET/NAME" -> (content type, bytes)

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


def upload(content_type, raw):
    """The one file part of a multipart/form-data body: 201 and GitLab's
    answer, or 400 naming what is wrong."""
    m = re.match(r"multipart/form-data; boundary=(\S+)$", content_type or "")
    if not m:
        return 400, {"message": "not multipart/form-data: %s" % content_type}
    sep = b"--" + m.group(1).encode()
    parts = raw.split(sep)
    if len(parts) != 3 or parts[0] != b"" or parts[2] != b"--\r\n":
        return 400, {"message": "not one part between boundaries"}
    head, _, data = parts[1].partition(b"\r\n\r\n")
    d = re.search(rb'Content-Disposition: form-data; name="file"; filename="([^"]+)"', head)
    t = re.search(rb"Content-Type: (\S+)", head)
    if not d or not t or not data.endswith(b"\r\n"):
        return 400, {"message": "no file part"}
    name = d.group(1).decode()
    path = "/uploads/%032x/%s" % (len(UPLOADS) + 1, name)
    UPLOADS[path] = (t.group(1).decode(), data[:-2])
    return 201, {"alt": name, "url": path, "full_path": "/-/project/42" + path,
                 "markdown": "![%s](%s)" % (name, path)}


class Handler(httpbase.Handler):
    def _route(self, body, raw):
        url = urlsplit(self.path)
        if self.command == "GET" and url.path in UPLOADS:
            return 200, UPLOADS[url.path]
        if url.path == "/__seed":
            req = json.loads(body)
            THREADS.setdefault(req["thread"], []).extend(new_comment(b) for b in req["comments"])
            return 200, {}
        if not any(h in self.headers for h in ("Authorization", "PRIVATE-TOKEN", "JOB-TOKEN")):
            return 401, {"message": "Requires authentication"}
        if self.command == "POST" and re.fullmatch(r"/api/v4/projects/[^/]+/uploads", url.path):
            return upload(self.headers.get("Content-Type"), raw)
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
        raw = self.read_body()
        body = raw.decode("utf-8", "replace")
        with LOCK:
            status, obj = self._route(body, raw)
            if self.path != "/__seed":
                self.record(LOG, body, status)
        if isinstance(obj, tuple):  # an uploaded file
            self.send_bytes(status, obj[1], [("Content-Type", obj[0])])
        else:
            self.send_json(status, obj)

    do_GET = do_POST = do_PUT = do_PATCH = _handle


if __name__ == "__main__":
    LOG, portfile = sys.argv[1], sys.argv[2]
    httpbase.serve(httpbase.listen(Handler), portfile)
