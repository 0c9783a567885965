#!/usr/bin/env python3
"""A bounded load run on loopback from a second process: LOAD_REQUESTS requests (2,000) spread evenly
over LOAD_SECONDS (60) by LOAD_THREADS client threads (16) with keep-alive connections, for 50 users,
mixing POST /exports, status polls, list calls and downloads (the 302 and the signed link's file).
Every request must get its expected status (and a download its whole file): 0 errors. Prints the
latency percentiles; `--json PATH` writes them too."""
import base64
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

from server import Server

USERS = [f"user{n:02d}" for n in range(1, 51)]
TOTAL = int(os.environ.get("LOAD_REQUESTS", "2000"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
THREADS = int(os.environ.get("LOAD_THREADS", "16"))
MIX = [("post", 0.15), ("status", 0.45), ("list", 0.15), ("download", 0.25)]


def auth(user):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, headers=None, body=None):
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                return response.status, response, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection; a new one is not an error of the server.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise


def main():
    out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    users = ",".join(f"{u}:demo" for u in USERS)
    with Server("--users", users, "--rows", "2000", "--page-size", "500", "--page-delay-ms", "0",
                "--rate-limit", "0", "--workers", "2", "--log-level", "warning") as server:
        port = server.port
        setup = Client(port)
        jobs = {}
        for user in USERS:  # warm-up, not measured: one finished export per user, so downloads have a file
            status, _, data = setup.call("POST", "/api/v1/exports", dict(auth(user), **{"Content-Type": "application/json"}), b"{}")
            assert status == 202, (status, data)
            jobs[user] = json.loads(data)["id"]
        for user, job_id in jobs.items():
            server.wait_for(job_id, user, {"succeeded"}, timeout=300)
        ready = dict(jobs)
        lock = threading.Lock()
        latencies, errors, counts = [], [], {}
        rng = random.Random(7)
        plan = [(i * SECONDS / TOTAL, rng.choice(USERS), rng.choices([m for m, _ in MIX], [w for _, w in MIX])[0]) for i in range(TOTAL)]
        next_index = [0]
        start = time.monotonic() + 0.5

        def record(kind, seconds, ok, detail=""):
            with lock:
                latencies.append(seconds)
                counts[kind] = counts.get(kind, 0) + 1
                if not ok:
                    errors.append(f"{kind}: {detail}")

        def timed(client, kind, method, path, headers=None, body=None):
            t0 = time.perf_counter()
            try:
                status, response, data = client.call(method, path, headers, body)
            except Exception as error:  # a transport error is an error of the run
                record(kind, time.perf_counter() - t0, False, repr(error))
                return None, None, None
            return status, response, data, time.perf_counter() - t0

        def worker():
            client = Client(port)
            while True:
                with lock:
                    if next_index[0] >= len(plan):
                        return
                    at, user, kind = plan[next_index[0]]
                    next_index[0] += 1
                delay = start + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                headers = auth(user)
                if kind == "post":
                    result = timed(client, kind, "POST", "/api/v1/exports", dict(headers, **{"Content-Type": "application/json"}),
                                   json.dumps({"format": rng.choice(["csv", "csv.gz", "jsonl"])}).encode())
                    if result[0] is None:
                        continue
                    status, _, data, seconds = result
                    record(kind, seconds, status == 202, f"{status} {data[:200]!r}")
                    if status == 202:
                        with lock:
                            jobs[user] = json.loads(data)["id"]
                elif kind in ("status", "list"):
                    path = f"/api/v1/exports/{jobs[user]}" if kind == "status" else "/api/v1/exports?limit=10"
                    result = timed(client, kind, "GET", path, headers)
                    if result[0] is None:
                        continue
                    status, _, data, seconds = result
                    record(kind, seconds, status == 200, f"{status} {data[:200]!r}")
                else:
                    result = timed(client, "download", "GET", f"/api/v1/exports/{ready[user]}/download", headers)
                    if result[0] is None:
                        continue
                    status, response, data, seconds = result
                    location = response.getheader("Location") if response else None
                    record("download", seconds, status == 302 and location is not None, f"{status} {data[:200]!r}")
                    if status != 302 or not location:
                        continue
                    link = urllib.parse.urlsplit(location)
                    result = timed(client, "file", "GET", link.path + "?" + link.query)
                    if result[0] is None:
                        continue
                    status, response, data, seconds = result
                    length = int(response.getheader("Content-Length", "-1"))
                    record("file", seconds, status == 200 and length == len(data) and len(data) > 0, f"{status} {len(data)} of {length}")

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        health = server.request("GET", "/health")[0]
        metrics = server.request("GET", "/metrics")[2].decode()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000

    summary = {"requests": len(latencies), "seconds": round(elapsed, 1), "users": len(USERS), "threads": THREADS,
               "by_kind": counts, "errors": len(errors), "p50_ms": round(pct(50), 1), "p90_ms": round(pct(90), 1),
               "p99_ms": round(pct(99), 1), "max_ms": round(latencies[-1] * 1000, 1)}
    print(json.dumps(summary, indent=2))
    if out:
        with open(out, "w") as f:
            json.dump(summary, f, indent=2)
    assert health == 200, f"/health answered {health} after the run"
    succeeded = [line for line in metrics.splitlines() if line.startswith('export_jobs_total{outcome="succeeded"}')]
    assert succeeded and float(succeeded[0].split()[-1]) >= len(USERS), f"/metrics: {succeeded}"
    for name in ("export_queue_depth", "export_queue_oldest_age_seconds", "export_duration_seconds_bucket", "export_size_bytes_bucket",
                 "export_retries_total", "export_dead_letters_total", "export_events_total{event=\"export.started\"}"):
        assert name in metrics, f"/metrics lacks {name}"
    if errors:
        print("\n".join(errors[:20]), file=sys.stderr)
        sys.exit(f"FAIL: {len(errors)} of {len(latencies)} requests failed")
    assert len(latencies) >= TOTAL, f"only {len(latencies)} of {TOTAL} requests were made"
    print("load test passed")


if __name__ == "__main__":
    main()
