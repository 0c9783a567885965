"""A stand-in for a host's services, started by the Swift tests.

- GET /users/<owner>/memberships?cursor=&limit=  the memberships API (bearer token "fixture-token"):
  owner "u1" (and every "user-*") has 7 rows (ids m01..m07) served in keyset pages; owner "flaky" answers 503, then 429 with
  Retry-After: 7, then the rows; owner "garbage" answers malformed JSON; owner "down" always 503;
  owner "forbidden" answers 403.
- PUT /hooks/<name>/secret  sets the shared secret (the raw body bytes) webhooks to <name> are checked with.
- POST /hooks/<name>  records the webhook (headers, body and "signature_verified"); name "gone" answers 410,
  "busy" 503. "signature_verified" is true or false when a secret is set for <name> (checked here, apart
  from the Swift code, as WebhookSignature documents: X-Export-Signature "t=<unix>,v1=<hex>", HMAC-SHA256 of
  "<t>.<body>", compared with hmac.compare_digest, at most 300 s old) and null when none is set.
  It answers 204 either way: the tests read the verdict from GET /hooks.
- GET /hooks  returns everything recorded, as JSON.
- POST /datasets/<name> with a JSON array of rows stores a data set; POST /datasets/<name>/change with
  {"insert": [rows], "delete": [ids]} changes it; GET /datasets/<name>/users/<owner>/memberships pages
  it by id (keyset) for the conformance suite.

Prints its port on the first line of stdout and exits when stdin closes.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROWS = [
    {
        "id": "m%02d" % i,
        "user_id": "u1",
        "organization_id": "org-%d" % i,
        "organization_name": "Org \"%d\", Ltd" % i,
        "plan": "pro" if i % 2 else "free",
        "role": "admin" if i == 1 else "member",
        "status": "active",
        "started_at": "2024-0%d-01T09:30:00Z" % (i if i < 10 else 9),
        "ended_at": None,
        "amount": "%d.99" % (10 + i),
        "currency": "EUR",
        "seat": {"number": i},
    }
    for i in range(1, 8)
]

lock = threading.Lock()
hooks = []
datasets = {}
flaky_calls = {}
hook_secrets = {}
SIGNATURE_TOLERANCE_SECONDS = 300


def signature_verified(header, body, secret):
    """Whether an X-Export-Signature header signs body with secret and is fresh."""
    timestamp = None
    candidates = []
    for part in (header or "").split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            timestamp = value
        elif key == "v1":
            try:
                candidates.append(bytes.fromhex(value))
            except ValueError:
                pass
    if timestamp is None or not timestamp.lstrip("-").isdigit() or not candidates:
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).digest()
    # Check every candidate, so the time taken does not depend on which one matched.
    results = [hmac.compare_digest(candidate, expected) for candidate in candidates]
    return any(results)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/hooks":
            with lock:
                body = json.dumps(hooks).encode()
            return self.reply(200, body, {"Content-Type": "application/json"})
        parts = url.path.strip("/").split("/")
        if len(parts) == 5 and parts[0] == "datasets" and parts[2] == "users" and parts[4] == "memberships":
            query = parse_qs(url.query)
            cursor = query.get("cursor", [""])[0]
            limit = int(query.get("limit", ["100"])[0])
            with lock:
                rows = sorted((r for r in datasets.get(parts[1], {}).values()
                               if r["user_id"] == parts[3] and r["id"] > cursor), key=lambda r: r["id"])
            page = rows[:limit]
            body = {"data": page, "next_cursor": page[-1]["id"] if len(rows) > limit else None}
            return self.reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        if len(parts) != 3 or parts[0] != "users" or parts[2] != "memberships":
            return self.reply(404)
        if self.headers.get("Authorization") != "Bearer fixture-token":
            return self.reply(401, b'{"error":"unauthorized"}')
        owner = parts[1]
        member = owner
        query = parse_qs(url.query)
        cursor = query.get("cursor", [""])[0]
        limit = int(query.get("limit", ["100"])[0])
        if owner == "garbage":
            return self.reply(200, b'{"data": [ {"id": "m1", ', {"Content-Type": "application/json"})
        if owner == "down":
            return self.reply(503, b"maintenance")
        if owner == "forbidden":
            return self.reply(403, b"no")
        if owner == "flaky":
            with lock:
                calls = flaky_calls.get(cursor, 0)
                flaky_calls[cursor] = calls + 1
            if calls == 0:
                return self.reply(503, b"try later")
            if calls == 1:
                return self.reply(429, b"slow down", {"Retry-After": "7"})
            owner = "u1"
        rows = [dict(row, user_id=member) for row in ROWS if row["id"] > cursor] if owner == "u1" or owner.startswith("user-") else []
        page = rows[:limit]
        more = len(rows) > limit
        body = {"data": page, "next_cursor": page[-1]["id"] if more else None}
        self.reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = urlparse(self.path).path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "hooks" or parts[2] != "secret":
            return self.reply(404)
        with lock:
            hook_secrets[parts[1]] = body
        self.reply(204)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = urlparse(self.path).path.strip("/").split("/")
        if parts[0] == "datasets" and len(parts) in (2, 3):
            document = json.loads(body)
            with lock:
                if len(parts) == 2:
                    datasets[parts[1]] = {row["id"]: row for row in document}
                else:
                    data = datasets.setdefault(parts[1], {})
                    for row in document.get("insert", []):
                        data[row["id"]] = row
                    for row_id in document.get("delete", []):
                        data.pop(row_id, None)
            return self.reply(204)
        if len(parts) != 2 or parts[0] != "hooks":
            return self.reply(404)
        name = parts[1]
        if name == "gone":
            return self.reply(410, b"gone")
        if name == "busy":
            return self.reply(503, b"busy", {"Retry-After": "3"})
        with lock:
            secret = hook_secrets.get(name)
        verified = None if secret is None else signature_verified(self.headers.get("X-Export-Signature"), body, secret)
        with lock:
            hooks.append({
                "name": name,
                "headers": {key.lower(): value for key, value in self.headers.items()},
                "body": body.decode("utf-8"),
                "signature_verified": verified,
            })
        self.reply(204)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
try:
    sys.stdin.read()
finally:
    os._exit(0)
