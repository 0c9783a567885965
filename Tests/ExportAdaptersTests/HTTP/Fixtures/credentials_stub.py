"""A stand-in for the container credentials endpoint and the EC2 instance metadata service (IMDSv2).

- GET /container/creds  the container endpoint: 401 unless Authorization equals the configured
  "container_token" (when one is set); otherwise the credentials document.
- PUT /latest/api/token  IMDSv2's session token; 400 without X-aws-ec2-metadata-token-ttl-seconds.
- GET /latest/meta-data/iam/security-credentials/ and .../<role>  401 without a token from the PUT
  in X-aws-ec2-metadata-token (so an IMDSv1 client fails), else the role name and its document.
- POST /stub/config  JSON merged into the settings: access_key, secret_key, token, expiration
  (RFC 3339), fail (answer 500 to credential requests), delay (seconds before answering),
  container_token, role.
- GET /stub/hits  JSON counts of requests by "METHOD path" (the credential endpoints only);
  DELETE /stub/hits resets them.
- GET /moto-api/  200, for the test harness's readiness probe.

Prints its port on the first line of stdout and exits when stdin closes.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
settings = {
    "access_key": "ASIASTUBKEY",
    "secret_key": "stub-secret-key",
    "token": "stub-session-token",
    "expiration": "2030-01-01T00:00:00Z",
    "fail": False,
    "delay": 0,
    "container_token": None,
    "role": "stub-role",
}
hits = {}
imds_tokens = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", content_type="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def count(self):
        with lock:
            key = "%s %s" % (self.command, self.path)
            hits[key] = hits.get(key, 0) + 1
            return dict(settings)

    def document(self, current):
        return json.dumps({
            "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": current["access_key"],
            "SecretAccessKey": current["secret_key"], "Token": current["token"],
            "Expiration": current["expiration"], "LastUpdated": "2026-01-01T00:00:00Z",
        })

    def credential_answer(self, current):
        if current["delay"]:
            time.sleep(current["delay"])
        if current["fail"]:
            self.answer(500, '{"message": "stub failure"}')
            return False
        return True

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path.startswith("/moto-api/"):
            return self.answer(200, "{}")
        if self.path == "/stub/hits":
            with lock:
                return self.answer(200, json.dumps(hits))
        if self.path == "/container/creds":
            current = self.count()
            expected = current["container_token"]
            if expected is not None and self.headers.get("Authorization") != expected:
                return self.answer(401, '{"message": "bad authorization"}')
            if self.credential_answer(current):
                self.answer(200, self.document(current))
            return
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            current = self.count()
            with lock:
                valid = self.headers.get("X-aws-ec2-metadata-token") in imds_tokens
            if not valid:
                return self.answer(401, "", "text/plain")
            role = self.path[len(prefix):]
            if role == "":
                return self.answer(200, current["role"] + "\n", "text/plain")
            if role != current["role"]:
                return self.answer(404, "", "text/plain")
            if self.credential_answer(current):
                self.answer(200, self.document(current))
            return
        self.answer(404, "{}")

    def do_PUT(self):
        self.read_body()
        if self.path == "/latest/api/token":
            self.count()
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit():
                return self.answer(400, "", "text/plain")
            with lock:
                token = "imds-token-%d" % (len(imds_tokens) + 1)
                imds_tokens.add(token)
            return self.answer(200, token, "text/plain")
        self.answer(404, "{}")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/stub/config":
            with lock:
                settings.update(json.loads(body or b"{}"))
            return self.answer(204)
        self.answer(404, "{}")

    def do_DELETE(self):
        if self.path == "/stub/hits":
            with lock:
                hits.clear()
            return self.answer(204)
        self.answer(404, "{}")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
try:
    sys.stdin.read()
finally:
    server.shutdown()
    os._exit(0)
