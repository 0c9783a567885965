#!/usr/bin/env python3
"""Two export-server processes on one PostgreSQL database under a SIGKILL loop: at least 50 kills
(each process killed at a random instant and started again) while exports are requested and run.
Then: every requested export succeeded (0 lost), exactly one e-mail per job in the demo_outbox table
(written in the same transaction as its ledger entry), and no queue message or dead letter left.

Needs: apt-get install postgresql-15. Environment: KILLS (50)."""
import os
import random
import sys
import tempfile
import time
import urllib.error

from pg import Postgres
from server import Server, free_port

KILLS = int(os.environ.get("KILLS", "50"))
USERS = [f"user{i}" for i in range(400)]


def main():
    rng = random.Random(14)
    with Postgres() as pg:
        pg.psql("CREATE DATABASE kill_test")
        url = pg.url("kill_test")
        data_dir = tempfile.mkdtemp(prefix="export-pg-kill-")
        args = ["--backend", "postgres", "--database-url", url, "--users", ",".join(f"{u}:demo" for u in USERS),
                "--rows", "120", "--page-size", "20", "--page-delay-ms", "40", "--workers", "4", "--rate-limit", "0",
                "--visibility-timeout", "2", "--heartbeat-ms", "400", "--shutdown-grace", "1"]
        servers = [Server(*args, data_dir=data_dir, port=free_port()), Server(*args, data_dir=data_dir, port=free_port())]
        for server in servers:
            server.start()
        jobs = {}  # user -> job id
        pending = list(USERS)
        kills = 0

        def request_some(count):
            for _ in range(count):
                if not pending:
                    return
                user = pending[-1]
                for server in rng.sample(servers, 2):
                    try:
                        status, job = server.json("POST", "/api/v1/exports", user, {"format": "csv"})
                    except (urllib.error.URLError, ConnectionError, OSError):
                        continue  # that one was just killed: ask the other
                    assert status in (200, 202), (status, job)
                    previous = jobs.setdefault(user, job["id"])
                    assert previous == job["id"], f"{user} got two jobs: {previous}, {job['id']}"
                    pending.pop()
                    break

        try:
            while kills < KILLS:
                request_some(6)
                time.sleep(rng.uniform(0.15, 0.6))
                victim = servers[kills % 2]
                victim.proc.kill()  # SIGKILL, at whatever instant
                victim.proc.wait()
                kills += 1
                victim.proc = None
                victim.start()
            while pending:
                request_some(len(pending))
            deadline = time.monotonic() + 180
            while True:
                open_jobs = int(pg.psql("SELECT count(*) FROM export_jobs WHERE NOT terminal", "kill_test")[0][0])
                queued = int(pg.psql("SELECT count(*) FROM export_queue", "kill_test")[0][0])
                if open_jobs == 0 and queued == 0:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{open_jobs} jobs still open, {queued} messages queued after the kill loop")
                time.sleep(0.5)

            states = dict(pg.psql("SELECT state, count(*) FROM export_jobs GROUP BY state", "kill_test"))
            total = int(pg.psql("SELECT count(*) FROM export_jobs", "kill_test")[0][0])
            assert total == len(jobs) == len(USERS), f"{total} jobs stored, {len(jobs)} requested"
            assert states == {"succeeded": str(len(jobs))}, f"job states after {kills} kills: {states}"
            mails = dict(pg.psql("SELECT job_id, count(*) FROM demo_outbox GROUP BY job_id", "kill_test"))
            missing = [j for j in jobs.values() if j not in mails]
            doubled = {j: n for j, n in mails.items() if n != "1"}
            assert not missing, f"{len(missing)} jobs have no e-mail: {missing[:5]}"
            assert not doubled, f"jobs with more than one e-mail: {list(doubled.items())[:5]}"
            letters = int(pg.psql("SELECT count(*) FROM export_dead_letters", "kill_test")[0][0])
            assert letters == 0, f"{letters} dead letters"
            print(f"postgres kill loop: {kills} SIGKILLs of 2 processes, {len(jobs)} jobs: all succeeded, "
                  f"one e-mail each, no message left")
        finally:
            for server in servers:
                server.kill()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        sys.exit(f"FAIL: {error}")
