#!/usr/bin/env python3
"""export-server on the AWS adapters (DynamoDB, SQS, S3, SES) against a local moto_server it starts
itself: request an export, wait until it succeeded, follow the download's 302 to the presigned S3 link
and parse the CSV, bob gets 404, and moto recorded exactly one e-mail to alice.

Needs: pip install 'moto[server]'."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from server import Server, free_port

MOTO = shutil.which("moto_server")
if not MOTO:
    sys.exit("FAIL: moto_server is missing: pip install 'moto[server]'")


def sent_to(endpoint, recipient):
    # moto's data.json answers 500 while it serialises a backend mid-change; read it again a few times.
    for pause in (0.1, 0.2, 0.5, 1, 1, 2, 2, 3):
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=10) as r:
                messages = json.load(r).get("ses", {}).get("Message", [])
            return [m for m in messages if recipient in (m.get("destinations") or {}).get("ToAddresses", [])]
        except Exception:
            time.sleep(pause)
    raise AssertionError("moto's data.json stayed unreadable")


def main():
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tempfile.mkdtemp(prefix="moto-"), "moto.log"), "wb")
    moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=2)
                break
            except Exception:
                if moto.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.2)
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        with Server("--backend", "aws", "--endpoint", endpoint, "--rows", "3000", "--page-size", "500",
                    "--page-delay-ms", "0") as server:
            try:
                status, job = server.json("POST", "/api/v1/exports", "alice", {"format": "csv", "columns": ["membership_id", "user_id", "plan"]})
                assert status == 202, (status, job)
                job = server.wait_for(job["id"], "alice", {"succeeded", "failed", "cancelled"}, timeout=120)
                assert job["state"] == "succeeded", job
                status, headers, _ = server.request("GET", f"/api/v1/exports/{job['id']}/download", "alice")
                assert status == 302 and headers["Location"].startswith(endpoint + "/"), (status, headers)
                with urllib.request.urlopen(headers["Location"], timeout=30) as r:
                    rows = list(csv.reader(io.StringIO(r.read().decode("utf-8"))))
                assert rows[0] == ["membership_id", "user_id", "plan"] and len(rows) == 3001, rows[:2]
                assert all(row[1] == "alice" for row in rows[1:])
                for path in (f"/api/v1/exports/{job['id']}", f"/api/v1/exports/{job['id']}/download"):
                    assert server.request("GET", path, "bob")[0] == 404, path
                time.sleep(1)
                assert len(sent_to(endpoint, "alice@example.com")) == 1, sent_to(endpoint, "alice@example.com")
            except Exception:
                print(server.log()[-4000:], file=sys.stderr)
                raise
    finally:
        moto.terminate()
        try:
            moto.wait(10)
        except subprocess.TimeoutExpired:
            moto.kill()
            moto.wait()
    print("aws test passed: the export ran on DynamoDB, SQS, S3 and SES (moto), one e-mail")


if __name__ == "__main__":
    main()
