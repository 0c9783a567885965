#!/usr/bin/env python3
"""Two or more export-postgres-bench builds side by side on one PostgreSQL, alternating.

    Scripts/postgres_ab.py before=/path/to/export-postgres-bench after=.build/release/export-postgres-bench[,ENV=VALUE...]

Starts its own PostgreSQL 15 (Tests/pg.py), runs pgbench once for scale (TPC-B-like, scale 10, -c 8 -j 2,
15 s), then ROUNDS (3) rounds of every build in turn, each on a fresh database with JOBS (3000) tiny jobs.
Per run: jobs/s, requests/s, the Swift process's CPU ms per job (perf stat), every PostgreSQL process's
CPU ms per job (/proc), context switches per job and commits per job; then each build's medians and the
load average before and after. Needs perf (linux-perf)."""
import os, sys, subprocess, json, re, statistics
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests"))
from pg import Postgres
def pgcpu():
    t = 0
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            if open(f"/proc/{p}/comm").read().startswith("postgres"):
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                t += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        except Exception: pass
    return t / os.sysconf("SC_CLK_TCK")
variants = []
for a in sys.argv[1:]:
    label, rest = a.split("=", 1)
    parts = rest.split(",")
    env = dict(os.environ); env.update(dict(p.split("=", 1) for p in parts[1:]))
    variants.append((label, parts[0], env))
jobs = os.environ.get("JOBS", "3000"); rounds = int(os.environ.get("ROUNDS", "3"))
res = {v[0]: [] for v in variants}
print("load before", os.getloadavg())
with Postgres([]) as pg:
    pg.psql("CREATE DATABASE pgbench")
    pgbench = os.path.join(pg.bin, "pgbench")
    subprocess.run([pgbench, "-i", "-q", "-s", "10", "pgbench"], check=True, capture_output=True, env=pg.env())
    out = subprocess.run([pgbench, "-c", "8", "-j", "2", "-T", "15", "pgbench"], check=True, capture_output=True, text=True, env=pg.env()).stdout
    print("pgbench tps", re.search(r"tps = ([0-9.]+)", out).group(1), "load", os.getloadavg(), flush=True)
    n = 0
    for r in range(rounds):
        for label, path, env in variants:
            n += 1
            db = f"exports_{n}"
            pg.psql(f"CREATE DATABASE {db}")
            before = pgcpu()
            out = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock,context-switches", "--", path, "--database-url", pg.url(db), "--jobs", jobs], capture_output=True, text=True, env=env)
            line = json.loads(out.stdout.strip().splitlines()[-1])
            stats = {l.split(",")[2]: float(l.split(",")[0]) for l in out.stderr.splitlines() if l.count(",") > 3 and l.split(",")[0].replace(".", "").isdigit()}
            pgc = pgcpu() - before
            row = dict(jps=line["jobs_per_second"], rps=line["requests_per_second"], swift_ms_per_job=round(stats.get("task-clock", 0) / int(jobs), 2),
                       pg_ms_per_job=round(pgc * 1000 / int(jobs), 2), cs_per_job=round(stats.get("context-switches", 0) / int(jobs), 1))
            commits = int(pg.psql(f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{db}'")[0][0])
            row["commits_per_job"] = round(commits / int(jobs), 2)
            res[label].append(row); print(label, row, flush=True)
            pg.psql(f"DROP DATABASE {db}")
for label in res:
    print(label, "median jps", statistics.median(x["jps"] for x in res[label]), "swift ms/job", statistics.median(x["swift_ms_per_job"] for x in res[label]), "pg ms/job", statistics.median(x["pg_ms_per_job"] for x in res[label]))
print("load after", os.getloadavg())
