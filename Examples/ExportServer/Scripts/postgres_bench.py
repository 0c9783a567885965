#!/usr/bin/env python3
"""Jobs per second through PostgreSQL, with pgbench's TPS on the same server for scale.

Starts its own PostgreSQL 15 (Tests/pg.py), runs `pgbench` (TPC-B-like, scale 10, 8 clients, 2 threads)
for PGBENCH_SECONDS, then `export-postgres-bench`: tiny exports (one membership each) from request to
notified, with the job store, queue, ledger and membership table in the database. Prints one JSON line
with both figures and the load average before and after (the machine may be shared).

Environment: PG_SETTINGS (server settings for both runs, comma-separated, such as
synchronous_commit=off; none by default), BENCH_CONFIG (release), JOBS (5000), CONCURRENCY (32), CLIENTS (16), PGBENCH_SECONDS (15), BENCH_JSON (a file to
write the JSON line to), WAKE (listen,poll: the worker's wake-up modes, run alternately), ROUNDS (3: runs per mode;
the JSON line has every run and each mode's median)."""
import statistics
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(PACKAGE, "Tests"))
from pg import Postgres  # noqa: E402


def bench_binary():
    path = os.environ.get("EXPORT_POSTGRES_BENCH_BIN")
    if path:
        return path
    config = os.environ.get("BENCH_CONFIG", "release")
    subprocess.run(["swift", "build", "--package-path", PACKAGE, "-c", config, "--product", "export-postgres-bench"], check=True)
    out = subprocess.run(["swift", "build", "--package-path", PACKAGE, "-c", config, "--show-bin-path"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(out, "export-postgres-bench")


def main():
    binary = bench_binary()
    jobs = os.environ.get("JOBS", "5000")
    seconds = os.environ.get("PGBENCH_SECONDS", "15")
    settings = [x for x in os.environ.get("PG_SETTINGS", "").split(",") if x]
    with Postgres(settings) as pg:
        pg.psql("CREATE DATABASE pgbench")
        pg.psql("CREATE DATABASE exports")
        pgbench = os.path.join(pg.bin, "pgbench")
        subprocess.run([pgbench, "-i", "-q", "-s", "10", "pgbench"], check=True, capture_output=True, env=pg.env())
        load_before = os.getloadavg()
        out = subprocess.run([pgbench, "-c", "8", "-j", "2", "-T", seconds, "pgbench"], check=True, capture_output=True,
                             text=True, env=pg.env()).stdout
        tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
        modes = [m for m in os.environ.get("WAKE", "listen,poll").split(",") if m]
        runs = []
        for _ in range(int(os.environ.get("ROUNDS", "3"))):
            for mode in modes:  # alternating, so the machine's load falls on both alike
                commits = int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'exports'")[0][0])
                runs.append(json.loads(subprocess.run(
                    [binary, "--database-url", pg.url("exports"), "--jobs", jobs, "--concurrency", os.environ.get("CONCURRENCY", "32"),
                     "--clients", os.environ.get("CLIENTS", "16"), "--wake", mode], check=True, capture_output=True,
                    text=True).stdout.strip().splitlines()[-1]))
                # The statistics collector reports commits with a delay of up to a second.
                time.sleep(1.5)
                after = int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'exports'")[0][0])
                runs[-1]["commits_per_job"] = round((after - commits) / int(jobs), 2)
        result = {"jobs": int(jobs), "runs": runs}
        for mode in modes:
            mine = [r for r in runs if r["wake"] == mode]
            result[f"median_jobs_per_second_{mode}"] = statistics.median(r["jobs_per_second"] for r in mine)
            result[f"median_requests_per_second_{mode}"] = statistics.median(r["requests_per_second"] for r in mine)
            result[f"median_commits_per_job_{mode}"] = statistics.median(r["commits_per_job"] for r in mine)
        result.update(pgbench_tps=tps, pgbench="TPC-B-like, scale 10, -c 8 -j 2 -T " + seconds,
                      load_average_before=[round(x, 2) for x in load_before],
                      server_settings=settings, load_average_after=[round(x, 2) for x in os.getloadavg()], cores=os.cpu_count())
        line = json.dumps(result)
        print(line)
        if os.environ.get("BENCH_JSON"):
            with open(os.environ["BENCH_JSON"], "w") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
