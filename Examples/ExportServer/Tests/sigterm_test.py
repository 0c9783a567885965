#!/usr/bin/env python3
"""SIGTERM during a running export.

1. A grace period long enough: the server stops receiving, lets the export finish, exits 0; the job
   succeeded and exactly one e-mail was written.
2. A grace period too short: the export is handed back (the server exits within the grace period plus
   a little); a server started again on the same data directory finishes it; exactly one e-mail."""
import glob
import os
import sys
import time

from server import Server


def emails(server, job_id):
    return sorted(glob.glob(os.path.join(server.data_dir, "outbox", job_id + "*.eml")))


def start_running_export(server):
    status, job = server.json("POST", "/api/v1/exports", "alice", {"format": "csv"})
    assert status == 202, (status, job)
    job = server.wait_for(job["id"], "alice", {"running"}, timeout=60)
    # Let it write some rows first: the signal must land in the middle of the export.
    deadline = time.monotonic() + 30
    while job["progress"]["rowsWritten"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        job = server.json("GET", f"/api/v1/exports/{job['id']}", "alice")[1]
    assert job["state"] == "running" and job["progress"]["rowsWritten"] > 0, job
    return job["id"]


def finishes_within_grace():
    server = Server("--rows", "20000", "--page-size", "500", "--page-delay-ms", "60", "--heartbeat-ms", "200",
                    "--shutdown-grace", "60").start()
    try:
        job_id = start_running_export(server)
        started = time.monotonic()
        code = server.terminate(timeout=90)
        elapsed = time.monotonic() - started
        assert code == 0, f"exit code {code}"
        with Server(data_dir=server.data_dir) as restarted:
            job = restarted.json("GET", f"/api/v1/exports/{job_id}", "alice")[1]
            assert job["state"] == "succeeded", job
            assert job["attempt"] == 1, f"finished by the first attempt, not a retry: {job}"
            assert len(emails(restarted, job_id)) == 1, emails(restarted, job_id)
        print(f"finished within the grace period: exit 0 after {elapsed:.1f} s, one e-mail")
    except Exception:
        print(server.log()[-4000:], file=sys.stderr)
        raise
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()


def handed_back_and_finished_later():
    args = ["--rows", "60000", "--page-size", "500", "--page-delay-ms", "100", "--heartbeat-ms", "200",
            "--shutdown-grace", "1", "--visibility-timeout", "10"]
    server = Server(*args).start()
    try:
        job_id = start_running_export(server)
        started = time.monotonic()
        code = server.terminate(timeout=30)
        elapsed = time.monotonic() - started
        assert code == 0, f"exit code {code}"
        assert elapsed < 10, f"shutdown took {elapsed:.1f} s with a 1 s grace period"
        assert emails(server, job_id) == [], "an e-mail before the export finished"
        with Server(*args, data_dir=server.data_dir) as restarted:
            handed = restarted.json("GET", f"/api/v1/exports/{job_id}", "alice")[1]
            assert handed["state"] != "succeeded", f"the export was not interrupted: {handed}"
            job = restarted.wait_for(job_id, "alice", {"succeeded", "failed", "cancelled"}, timeout=120)
            assert job["state"] == "succeeded", job
            assert job["result"]["rows"] == 60000, job
            time.sleep(1)  # the e-mail follows the state change
            assert len(emails(restarted, job_id)) == 1, emails(restarted, job_id)
        print(f"handed back: exit 0 after {elapsed:.1f} s (state then: {handed['state']}), "
              f"finished after the restart (attempt {job['attempt']}), one e-mail")
    except Exception:
        print(server.log()[-4000:], file=sys.stderr)
        raise
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()


if __name__ == "__main__":
    finishes_within_grace()
    handed_back_and_finished_later()
    print("sigterm test passed")
