#!/usr/bin/python3
"""A small HTTP proxy for the registry tests: it sits in front of a
docker-registry, forwards every request (keeping the Host header, so the
registry's upload Locations point back at the proxy), logs one line per
request ("METHOD PATH REQUEST_BODY_BYTES STATUS RANGE", RANGE being the
request's Range or Content-Range header, "-" for none) and injects faults:

  pass        forward only
  drop        cut the connection half-way through the first large blob GET
  stall       send half of the first large blob GET, then hang (the test kills
              the client); writes 'stalled' to the log first
  503:N       answer the first N requests with 503 and Retry-After: 1
  429:N       answer the first N requests with 429 and Retry-After: 2
  dropput     the first monolithic upload (a large PUT) never reaches the
              registry: its connection is closed without an answer
  corrupt     flip one byte in the middle of every large blob GET body
  droppatch   the second upload PATCH reaches the registry with only the first
              half of its body (Content-Length and Content-Range to match, so
              the registry stops mid-chunk), and its client gets no answer: the
              connection is closed. Logs "cut S-E of N" (the half that
              landed). The upload URLs stay valid, as on registries whose upload
              URL does not change: each request on an upload carries the
              registry's latest _state (distribution refuses an older one).
  droppatch-raw
              as droppatch, with distribution's own upload URLs: a status
              request with the last URL the client knows gets 404
  droppatch-nostatus
              as droppatch, and every later GET on an upload URL (a status
              request) is answered with 503
  shortpatch  as droppatch-raw, but the client gets the registry's answer (202,
              with the Range of the half that landed)
  nocatalog   answer GET /v2/_catalog with 404 (UNSUPPORTED), as registries
              that do not offer their catalog do
  pagetags    serve tag lists in pages, as distribution does for its catalog:
              sorted, at most ?n= tags (all without n) after ?last=, and a
              Link header to the next page; docker-registry 2.8 itself ignores
              n and last on tag lists
  pageelsewhere
              as pagetags, with every Link pointing at another host
  pageforever tag lists of one new tag a page (made up by the proxy), each
              with a Link to yet another page
  pageloop    as pagetags, but the last page links back to the first
  pagesame    as pagetags, but every page is the first one again, with a
              Link to a page of another URL each time

Hostile answers: endless bodies are sent chunked, until the client hangs up
(logged as "endless METHOD PATH STATUS sent BYTES") or 1 GiB is sent
("endless ... not stopped").
  endlessmanifest
              manifest GETs get a body that looks like the start of a manifest
              and never ends
  endlessblob large blob GETs (as in corrupt) get the blob's bytes and then
              zeros without end
  endlesstags tag list GETs get a list of tags that never ends
  endlesserror:CODE
              manifest GETs are answered CODE (401 with a Basic challenge)
              with a JSON error body whose message never ends
  bloblong    large blob GETs get the blob followed by as many bytes again
              (Content-Length to match)
  blobshort   large blob GETs get the first half of the blob (Content-Length
              to match)
  bloblies    large blob GETs announce a Content-Length 4096 bytes larger than
              the blob, send the blob and close the connection
  layersize:DELTA
              manifest GETs get the manifest with DELTA added to every
              layer's size, without Docker-Content-Digest
  headlies    blob HEADs are answered 200 with Content-Length 1, whether the
              registry has the blob or not
  endlesstoken
              with FAULTPROXY_AUTH=bearer:..., the realm's answer is a token
              that never ends

Modes with a second host: the proxy also listens on 127.0.0.2 (another
"host" on this machine, plain HTTP, no credentials asked), forwards what
arrives there too, and logs it as "other METHOD PATH REQUEST_BODY_BYTES
STATUS AUTH", AUTH being the scheme of the request's Authorization header
("Basic", "Bearer") or "-": credentials must never arrive there.
  uploadelsewhere
              the Location of every 202 answer (upload start, PATCH) points
              at the other host
  blobelsewhere
              blob GETs and HEADs are answered 307 with a Location on the
              other host
  realmelsewhere
              the bearer realm (FAULTPROXY_AUTH=bearer:...) is /token on the
              other host

Environment (optional):
  FAULTPROXY_TLS=CERT:KEY    the proxy (on 127.0.0.1) speaks HTTPS
  FAULTPROXY_AUTH=basic:USER:PASSWORD or bearer:USER:PASSWORD
              the proxy (on 127.0.0.1) asks for credentials itself: Basic, or
              a bearer token from its realm (/token, which takes Basic
              USER:PASSWORD and answers the token "tok-PASSWORD")

Usage: faultproxy.py UPSTREAM_PORT MODE LOGFILE PORTFILE
The port it listens on (on 127.0.0.1) is written to PORTFILE once it is
ready; the other host's port, in the modes that have one, to PORTFILE.other
before that.
"""
import base64
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import urllib.parse

import httpbase

UPSTREAM = int(sys.argv[1])
MODE = sys.argv[2]
LOG = sys.argv[3]
PORTFILE = sys.argv[4]
LARGE = 64 * 1024
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate"}

lock = threading.Lock()
state = {"requests": 0, "faulted": 0, "patches": 0, "dropped": 0}
upload_state = {}  # upload id -> the registry's latest _state for it
UPLOAD = re.compile(r"/blobs/uploads/([^/?]+)")
TLS = os.environ.get("FAULTPROXY_TLS", "")
AUTH = os.environ.get("FAULTPROXY_AUTH", "").split(":", 2) if os.environ.get("FAULTPROXY_AUTH") \
    else None
OTHER_MODES = ("uploadelsewhere", "blobelsewhere", "realmelsewhere")
other = {"port": 0}


def other_url(path):
    return "http://127.0.0.2:%d%s" % (other["port"], path)


def log(line):
    httpbase.append_line(LOG, line)


def with_latest_state(path):
    """path, with the registry's latest _state for the upload it names."""
    m = UPLOAD.search(path)
    with lock:
        latest = upload_state.get(m.group(1)) if m else None
    if latest is None:
        return path
    u = urllib.parse.urlsplit(path)
    q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
         if k != "_state"]
    q.append(("_state", latest))
    return urllib.parse.urlunsplit(("", "", u.path, urllib.parse.urlencode(q), ""))


def remember_state(location):
    m = UPLOAD.search(location or "")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location or "").query)
    if m and "_state" in q:
        with lock:
            upload_state[m.group(1)] = q["_state"][0]


def tag_page(data, query):
    """A page of a full tag list: (body, next page's query or None)."""
    j = json.loads(data)
    q = urllib.parse.parse_qs(query)
    tags = sorted(j.get("tags") or [])
    if "last" in q:
        tags = [t for t in tags if t > q["last"][0]]
    nxt = None
    if "n" in q and len(tags) > int(q["n"][0]):
        tags = tags[:int(q["n"][0])]
        nxt = urllib.parse.urlencode({"n": q["n"][0], "last": tags[-1]})
    j["tags"] = tags
    return json.dumps(j).encode(), nxt


ENDLESS_MAX = 1 << 30
MANIFEST_PATH = re.compile(r"/v2/.+/manifests/[^/]+$")
TAGS_PATH = re.compile(r"/v2/.+/tags/list(\?.*)?$")
BLOB_PATH = re.compile(r"/v2/.+/blobs/sha256:[0-9a-f]{64}$")


def lie_about_sizes(data, delta):
    """A manifest with delta added to the size of every layer."""
    j = json.loads(data)
    for layer in j.get("layers") or []:
        layer["size"] = layer["size"] + delta
    return json.dumps(j).encode()


class Proxy(httpbase.Handler):
    def answer(self, status, body=b"", extra=()):
        self.send_bytes(status, body, extra)

    def on_other_host(self):
        return self.server.server_address[0] == "127.0.0.2"

    def token(self, body_len):
        """The realm: a token for Basic USER:PASSWORD, else 401."""
        want = "Basic " + base64.b64encode(("%s:%s" % (AUTH[1], AUTH[2])).encode()).decode()
        if self.headers.get("Authorization") != want:
            self.log_line(body_len, 401)
            self.answer(401, extra=[("WWW-Authenticate", 'Basic realm="faultproxy"')])
            return
        self.log_line(body_len, 200)
        self.answer(200, json.dumps({"token": "tok-" + AUTH[2]}).encode(),
                    [("Content-Type", "application/json")])

    def log_line(self, body_len, status, rng="-"):
        if self.on_other_host():
            auth = (self.headers.get("Authorization") or "-").split(" ")[0] or "-"
            log("other %s %s %d %s %s" % (self.command, self.path, body_len, status, auth))
        else:
            log("%s %s %d %s %s" % (self.command, self.path, body_len, status, rng))

    def authorized(self, body_len):
        """Asks for credentials on the proxy's own host when FAULTPROXY_AUTH
        says so: False (and a 401 sent) when the request has none."""
        if not AUTH or self.on_other_host():
            return True
        got = self.headers.get("Authorization") or ""
        if AUTH[0] == "basic":
            want = "Basic " + base64.b64encode(("%s:%s" % (AUTH[1], AUTH[2])).encode()).decode()
            challenge = 'Basic realm="faultproxy"'
        else:
            want = "Bearer tok-" + AUTH[2]
            scheme = "https" if TLS else "http"
            realm = (other_url("/token") if MODE == "realmelsewhere" else
                     "%s://%s/token" % (scheme, self.headers.get("Host")))
            challenge = 'Bearer realm="%s",service="faultproxy"' % realm
            m = re.match(r"/v2/(.+)/(blobs|manifests|tags)/", self.path)
            if m:
                challenge += ',scope="repository:%s:pull,push"' % m.group(1)
        if got == want:
            return True
        self.log_line(body_len, 401)
        self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                    [("Content-Type", "application/json"), ("WWW-Authenticate", challenge)])
        return False

    def endless(self, status, headers, start, filler):
        """Answers status with a chunked body of start, then filler again and
        again, until the client hangs up or ENDLESS_MAX bytes are sent."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        piece = start
        try:
            while sent < ENDLESS_MAX:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
                piece = filler
            how = "not stopped"
        except OSError:
            how = "sent %d" % sent
        log("endless %s %s %d %s" % (self.command, self.path, status, how))
        self.close_connection = True

    def hostile(self, length):
        """The answers of the modes that make them up: True when one was sent."""
        path = self.path.split("?")[0]
        if MODE == "endlessmanifest" and self.command == "GET" and MANIFEST_PATH.match(path):
            self.log_line(length, 200)
            self.endless(200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
                         b'{"schemaVersion":2,"layers":[',
                         b'{"mediaType":"x","size":1,"digest":"sha256:0"},' * 1000)
            return True
        if MODE == "endlesstags" and self.command == "GET" and TAGS_PATH.match(self.path):
            self.log_line(length, 200)
            self.endless(200, [("Content-Type", "application/json")], b'{"name":"x","tags":[',
                         b'"v1",' * 10000)
            return True
        if MODE.startswith("endlesserror:") and self.command == "GET" and \
                MANIFEST_PATH.match(path):
            code = int(MODE.split(":")[1])
            headers = [("Content-Type", "application/json")]
            if code == 401:
                headers.append(("WWW-Authenticate", 'Basic realm="faultproxy"'))
            self.log_line(length, code)
            self.endless(code, headers, b'{"errors":[{"code":"UNKNOWN","message":"',
                         b"a" * 65536)
            return True
        if MODE == "headlies" and self.command == "HEAD" and BLOB_PATH.match(path):
            self.log_line(length, 200)
            self.send_response(200)
            self.send_header("Content-Length", "1")
            self.send_header("Docker-Content-Digest", path.rsplit("/", 1)[1])
            self.end_headers()
            return True
        return False

    def blob_answer(self, status, headers, data):
        """The blob modes' answer to a blob GET of data: True when sent."""
        if MODE == "endlessblob":
            self.endless(status, headers, data, b"\0" * 65536)
            return True
        if MODE == "bloblies":
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) + 4096))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            log("lied %s %s %d of %d" % (self.command, self.path, len(data), len(data) + 4096))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if MODE in ("bloblong", "blobshort"):
            data = data + data if MODE == "bloblong" else data[:len(data) // 2]
            self.answer(status, data, headers)
            return True
        return False

    def handle_any(self):
        with lock:
            state["requests"] += 1
            n = state["requests"]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if AUTH and self.path.startswith("/token") and MODE == "endlesstoken":
            self.log_line(length, 200)
            self.endless(200, [("Content-Type", "application/json")], b'{"token":"',
                         b"a" * 65536)
            return
        if AUTH and self.path.startswith("/token"):
            self.token(length)
            return
        if not self.authorized(length):
            return
        if self.hostile(length):
            return
        if (MODE == "blobelsewhere" and not self.on_other_host() and
                self.command in ("GET", "HEAD") and "/blobs/sha256:" in self.path):
            self.log_line(length, 307)
            self.answer(307, extra=[("Location", other_url(self.path))])
            return
        sent_range = (self.headers.get("Range") or self.headers.get("Content-Range") or
                      "-").replace(" ", "")
        if MODE.startswith("503:") and n <= int(MODE[4:]):
            log("%s %s %d 503 -" % (self.command, self.path, len(body)))
            self.answer(503, extra=[("Retry-After", "1")])
            return
        if (MODE == "dropput" and self.command == "PUT" and "/blobs/uploads/" in self.path and
                length >= LARGE and not state["faulted"]):
            with lock:
                state["faulted"] = 1
            log("%s %s %d dropped -" % (self.command, self.path, length))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if MODE.startswith("429:") and n <= int(MODE[4:]):
            log("%s %s %d 429 -" % (self.command, self.path, len(body)))
            self.answer(429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                        [("Content-Type", "application/json"), ("Retry-After", "2")])
            return
        if MODE == "nocatalog" and self.path.startswith("/v2/_catalog"):
            log("%s %s %d 404 -" % (self.command, self.path, len(body)))
            self.answer(404, b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is '
                        b'unsupported."}]}', [("Content-Type", "application/json")])
            return
        upload = "/blobs/uploads/" in self.path
        if (MODE == "droppatch-nostatus" and state["dropped"] and upload and
                self.command == "GET"):
            log("%s %s %d 503 -" % (self.command, self.path, len(body)))
            self.answer(503, extra=[("Retry-After", "1")])
            return
        path = self.path
        if MODE in ("droppatch", "droppatch-nostatus") and upload:
            path = with_latest_state(path)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "authorization"}
        if TLS and not self.on_other_host():
            headers["X-Forwarded-Proto"] = "https"
        cut = False
        if (MODE.startswith("droppatch") or MODE == "shortpatch") and upload and \
                self.command == "PATCH":
            with lock:
                state["patches"] += 1
                cut = state["patches"] == 2
        if cut:
            # the registry gets the first half of the chunk, as a PATCH of its own
            start = int(sent_range.split("-")[0]) if sent_range[:1].isdigit() else 0
            body = body[:len(body) // 2]
            headers = {k: v for k, v in headers.items()
                       if k.lower() not in ("content-length", "content-range")}
            headers["Content-Length"] = str(len(body))
            headers["Content-Range"] = "%d-%d" % (start, start + len(body) - 1)
        tags = (re.match(r"(/v2/.+/tags/list)(\?.*)?$", path)
                if MODE in ("pagetags", "pageelsewhere", "pageforever", "pageloop", "pagesame")
                else None)
        if tags and MODE == "pageforever":  # made up here, quickly: one new tag a page
            log("%s %s %d 200 -" % (self.command, self.path, length))
            self.answer(200, json.dumps({"name": "x", "tags": ["p%d" % n]}).encode(),
                        [("Content-Type", "application/json"),
                         ("Link", '<%s?n=1&page=%d>; rel="next"' % (tags.group(1), n))])
            return
        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        up.request(self.command, tags.group(1) if tags else path, body=body, headers=headers)
        resp = up.getresponse()
        try:
            data = resp.read()
        except http.client.IncompleteRead as e:  # distribution's 416 announces the whole blob
            data = e.partial
        up.close()
        remember_state(resp.getheader("Location"))
        self.log_line(length, resp.status, sent_range)
        if cut:
            log("cut %s of %d" % (headers["Content-Range"], length))
        if cut and MODE != "shortpatch":
            with lock:
                state["dropped"] = 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        extra = []
        if tags and resp.status == 200:
            query = (tags.group(2) or "?")[1:]
            first = urllib.parse.urlencode(
                {k: v[0] for k, v in urllib.parse.parse_qs(query).items() if k == "n"})
            data, nxt = tag_page(data, first if MODE == "pagesame" else query)
            if MODE == "pageloop" and not nxt:
                nxt = first
            if MODE == "pagesame":
                nxt = "%s&page=%d" % (first, n)
            if nxt:
                extra.append(("Link", '<%s?%s>; rel="next"' % (tags.group(1), nxt)))
            if MODE == "pageelsewhere":
                extra = [("Link", '<https://elsewhere.example%s?n=1>; rel="next"' % tags.group(1))]
        if (MODE in ("endlessblob", "bloblies", "bloblong", "blobshort") and
                self.command == "GET" and BLOB_PATH.match(self.path.split("?")[0]) and
                resp.status == 200 and len(data) >= LARGE):
            headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in HOP and k.lower() != "content-length"]
            if self.blob_answer(resp.status, headers, data):
                return
        if (MODE.startswith("layersize:") and self.command == "GET" and resp.status == 200 and
                MANIFEST_PATH.match(self.path.split("?")[0])):
            data = lie_about_sizes(data, int(MODE.split(":")[1]))
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
            if (MODE == "uploadelsewhere" and resp.status == 202 and k.lower() == "location" and
                    not self.on_other_host()):
                u = urllib.parse.urlsplit(v)
                v = other_url(urllib.parse.urlunsplit(("", "", u.path, u.query, "")))
            if MODE.startswith("layersize:") and k.lower() == "docker-content-digest":
                continue
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        for k, v in extra:
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


if MODE in OTHER_MODES:
    osrv = httpbase.listen(Proxy, "127.0.0.2")
    other["port"] = osrv.server_address[1]
    with open(PORTFILE + ".other", "w") as f:
        f.write(str(other["port"]))
    threading.Thread(target=osrv.serve_forever, daemon=True).start()


def tls_wrap(sock):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*TLS.split(":", 1))
    return ctx.wrap_socket(sock, server_side=True)


httpbase.serve(httpbase.listen(Proxy, wrap=tls_wrap if TLS else None), PORTFILE)
