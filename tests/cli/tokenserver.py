#!/usr/bin/python3
"""A token service for the registry tests: what docker-registry's
`auth: token:` mode sends clients to (the realm of its Bearer challenge).

GET /token?service=S&scope=T:NAME:ACTIONS[&scope=...] answers a JWT, signed
RS256 by `openssl dgst -sha256 -sign KEY` with the certificate in the
header's "x5c" (the registry trusts that certificate as its rootcertbundle).
The claims: iss, sub, aud (the service), exp, nbf, iat, jti, and access, a
list of {type, name, actions}.

Who gets what:
  - HTTP Basic with the user and password given here: pull, push and
    delete on every requested repository (only the actions requested, only
    of type "repository": no catalog, no "*");
  - no credentials: pull only (an anonymous pull of a public repository,
    the way public registries behave); a push is refused by the registry,
    which finds no push in the token;
  - any other credentials: 401, no token.
An unknown service is a 400.

One line per request goes to LOGFILE, never with a password or a token:
  METHOD PATH creds=USER|none|rejected scope=S ... granted=G,... status=N
(a scope= field per scope parameter, in order; granted= lists the
type:name:actions entries of the token, or "-").

Usage: tokenserver.py KEY CERT ISSUER SERVICE USER PASSWORD LOGFILE PORTFILE [TTL]
The port it listens on (on 127.0.0.1) is written to PORTFILE once it is
ready. TTL is the token lifetime in seconds (default 300).
"""
import base64
import hmac
import json
import secrets
import subprocess
import sys
import time
import urllib.parse

import httpbase

KEY, CERT, ISSUER, SERVICE, USER, PASSWORD, LOG, PORTFILE = sys.argv[1:9]
TTL = int(sys.argv[9]) if len(sys.argv) > 9 else 300

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cert_der_b64(path):
    """The base64 of the certificate's DER: the body of its PEM block."""
    lines, inside = [], False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line == "-----BEGIN CERTIFICATE-----":
                inside = True
            elif line == "-----END CERTIFICATE-----":
                break
            elif inside:
                lines.append(line)
    der = base64.b64decode("".join(lines), validate=True)
    return base64.b64encode(der).decode("ascii")


X5C = cert_der_b64(CERT)


def sign(data):
    p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return p.stdout


def make_jwt(sub, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [X5C]}
    claims = {"iss": ISSUER, "sub": sub, "aud": SERVICE, "exp": now + TTL, "nbf": now - 10,
              "iat": now, "jti": secrets.token_hex(16), "access": access}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing_input + "." + b64url(sign(signing_input.encode("ascii")))


def log(line):
    httpbase.append_line(LOG, line)


def grant(scopes, authed):
    """The access entries for the requested scopes (type:name:actions)."""
    allowed = {"pull", "push", "delete"} if authed else {"pull"}
    access = []
    for s in scopes:
        parts = s.split(":")
        if len(parts) < 3 or parts[0] != "repository":
            continue
        name = ":".join(parts[1:-1])
        actions = [a for a in parts[-1].split(",") if a in allowed]
        if name and actions:
            access.append({"type": "repository", "name": name, "actions": actions})
    return access


class Handler(httpbase.Handler):
    def answer(self, status, body, headers=()):
        self.send_json(status, body, headers)

    def credentials(self):
        """'none', the user when the password matches, else 'rejected'."""
        h = self.headers.get("Authorization")
        if not h:
            return "none"
        scheme, _, value = h.partition(" ")
        if scheme.lower() != "basic":
            return "rejected"
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except ValueError:
            return "rejected"
        ok = sep and hmac.compare_digest(user.encode(), USER.encode()) and \
            hmac.compare_digest(password.encode(), PASSWORD.encode())
        return USER if ok else "rejected"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = query.get("scope", [])
        creds = self.credentials()
        fields = ["%s %s creds=%s" % (self.command, url.path, creds)]
        fields += ["scope=%s" % s for s in scopes]
        if url.path != "/token":
            status, body, headers, access = 404, {"error": "not found"}, (), []
        elif query.get("service", [""])[0] != SERVICE:
            status, body, headers, access = 400, {"error": "unknown service"}, (), []
        elif creds == "rejected":
            status, body, access = 401, {"error": "wrong user name or password"}, []
            headers = (("WWW-Authenticate", 'Basic realm="modelgate-test-tokens"'),)
        else:
            access = grant(scopes, creds != "none")
            token = make_jwt(creds if creds != "none" else "", access)
            status, headers = 200, ()
            body = {"token": token, "access_token": token, "expires_in": TTL,
                    "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        granted = ["%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in access]
        fields.append("granted=%s" % (";".join(granted) or "-"))
        fields.append("status=%d" % status)
        log(" ".join(fields))
        self.answer(status, body, headers)

    def do_POST(self):
        self.read_body()
        log("%s %s creds=- granted=- status=405" % (self.command, urllib.parse.urlsplit(self.path).path))
        self.answer(405, {"error": "only GET is served"})


httpbase.serve(httpbase.listen(Handler), PORTFILE)
